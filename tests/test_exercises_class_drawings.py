"""Notebook 07's exercises: every solution passes its check, and wrong answers fail it.

The class set here is a small generated one (three writers with their own hands), read by a
made-up "model" whose probabilities are fixed by hand, so each case is known exactly.
"""

from __future__ import annotations

import numpy as np

from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.class_drawings import (
    check_biggest_gain,
    check_hardest_digit,
    check_leaky_writers,
    check_most_confident_mistake,
)

NOTEBOOK = "07_how_well_does_it_read_us"  # its worked solutions: the `solutions` fixture

LABELS = np.array([0, 1, 7, 7, 1, 7, 0, 1, 7])
WRITERS = np.array(["7b/Ada"] * 3 + ["7b/Bo"] * 3 + ["7b/Cy"] * 3)
#                   Ada      Bo       Cy
GUESSES = np.array([0, 1, 1, 7, 1, 1, 0, 7, 7])  # the 7s are read worst (2 of 4)
BEFORE = np.array([0, 1, 1, 1, 1, 1, 0, 1, 7])  # Ada 2/3, Bo 1/3, Cy 2/3
AFTER = np.array([0, 1, 7, 7, 1, 7, 0, 1, 7])  # Ada 3/3, Bo 3/3, Cy 3/3: Bo gained most


def probabilities_for(guesses: np.ndarray, sureness: np.ndarray) -> np.ndarray:
    """Each row puts `sureness` on its guess and spreads the rest evenly."""
    p = np.repeat(((1 - sureness) / 9)[:, None], 10, axis=1)
    p[np.arange(len(guesses)), guesses] = sureness
    return p


PROBABILITIES = probabilities_for(GUESSES, np.array([0.9, 0.8, 0.6, 0.9, 0.9, 0.95, 0.7, 0.5, 0.9]))


def test_exercise_1_hardest_digit(solutions, said):
    answer = solutions.exercise_1(LABELS, GUESSES)
    assert answer == 7
    assert check_hardest_digit(answer, LABELS, GUESSES) is True
    assert "7s in these drawings are read right 50%" in said(RIGHT)
    assert check_hardest_digit(1, LABELS, GUESSES) is False
    assert "another digit does worse" in said(NOT_YET)
    assert check_hardest_digit(4, LABELS, GUESSES) is False
    assert "there is no 4 in these drawings" in said(NOT_YET)
    for bad in (10, "seven", 7.5, True):
        assert check_hardest_digit(bad, LABELS, GUESSES) is False
        assert "expected a digit 0-9" in said(NOT_YET)
    assert check_hardest_digit(..., LABELS, GUESSES) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_1_accepts_any_digit_of_a_tie(capsys):
    labels, guesses = np.array([1, 1, 2, 2]), np.array([1, 0, 0, 2])
    assert check_hardest_digit(1, labels, guesses) and check_hardest_digit(2, labels, guesses)


def test_exercise_2_most_confident_mistake(solutions, said):
    answer = solutions.exercise_2(LABELS, PROBABILITIES)
    assert answer == 5  # Bo's 7 read as 1 with 95 %
    assert check_most_confident_mistake(answer, LABELS, PROBABILITIES) is True
    assert "a 7, read as 1 with 95.0% confidence" in said(RIGHT)
    assert check_most_confident_mistake(0, LABELS, PROBABILITIES) is False
    assert "is read right" in said(NOT_YET)
    assert check_most_confident_mistake(2, LABELS, PROBABILITIES) is False
    assert "only 60.0% sure" in said(NOT_YET)
    assert check_most_confident_mistake(9, LABELS, PROBABILITIES) is False
    assert "an index from 0 to 8" in said(NOT_YET)
    all_right = probabilities_for(LABELS, np.full(9, 0.9))
    assert check_most_confident_mistake(0, LABELS, all_right) is False
    assert "no mistake" in said(NOT_YET)


def test_exercise_3_leaky_writers(solutions, said):
    leaky = np.array([True, False, True, True, True, True, False, False, False])
    answer = solutions.exercise_3(WRITERS, leaky)
    assert answer == 1  # Ada on both sides; all of Bo tuned on, all of Cy tested
    assert check_leaky_writers(answer, WRITERS, leaky) is True
    assert "1 of 3 writers are on both sides" in said(RIGHT)
    assert check_leaky_writers(0, WRITERS, leaky) is False
    assert "not the number of writers" in said(NOT_YET)
    assert check_leaky_writers("one", WRITERS, leaky) is False
    assert "expected a number of writers" in said(NOT_YET)


def test_exercise_4_biggest_gain(solutions, said):
    answer = solutions.exercise_4(WRITERS, LABELS, BEFORE, AFTER)
    assert answer == "7b/Bo"
    assert check_biggest_gain(answer, WRITERS, LABELS, BEFORE, AFTER) is True
    assert "7b/Bo gained +67%" in said(RIGHT)
    assert check_biggest_gain("7b/Ada", WRITERS, LABELS, BEFORE, AFTER) is False
    assert "changed by +33%; someone gained more" in said(NOT_YET)
    assert check_biggest_gain("Bo", WRITERS, LABELS, BEFORE, AFTER) is False
    assert "expected the name of a held-out writer" in said(NOT_YET)


def test_the_solutions_work_on_a_generated_class_set(solutions, mnist, capsys):
    """On real generated drawings, with guesses that are right three times in four."""
    from digitrec import classdata

    (_, _), (x_test, y_test) = mnist
    data = classdata.generated_class_set(x_test[:2000], y_test[:2000], writers=3, per_digit=2)
    rng = np.random.default_rng(0)
    guesses = np.where(rng.random(len(data)) < 0.75, data.labels, (data.labels + 1) % 10)
    probabilities = probabilities_for(guesses, rng.uniform(0.4, 1.0, len(data)))
    assert check_hardest_digit(solutions.exercise_1(data.labels, guesses), data.labels, guesses)
    answer = solutions.exercise_2(data.labels, probabilities)
    assert check_most_confident_mistake(answer, data.labels, probabilities)
    leaky = rng.random(len(data)) < 0.5
    assert check_leaky_writers(solutions.exercise_3(data.writers, leaky), data.writers, leaky)
    capsys.readouterr()
