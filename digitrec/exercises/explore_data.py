"""Checks for notebook 01's exercises (exploring MNIST).

Each check takes the learner's answer and the data it is about, works out the expected answer
from that data with `digitrec`, and prints one verdict (see `digitrec.exercises.verdict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digitrec import datastats, preprocess, synthetic
from digitrec.constants import CANVAS_SIZE, MNIST_SIZE
from digitrec.data import as_float_images
from digitrec.exercises import verdict
from digitrec.exercises.answers import read_answer

# Exercise 3: a drawing's strokes count as MNIST-like within this fraction of MNIST's median.
WIDTH_TOLERANCE = 0.10


def check_imbalance(answer: Any, labels: np.ndarray) -> bool:
    """Exercise 1: (most common digit, rarest digit, ratio of their counts) for `labels`."""
    read = read_answer(answer, _most_fewest_ratio, "three values: (most, fewest, ratio)")
    if read is None:
        return False
    most, fewest, ratio = read
    counts = datastats.class_counts(labels)
    expected = (int(counts.argmax()), int(counts.argmin()), float(counts.max() / counts.min()))
    if (most, fewest) != expected[:2]:
        return verdict(
            False,
            right="",
            wrong=f"the most common digit is not {most} or the rarest is not {fewest}.",
            hint="`argmax` and `argmin` of the counts give the digits themselves.",
        )
    if not np.isclose(ratio, expected[2], rtol=1e-3):
        return verdict(
            False,
            right="",
            wrong=f"the digits are right but the ratio {ratio:.3f} is not.",
            hint="divide the larger count by the smaller one.",
        )
    return verdict(
        True,
        right=(
            f"digit {most} has {counts[most]:,} examples, digit {fewest} has "
            f"{counts[fewest]:,}: a ratio of {expected[2]:.2f}."
        ),
        wrong="",
    )


def check_oddest_three(answer: Any, images: np.ndarray, labels: np.ndarray) -> bool:
    """Exercise 2: the index into `images` of the 3 farthest (squared distance) from the mean 3."""
    index = read_answer(answer, int, "one index into x_train")
    if index is None:
        return False
    threes = np.flatnonzero(np.asarray(labels) == 3)
    distance = _squared_distances(images[threes], datastats.mean_digits(images, labels)[3])
    oddest, closest = threes[distance.argmax()], threes[distance.argmin()]
    if index == oddest:
        return verdict(
            True,
            right=(
                f"x_train[{oddest}] is {distance.max():.1f} away from the mean 3 "
                f"(the closest 3, x_train[{closest}], is {distance.min():.1f} away)."
            ),
            wrong="",
        )
    if index == closest:
        wrong, hint = "that is the 3 *closest* to the mean.", "use `argmax`, not `argmin`."
    elif 0 <= index < len(threes) and threes[index] == oddest:
        wrong = f"{index} is the oddest 3's position among the 3s, not its index in x_train."
        hint = "np.flatnonzero(y_train == 3)[position] turns a position into an index."
    elif not 0 <= index < len(labels) or labels[index] != 3:
        wrong, hint = f"x_train[{index}] is not a 3.", "look only at the images whose label is 3."
    else:
        wrong = f"x_train[{index}] is a 3, but not the one farthest from the mean 3."
        hint = "scale to [0, 1], subtract the mean 3, square, and sum over both pixel axes."
    return verdict(False, right="", wrong=wrong, hint=hint)


def check_drawing_height(answer: Any, digit: np.ndarray, images: np.ndarray) -> bool:
    """Exercise 3: a height at which `digit`, redrawn with the pad's pen, has MNIST's strokes.

    The drawing is `synthetic.redraw_digit(digit, height, top, left)` centred on the canvas;
    its stroke width after `to_mnist` must be within `WIDTH_TOLERANCE` of the median stroke
    width of `images`.
    """
    height = read_answer(answer, int, "a height in pixels")
    if height is None:
        return False
    if not MNIST_SIZE <= height <= CANVAS_SIZE:
        return verdict(
            False,
            right="",
            wrong=f"{height} px does not fit: choose a height from {MNIST_SIZE} to {CANVAS_SIZE}.",
        )
    target = float(np.nanmedian(datastats.stroke_widths(images)))
    try:
        prepared = preprocess.to_mnist(centred_drawing(digit, height))
    except preprocess.EmptyDrawingError:
        return verdict(False, right="", wrong=f"drawn {height} px tall, the digit has no ink.")
    width = float(datastats.stroke_widths(prepared)[0])
    if np.isnan(width):
        return verdict(False, right="", wrong=f"drawn {height} px tall, no stroke is solid ink.")
    if abs(width - target) <= WIDTH_TOLERANCE * target:
        return verdict(
            True,
            right=(
                f"drawn {height} px tall, its strokes are {width:.2f} px wide after to_mnist, "
                f"close to MNIST's median of {target:.2f} px."
            ),
            wrong="",
        )
    direction = "bigger" if width > target else "smaller"
    return verdict(
        False,
        right="",
        wrong=(
            f"drawn {height} px tall, its strokes are {width:.2f} px wide after to_mnist; "
            f"MNIST's median is {target:.2f} px."
        ),
        hint=f"draw it {direction}: a fixed pen looks thinner on a bigger digit.",
    )


def centred_drawing(digit: np.ndarray, height: int) -> np.ndarray:
    """`digit` redrawn `height` px tall in the middle of the canvas with the pad's pen (RGBA)."""
    corner = (CANVAS_SIZE - height) // 2
    ink = synthetic.redraw_digit(digit, height=height, top=corner, left=corner)
    return synthetic.render(ink, preprocess.INK_IN_ALPHA)


def _most_fewest_ratio(answer: Any) -> tuple[int, int, float]:
    most, fewest, ratio = answer
    return int(most), int(fewest), float(ratio)


def _squared_distances(images: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Sum of squared pixel differences between each image (scaled to [0, 1]) and `mean`."""
    return ((as_float_images(images) - mean) ** 2).sum(axis=(1, 2))
