"""Solutions to notebook 05's exercises (inside the CNN), one function per exercise.

Each takes what the notebook has and returns the answer its check expects; the test suite runs
every one through its check.
"""

from __future__ import annotations

import keras
import numpy as np


def exercise_1(y_test: np.ndarray, probabilities: np.ndarray) -> int:
    """The index of the test digit the model reads wrongly with the most confidence."""
    guesses = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(guesses != y_test)
    return int(wrong[probabilities[wrong].max(axis=1).argmax()])


def exercise_2(image: np.ndarray) -> float:
    """The digit's slant from its ink's second moments: -cov(row, column) / var(row)."""
    rows, cols = np.indices(image.shape)
    weight = image / image.sum()
    mean_row, mean_col = (weight * rows).sum(), (weight * cols).sum()
    var_row = (weight * (rows - mean_row) ** 2).sum()
    cov = (weight * (rows - mean_row) * (cols - mean_col)).sum()
    return float(-cov / var_row)


def exercise_3(
    copy: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    rotation: float = 15,
    epochs: int = 2,
) -> keras.Model:
    """`copy` (the notebook's `keras.models.clone_model(cnn)`) behind a RandomRotation of
    ±`rotation` degrees, compiled and trained."""
    augmented = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.RandomRotation(rotation / 360),
            *copy.layers,
        ]
    )
    augmented.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    augmented.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    return augmented
