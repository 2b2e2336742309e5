"""Notebook 04's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.draw_and_predict import (
    check_ink_components,
    check_per_digit_accuracy,
    check_small_digits,
    check_top_two,
)
from digitrec.predict import READ_TURNS, Predictor
from digitrec.strokes import canvas_rgba, example_strokes, rasterise

NOTEBOOK = "04_draw_and_predict"  # its worked solutions: the `solutions` fixture


@pytest.fixture(scope="module")
def pad_predictor(trained_model_path):
    """The predictor as notebook 04 makes it: each drawing also read turned."""
    return Predictor.load(trained_model_path, turns=READ_TURNS)


def test_exercise_1_top_two(solutions, said):
    p = np.array([0.02, 0.0, 0.01, 0.0, 0.52, 0.0, 0.0, 0.03, 0.02, 0.40])
    answer = solutions.exercise_1(p)
    assert answer[:2] == (4, 9) and answer[2] == pytest.approx(0.12)
    assert check_top_two(answer, p) is True
    assert "4 (52.0%) leads 9 (40.0%) by 12.0%." in said(RIGHT)
    assert check_top_two((9, 4, 0.12), p) is False
    assert "in that order" in said(NOT_YET)
    assert check_top_two((4, 9, 12.0), p) is False
    assert "percentage points" in said(NOT_YET)
    assert check_top_two((4, 9, 0.52), p) is False
    assert "gap 0.5200 is not" in said(NOT_YET)
    assert check_top_two(4, p) is False
    assert "expected three values: (first, second, gap)" in said(NOT_YET)


def test_exercise_2_small_digits(solutions, pad_predictor, said):
    heights = (200, 90, 40, 20)
    answer = solutions.exercise_2(pad_predictor, 8, heights)
    assert len(answer) == len(heights)
    assert check_small_digits(answer, pad_predictor, 8, heights) is True
    text = said(RIGHT)
    assert text.count("(pen ") == len(heights)
    widths = [float(part.split(" px)")[0]) for part in text.split("(pen ")[1:]]
    assert widths == sorted(widths) and widths[-1] > 2 * widths[0]  # smaller: thicker strokes

    changed = list(answer)
    changed[0] = (changed[0] + 1) % 10
    assert check_small_digits(changed, pad_predictor, 8, heights) is False
    assert "heights [200]" in said(NOT_YET)
    assert check_small_digits(answer[:2], pad_predictor, 8, heights) is False
    assert "one reading per height" in said(NOT_YET)
    assert check_small_digits(None, pad_predictor, 8, heights) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_3_per_digit_accuracy(solutions, said):
    labels = np.array([0, 0, 1, 1, 1, 3, 3, 7])
    guesses = np.array([0, 6, 1, 1, 7, 3, 3, 1])
    answer = solutions.exercise_3(labels, guesses)
    assert np.isnan(answer[2]) and answer[1] == pytest.approx(2 / 3)
    assert check_per_digit_accuracy(answer, labels, guesses) is True
    assert "your hardest digit is 7" in said(RIGHT)
    assert check_per_digit_accuracy(np.nan_to_num(answer), labels, guesses) is False
    assert "np.nan" in said(NOT_YET)
    assert check_per_digit_accuracy(answer[::-1], labels, guesses) is False
    assert "not right" in said(NOT_YET)
    assert check_per_digit_accuracy(answer[:5], labels, guesses) is False
    assert "ten accuracies" in said(NOT_YET)
    assert check_per_digit_accuracy(answer, labels[:0], guesses[:0]) is False
    assert "no drawings yet" in said(NOT_YET)
    assert check_per_digit_accuracy(solutions.exercise_3(labels, labels), labels, labels) is True
    assert "every one of your drawings" in said(RIGHT)


def test_exercise_4_ink_components(solutions, said):
    strokes = [  # 2, a 7 in two strokes that do not touch, and a full stop
        *example_strokes(2, height=150, top=60, left=40, size=560),
        [(200.0, 60.0), (300.0, 60.0)],
        [(290.0, 90.0), (240.0, 210.0)],
        [(360.0, 205.0)],
    ]
    drawing = canvas_rgba(rasterise(strokes, size=560)[:280])
    answer = solutions.exercise_4(drawing)
    assert answer == 4
    assert check_ink_components(answer, drawing) is True
    assert "4 connected pieces of ink. `segment` made 2 pieces of them and set 1 speck" in said(
        RIGHT
    )
    assert check_ink_components(4.0, drawing) is True
    said(RIGHT)
    assert check_ink_components(answer + 1, drawing) is False
    assert "not 5 connected pieces" in said(NOT_YET)
    assert check_ink_components("four", drawing) is False
    assert "expected one whole number" in said(NOT_YET)
    assert check_ink_components(4.5, drawing) is False
    said(NOT_YET)
    assert check_ink_components(..., drawing) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_4_pixels_touching_at_a_corner_are_one_piece(solutions, said):
    corners = np.zeros((60, 60), np.uint8)
    corners[10:30, 10:30] = corners[30:50, 30:50] = 255  # two squares, corner to corner
    assert solutions.exercise_4(corners) == 1
    assert check_ink_components(2, corners) is False
    assert "structure=np.ones((3, 3))" in said(NOT_YET)
    assert check_ink_components(1, corners) is True
    said(RIGHT)
