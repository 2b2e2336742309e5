"""How often non-digits are refused, by kind, and how many real drawn digits are refused.

Non-digits are drawn on the 280x280 canvas with its 18 px pen, 70-200 px tall, and read in two
conventions (white on black, ink in the alpha channel) through `to_mnist`:

- shapes the refusal model was trained on (`negatives.SHAPES`) and shapes it never saw
  (`negatives.UNSEEN_SHAPES`);
- letters and symbols in the ordinary training fonts, and in handwriting-style fonts it never
  saw (if installed: `apt-get install fonts-dkg-handwriting fonts-breip fonts-femkeklaver
  fonts-rufscript fonts-dancingscript fonts-kristi`);
- two MNIST test digits squeezed into one box (half of them touching);
- dots and dashes: a tap of the pen, or a dash up to two pen widths long, pens 6-32 px.

The cost is measured on MNIST test digits as they are and redrawn as `bench/drawn_digits.py`
draws them (its four variants), and on digits written in ways those leave out ("styles"):
digits in the ordinary fonts and in the handwriting fonts (a 1 with a flag and a base, a
crossed 7, slanted italics), MNIST test digits drawn narrow or wide, very narrow, or tilted
20-30 degrees, and test 0s with a slash through them. Each column is one way to refuse:

- `unsure`: the digit model's confidence below `UNSURE_BELOW`, what the front ends flag today;
- `max softmax`, `energy`: the digit model's confidence, or the log-sum-exp of its logits,
  with a threshold that refuses `refusal_training.DIGIT_REFUSAL` of held-out drawn digits (MNIST
  training digits that no model here was trained on);
- `refusal CNN`: the separate refusal model (`digitrec.refusal`) at its recorded threshold,
  with a mark refused by its shape alone (`predict.refused_by_shape`: a dot no longer than
  `refusal.DOT` pen widths, a blob read as 0): as the front ends refuse.

Run: `python bench/not_digits.py [--model PATH] [--refusal PATH] [--n 300] [--digits 2000]`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import drawn_digits  # bench/drawn_digits.py, beside this file: its drawn-digit variants
import keras
import numpy as np
from command_line import ArgumentParser, check_output, count, random_seed, run
from read_numbers import model_path  # bench/read_numbers.py, beside this file

from digitrec import negatives, refusal, refusal_training, synthetic
from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.data import DatasetError, load_mnist
from digitrec.predict import (
    UNSURE_BELOW,
    ModelLoadError,
    ModelNotFoundError,
    Predictor,
    refused_by_shape,
)
from digitrec.preprocess import INK_IN_ALPHA, WHITE_ON_BLACK, preprocess_stages
from digitrec.strokes import rasterise
from digitrec.train import cpu_description

CONVENTIONS = (WHITE_ON_BLACK, INK_IN_ALPHA)
METHODS = ("unsure", "max softmax", "energy", "refusal CNN")
# Ways of writing a digit that the drawn variants leave out: its width times one of
# `STRETCHED` at the same height, or times `VERY_NARROW` (a tall thin 0), or tilted `TILTED`
# degrees either way; and the test 0s slashed (`synthetic.add_slash`).
STRETCHED = ((0.6, 0.8), (1.25, 1.6))
VERY_NARROW = (0.35, 0.5)
TILTED = (20, 30)
STYLES = ("narrow or wide", "tilted 20-30 deg", "very narrow", "0s slashed")


def non_digits(
    n: int, x_test: np.ndarray, rng: np.random.Generator
) -> dict[str, tuple[str, list[np.ndarray]]]:
    """kind -> (whether training saw that kind, n drawings of it as ink on the canvas)."""
    kinds: dict[str, tuple[str, list[np.ndarray]]] = {}
    for name in negatives.SHAPES:
        kinds[name] = ("seen", [negatives.draw_shape(name, rng, pen=PEN_WIDTH) for _ in range(n)])
    for name in negatives.UNSEEN_SHAPES:
        kinds[name] = ("unseen", [negatives.draw_shape(name, rng, pen=PEN_WIDTH) for _ in range(n)])
    fonts = {"fonts": negatives.training_fonts(), "handwriting": negatives.handwriting_fonts()}
    for style, paths in fonts.items():
        if not paths:
            print(f"(no {style} fonts installed: those rows are left out)")
            continue
        for label, glyphs in (("letters", negatives.LETTERS), ("symbols", negatives.SYMBOLS)):
            drawings = [
                negatives.draw_glyph(
                    glyphs[int(rng.integers(len(glyphs)))],
                    paths[int(rng.integers(len(paths)))],
                    rng,
                    pen=PEN_WIDTH,
                )
                for _ in range(n)
            ]
            seen = "seen" if style == "fonts" else "unseen"
            kinds[f"{label}, {'ordinary' if seen == 'seen' else style} fonts"] = (seen, drawings)
    pairs = []
    for _ in range(n):
        inks = []
        for digit in x_test[rng.integers(len(x_test), size=2)]:
            height = int(rng.integers(100, 200))
            inks.append(synthetic.redraw_digit(digit, height, 0, 0, canvas=height))
        pairs.append(negatives.digit_pair(*inks, rng, touching=0.5))
    kinds["two digits in one box"] = ("seen", pairs)
    kinds["dots and dashes"] = ("unseen", [dot_or_dash(rng) for _ in range(n)])
    return kinds


def dot_or_dash(rng: np.random.Generator) -> np.ndarray:
    """A tap of the pen, or a dash up to two pen widths long, anywhere on the canvas: ink."""
    pen = rng.uniform(6, 32)
    length, angle = rng.uniform(0.0, 2.0) * pen, rng.uniform(0.0, np.pi)
    x, y = rng.uniform(40, CANVAS_SIZE - 40, 2)
    end = (x + length * np.cos(angle), y + length * np.sin(angle))
    return rasterise([[(x, y), end]], pen=pen).astype(np.float32) / 255.0


def font_digits(
    count: int, fonts: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`count` random digits written in random `fonts` with the canvas's pen: labels, inks."""
    labels = rng.integers(10, size=count)
    inks = [
        negatives.draw_glyph(str(d), fonts[int(rng.integers(len(fonts)))], rng, pen=PEN_WIDTH)
        for d in labels
    ]
    return labels, inks


def draw_style(digits: np.ndarray, style: str, seed: int) -> list[np.ndarray]:
    """MNIST digits redrawn on the canvas in one of `STYLES`: inks."""
    if style in (STYLES[0], STYLES[2]):
        return drawn_digits.draw_stretched(
            digits, STRETCHED if style == STYLES[0] else (VERY_NARROW,), seed
        )
    rng = np.random.default_rng(seed)
    inks = []
    for digit in digits:
        if style == STYLES[3]:
            digit = synthetic.add_slash(digit / 255.0, rng) * 255.0
            inks.append(synthetic.redraw_digit(digit, *synthetic.random_placement(rng)))
        else:
            height, top, left = synthetic.random_placement(rng)
            turn = float(rng.choice([-1, 1]) * rng.uniform(*TILTED))
            inks.append(synthetic.redraw_digit(digit, height, top, left, rotation=turn))
    return inks


def prepared(drawings: list[np.ndarray], predictor: Predictor) -> tuple[np.ndarray, np.ndarray]:
    """Drawings as the front ends read them: MNIST-form images, and which are refused by
    their shape alone (`predict.refused_by_shape`: dots, blobs read as 0)."""
    stages = [preprocess_stages(drawing) for drawing in drawings]
    images = np.stack([stage.centred for stage in stages])
    return images, refused_by_shape(stages, predictor.predict_arrays(images))


def logits_model(model: keras.Model) -> keras.Model | None:
    """The digit model up to its last Dense layer's logits, when it ends in one."""
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense):
        return None
    features = keras.Model(model.inputs, last.input)
    kernel, bias = (np.asarray(w) for w in last.get_weights())

    def logits(images: np.ndarray) -> np.ndarray:
        return features.predict(images[..., None], verbose=0, batch_size=512) @ kernel + bias

    return logits


class Judges:
    """Each way of refusing, as a function from MNIST-form images to refused (bool)."""

    def __init__(self, predictor: Predictor, refuser: refusal.NotDigitModel, held_out: np.ndarray):
        self.predictor = predictor
        self.refuser = refuser
        self.logits = logits_model(predictor.model)
        quantile = 1.0 - refusal_training.DIGIT_REFUSAL
        self.softmax_floor = float(np.quantile(self.confidence(held_out), 1.0 - quantile))
        self.energy_floor = (
            float(np.quantile(self.energy(held_out), 1.0 - quantile)) if self.logits else None
        )

    def confidence(self, images: np.ndarray) -> np.ndarray:
        return self.predictor.predict_arrays(images).max(axis=1)

    def energy(self, images: np.ndarray) -> np.ndarray:
        """log-sum-exp of the logits: high for inputs like the training data."""
        return np.logaddexp.reduce(self.logits(images), axis=1)

    def refused(self, images: np.ndarray, marks: np.ndarray) -> dict[str, np.ndarray]:
        confidence = self.confidence(images)
        energy = self.energy(images) < self.energy_floor if self.logits else None
        return {
            "unsure": confidence < UNSURE_BELOW,
            "max softmax": confidence < self.softmax_floor,
            "energy": energy,
            "refusal CNN": self.refuser.refuse(images) | marks,
        }


def pooled(rates: list[dict[str, np.ndarray | None]]) -> dict[str, np.ndarray | None]:
    """Several inputs' refusals pooled, method by method."""
    return {
        m: None if rates[0][m] is None else np.concatenate([r[m] for r in rates]) for m in METHODS
    }


def row(name: str, rates: dict[str, np.ndarray | None], extra: str = "") -> dict:
    shown = {m: (None if r is None else float(np.mean(r))) for m, r in rates.items()}
    cells = " ".join("     -" if v is None else f"{v:>11.2%}" for v in shown.values())
    print(f"{name:<44} {cells} {extra}", flush=True)
    return {"input": name, **shown}


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="the digit model")
    parser.add_argument("--refusal", type=Path, default=None, help="default: the shipped one")
    parser.add_argument("--n", type=count, default=300, help="drawings per kind of non-digit")
    parser.add_argument("--digits", type=count, default=2000, help="test digits per variant")
    parser.add_argument("--seed", type=random_seed, default=0)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    check_output(parser, args.json)
    path = model_path(args.model, "not_digits")
    try:
        predictor = Predictor.load(path)
        refuser = refusal.NotDigitModel.load(args.refusal)
        (x_train, _), (x_test, y_test) = load_mnist()
    except (ModelNotFoundError, ModelLoadError, refusal.RefusalModelError, DatasetError) as error:
        raise SystemExit(f"not_digits: {error}") from None
    print(f"CPU: {cpu_description()}")
    print(f"digit model {path}; refusal model {args.refusal or refusal.DEFAULT_PATH}")
    rng = np.random.default_rng(args.seed)
    held_out = refusal_training.drawn_digits(x_train[refusal_training.HELD_OUT_FROM :][:1000], rng)
    judges = Judges(predictor, refuser, held_out)
    print(
        f"thresholds: unsure < {UNSURE_BELOW}, max softmax < {judges.softmax_floor:.4f}, "
        f"energy < {'-' if judges.energy_floor is None else f'{judges.energy_floor:.3f}'}, "
        f"refusal CNN > {refuser.threshold:.4f}"
    )
    header = f"{'refused (share of each input)':<44} " + " ".join(f"{m:>11}" for m in METHODS)
    print(f"\n{header}")
    rows, by_group = [], {"seen": [], "unseen": []}
    started = time.perf_counter()
    kinds = non_digits(args.n, x_test, rng)
    drawing_seconds = time.perf_counter() - started
    for name, (seen, inks) in kinds.items():
        for convention in CONVENTIONS:
            rates = judges.refused(
                *prepared([synthetic.render(ink, convention) for ink in inks], predictor)
            )
            by_group[seen].append(rates)
            rows.append(row(f"{name}, {convention}", rates, seen))
    for group, rates in by_group.items():
        if rates:
            rows.append(row(f"all non-digits of kinds {group} in training", pooled(rates)))
    rows.append(row("ALL NON-DIGITS", pooled(by_group["seen"] + by_group["unseen"])))

    print(f"\n{'digits refused (the cost)':<44} " + " ".join(f"{m:>11}" for m in METHODS))
    as_they_are = x_test / np.float32(255.0)
    marks = refused_by_shape(
        [preprocess_stages(digit) for digit in x_test], predictor.predict_arrays(as_they_are)
    )
    cases = [("MNIST test digits as they are", as_they_are, marks, y_test)]
    digits = x_test[: args.digits]
    for index, variant in enumerate(drawn_digits.VARIANTS):
        inks = drawn_digits.draw_variant(digits, variant, seed=args.seed + index)
        drawings = [synthetic.render(ink, WHITE_ON_BLACK) for ink in inks]
        cases.append((f"drawn: {variant}", *prepared(drawings, predictor), y_test[: args.digits]))
    styles = 0  # cases after the four drawn variants: ways of writing the bench draws no other way
    for style, paths in (
        ("ordinary", negatives.training_fonts()),
        ("handwriting", negatives.handwriting_fonts()),
    ):
        if paths:
            labels, inks = font_digits(args.digits, paths, rng)
            drawings = [synthetic.render(ink, WHITE_ON_BLACK) for ink in inks]
            cases.append(
                (f"styles: digits in {style} fonts", *prepared(drawings, predictor), labels)
            )
            styles += 1
    for index, style in enumerate(STYLES):
        chosen = y_test == 0 if style == STYLES[3] else np.arange(len(y_test)) < args.digits
        chosen &= np.cumsum(chosen) <= args.digits  # the first `--digits` of those
        inks = draw_style(x_test[chosen], style, seed=args.seed + 10 + index)
        drawings = [synthetic.render(ink, WHITE_ON_BLACK) for ink in inks]
        cases.append((f"styles: {style}", *prepared(drawings, predictor), y_test[chosen]))
        styles += 1
    drawn_all, styled_all = [], []
    for name, images, marks, labels in cases:
        rates = judges.refused(images, marks)
        right = predictor.predict_arrays(images).argmax(axis=1) == labels
        cnn = rates["refusal CNN"]
        extra = (
            f"accuracy {right.mean():.2%}; with refusals counted wrong {np.mean(right & ~cnn):.2%}"
        )
        rows.append(row(name, rates, extra))
        if name.startswith("drawn"):
            drawn_all.append(rates)
        if name.startswith("styles"):
            styled_all.append(rates)
    rows.append(row("ALL DRAWN DIGITS", pooled(drawn_all)))
    if styled_all:
        rows.append(row("ALL DIGITS IN OTHER STYLES", pooled(styled_all)))
    started = time.perf_counter()
    for _ in range(20):
        refuser.score(held_out[:1])
    one = (time.perf_counter() - started) / 20 * 1000
    started = time.perf_counter()
    refuser.score(held_out)
    batch = (time.perf_counter() - started) / len(held_out) * 1000
    print(
        f"\nrefusal CNN: {one:.2f} ms for one image, {batch:.3f} ms per image in a batch of "
        f"{len(held_out)}; drawing the non-digits took {drawing_seconds:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"model": str(path), "cpu": cpu_description(), "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    run(main)
