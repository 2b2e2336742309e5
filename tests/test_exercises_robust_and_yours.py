"""Notebook 06's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from digitrec import augment, calibration, data, robustness
from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.robust_and_yours import (
    check_calibration_error,
    check_coverage_at,
    check_fixed_drawings,
    check_tilt_only,
)

NOTEBOOK = "06_make_it_robust_and_yours"  # its worked solutions: the `solutions` fixture


@pytest.fixture(scope="module")
def digits(mnist):
    _, (x_test, y_test) = mnist
    return data.as_float_images(x_test[:1_000]), y_test[:1_000]


@pytest.fixture(scope="module")
def readings(digits, predictor):
    """The real model's probabilities on test digits turned 30 degrees, where it errs often."""
    x, y = digits
    return predictor.predict_arrays(robustness.rotate(x, 30)), y


def test_exercise_1_tilt_only(solutions, capsys, said):
    answer = solutions.exercise_1()
    assert check_tilt_only(answer) is True
    assert "±30°" in said(RIGHT)
    assert check_tilt_only(dataclasses.replace(answer, rotation=30)) is False
    assert "30 full turns" in said(NOT_YET)
    assert check_tilt_only(dataclasses.replace(answer, rotation=0.042)) is False
    assert "up to 15°" in said(NOT_YET)
    assert check_tilt_only(dataclasses.replace(answer, elastic=2.0, reframe=True)) is False
    assert "elastic, reframe" in said(NOT_YET)
    assert check_tilt_only(augment.DEFAULT) is False
    said(NOT_YET)
    assert check_tilt_only({"rotation": 30 / 360}) is False
    assert "expected an augment.Augmentation" in said(NOT_YET)
    assert check_tilt_only(...) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_1_answer_only_turns_the_digits(solutions, digits):
    x, y = digits
    images = x[:8, ..., None]
    turned, _ = augment.augmenter(solutions.exercise_1(), seed=0)(images, y[:8])
    turned = turned.numpy()
    assert not np.allclose(turned, images, atol=0.05)
    # Same ink, same centre: only the angle changed.
    np.testing.assert_allclose(turned.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)), rtol=0.15)


def test_exercise_2_fixed_drawings(solutions, digits, readings, predictor, capsys, said):
    x, y = digits
    before, _ = readings
    after = predictor.predict_arrays(x)  # the same digits upright: most mistakes fixed
    answer = solutions.exercise_2(y, before, after)
    assert len(answer) > 10
    assert check_fixed_drawings(answer, y, before, after) is True
    assert f"{len(answer)} of your drawings went from wrong to right" in said(RIGHT)

    right_after = np.flatnonzero(after.argmax(axis=1) == y).tolist()
    assert check_fixed_drawings(right_after, y, before, after) is False
    assert "all the drawings read rightly" in said(NOT_YET)
    assert check_fixed_drawings(answer[1:], y, before, after) is False
    assert "1 fixed drawing(s) missing and 0" in said(NOT_YET)
    flags = np.isin(np.arange(len(y)), answer)
    assert check_fixed_drawings(flags, y, before, after) is False
    assert "True/False" in said(NOT_YET)
    assert check_fixed_drawings([len(y)], y, before, after) is False
    assert "numbered 0 to" in said(NOT_YET)
    assert check_fixed_drawings("some", y, before, after) is False
    assert "list of indices" in said(NOT_YET)
    assert check_fixed_drawings(None, y, before, after) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_3_coverage_at_a_threshold(solutions, readings, capsys, said):
    probabilities, y = readings
    coverage, accuracy = solutions.exercise_3(probabilities, y, 0.6)
    assert 0.2 < coverage < 1.0 and accuracy > float(np.mean(probabilities.argmax(1) == y))
    assert check_coverage_at((coverage, accuracy), probabilities, y, 0.6) is True
    assert f"answers {coverage:.1%}" in said(RIGHT)

    assert check_coverage_at((accuracy, coverage), probabilities, y, 0.6) is False
    assert "wrong way round" in said(NOT_YET)
    count = float((probabilities.max(axis=1) >= 0.6).sum())
    assert check_coverage_at((count, accuracy), probabilities, y, 0.6) is False
    assert "a count" in said(NOT_YET)
    overall = float(np.mean(probabilities.argmax(axis=1) == y))
    assert check_coverage_at((coverage, overall), probabilities, y, 0.6) is False
    assert "accuracy of all readings" in said(NOT_YET)
    assert check_coverage_at((coverage - 0.1, accuracy), probabilities, y, 0.6) is False
    assert "not the fraction answered" in said(NOT_YET)
    assert check_coverage_at((coverage, accuracy - 0.01), probabilities, y, 0.6) is False
    assert "not the accuracy of the answered" in said(NOT_YET)
    assert check_coverage_at(0.5, probabilities, y, 0.6) is False
    assert "two numbers" in said(NOT_YET)


def test_exercise_4_calibration_error(solutions, readings, capsys, said):
    probabilities, y = readings
    answer = solutions.exercise_4(probabilities, y, bins=10)
    expected = calibration.reliability(probabilities, y, 10).expected_calibration_error
    assert answer == pytest.approx(expected) and answer > 0.01
    assert check_calibration_error(answer, probabilities, y) is True
    assert "away from how often" in said(RIGHT)

    bins = calibration.reliability(probabilities, y, 10)
    filled = bins.counts > 0
    gaps = bins.confidence[filled] - bins.accuracy[filled]
    assert check_calibration_error(float(np.mean(np.abs(gaps))), probabilities, y) is False
    assert "plain mean" in said(NOT_YET)
    assert check_calibration_error(answer + 0.05, probabilities, y) is False
    assert "is not the calibration error" in said(NOT_YET)
    assert check_calibration_error([answer], probabilities, y) is False
    assert "one number" in said(NOT_YET)
    assert check_calibration_error(..., probabilities, y) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_4_signed_gaps_cancel_out(capsys, said):
    # Two bins, one 20 points overconfident, one 20 points underconfident: they cancel.
    p = np.full((20, 10), 0.0)
    p[:10, 0], p[:10, 1:] = 0.9, 0.1 / 9
    p[10:, 0], p[10:, 1:] = 0.3, 0.7 / 9
    y = np.array([0] * 7 + [1] * 3 + [0] * 5 + [1] * 5)  # 70 % and 50 % right
    assert check_calibration_error(0.2, p, y) is True
    capsys.readouterr()
    assert check_calibration_error(0.0, p, y) is False
    assert "cancel out" in said(NOT_YET)
