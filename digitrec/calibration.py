"""How sure is sure: compare a model's confidence with how often it is right, and choose the
confidence below which the front ends say "unsure".

A model's confidence is the probability it gives its best guess. It is *calibrated* when,
of all the readings given with about 80 % confidence, about 80 % are right; `reliability`
measures that per confidence bin (the data of a reliability diagram). `coverage_curve` asks
the front ends' question instead: if readings below a threshold were called "unsure", what
fraction would still be answered (the coverage), and how many of those answers would be
right? `choose_threshold` picks from that curve the lowest threshold whose answered readings
reach a target accuracy, on digits the model did not train on, so the threshold is measured
rather than set by hand; `ThresholdChoice.record()` is what is saved beside the model.
`python -m digitrec.calibration --model PATH --write` does that for a saved model.

A reading is answered when its confidence is at least the threshold, as
`digitrec.predict.Prediction.unsure` decides.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitrec import command_line
from digitrec.constants import NUM_CLASSES

# What `python -m digitrec.calibration` (and `make train`) aims for: one wrong answer in 200.
# It must sit clearly above the accuracy a model reaches answering everything (about 99 % on
# these drawings for the recommended model), or chance decides between a real threshold and
# none at all from one draw of digits to the next.
TARGET_ACCURACY = 0.995
# MNIST test digits it chooses on: all of them, so a few misreadings move it less.
CALIBRATION_DIGITS = 10_000


class CalibrationError(ValueError):
    """Readings that cannot be calibrated (wrong shapes, not probabilities, unreachable target)."""


@dataclass(frozen=True)
class Reliability:
    """Per confidence bin: how sure the model was on average, and how often it was right.

    `edges` has one more entry than the other arrays; a bin with no readings has count 0 and
    NaN confidence and accuracy.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray

    @property
    def expected_calibration_error(self) -> float:
        """The gap between confidence and accuracy, averaged over bins weighted by count.

        0 for a perfectly calibrated model; 0.05 means five points off on average.
        """
        filled = self.counts > 0
        gaps = np.abs(self.confidence[filled] - self.accuracy[filled])
        return float(np.sum(gaps * self.counts[filled]) / np.sum(self.counts))


@dataclass(frozen=True)
class CoverageCurve:
    """For each candidate threshold: the fraction of readings answered and their accuracy.

    `thresholds` rise from 0 to the highest confidence seen, so `coverage` falls from 1;
    a reading is answered when its confidence is at least the threshold.
    """

    thresholds: np.ndarray
    coverage: np.ndarray
    accuracy: np.ndarray
    examples: int


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen "unsure" threshold, and what it gave on the digits it was chosen on."""

    unsure_below: float
    target_accuracy: float
    coverage: float  # fraction of the readings answered (not called unsure)
    accuracy: float  # accuracy of the answered readings
    examples: int  # readings the choice was made on

    def record(self) -> dict[str, Any]:
        """Plain JSON-ready numbers, to store beside the model for the front ends."""
        return {
            "unsure_below": float(self.unsure_below),
            "target_accuracy": float(self.target_accuracy),
            "coverage": float(self.coverage),
            "accuracy": float(self.accuracy),
            "examples": int(self.examples),
        }


def confidence_and_correct(
    probabilities: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each reading's confidence (its highest probability) and whether its guess is right.

    probabilities: (N, 10) rows that sum to 1; labels: (N,) true digits 0-9.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape[1] != NUM_CLASSES:
        raise CalibrationError(f"expected probabilities of shape (N, 10), got {p.shape}")
    if y.shape != (len(p),):
        raise CalibrationError(
            f"expected one label per reading: {len(p)} readings but labels of shape {y.shape}"
        )
    if not len(p):
        raise CalibrationError("no readings to calibrate on")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= NUM_CLASSES:
        raise CalibrationError("labels must be whole numbers 0-9")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1 + 1e-6:
        raise CalibrationError("probabilities must be numbers between 0 and 1 (a softmax output)")
    return p.max(axis=1), p.argmax(axis=1) == y


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> Reliability:
    """The data of a reliability diagram: `bins` equal confidence bins from 0 to 1.

    A reading with confidence c falls in the bin whose right edge is the first at or above
    c, so a confidence of exactly 1 falls in the last bin.
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise CalibrationError(f"bins must be a whole number of at least 1, got {bins!r}")
    confidence, correct = confidence_and_correct(probabilities, labels)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, minlength=bins) / counts
        accuracy = np.bincount(index, correct.astype(np.float64), minlength=bins) / counts
    return Reliability(edges, mean_confidence, accuracy, counts)


def coverage_curve(probabilities: np.ndarray, labels: np.ndarray) -> CoverageCurve:
    """Coverage and accuracy of the answered readings at every threshold that matters.

    The candidates are 0 and each distinct confidence seen: between two of them nothing
    changes. Accuracy at a threshold is that of the readings with confidence at or above it.
    """
    confidence, correct = confidence_and_correct(probabilities, labels)
    levels, where = np.unique(confidence, return_inverse=True)
    # Readings and right answers at each level, then summed from the top level down.
    answered = np.cumsum(np.bincount(where, minlength=len(levels))[::-1])[::-1]
    right = np.cumsum(np.bincount(where, correct.astype(np.float64), len(levels))[::-1])[::-1]
    if levels[0] > 0:  # threshold 0 answers everything, as the lowest level does
        levels = np.concatenate([[0.0], levels])
        answered = np.concatenate([[answered[0]], answered])
        right = np.concatenate([[right[0]], right])
    return CoverageCurve(levels, answered / len(confidence), right / answered, len(confidence))


def choose_threshold(
    probabilities: np.ndarray, labels: np.ndarray, target_accuracy: float = TARGET_ACCURACY
) -> ThresholdChoice:
    """The lowest "unsure" threshold whose answered readings are at least `target_accuracy`
    right: the most readings answered for that accuracy.

    Choose it on digits the model did not train on (and, for the front ends, digits that
    look like drawings), or the threshold will be too trusting. Raises `CalibrationError`
    if no threshold reaches the target.
    """
    target = float(target_accuracy)
    if not 0.0 < target <= 1.0:
        raise CalibrationError(f"target_accuracy must be in (0, 1], got {target_accuracy!r}")
    curve = coverage_curve(probabilities, labels)
    reached = np.flatnonzero(curve.accuracy >= target - 1e-12)
    if not len(reached):
        raise CalibrationError(
            f"no threshold reaches {target:.2%} accuracy on these {curve.examples} readings "
            f"(the best is {curve.accuracy.max():.2%}): choose a lower target"
        )
    i = int(reached[0])
    return ThresholdChoice(
        unsure_below=float(curve.thresholds[i]),
        target_accuracy=target,
        coverage=float(curve.coverage[i]),
        accuracy=float(curve.accuracy[i]),
        examples=curve.examples,
    )


def calibrate_model(
    path: str | os.PathLike[str],
    *,
    digits: int = CALIBRATION_DIGITS,
    target_accuracy: float = TARGET_ACCURACY,
    seed: int = 0,
    write: bool = False,
) -> dict[str, Any]:
    """Choose a saved model's "unsure" threshold as notebook 06 does, and optionally record it.

    `digits` MNIST test digits (never trained on) are redrawn the way the training
    augmentation redraws them (`digitrec.augment.DEFAULT`), so they look like drawings, and
    read as the front ends read them (`READ_TURNS`); `choose_threshold` picks the threshold.
    With `write`, the choice is stored as `calibration` in the model's JSON record, where
    `Predictor` finds it. Raises `CalibrationError` when the target is out of reach, and
    `digitrec.predict`'s load errors for a missing or unreadable model.
    """
    from digitrec import augment, data, settings
    from digitrec.predict import READ_TURNS, Predictor

    model = Predictor.load(path, turns=READ_TURNS)
    if write:  # the record is read (and checked) first: a bad one fails before the work
        sidecar = settings.sidecar_path(Path(path))
        saved = _record(sidecar)
    (_, _), (x_test, y_test) = data.load_mnist()
    x_cal, y_cal = data.take_subset(data.scale_images(x_test)[..., 0], y_test, digits, seed=seed)
    drawn, _ = augment.augmenter(augment.DEFAULT, seed=seed)(
        x_cal[..., None], y_cal, augment.centre_line_distances(x_cal)
    )
    choice = choose_threshold(model.predict_arrays(drawn.numpy()), y_cal, target_accuracy)
    record = {
        **choice.record(),
        "digits": f"MNIST test digits redrawn by digitrec.augment.DEFAULT (seed {seed}), "
        "read turned as the front ends read",
    }
    if write:
        saved["calibration"] = record
        temporary = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(saved, indent=2) + "\n")
            os.replace(temporary, sidecar)
        finally:
            temporary.unlink(missing_ok=True)
    return record


def _record(sidecar: Path) -> dict[str, Any]:
    """A model's JSON record, to add the calibration to: {} where there is none yet, or a
    CalibrationError where it is not a JSON object (it is left as it is)."""
    if not sidecar.exists():
        return {}
    try:
        saved = json.loads(sidecar.read_text())
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"cannot read the model's record {sidecar}: {exc}") from None
    if not isinstance(saved, dict):
        raise CalibrationError(f"the model's record {sidecar} is not a JSON object")
    return saved


def main(argv: list[str] | None = None) -> int:
    """`python -m digitrec.calibration [--model PATH] [--write]`: choose and show (or record) a
    model's "unsure" threshold; one line and exit status 1 on any error."""
    from digitrec import settings
    from digitrec.data import DatasetError
    from digitrec.predict import ModelLoadError, ModelNotFoundError

    parser = command_line.ArgumentParser(
        prog="python -m digitrec.calibration",
        description='Choose a model\'s "unsure" threshold on drawn test digits, and show it or '
        "(--write) record it beside the model.",
    )
    parser.add_argument("--model", type=Path, help="default: the model the front ends read")
    parser.add_argument(
        "--digits", type=int, default=CALIBRATION_DIGITS, help="test digits to choose on"
    )
    parser.add_argument(
        "--target", type=float, default=TARGET_ACCURACY, help="accuracy of the answers"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="store it in the model's record")
    args = parser.parse_args(argv)
    path = args.model or settings.default_model_path()
    try:
        if args.digits < 10:
            raise CalibrationError(f"--digits must be at least 10, got {args.digits}")
        if args.seed < 0:
            raise CalibrationError(f"--seed must be 0 or more, got {args.seed}")
        if args.write and args.model is None and path == settings.shipped_model_path():
            # No model of one's own yet: the default is the package's, whose record the app
            # reads. Changing it takes naming it.
            raise CalibrationError(
                f"there is no trained model at {settings.recommended_model_path()}, and --write "
                f"would change the record shipped with the package; name the model to record "
                f"it in with --model"
            )
        record = calibrate_model(
            path, digits=args.digits, target_accuracy=args.target, seed=args.seed, write=args.write
        )
    except (CalibrationError, ModelNotFoundError, ModelLoadError, DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130
    print(
        f"{path}: unsure below {record['unsure_below']:.3f} -> {record['accuracy']:.2%} of the "
        f"answers right, {record['coverage']:.2%} answered ({record['examples']:,} drawn digits)"
        + ("; recorded" if args.write else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
