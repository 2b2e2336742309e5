"""Checks for notebook 07's exercises (how well does it read us?).

Each check takes the learner's answer and what it is about (the class's labels and writers,
the model's guesses or probabilities), works the expected answer out itself, and prints one
verdict (see `digitrec.exercises.verdict`). Where several answers are equally right (a tie),
any of them is accepted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digitrec.constants import NUM_CLASSES
from digitrec.exercises import unanswered, verdict

UNFINISHED = "replace the `...` with your answer and run the cell again."


def _as_int(answer: Any) -> int | None:
    """`answer` as a whole number, or None (also for bools and fractions)."""
    if isinstance(answer, bool):
        return None
    try:
        number = int(answer)
    except (TypeError, ValueError):
        return None
    return number if number == answer else None


def check_hardest_digit(answer: Any, labels: np.ndarray, guesses: np.ndarray) -> bool:
    """Exercise 1: the digit the model reads worst in these drawings (lowest accuracy);
    digits never drawn do not count."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    digit = _as_int(answer)
    if digit is None or not 0 <= digit < NUM_CLASSES:
        return verdict(False, right="", wrong=f"expected a digit 0-9, got {answer!r}.")
    labels, guesses = np.asarray(labels), np.asarray(guesses)
    drawn = [d for d in range(NUM_CLASSES) if (labels == d).any()]
    accuracy = {d: float((guesses[labels == d] == d).mean()) for d in drawn}
    worst = min(accuracy.values())
    if digit in accuracy and np.isclose(accuracy[digit], worst):
        return verdict(
            True,
            right=f"the {digit}s in these drawings are read right {worst:.0%} of the time.",
            wrong="",
        )
    if digit not in accuracy:
        return verdict(
            False,
            right="",
            wrong=f"there is no {digit} in these drawings: skip digits never drawn.",
            hint="keep only the digits d for which `(labels == d).any()`.",
        )
    return verdict(
        False,
        right="",
        wrong=f"{digit} is read right {accuracy[digit]:.0%} of the time; another digit does worse.",
        hint="for each digit d, take the guesses where `labels == d` and average `== d`; "
        "then the digit with the smallest value.",
    )


def check_most_confident_mistake(
    answer: Any, labels: np.ndarray, probabilities: np.ndarray
) -> bool:
    """Exercise 2: the index of the wrongly read drawing the model was surest about."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    index = _as_int(answer)
    if index is None or not 0 <= index < len(labels):
        return verdict(
            False, right="", wrong=f"expected an index from 0 to {len(labels) - 1}, got {answer!r}."
        )
    guesses = probabilities.argmax(axis=1)
    wrong = guesses != labels
    if not wrong.any():
        return verdict(False, right="", wrong="the model reads every drawing right: no mistake.")
    surest = probabilities.max(axis=1)
    if not wrong[index]:
        return verdict(
            False,
            right="",
            wrong=f"drawing {index} is read right ({guesses[index]}), not a mistake.",
            hint="keep only the drawings where `guesses != labels`.",
        )
    if not np.isclose(surest[index], surest[wrong].max()):
        return verdict(
            False,
            right="",
            wrong=f"drawing {index} is a mistake, but the model was only {surest[index]:.1%} "
            "sure of it; it was surer of another.",
            hint="among the mistakes, take the one whose highest probability is largest.",
        )
    return verdict(
        True,
        right=f"drawing {index}, a {labels[index]}, read as {guesses[index]} with "
        f"{surest[index]:.1%} confidence.",
        wrong="",
    )


def check_leaky_writers(answer: Any, writers: np.ndarray, leaky: np.ndarray) -> bool:
    """Exercise 3: how many writers have drawings on both sides of a split by drawing."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    count = _as_int(answer)
    if count is None:
        return verdict(False, right="", wrong=f"expected a number of writers, got {answer!r}.")
    writers, leaky = np.asarray(writers), np.asarray(leaky, dtype=bool)
    both = set(writers[leaky]) & set(writers[~leaky])
    if count != len(both):
        return verdict(
            False,
            right="",
            wrong=f"{count} is not the number of writers found on both sides.",
            hint="`set(writers[leaky]) & set(writers[~leaky])` holds the writers on both sides.",
        )
    total = len(set(writers))
    return verdict(
        True,
        right=f"{count} of {total} writers are on both sides: a test on such a split partly "
        "measures how well the model remembers people it was tuned on.",
        wrong="",
    )


def check_biggest_gain(
    answer: Any, writers: np.ndarray, labels: np.ndarray, before: np.ndarray, after: np.ndarray
) -> bool:
    """Exercise 4: the held-out writer whose accuracy rose most with fine-tuning."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    writers, labels = np.asarray(writers), np.asarray(labels)
    before, after = np.asarray(before), np.asarray(after)
    gains = {
        str(name): float((after[writers == name] == labels[writers == name]).mean())
        - float((before[writers == name] == labels[writers == name]).mean())
        for name in np.unique(writers)
    }
    if not isinstance(answer, str) or answer not in gains:
        return verdict(
            False,
            right="",
            wrong=f"expected the name of a held-out writer (one of {sorted(gains)}), "
            f"got {answer!r}.",
        )
    best = max(gains.values())
    if not np.isclose(gains[answer], best):
        return verdict(
            False,
            right="",
            wrong=f"{answer}'s accuracy changed by {gains[answer]:+.0%}; someone gained more.",
            hint="for each writer, accuracy after minus accuracy before; then the largest.",
        )
    return verdict(True, right=f"{answer} gained {best:+.0%}.", wrong="")
