"""Solutions to notebook 07's exercises (how well does it read us?), one function per exercise.

Each takes what the notebook has and returns the answer its check expects; the test suite runs
every one through its check.
"""

from __future__ import annotations

import numpy as np


def exercise_1(labels: np.ndarray, guesses: np.ndarray) -> int:
    """The digit read right least often in these drawings (digits never drawn skipped)."""
    accuracy = [
        (guesses[labels == d] == d).mean() if (labels == d).any() else np.inf for d in range(10)
    ]
    return int(np.argmin(accuracy))


def exercise_2(labels: np.ndarray, probabilities: np.ndarray) -> int:
    """The index of the wrongly read drawing whose top probability is highest."""
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    return int(wrong[probabilities[wrong].max(axis=1).argmax()])


def exercise_3(writers: np.ndarray, leaky: np.ndarray) -> int:
    """How many writers have drawings on both sides of a split made drawing by drawing."""
    return len(set(writers[leaky]) & set(writers[~leaky]))


def exercise_4(
    writers: np.ndarray, labels: np.ndarray, before: np.ndarray, after: np.ndarray
) -> str:
    """The held-out writer whose accuracy rose most from `before` to `after` fine-tuning."""
    right_before, right_after = before == labels, after == labels
    gains = {
        name: right_after[writers == name].mean() - right_before[writers == name].mean()
        for name in np.unique(writers)
    }
    return str(max(gains, key=gains.get))
