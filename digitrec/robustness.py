"""Bend MNIST digits the way people draw them and measure where a model stops reading them.

A learner's digit is rarely MNIST-perfect: it sits off-centre, is too big or small, is
tilted, its strokes thicker or thinner. Each transform here applies one such change to a
batch of digits (SciPy ndimage, whole batch at once); `sweep` measures accuracy over a range
of strengths. Comparing a sweep with and without `to_mnist` re-preparation shows what
preprocessing fixes (position, size) and what only training data or augmentation can fix
(slant, stroke width).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.data import as_float_images
from digitrec.preprocess import EmptyDrawingError, to_mnist

PredictFn = Callable[[np.ndarray], np.ndarray]
Transform = Callable[[np.ndarray, float], np.ndarray]

# A plus-shaped footprint grows or shrinks a stroke by one pixel on each side per step.
_CROSS = ndimage.generate_binary_structure(2, 1)[None]  # (1, 3, 3): never mixes images


def shift(images: np.ndarray, pixels: float) -> np.ndarray:
    """Move every digit `pixels` to the right (negative: left); ink leaving the frame is lost."""
    x = as_float_images(images)
    return np.clip(ndimage.shift(x, (0, 0, pixels), order=1, cval=0.0), 0, 1)


def scale(images: np.ndarray, factor: float) -> np.ndarray:
    """Grow (factor > 1) or shrink every digit about the image centre."""
    if factor <= 0:
        raise ValueError(f"scale factor must be positive, got {factor}")
    x = as_float_images(images)
    centre = (np.array(x.shape[1:]) - 1) / 2.0
    offset = np.concatenate([[0.0], centre - centre / factor])
    matrix = np.array([1.0, 1.0 / factor, 1.0 / factor])
    out = ndimage.affine_transform(x, matrix, offset=offset, order=1, cval=0.0)
    return np.clip(out, 0, 1)


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Turn every digit `degrees` anticlockwise about the image centre."""
    x = as_float_images(images)
    out = ndimage.rotate(x, degrees, axes=(2, 1), reshape=False, order=1, cval=0.0)
    return np.clip(out, 0, 1)


def stroke(images: np.ndarray, pixels: float) -> np.ndarray:
    """Thicken strokes by `pixels` on each side (grey dilation); negative values thin them.

    Whole pixels are whole dilation/erosion steps; a fraction blends in part of one more step
    (so -0.5 is half-way to losing one pixel of each stroke's edge).
    """
    x = as_float_images(images)
    morph = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion
    whole, part = divmod(abs(float(pixels)), 1.0)
    for _ in range(int(whole)):  # one pixel per step: a bigger footprint would square corners
        x = morph(x, footprint=_CROSS)
    if part > 1e-9:
        x = (1.0 - part) * x + part * morph(x, footprint=_CROSS)
    return x.astype(np.float32)


def thicken(images: np.ndarray, pixels: float = 1) -> np.ndarray:
    """Strokes `pixels` wider on each side."""
    return stroke(images, abs(pixels))


def thin(images: np.ndarray, pixels: float = 1) -> np.ndarray:
    """Strokes `pixels` narrower on each side (thin digits can vanish)."""
    return stroke(images, -abs(pixels))


@dataclass(frozen=True)
class Sweep:
    """One transform, the strengths tried, and the model's accuracy at each."""

    name: str
    values: np.ndarray
    accuracy: np.ndarray
    unit: str
    prepared: bool = False  # True when each digit went through to_mnist after the transform


# name -> (transform, strengths to try, label for the strength axis)
TRANSFORMS: dict[str, tuple[Transform, Sequence[float], str]] = {
    "shift": (shift, (-8, -6, -4, -2, 0, 2, 4, 6, 8), "shift right (pixels)"),
    "scale": (scale, (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4), "scale factor"),
    "rotate": (rotate, (-60, -45, -30, -15, 0, 15, 30, 45, 60), "rotation (degrees)"),
    "stroke": (stroke, (-1.5, -1, -0.5, 0, 0.5, 1, 2, 3), "stroke change (pixels per side)"),
}


def prepare(images: np.ndarray) -> np.ndarray:
    """Run each digit through `to_mnist`, as the front ends do; a digit with no ink stays blank."""
    x = as_float_images(images)
    out = np.zeros_like(x)
    for i, image in enumerate(x):
        # A digit with nothing left to read (e.g. thinned away) stays a blank image.
        with contextlib.suppress(EmptyDrawingError):
            out[i] = to_mnist(image)
    return out


def sweep(
    predict: PredictFn,
    images: np.ndarray,
    labels: np.ndarray,
    name: str,
    values: Sequence[float] | None = None,
    *,
    prepared: bool = False,
) -> Sweep:
    """Accuracy of `predict` on `images` transformed by `TRANSFORMS[name]` at each strength."""
    try:
        transform, default_values, unit = TRANSFORMS[name]
    except KeyError:
        raise ValueError(
            f"unknown transform {name!r}; choose one of {sorted(TRANSFORMS)}"
        ) from None
    values = np.asarray(default_values if values is None else values, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    x = as_float_images(images)
    accuracy = []
    for value in values:
        changed = transform(x, float(value))
        if prepared:
            changed = prepare(changed)
        guesses = np.asarray(predict(changed)).argmax(axis=1)
        accuracy.append(float(np.mean(guesses == labels)))
    return Sweep(name, values, np.array(accuracy), unit, prepared)


def sweep_all(
    predict: PredictFn, images: np.ndarray, labels: np.ndarray, *, prepared: bool = False
) -> dict[str, Sweep]:
    """`sweep` over every transform in `TRANSFORMS` with its default strengths."""
    return {name: sweep(predict, images, labels, name, prepared=prepared) for name in TRANSFORMS}
