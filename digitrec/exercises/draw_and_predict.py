"""Checks for notebook 04's exercises (draw a digit and watch the model read it).

Each check takes the learner's answer and what it is about (a reading's probabilities, the
predictor, the learner's own digits, a drawing of a number), works the expected answer out
with `digitrec`, and prints one verdict (see `digitrec.exercises.verdict`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from digitrec import evaluation, numbers, preprocess
from digitrec.constants import INK_THRESHOLD, MNIST_BOX, PEN_WIDTH
from digitrec.exercises import verdict
from digitrec.exercises.answers import read_answer
from digitrec.predict import Predictor

# Where exercise 2 draws each small digit on its pad: near the top-left corner.
SMALL_TOP = SMALL_LEFT = 20


def check_top_two(answer: Any, probabilities: np.ndarray) -> bool:
    """Exercise 1: (most likely digit, runner-up, gap between their probabilities)."""
    values = read_answer(answer, _two_digits_and_a_gap, "three values: (first, second, gap)")
    if values is None:
        return False
    first, second, gap = values
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    order = np.argsort(p)[::-1]
    expected = (int(order[0]), int(order[1]), float(p[order[0]] - p[order[1]]))
    if (first, second) != expected[:2]:
        return verdict(
            False,
            right="",
            wrong=f"the two most likely digits are not {first} and {second}, in that order.",
            hint="`np.argsort(p)` sorts from least to most likely; `[::-1]` reverses it.",
        )
    if np.isclose(gap, 100 * expected[2], atol=1e-3):
        return verdict(
            False,
            right="",
            wrong="the gap is in percentage points.",
            hint="give it as a fraction of 1, like the probabilities themselves.",
        )
    if not np.isclose(gap, expected[2], atol=1e-6):
        return verdict(
            False,
            right="",
            wrong=f"the digits are right but the gap {gap:.4f} is not.",
            hint="subtract the runner-up's probability from the winner's.",
        )
    return verdict(
        True,
        right=f"{first} ({p[first]:.1%}) leads {second} ({p[second]:.1%}) by "
        f"{expected[2]:.1%}" + ("; close enough to call it a tie." if expected[2] < 0.1 else "."),
        wrong="",
    )


def small_digit_readings(
    predictor: Predictor, digit: int, heights: Sequence[float]
) -> tuple[list[int], list[float]]:
    """What the pad reads for `digit` drawn at each height near the top-left corner, and how
    wide its pen is after `to_mnist` scales the ink's box to MNIST's 20 px (in MNIST pixels)."""
    from digitrec.strokes import example_strokes
    from digitrec.widgets import DrawingPad

    pad = DrawingPad(predictor)
    readings, widths = [], []
    for height in heights:
        pad.clear()
        pad.draw_strokes(example_strokes(digit, height=height, top=SMALL_TOP, left=SMALL_LEFT))
        prediction = pad.predict()
        readings.append(int(prediction.digit))
        crop = preprocess.preprocess_stages(pad.image()).crop
        widths.append(pad.pen * MNIST_BOX / max(crop.shape))
    return readings, widths


def check_small_digits(
    answer: Any, predictor: Predictor, digit: int, heights: Sequence[float]
) -> bool:
    """Exercise 2: the digit the pad reads at each height, drawn as the notebook says."""
    given = read_answer(answer, lambda a: [int(reading) for reading in a], "a list of digits")
    if given is None:
        return False
    if len(given) != len(heights):
        return verdict(
            False,
            right="",
            wrong=f"expected one reading per height ({len(heights)}), got {len(given)}.",
        )
    readings, widths = small_digit_readings(predictor, digit, heights)
    if given != readings:
        wrong_at = [h for h, g, r in zip(heights, given, readings, strict=True) if g != r]
        return verdict(
            False,
            right="",
            wrong=f"the readings at heights {wrong_at} are not what the pad reads.",
            hint=f"clear one pad, then for each height draw "
            f"`example_strokes({digit}, height=h, top={SMALL_TOP}, left={SMALL_LEFT})` and "
            "append `pad.predict().digit`.",
        )
    table = ", ".join(
        f"{h:g} px: {r} (pen {w:.1f} px)" for h, r, w in zip(heights, readings, widths, strict=True)
    )
    failed = [h for h, r in zip(heights, readings, strict=True) if r != digit]
    summary = (
        f"it is read as {digit} at every height."
        if not failed
        else f"it is misread at {', '.join(f'{h:g}' for h in failed)} px."
    )
    return verdict(
        True,
        right=f"the reading at each height, and how wide the pen is in the 28x28 input: {table}. "
        f"On the canvas the pen is {PEN_WIDTH} px at every height, so the smaller the digit, "
        f"the thicker its strokes after scaling; {summary}",
        wrong="",
    )


def check_per_digit_accuracy(answer: Any, labels: np.ndarray, guesses: np.ndarray) -> bool:
    """Exercise 3: the model's accuracy on each digit 0-9 of the learner's own drawings."""
    given = read_answer(answer, lambda a: np.asarray(a, dtype=np.float64).ravel(), "ten numbers")
    if given is None:
        return False
    labels = np.asarray(labels).astype(np.int64)
    if not len(labels):
        return verdict(
            False, right="", wrong="there are no drawings yet: save some with the pad first."
        )
    expected = evaluation.per_class_accuracy(evaluation.confusion_matrix(labels, guesses))
    if given.shape != (10,):
        return verdict(
            False, right="", wrong=f"expected ten accuracies, one per digit, got {given.size}."
        )
    missing = np.isnan(expected)
    if (
        np.allclose(given[~missing], expected[~missing], atol=1e-6)
        and not np.isnan(given[missing]).all()
    ):
        return verdict(
            False,
            right="",
            wrong="the digits you drew are right, but a digit with no drawings has no accuracy.",
            hint="give `np.nan` for a digit you never drew, not 0.",
        )
    if not np.allclose(given, expected, atol=1e-6, equal_nan=True):
        return verdict(
            False,
            right="",
            wrong="some of the accuracies are not right.",
            hint="for each digit d: `(guesses[labels == d] == d).mean()`.",
        )
    worst = int(np.nanargmin(expected))
    if expected[worst] == 1.0:
        return verdict(True, right="the model reads every one of your drawings right.", wrong="")
    return verdict(
        True,
        right=f"your hardest digit is {worst}: the model reads {expected[worst]:.0%} of "
        f"your {int((labels == worst).sum())} drawings of it.",
        wrong="",
    )


def check_ink_components(answer: Any, drawing: np.ndarray) -> bool:
    """Exercise 4: how many connected pieces of ink a drawing has (8-connected, diagonal
    neighbours touching), the first thing `digitrec.numbers.segment` finds."""
    given = read_answer(answer, _whole_number, "one whole number")
    if given is None:
        return False
    ink = preprocess.extract_ink(drawing)[0] > INK_THRESHOLD
    _, expected = ndimage.label(ink, structure=np.ones((3, 3), bool))
    _, side_by_side = ndimage.label(ink)
    if given == side_by_side and side_by_side != expected:
        return verdict(
            False,
            right="",
            wrong=f"{given} counts pixels that touch only side by side, not corner to corner.",
            hint="a pen's stroke can go on diagonally: pass `structure=np.ones((3, 3))`.",
        )
    if given != expected:
        return verdict(
            False,
            right="",
            wrong=f"the ink has not {given} connected pieces.",
            hint="threshold the ink at `INK_THRESHOLD`, then `ndimage.label(...)` returns "
            "(labels, count).",
        )
    seg = numbers.segment(drawing)
    return verdict(
        True,
        right=f"{expected} connected pieces of ink. `segment` made {len(seg.pieces)} "
        f"{'piece' if len(seg.pieces) == 1 else 'pieces'} of them and set {len(seg.specks)} "
        f"{'speck' if len(seg.specks) == 1 else 'specks'} aside: pieces that lie above each "
        "other (a 5 whose bar floats) become one, and a dot is no digit.",
        wrong="",
    )


def _whole_number(answer: Any) -> int:
    """An int from an int-like answer (a float such as 5.0 too); ValueError otherwise."""
    if isinstance(answer, bool) or float(answer) != int(float(answer)):
        raise ValueError("not a whole number")
    return int(float(answer))


def _two_digits_and_a_gap(answer: Any) -> tuple[int, int, float]:
    """(first, second, gap) as (int, int, float); TypeError or ValueError if it is not one."""
    first, second, gap = answer
    return int(first), int(second), float(gap)
