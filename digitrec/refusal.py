"""Say "that is not a digit": a small second network that judges whether a drawing is a digit.

A digit classifier has ten answers and must give one of them, whatever it is shown: a cat
comes out as a 3, often with high confidence, because nothing in training ever taught it
another answer. Its own confidence is a poor judge (a square or a `#` is rarely even called
unsure), so digitrec asks a separate judge: a few small CNNs trained on MNIST digits, redrawn
with pens the way the canvas draws them (`digitrec.synthetic`, some narrower, wider or tilted
further than MNIST's writers wrote), and digits in fonts, against generated non-digits
(`digitrec.negatives`: shapes, scribbles, doodled pictures and made-up ones, letters and
symbols in ordinary fonts, two digits squeezed into one box, digits turned on their side).
The CNNs differ only in their seeds, and their scores are averaged inside one Keras model
(input -> each CNN -> `Average`), saved as one `.keras` file: members that err on different
drawings make a steadier judge together than any one alone. It reads the same 28x28 image as
the digit model (`to_mnist`'s output), so the digit model and its accuracy stay as they are.

Its score is the (averaged) probability that an image is not a digit. The threshold above which
a drawing is refused is chosen on held-out drawn digits so that only a small share of them are
refused, and is stored beside the model (`not_digit.json`) with how it was made, including the
members' seeds.

    python -m digitrec.refusal_training train [--out PATH] [--seed 0] [--epochs 6] [--members 3]
    python -m digitrec.refusal_training polish [--init PATH] [--out PATH] [--seed 0]

train it again, and teach a trained one the kinds of drawing training leaves out (digits drawn
with straight strokes, and non-digits to match). The shipped model in `digitrec/pretrained/`
was trained, then polished, with the settings its JSON record gives (`polished_from` and
`command`). This module only loads and scores, so reading a drawing imports no training code.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage
from skimage.morphology import convex_hull_image

from digitrec import settings
from digitrec.constants import INK_THRESHOLD, MNIST_SIZE
from digitrec.strokes import pen_width

DEFAULT_PATH = settings.PACKAGE_DIR / "pretrained" / "not_digit.keras"
TRAIN_COMMAND = "python -m digitrec.refusal_training train"
# A mark no longer than `DOT` times its pen's width has no shape to read: a tap, a dot or a
# blob. `to_mnist` would enlarge it to a filled disc that the digit model reads as a 0, and no
# network was shown one, so such a mark is refused by this measure alone. (Digits redrawn with
# pens up to 32 px wide, the thickest of `bench/drawn_digits.py`, measured 1.8 and more; a
# tap, or a drag under a third of the pen, 1.0-1.35.)
DOT = 1.5
# A 0 is a ring. A mark with no hole that fills at least `SOLID` of its convex hull is a blob,
# or a dash (a short drag of a thick pen): `to_mnist` enlarges it into a filled oval, which the
# digit model reads as a 0 and nobody would. Such a mark read as 0 is refused. (A digit read as
# 0 that was drawn as `bench/drawn_digits.py` draws them has a hole, or fills under 0.9 of its
# hull where a thick pen filled the hole; a dash read as 0, 0.92 and more.)
SOLID = 0.9
# A crescent moon drawn in outline is a ring too, but its hole is bent: the hole's convex hull
# has a bite out of it deeper than `BITE` times the hole is thick, and the hole fills under
# `CRESCENT` of that hull. The digit model reads it as a 0 or a 6, and nobody would. Only a
# hole that spans `SPAN` of the drawing (its longer side) or more counts: a thick pen can
# squeeze a 0's small hole into a crescent, and a 6 run into a 3 closes one between them.
# (Of the 0s `bench/drawn_digits.py` draws, and those drawn narrow, wide, very narrow, tilted
# far or slashed, none was a crescent by this measure; a crescent meets it until its inner
# edge nearly touches the outer.)
BITE = 0.8
CRESCENT = 0.65
SPAN = 0.7
# An i, a j, an ! or a ? is a stroke or a hook with a dot over or under it (`is_dotted`); the
# digit model reads the rest as a 1 or a 7 (`DOTTED`), and such a reading is refused. Other
# digits are left alone: a scan's speck or a tap close over a 0 leaves it a 0.
DOTTED = (1, 7)


class RefusalModelError(RuntimeError):
    """The refusal model is missing or unreadable; the message says how to make one."""


class NotDigitModel:
    """The loaded refusal network and its threshold, ready to score 28x28 images."""

    def __init__(self, model: Any, threshold: float, metadata: dict | None = None):
        if not 0.0 < float(threshold) < 1.0:  # also rejects NaN
            raise ValueError(f"threshold must be between 0 and 1, not {threshold!r}")
        self.model = model
        self.threshold = float(threshold)
        self.metadata = dict(metadata or {})
        self._forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, MNIST_SIZE, MNIST_SIZE, 1], tf.float32)],
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> NotDigitModel:
        """Load the model (default: the shipped `DEFAULT_PATH`) and its threshold (JSON beside)."""
        model_path = Path(path) if path is not None else DEFAULT_PATH
        sidecar = settings.sidecar_path(model_path)
        if not model_path.is_file():
            raise RefusalModelError(
                f"no refusal model at {model_path}. "
                f"Make one with: {TRAIN_COMMAND} --out {model_path}"
            )
        # A model with no threshold in its record may be a good model of another kind, given
        # by mistake: its hint writes elsewhere. Only a file Keras cannot read is replaced.
        try:
            metadata = json.loads(sidecar.read_text())
            threshold = float(metadata["threshold"])
        except (OSError, ValueError, TypeError, KeyError):
            raise RefusalModelError(
                f"{model_path} is no refusal model: its record {sidecar.name} is missing or "
                f"holds no threshold. Give a refusal model, or make one with: {TRAIN_COMMAND} "
                "--out NEW.keras"
            ) from None
        try:
            model = keras.models.load_model(model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many kinds for a bad file
            raise RefusalModelError(
                f"could not load the refusal model {model_path} "
                f"({settings.why_unreadable(model_path, exc)}). Make a new one in its place "
                f"(move the file aside first to keep it) with: {TRAIN_COMMAND} --out "
                f"{model_path} --force"
            ) from None
        if tuple(model.input_shape[1:]) != (MNIST_SIZE, MNIST_SIZE, 1):
            raise RefusalModelError(f"{model_path} does not read 28x28 images")
        return cls(model, threshold, metadata)

    def score(self, images: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """How likely each image is not a digit: (N,) float32 in [0, 1].

        `images`: (N, 28, 28) or (N, 28, 28, 1) in MNIST form (`to_mnist`'s output).
        """
        batch = _as_batch(images)
        if len(batch) == 0:
            return np.zeros(0, np.float32)
        return self._forward(batch).numpy().reshape(-1)

    def refuse(self, images: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """True for each image that is not a digit (score above the threshold): (N,) bool."""
        return self.score(images) > self.threshold


@functools.cache
def default_model() -> NotDigitModel:
    """The shipped refusal model, loaded once per process."""
    return NotDigitModel.load()


def not_digit_score(
    images: np.ndarray | Sequence[np.ndarray], model: NotDigitModel | None = None
) -> np.ndarray:
    """How likely each 28x28 image is not a digit, by `model` (default: the shipped one)."""
    return (model or default_model()).score(images)


def is_not_a_digit(
    images: np.ndarray | Sequence[np.ndarray], model: NotDigitModel | None = None
) -> np.ndarray:
    """True for each 28x28 image that `model` (default: the shipped one) refuses."""
    return (model or default_model()).refuse(images)


def is_dot(ink: np.ndarray, longest: float = DOT) -> bool:
    """Whether a drawing's ink (H, W), at the drawing's own scale (e.g. `Stages.crop`), is a
    dot and not a shape: no longer than `longest` times the pen's width (`strokes.pen_width`).
    An empty drawing is no dot."""
    mask = np.asarray(ink) > INK_THRESHOLD
    if not mask.any():
        return False
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    longer = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    return bool(longer <= longest * pen_width(mask))


def is_dots(ink: np.ndarray) -> bool:
    """Whether a drawing's ink (H, W), at the drawing's own scale (e.g. `Stages.crop`), is two
    or more dots and nothing else (each `is_dot` by its own pen): a few taps, a colon. No digit
    is written so; a dotted line of enough beads to be one is joined into its stroke before
    (`preprocess.linked`)."""
    mask = np.asarray(ink) > INK_THRESHOLD
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    return count >= 2 and all(
        is_dot(labels[box] == k) for k, box in enumerate(ndimage.find_objects(labels), 1)
    )


def is_dotted(ink: np.ndarray) -> bool:
    """Whether a drawing's ink (H, W), at the drawing's own scale (e.g. `Stages.crop`), is one
    mark with a dot straight over or under it and apart from it, as an i, a j, an ! or a ? has:
    no digit has one. The dot is a third of the mark's size or less but no speck (at least
    half the mark's pen wide: MNIST's scans hold such specks), and a dot by its own pen
    (`is_dot`) or a round spot with no hole, no longer than `DOT` times its width (a blob
    pressed round); a bar or a flag drawn apart is longer."""
    mask = np.asarray(ink) > INK_THRESHOLD
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count != 2:
        return False
    boxes = ndimage.find_objects(labels)
    sizes = [max(rows.stop - rows.start, cols.stop - cols.start) for rows, cols in boxes]
    small = int(np.argmin(sizes))
    mark, dot = boxes[1 - small], boxes[small]
    spot = labels[dot] == small + 1
    pressed = (
        max(spot.shape) <= DOT * min(spot.shape)
        and not ndimage.binary_fill_holes(spot)[~spot].any()
    )
    pen = pen_width(labels == 2 - small)  # the mark's
    if not pen / 2 <= min(sizes) <= max(sizes) / 3 or not (is_dot(spot) or pressed):
        return False
    apart = dot[0].start >= mark[0].stop or dot[0].stop <= mark[0].start
    middle = (dot[1].start + dot[1].stop) / 2
    return bool(apart and mark[1].start - pen <= middle <= mark[1].stop + pen)


def is_blob(ink: np.ndarray) -> bool:
    """Whether a drawing's ink (H, W), at the drawing's own scale (e.g. `Stages.crop`), is a
    blob and not a ring: no hole, and at least `SOLID` of its convex hull inked. An empty
    drawing is no blob."""
    mask = np.asarray(ink) > INK_THRESHOLD
    if not mask.any() or (ndimage.binary_fill_holes(mask) & ~mask).any():
        return False
    return bool(np.count_nonzero(mask) >= SOLID * np.count_nonzero(convex_hull_image(mask)))


def is_crescent(ink: np.ndarray) -> bool:
    """Whether a drawing's ink (H, W), at the drawing's own scale (e.g. `Stages.crop`), is a
    crescent drawn in outline: its largest hole spans `SPAN` of the drawing, is bent (a bite
    out of its convex hull at least `BITE` times as deep as the hole is thick) and fills under
    `CRESCENT` of its hull."""
    mask = np.asarray(ink) > INK_THRESHOLD
    labels, count = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    if count == 0:
        return False
    sizes = ndimage.sum_labels(labels > 0, labels, range(1, count + 1))
    hole = ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))  # a dot in it, too
    span = max(np.ptp(np.nonzero(hole), axis=1)) + 1
    if span < SPAN * (max(np.ptp(np.nonzero(mask), axis=1)) + 1):
        return False
    hull = convex_hull_image(hole)
    bite = hull & ~hole
    if np.count_nonzero(hole) >= CRESCENT * np.count_nonzero(hull) or not bite.any():
        return False
    deep = ndimage.distance_transform_edt(bite).max()
    return bool(deep >= BITE * ndimage.distance_transform_edt(hole).max())


def _as_batch(images: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim == 4 and batch.shape[-1] == 1:
        batch = batch[..., 0]
    if batch.ndim != 3 or batch.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(
            f"expected images in MNIST form, shape (N, 28, 28) or (N, 28, 28, 1), "
            f"got {batch.shape}; prepare drawings with digitrec.preprocess.to_mnist"
        )
    if not np.isfinite(batch).all():
        raise ValueError("the images hold NaN or infinite values")
    return batch[..., None]
