"""Where a classifier goes wrong: confusion matrix, per-class accuracy, its worst mix-ups.

One accuracy number hides which digits are hard; these break it down the way notebook 02
teaches, with NumPy doing the counting (bincount) rather than loops over examples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from digitrec.data import NUM_CLASSES


class ConfusedPair(NamedTuple):
    """`count` test digits of class `true` were read as `predicted`."""

    true: int
    predicted: int
    count: int


def _labels(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 2:  # probabilities: take the best guess
        values = values.argmax(axis=1)
    values = values.astype(np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= NUM_CLASSES):
        raise ValueError(f"{name} must hold labels 0-{NUM_CLASSES - 1}")
    return values


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true digit, column = predicted digit.

    `y_pred` may be labels (N,) or probabilities (N, num_classes).
    """
    true, pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of labels predicted correctly (NaN for no examples)."""
    true, pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    return float(np.mean(true == pred)) if true.size else float("nan")


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix; NaN for a class with no examples."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def most_confused_pairs(matrix: np.ndarray, k: int = 5) -> list[ConfusedPair]:
    """The `k` largest off-diagonal counts, biggest first (fewer if there are fewer mistakes)."""
    errors = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(errors, 0)
    order = np.argsort(errors, axis=None, kind="stable")[::-1][:k]
    true, pred = np.unravel_index(order, errors.shape)
    return [
        ConfusedPair(int(t), int(p), int(errors[t, p]))
        for t, p in zip(true, pred, strict=True)
        if errors[t, p] > 0
    ]


def misclassified(y_true: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Indices of the wrongly read examples, the most confident mistakes first."""
    probabilities = np.asarray(probabilities)
    true = _labels(y_true, "y_true")
    pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(pred != true)
    confidence = probabilities[wrong, pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]
