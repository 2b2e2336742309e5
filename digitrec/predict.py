"""Read digits with a trained model: load it once, then read drawings quickly, from any thread.

`Predictor` is the one path from a drawing to an answer: the web app and the drawing pad both
call `Predictor.predict`, which prepares the drawing with `to_mnist` (by way of
`preprocess_stages`, whose crop at the drawing's scale tells a dot from a digit) and runs the
model.
`keras.Model.predict` builds a data pipeline on every call, which is slow for one image;
`Predictor` traces the model's forward pass once into a TensorFlow graph with a fixed input
signature and calls that, which is both fast and safe from several threads.

The front ends also read each drawing turned a little each way (`READ_TURNS`) and average
the three readings: a test-time augmentation that steadies the reading of a tilted or sloppy
digit. The model itself, and a `Predictor` made without `turns`, read each image once, as
notebook 05's experiments need.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from digitrec import settings
from digitrec.constants import NUM_CLASSES
from digitrec.preprocess import Stages, preprocess_stages
from digitrec.refusal import (
    DOTTED,
    NotDigitModel,
    RefusalModelError,
    is_blob,
    is_crescent,
    is_dot,
    is_dots,
    is_dotted,
)
from digitrec.warp import warp

# Below this confidence the front ends say the model is unsure instead of just answering,
# for a model whose record holds no threshold of its own.
UNSURE_BELOW = 0.6
CHUNK = 1024
# Degrees the front ends also turn each drawing by before averaging the readings.
READ_TURNS: tuple[float, ...] = (-8.0, 8.0)
# How to get the recommended model (`settings.default_model_path()`), and how to replace one.
TRAIN_COMMAND = "make train (its first stage alone: python -m digitrec.train --recipe improved)"


def retrain_command(path: str | os.PathLike[str]) -> str:
    """How to replace a model file that cannot be loaded: a new one trained in its place (and
    nowhere else, so no good model elsewhere is replaced)."""
    return f"python -m digitrec.train --recipe improved --out {shlex.quote(str(path))} --force"


class ModelNotFoundError(FileNotFoundError):
    """No trained model at the expected path; the message says how to train one."""


class ModelLoadError(RuntimeError):
    """A model file exists but could not be loaded; the message says how to replace it."""


@dataclass(frozen=True)
class Prediction:
    """One reading of a drawing: the digit, all ten probabilities, and what the model saw."""

    digit: int
    probabilities: np.ndarray  # (10,) float32, sums to 1
    confidence: float  # the probability of `digit`
    image: np.ndarray | None = None  # the (28, 28) input the model was given
    unsure_below: float = UNSURE_BELOW  # the model's threshold (see `Predictor.unsure_below`)
    not_a_digit: bool = False  # the refusal model judged the drawing to be no digit at all

    @property
    def unsure(self) -> bool:
        """True when the best guess is weak enough that a front end should say so."""
        return self.confidence < self.unsure_below


class Predictor:
    """A loaded model plus the one preprocessing function, ready to read drawings."""

    def __init__(
        self,
        model: Any,
        *,
        name: str = "model",
        metadata: dict | None = None,
        turns: Sequence[float] = (),
        refusal: NotDigitModel | None = None,
    ):
        self.model = model
        self.name = name
        self.metadata = dict(metadata or {})
        self.unsure_below = unsure_threshold(self.metadata)
        # Judges whether a drawing is a digit at all (`digitrec.refusal`); None: never refuses.
        self.refusal = refusal
        self.refusal_problem: str | None = None  # why `load(refusal=True)` has no judge
        self.turns = tuple(float(turn) for turn in turns)
        if not all(abs(turn) <= 45 for turn in self.turns):  # also rejects NaN
            raise ValueError(f"turns must be angles of at most 45 degrees, not {turns!r}")
        angles = np.radians(self.turns).tolist()

        def forward(x):
            if not angles:
                return model(x, training=False)
            count = tf.shape(x)[0]
            ones, still = tf.ones((count,)), tf.zeros((count, 2))
            views = [x, *(warp(x, tf.fill((count,), a), ones, still) for a in angles)]
            readings = model(tf.concat(views, axis=0), training=False)
            return tf.reduce_mean(tf.reshape(readings, (len(views), count, -1)), axis=0)

        self._forward = tf.function(
            forward,
            input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)],
            reduce_retracing=True,
        )
        self.predict_arrays(np.zeros((1, 28, 28), np.float32))  # trace now, not per request

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        turns: Sequence[float] = (),
        refusal: bool = False,
    ) -> Predictor:
        """Load a `.keras` model (default `settings.default_model_path()`) with `safe_mode=True`.

        `turns` (degrees, e.g. `READ_TURNS`): also read every image turned by these angles
        and average the probabilities. `refusal`: also judge whether each drawing is a digit
        at all, with the shipped refusal model (`Prediction.not_a_digit`); if that model
        cannot be loaded, the readings are not judged and `refusal_problem` says why.
        """
        model_path = Path(path) if path is not None else settings.default_model_path()
        if not model_path.is_file():
            raise ModelNotFoundError(
                f"no trained model at {model_path}. Train one with: {TRAIN_COMMAND}"
            )
        try:
            model = keras.models.load_model(model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many kinds for a bad file
            raise ModelLoadError(
                f"could not load the model {model_path} "
                f"({settings.why_unreadable(model_path, exc)}). "
                "Train a new one in its place (move the file aside first to keep it) with: "
                f"{retrain_command(model_path)}"
            ) from None
        shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
        if shape != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
            raise ModelLoadError(
                f"{model_path} is not a digit model (input {shape}, output "
                f"{model.output_shape}): give a digit model, or train one with: {TRAIN_COMMAND}"
            )
        judge, problem = None, None
        if refusal:
            try:
                judge = NotDigitModel.load()
            except RefusalModelError as exc:
                problem = str(exc)
        reader = cls(
            model,
            name=model_path.stem,
            metadata=_read_sidecar(model_path),
            turns=turns,
            refusal=judge,
        )
        reader.refusal_problem = problem
        return reader

    def predict(self, image: Any) -> Prediction:
        """Read one drawing (anything `to_mnist` accepts)."""
        return self.predict_batch([image])[0]

    def predict_batch(
        self, images: Iterable[Any], *, parts: bool = False, judge: bool = True
    ) -> list[Prediction]:
        """Read several drawings in one forward pass; `parts`: they are parts cut from one
        drawing (`preprocess_stages`'s `part`). `judge=False` leaves `not_a_digit` False and
        skips the refusal model, for a caller that judges the readings itself."""
        stages = [preprocess_stages(image, part=parts) for image in images]
        inputs = np.stack([stage.centred for stage in stages])
        probabilities = self.predict_arrays(inputs)
        refused = np.zeros(len(inputs), bool)
        if judge and self.refusal is not None:  # the network's verdict, or the shape alone
            refused = self.refusal.refuse(inputs) | refused_by_shape(stages, probabilities)
        return [
            _prediction(p, x, self.unsure_below, bool(no))
            for p, x, no in zip(probabilities, inputs, refused, strict=True)
        ]

    def predict_arrays(self, images: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (N, 10) for images already in MNIST form, (N, 28, 28) in [0, 1]."""
        batch = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        if not len(batch):
            return np.zeros((0, NUM_CLASSES), np.float32)
        if len(batch) <= CHUNK:
            return self._forward(batch).numpy()
        # Chunks keep memory flat when scoring a whole test set at once.
        return np.concatenate(
            [self._forward(batch[i : i + CHUNK]).numpy() for i in range(0, len(batch), CHUNK)]
        )


def refused_by_shape(stages: Sequence[Stages], probabilities: np.ndarray) -> np.ndarray:
    """Which drawings are no digit by their shape alone, whatever a refusal network says: a
    dot (`refusal.DOT`) or only dots, a mark read as 1 or 7 with a dot over or under it (an i, an !:
    `refusal.DOTTED`), a blob the digit model reads as 0 (`refusal.SOLID`), or a crescent
    drawn in outline (`refusal.CRESCENT`).
    `probabilities` (N, 10) are the digit model's readings of `stages`."""
    return np.array(
        [
            is_dot(stage.crop)
            or is_dots(stage.crop)
            or (int(np.argmax(p)) in DOTTED and is_dotted(stage.crop))
            or (int(np.argmax(p)) == 0 and is_blob(stage.crop))
            or is_crescent(stage.crop)
            for stage, p in zip(stages, probabilities, strict=True)
        ],
        bool,
    )


def unsure_threshold(metadata: dict) -> float:
    """The "unsure" threshold recorded with a model (`digitrec.calibration` chooses it from a
    coverage curve), or `UNSURE_BELOW` for a model recorded without one. A recorded 0 is
    kept: the model met the target accuracy answering every reading, so it is never unsure."""
    calibration = metadata.get("calibration")
    value = calibration.get("unsure_below") if isinstance(calibration, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value < 1.0:
        return float(value)
    return UNSURE_BELOW


def _prediction(
    probabilities: np.ndarray, image: np.ndarray, unsure_below: float, not_a_digit: bool
) -> Prediction:
    digit = int(np.argmax(probabilities))
    confidence = float(probabilities[digit])
    return Prediction(digit, probabilities, confidence, image, unsure_below, not_a_digit)


def _read_sidecar(model_path: Path) -> dict:
    try:
        record = json.loads(settings.sidecar_path(model_path).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}  # a record is a JSON object
