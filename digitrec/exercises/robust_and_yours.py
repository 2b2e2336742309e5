"""Checks for notebook 06's exercises (make it robust and make it yours).

Each check takes the learner's answer and what it is about (readings and their labels, the
probabilities before and after fine-tuning), works the expected answer out with `digitrec`,
and prints one verdict (see `digitrec.exercises.verdict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digitrec import calibration
from digitrec.augment import Augmentation
from digitrec.exercises import unanswered, verdict

UNFINISHED = "replace the `...` with your answer and run the cell again."
TILT_DEGREES = 30
# The settings that must be off for an augmentation that only turns digits.
NOT_TURNING = ("stroke", "zoom", "shift", "elastic", "redraw", "reframe")


def check_tilt_only(answer: Any) -> bool:
    """Exercise 1: an `Augmentation` that turns digits by up to 30 degrees and does nothing else."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    if not isinstance(answer, Augmentation):
        return verdict(
            False,
            right="",
            wrong=f"expected an augment.Augmentation, got {type(answer).__name__}.",
            hint="augment.Augmentation(rotation=..., stroke=0, ...): one argument per change.",
        )
    turn = TILT_DEGREES / 360
    if np.isclose(answer.rotation, TILT_DEGREES):
        return verdict(
            False,
            right="",
            wrong="rotation is 30: that is 30 full turns.",
            hint="`rotation` is a fraction of a full turn (the default 0.042 is about 15°).",
        )
    if not np.isclose(answer.rotation, turn, rtol=0.02):
        return verdict(
            False,
            right="",
            wrong=f"rotation {answer.rotation!r} turns digits by up to "
            f"{360 * answer.rotation:.0f}°, not {TILT_DEGREES}°.",
            hint=f"{TILT_DEGREES} degrees is {TILT_DEGREES}/360 of a full turn.",
        )
    still_on = [name for name in NOT_TURNING if getattr(answer, name)]
    if still_on:
        return verdict(
            False,
            right="",
            wrong=f"it also changes the digits by: {', '.join(still_on)}.",
            hint="set each of those to 0 (reframe to False): only rotation stays on.",
        )
    return verdict(
        True,
        right=f"every digit is turned by a random angle of up to ±{TILT_DEGREES}° and nothing "
        "else changes. Try it on the digits with `augment.augmenter(answer)`.",
        wrong="",
    )


def check_fixed_drawings(
    answer: Any, labels: np.ndarray, before: np.ndarray, after: np.ndarray
) -> bool:
    """Exercise 2: the indices of the held-out drawings read wrongly before fine-tuning and
    rightly after it."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    if np.asarray(answer).dtype == bool:
        return verdict(
            False,
            right="",
            wrong="that is a True/False flag per drawing.",
            hint="give the indices of the True ones: `np.flatnonzero(flags)`.",
        )
    try:
        chosen = np.unique(np.asarray(answer, dtype=np.int64).ravel())
    except (TypeError, ValueError):
        return verdict(False, right="", wrong=f"expected a list of indices, got {answer!r}.")
    labels = np.asarray(labels)
    right_before = np.asarray(before).argmax(axis=1) == labels
    right_after = np.asarray(after).argmax(axis=1) == labels
    expected = np.flatnonzero(~right_before & right_after)
    broken = np.flatnonzero(right_before & ~right_after)
    if len(chosen) and (chosen.min() < 0 or chosen.max() >= len(labels)):
        return verdict(
            False,
            right="",
            wrong=f"there are {len(labels)} held-out drawings, numbered 0 to {len(labels) - 1}.",
        )
    if np.array_equal(chosen, expected):
        news = f"{len(expected)} of your drawings went from wrong to right"
        if len(broken):
            news += f", and {len(broken)} went the other way ({broken.tolist()})"
        return verdict(True, right=news + ".", wrong="")
    if np.array_equal(chosen, np.flatnonzero(right_after)):
        return verdict(
            False,
            right="",
            wrong="those are all the drawings read rightly after fine-tuning.",
            hint="keep only those that were read *wrongly* before it.",
        )
    missing, extra = np.setdiff1d(expected, chosen), np.setdiff1d(chosen, expected)
    return verdict(
        False,
        right="",
        wrong=f"{len(missing)} fixed drawing(s) missing and {len(extra)} that were not fixed.",
        hint="compare `before.argmax(axis=1) == labels` with the same for `after`: you want "
        "wrong before (`~`) and (`&`) right after; `np.flatnonzero` gives the indices.",
    )


def check_coverage_at(
    answer: Any, probabilities: np.ndarray, labels: np.ndarray, threshold: float
) -> bool:
    """Exercise 3: (coverage, accuracy of the answered readings) at an "unsure" threshold."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    try:
        coverage, accuracy = (float(value) for value in answer)
    except (TypeError, ValueError):
        return verdict(
            False, right="", wrong=f"expected two numbers (coverage, accuracy), got {answer!r}."
        )
    confidence, correct = calibration.confidence_and_correct(probabilities, labels)
    answered = confidence >= threshold
    expected_coverage = float(answered.mean())
    expected_accuracy = float(correct[answered].mean()) if answered.any() else float("nan")

    def near(a: float, b: float) -> bool:
        return bool(np.isclose(a, b, rtol=0, atol=1e-6))

    # (is this the mistake?, what is wrong, hint), in the order they are looked for
    mistakes = [
        (
            near(coverage, expected_accuracy) and near(accuracy, expected_coverage),
            "the two numbers are the wrong way round.",
            "",
        ),
        (
            near(coverage, float(answered.sum())) and not near(coverage, expected_coverage),
            "the coverage is a count of readings.",
            "give it as a fraction of all readings.",
        ),
        (
            not near(coverage, expected_coverage),
            f"a coverage of {coverage:.4f} is not the fraction answered at {threshold:g}.",
            "a reading is answered when its confidence (its highest probability) is at least "
            "the threshold: `(probabilities.max(axis=1) >= threshold).mean()`.",
        ),
        (
            near(accuracy, float(correct.mean())) and not near(accuracy, expected_accuracy),
            "that is the accuracy of all readings.",
            "count only the answered ones: index the right/wrong flags with `answered`.",
        ),
        (
            not near(accuracy, expected_accuracy),
            f"{accuracy:.4f} is not the accuracy of the answered readings.",
            "the guess is `probabilities.argmax(axis=1)`; compare it with the labels, for the "
            "answered readings only.",
        ),
    ]
    for found, wrong, hint in mistakes:
        if found:
            return verdict(False, right="", wrong=wrong, hint=hint)
    return verdict(
        True,
        right=f"at {threshold:g} the model answers {expected_coverage:.1%} of these readings, "
        f"{expected_accuracy:.2%} of them rightly, and calls the rest unsure.",
        wrong="",
    )


def check_calibration_error(
    answer: Any, probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> bool:
    """Exercise 4: the expected calibration error over `bins` equal confidence bins."""
    if unanswered(answer):
        return verdict(False, right="", wrong=UNFINISHED)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, right="", wrong=f"expected one number, got {answer!r}.")
    bins_seen = calibration.reliability(probabilities, labels, bins)
    expected = bins_seen.expected_calibration_error
    filled = bins_seen.counts > 0
    gaps = bins_seen.confidence[filled] - bins_seen.accuracy[filled]
    if np.isclose(value, expected, rtol=1e-4, atol=1e-7):
        return verdict(
            True,
            right=f"on average the model's confidence is {expected:.2%} away from how often "
            "it is right.",
            wrong="",
        )
    if np.isclose(value, float(np.mean(np.abs(gaps))), rtol=1e-4, atol=1e-7):
        return verdict(
            False,
            right="",
            wrong="that is the plain mean of the bins' gaps.",
            hint="weight each bin's gap by how many readings it holds.",
        )
    signed = float(np.sum(gaps * bins_seen.counts[filled]) / bins_seen.counts.sum())
    if np.isclose(abs(value), abs(signed), rtol=1e-4, atol=1e-7):
        return verdict(
            False,
            right="",
            wrong="over- and underconfident bins cancel out in that sum.",
            hint="take the absolute gap |confidence - accuracy| of each bin.",
        )
    return verdict(
        False,
        right="",
        wrong=f"{value:.4f} is not the calibration error over {bins} bins.",
        hint="`calibration.reliability(probabilities, labels, bins)` gives each bin's mean "
        "confidence, accuracy and count; average |confidence - accuracy| weighted by count.",
    )
