"""Notebook 01's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import datastats
from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.explore_data import (
    check_drawing_height,
    check_imbalance,
    check_oddest_three,
)

NOTEBOOK = "01_explore_data"  # its worked solutions: the `solutions` fixture
WIDTH_SAMPLE = 2_000  # training digits whose median stroke width the drawing must match


def test_exercise_1_imbalance(solutions, mnist, said):
    _, (_, y_test) = mnist
    answer = solutions.exercise_1(y_test)
    assert check_imbalance(answer, y_test) is True
    assert "digit 1 has 1,135 examples, digit 5 has 892" in said(RIGHT)
    most, fewest, ratio = answer
    assert check_imbalance((fewest, most, ratio), y_test) is False
    assert "argmax" in said(NOT_YET)
    assert check_imbalance((most, fewest, 1 / ratio), y_test) is False
    assert "ratio" in said(NOT_YET)
    assert check_imbalance(3, y_test) is False
    assert "expected three values" in said(NOT_YET)


def test_exercise_2_oddest_three(solutions, mnist, said):
    (x_train, y_train), _ = mnist
    answer = solutions.exercise_2(x_train, y_train)
    assert y_train[answer] == 3
    assert check_oddest_three(answer, x_train, y_train) is True
    said(RIGHT)

    threes = np.flatnonzero(y_train == 3)
    position = int(np.flatnonzero(threes == answer)[0])
    assert check_oddest_three(position, x_train, y_train) is False
    assert "position among the 3s" in said(NOT_YET)
    not_a_three = int(np.flatnonzero(y_train != 3)[0])
    assert check_oddest_three(not_a_three, x_train, y_train) is False
    assert "is not a 3" in said(NOT_YET)
    another_three = int(threes[0] if threes[0] != answer else threes[1])
    assert check_oddest_three(another_three, x_train, y_train) is False
    said(NOT_YET)


def test_exercise_2_names_the_closest_three(mnist, said):
    (x_train, y_train), _ = mnist
    threes = np.flatnonzero(y_train == 3)
    mean_three = datastats.mean_digits(x_train, y_train)[3]
    closest = threes[((x_train[threes] / 255 - mean_three) ** 2).sum(axis=(1, 2)).argmin()]
    assert check_oddest_three(int(closest), x_train, y_train) is False
    assert "closest" in said(NOT_YET)


def test_exercise_3_drawing_height(solutions, mnist, said):
    (x_train, _), (x_test, _) = mnist
    sample = x_train[:WIDTH_SAMPLE]
    height = solutions.exercise_3(x_test[0], sample)
    assert check_drawing_height(height, x_test[0], sample) is True
    assert "close to MNIST's median" in said(RIGHT)
    # drawn small, a fixed pen gives strokes far thicker than MNIST's
    assert check_drawing_height(60, x_test[0], sample) is False
    assert "draw it bigger" in said(NOT_YET)
    assert check_drawing_height(1000, x_test[0], sample) is False
    assert "does not fit" in said(NOT_YET)
    assert check_drawing_height(200, np.zeros((28, 28), np.uint8), sample) is False
    assert "has no ink" in said(NOT_YET)


@pytest.mark.parametrize("check", [check_imbalance, check_oddest_three, check_drawing_height])
@pytest.mark.parametrize("placeholder", [..., None])
def test_starting_points_fail_without_raising(check, placeholder, mnist, said):
    (x_train, y_train), (x_test, y_test) = mnist
    arguments = {
        check_imbalance: (y_test,),
        check_oddest_three: (x_train[:100], y_train[:100]),
        check_drawing_height: (x_test[0], x_train[:100]),
    }[check]
    assert check(placeholder, *arguments) is False
    assert "replace the `...`" in said(NOT_YET)


def test_stroke_widths_measure_bars_and_blank_images():
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 4:24, 10:12] = 255  # a bar 2 px wide
    images[1, 4:24, 10:16] = 255  # 6 px wide
    widths = datastats.stroke_widths(images)
    assert 1.5 < widths[0] < 2.5 and 5 < widths[1] < 8
    assert np.isnan(widths[2])
