"""MNIST in numbers: where the ink sits, how big its box is, and what the average digit looks like.

Notebook 01 uses these to show, on real samples, how MNIST was prepared (ink scaled into a
20x20 box, centre of mass at the middle of 28x28) -- the reason a drawn digit has to be
prepared the same way before the model can read it. The measures of boxes and centres work
on a whole batch at once with NumPy.
"""

from __future__ import annotations

import numpy as np

from digitrec.constants import INK_THRESHOLD
from digitrec.data import NUM_CLASSES, as_float_images


def ink_boxes(images: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """Bounding box of each digit's ink as int rows (top, left, height, width); zeros if blank."""
    ink = as_float_images(images) > threshold
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    has_ink = rows.any(axis=1)
    top = np.argmax(rows, axis=1)
    bottom = rows.shape[1] - np.argmax(rows[:, ::-1], axis=1)
    left = np.argmax(cols, axis=1)
    right = cols.shape[1] - np.argmax(cols[:, ::-1], axis=1)
    boxes = np.stack([top, left, bottom - top, right - left], axis=1)
    return np.where(has_ink[:, None], boxes, 0).astype(np.int64)


def centres_of_mass(images: np.ndarray) -> np.ndarray:
    """Intensity-weighted centre (row, col) of each image, float64 (N, 2); NaN for blank ones."""
    x = as_float_images(images).astype(np.float64)
    total = x.sum(axis=(1, 2))
    rows = np.arange(x.shape[1], dtype=np.float64)
    cols = np.arange(x.shape[2], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        row = (x.sum(axis=2) @ rows) / total
        col = (x.sum(axis=1) @ cols) / total
    return np.stack([row, col], axis=1)


def mean_digits(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The average image of each class, float32 (10, H, W) in [0, 1]; zeros for absent classes."""
    x = as_float_images(images)
    labels = np.asarray(labels).astype(np.int64)
    one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[labels]  # (N, 10)
    sums = np.tensordot(one_hot, x, axes=(0, 0))  # (10, H, W)
    counts = one_hot.sum(axis=0)
    return (sums / np.maximum(counts, 1)[:, None, None]).astype(np.float32)


def class_counts(labels: np.ndarray) -> np.ndarray:
    """How many examples each digit 0-9 has, int64 (10,)."""
    return np.bincount(np.asarray(labels).astype(np.int64), minlength=NUM_CLASSES)


def examples_per_class(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices (10, per_class) of random examples of each digit, -1 where a class runs short."""
    labels = np.asarray(labels).astype(np.int64)
    if len(labels) == 0:
        return np.full((NUM_CLASSES, per_class), -1, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    # Stable sort by label keeps the random order within each class.
    by_class = order[np.argsort(labels[order], kind="stable")]
    counts = class_counts(labels)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    offsets = np.arange(per_class)
    index = starts[:, None] + offsets[None, :]
    valid = offsets[None, :] < counts[:, None]
    return np.where(valid, by_class[np.minimum(index, len(labels) - 1)], -1)


def pixel_stats(images: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation and the share of pure-black / full-ink pixels, on [0, 1].

    Counts uint8 values with one bincount, so 47 million pixels need no float copy.
    """
    x = np.asarray(images)
    if x.dtype == np.uint8:
        counts = np.bincount(x.ravel(), minlength=256).astype(np.float64)
        levels = np.arange(256) / 255.0
    else:
        values = as_float_images(x).ravel()
        levels, counts = np.unique(values, return_counts=True)
        counts = counts.astype(np.float64)
    total = counts.sum()
    if total == 0:
        raise ValueError("no pixels to measure")
    mean = float(counts @ levels / total)
    std = float(np.sqrt(counts @ (levels - mean) ** 2 / total))
    return {
        "mean": mean,
        "std": std,
        "black": float(counts[levels == 0].sum() / total),
        "full_ink": float(counts[levels == 1].sum() / total),
    }


def stroke_widths(images: np.ndarray) -> np.ndarray:
    """Average stroke width of each digit, in pixels: its ink divided by its centre line's length.

    Scaling a digit scales its strokes too, so `to_mnist` keeps a pen's width relative to the
    drawing: this measures what it cannot fix. The centre line is scikit-image's thinning of the
    ink above half. float64 (N,); NaN for an image with no ink above half.
    """
    from skimage.morphology import skeletonize

    x = as_float_images(images)
    lengths = np.array([skeletonize(image > 0.5).sum() for image in x], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, x.sum(axis=(1, 2), dtype=np.float64) / lengths, np.nan)
