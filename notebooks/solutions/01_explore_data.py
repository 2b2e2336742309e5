"""Solutions to notebook 01's exercises (exploring MNIST), one function per exercise.

Each takes what the notebook has and returns the answer its check expects; the test suite runs
every one through its check.
"""

from __future__ import annotations

import numpy as np

from digitrec import datastats, preprocess
from digitrec.exercises.explore_data import centred_drawing


def exercise_1(y_test: np.ndarray) -> tuple[int, int, float]:
    """The most common and the rarest test digit, and the ratio of their counts."""
    counts = datastats.class_counts(y_test)
    return int(counts.argmax()), int(counts.argmin()), float(counts.max() / counts.min())


def exercise_2(x_train: np.ndarray, y_train: np.ndarray) -> int:
    """The index in x_train of the 3 farthest from the mean 3."""
    threes = np.flatnonzero(y_train == 3)
    mean_three = datastats.mean_digits(x_train, y_train)[3]
    distance = ((x_train[threes] / 255 - mean_three) ** 2).sum(axis=(1, 2))
    return int(threes[distance.argmax()])


def exercise_3(digit: np.ndarray, x_train: np.ndarray) -> int:
    """The drawing height whose strokes, after to_mnist, are closest to MNIST's median."""
    target = np.median(datastats.stroke_widths(x_train))
    heights = np.arange(60, 281, 10)
    widths = [
        datastats.stroke_widths(preprocess.to_mnist(centred_drawing(digit, h)))[0] for h in heights
    ]
    return int(heights[np.argmin(np.abs(np.array(widths) - target))])
