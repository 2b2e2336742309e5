"""Notebook 02's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import data, datastats
from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.how_a_network_learns import (
    check_nearest_mean_as_linear,
    check_steps_per_epoch,
    check_uniform_loss,
)

NOTEBOOK = "02_how_a_network_learns"  # its worked solutions: the `solutions` fixture


@pytest.fixture(scope="module")
def means_and_test_images(mnist):
    (x_train, y_train), (x_test, _) = mnist
    means = datastats.mean_digits(x_train[:10_000], y_train[:10_000])
    test_images = data.as_float_images(x_test[:2_000]).reshape(2_000, -1)
    return means, test_images


def test_exercise_1_uniform_loss(solutions, said):
    answer = solutions.exercise_1()
    assert check_uniform_loss(answer) is True
    assert "ln 10 = 2.3026" in said(RIGHT)
    for wrong, hint in [(-answer, "positive"), (1.0, "natural logarithm"), (0.1, "probability")]:
        assert check_uniform_loss(wrong) is False
        assert hint in said(NOT_YET)
    assert check_uniform_loss("ln 10") is False
    assert "expected one number" in said(NOT_YET)


def test_exercise_2_nearest_mean_is_linear(solutions, means_and_test_images, said):
    means, test_images = means_and_test_images
    weights, bias = solutions.exercise_2(means)
    assert check_nearest_mean_as_linear((weights, bias), means, test_images) is True
    assert "100.00%" in said(RIGHT)
    # without the bias, digits with much ink (a big |m|²) win too often
    assert check_nearest_mean_as_linear((weights, np.zeros(10)), means, test_images) is False
    assert "agrees with nearest-mean on only" in said(NOT_YET)
    assert check_nearest_mean_as_linear((weights.T, bias), means, test_images) is False
    assert "transpose" in said(NOT_YET)
    assert check_nearest_mean_as_linear(weights, means, test_images) is False
    said(NOT_YET)


def test_exercise_3_steps_per_epoch(solutions, said):
    answer = solutions.exercise_3(57_000, 32)
    assert answer == (1782, 8)
    assert check_steps_per_epoch(answer, examples=57_000, batch_size=32) is True
    said(RIGHT)
    assert check_steps_per_epoch((1781, 32), examples=57_000, batch_size=32) is False
    assert "round up" in said(NOT_YET)
    assert check_steps_per_epoch((1782, 32), examples=57_000, batch_size=32) is False
    assert "what the full ones leave" in said(NOT_YET)
    # when the batches divide the images exactly, the last batch is a full one
    assert solutions.exercise_3(60_000, 100) == (600, 100)
    assert check_steps_per_epoch((600, 100), examples=60_000, batch_size=100) is True
    said(RIGHT)


@pytest.mark.parametrize("placeholder", [..., None])
def test_starting_points_fail_without_raising(placeholder, means_and_test_images, capsys):
    means, test_images = means_and_test_images
    assert check_uniform_loss(placeholder) is False
    assert check_nearest_mean_as_linear(placeholder, means, test_images) is False
    assert check_steps_per_epoch(placeholder, examples=100, batch_size=32) is False
    assert capsys.readouterr().out.count("replace the `...`") == 3


def test_an_answer_of_the_wrong_kind_is_described_briefly(said):
    assert check_uniform_loss(np.zeros((784, 10))) is False
    assert "expected one number, got an array of shape (784, 10)." in said(NOT_YET)
    assert check_steps_per_epoch("x" * 200, examples=100, batch_size=32) is False
    out = said(NOT_YET)
    assert "expected two whole numbers" in out and len(out) < 200
