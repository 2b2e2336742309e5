"""Bend MNIST digits the way people draw them and measure where a model stops reading them.

A learner's digit is rarely MNIST-perfect: it sits off-centre, is too big or small, is
tilted, its strokes thicker or thinner. Each transform here applies one such change to a
batch of digits (SciPy ndimage, whole batch at once); `sweep` measures accuracy over a range
of strengths. A sweep can also re-prepare each digit with `to_mnist` before the model reads
it, and first `deskew` it (the classic MNIST correction of slant by image moments), so a
notebook can measure what each preprocessing step repairs and what is left to training.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec import datastats
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


def slant(images: np.ndarray) -> float | np.ndarray:
    """How far each digit leans: columns its ink moves right per row going up.

    From the ink's second-order moments: -cov(row, column) / var(row), with pixel values
    as weights. Positive leans right like "/", 0 is upright, and a digit with no ink (or
    a single row of it) has no slant. One image (H, W) gives a float, a batch an array.
    """
    tilt = _slant_and_centre_row(as_float_images(images))[0]
    return float(tilt[0]) if np.ndim(images) == 2 else tilt


def deskew(images: np.ndarray) -> np.ndarray:
    """Straighten each digit's slant by a horizontal shear about its centre of mass.

    The classic MNIST deskewing: the shear that makes the ink's row-column covariance zero
    (`slant` becomes 0), applied with `scipy.ndimage.affine_transform`. Each row moves
    sideways; height and the centre of mass stay where they were, and a blank image stays
    blank. One image (H, W) gives one image back, a batch (N, H, W) a batch, float32.
    """
    x = as_float_images(images)
    out = np.empty_like(x)
    for i, (image, tilt, centre_row) in enumerate(zip(x, *_slant_and_centre_row(x), strict=True)):
        # Output (r, c) samples the input at (r, c + tilt * (centre_row - r)).
        matrix = np.array([[1.0, 0.0], [-tilt, 1.0]])
        out[i] = ndimage.affine_transform(
            image, matrix, offset=(0.0, tilt * centre_row), order=1, cval=0.0
        )
    out = np.clip(out, 0, 1)
    return out[0] if np.ndim(images) == 2 else out


def _slant_and_centre_row(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image's slant and the row of its centre of mass, from moments of (N, H, W)."""
    rows = np.arange(x.shape[1], dtype=np.float64)[None, :, None]
    cols = np.arange(x.shape[2], dtype=np.float64)[None, None, :]
    mass = x.sum(axis=(1, 2), dtype=np.float64)
    mass = np.where(mass > 0, mass, 1.0)  # a blank image: every moment is 0
    centre_row = (x * rows).sum(axis=(1, 2)) / mass
    centre_col = (x * cols).sum(axis=(1, 2)) / mass
    d_row = rows - centre_row[:, None, None]
    d_col = cols - centre_col[:, None, None]
    var_row = (x * d_row**2).sum(axis=(1, 2)) / mass
    cov = (x * d_row * d_col).sum(axis=(1, 2)) / mass
    upright = var_row < 1e-9  # no ink, or one row of it: nothing to lean
    tilt = np.where(upright, 0.0, -cov / np.where(upright, 1.0, var_row))
    return tilt, centre_row


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
    deskewed: bool = False  # True when each digit was deskewed after the transform

    def at(self, value: float) -> float:
        """The accuracy at one of the strengths tried."""
        found = np.flatnonzero(np.isclose(self.values, value))
        if not len(found):
            raise ValueError(f"{self.name} was not tried at {value:g}: {self.values.tolist()}")
        return float(self.accuracy[found[0]])


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
    deskewed: bool = False,
) -> Sweep:
    """Accuracy of `predict` on `images` transformed by `TRANSFORMS[name]` at each strength.

    `deskewed` straightens each transformed digit with `deskew`; `prepared` then runs it
    through `to_mnist` (in that order, so the straightened digit is boxed and centred again).
    """
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
        if deskewed:
            changed = deskew(changed)
        if prepared:
            changed = prepare(changed)
        guesses = np.asarray(predict(changed)).argmax(axis=1)
        accuracy.append(float(np.mean(guesses == labels)))
    return Sweep(name, values, np.array(accuracy), unit, prepared, deskewed)


def sweep_all(
    predict: PredictFn,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    prepared: bool = False,
    deskewed: bool = False,
) -> dict[str, Sweep]:
    """`sweep` over every transform in `TRANSFORMS` with its default strengths."""
    return {
        name: sweep(predict, images, labels, name, prepared=prepared, deskewed=deskewed)
        for name in TRANSFORMS
    }


def what_the_sweeps_say(
    as_transformed: dict[str, Sweep], re_prepared: dict[str, Sweep], deskewed: dict[str, Sweep]
) -> list[str]:
    """Lines that say, in numbers, what `sweep_all`'s three curves show: what re-preparing by
    `to_mnist` gives back at the farthest shift and the smallest scale, how much it changes
    each transform's accuracy, and what deskewing adds for turned digits, angle by angle."""
    lines = []
    far, small = as_transformed["shift"].values.max(), as_transformed["scale"].values.min()
    for name, value, what in (
        ("shift", far, f"moved {far:g} px"),
        ("scale", small, f"shrunk to {small:g}x"),
    ):
        before, after = as_transformed[name].at(value), re_prepared[name].at(value)
        lines.append(f"{what}: {before:.1%} as transformed, {after:.1%} re-prepared by to_mnist")
    for name in as_transformed:
        change = 100 * (re_prepared[name].accuracy - as_transformed[name].accuracy)  # points
        values = as_transformed[name].values
        down, up = change.argmin(), change.argmax()
        lines.append(
            f"{name:6}: to_mnist changes accuracy by {change[down]:+.1f} points (at "
            f"{values[down]:g}) to {change[up]:+.1f} (at {values[up]:g}); "
            f"mean absolute change {np.abs(change).mean():.1f} points"
        )
    # Positive angles are anticlockwise.
    rotation = deskewed["rotate"].values
    gain = 100 * (deskewed["rotate"].accuracy - re_prepared["rotate"].accuracy)  # points
    lines.append("deskewing before to_mnist changes the accuracy on turned digits by (points):")
    lines.append(
        "  " + "  ".join(f"{angle:+g}°: {g:+.1f}" for angle, g in zip(rotation, gain, strict=True))
    )
    lines.append(
        f"  mean over anticlockwise turns {gain[rotation > 0].mean():+.1f}, "
        f"over clockwise turns {gain[rotation < 0].mean():+.1f}"
    )
    for angle in (rotation[gain.argmax()], 0):
        lines.append(
            f"  at {angle:+g}°: {re_prepared['rotate'].at(angle):.1%} without, "
            f"{deskewed['rotate'].at(angle):.1%} deskewed"
        )
    return lines


def what_a_pixel_of_stroke_is(images: np.ndarray, stroked: Sweep, pen: int) -> list[str]:
    """Lines on stroke width: MNIST's strokes against the pad's `pen`, how much ink one pixel
    per side takes away or adds, and the accuracy `stroked` (the stroke sweep) found there."""
    x = as_float_images(images)
    ink = x.sum()
    width = np.nanmedian(datastats.stroke_widths(x))
    return [
        f"MNIST's strokes are {width:.1f} px wide (median of these {len(x):,} test digits); "
        f"the drawing pad's pen is {pen} px unless you choose another",
        f"one pixel per side thinner removes {1 - thin(x, 1).sum() / ink:.0%} of the ink, "
        f"one thicker adds {thicken(x, 1).sum() / ink - 1:.0%}",
        f"accuracy: thinner by 1 px {stroked.at(-1):.1%}, unchanged {stroked.at(0):.1%}, "
        f"thicker by 1 px {stroked.at(1):.1%}",
    ]
