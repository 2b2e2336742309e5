"""Notebook 05's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from digitrec import data, robustness
from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.inside_the_cnn import (
    check_augmented_model,
    check_most_confident_mistake,
    check_slant,
)
from digitrec.model import build_seed_cnn

NOTEBOOK = "05_inside_the_cnn"  # its worked solutions: the `solutions` fixture


@pytest.fixture(scope="module")
def readings(mnist, predictor):
    _, (x_test, y_test) = mnist
    return y_test[:2_000], predictor.predict_arrays(x_test[:2_000] / 255.0)


def test_exercise_1_most_confident_mistake(solutions, readings, said):
    y, probabilities = readings
    answer = solutions.exercise_1(y, probabilities)
    assert check_most_confident_mistake(answer, y, probabilities) is True
    assert f"x_test[{answer}] is a {y[answer]}" in said(RIGHT)

    guesses = probabilities.argmax(axis=1)
    right = int(np.flatnonzero(guesses == y)[0])
    assert check_most_confident_mistake(right, y, probabilities) is False
    assert "reads it right" in said(NOT_YET)
    wrong = np.flatnonzero(guesses != y)
    least_sure = int(wrong[probabilities[wrong].max(axis=1).argmin()])
    assert check_most_confident_mistake(least_sure, y, probabilities) is False
    assert "only" in said(NOT_YET)
    assert check_most_confident_mistake(len(y), y, probabilities) is False
    assert "not an index" in said(NOT_YET)
    assert check_most_confident_mistake(..., y, probabilities) is False
    assert "replace the `...`" in said(NOT_YET)


def test_exercise_2_slant(solutions, mnist, said):
    _, (x_test, _) = mnist
    image = data.as_float_images(x_test[:1])[0]
    answer = solutions.exercise_2(image)
    assert answer == pytest.approx(robustness.slant(image))
    assert check_slant(answer, image) is True
    assert "leans" in said(RIGHT)
    assert check_slant(-answer, image) is False
    assert "sign" in said(NOT_YET)
    assert check_slant(float(np.degrees(np.arctan(answer))), image) is False
    assert "degrees" in said(NOT_YET)
    assert check_slant(answer + 0.1, image) is False
    assert "is not the slant" in said(NOT_YET)
    assert check_slant("steep", image) is False
    assert "one number" in said(NOT_YET)


def test_exercise_3_augmented_model(solutions, mnist, said):
    (x_train, y_train), _ = mnist
    keras.utils.set_random_seed(0)
    cnn = build_seed_cnn()
    before = [w.copy() for w in cnn.get_weights()]
    x, y = data.scale_images(x_train[:256]), y_train[:256]
    answer = solutions.exercise_3(keras.models.clone_model(cnn), x, y, rotation=20, epochs=1)
    assert check_augmented_model(answer, cnn) is True
    assert "RandomRotation of ±20°" in said(RIGHT)
    assert check_augmented_model(answer, cnn, rotation=20) is True
    assert "RandomRotation of ±20°" in said(RIGHT)
    assert check_augmented_model(answer, cnn, rotation=15) is False
    assert "turns digits ±20°, not ±15°" in said(NOT_YET)
    for old, new in zip(before, cnn.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the course's CNN is untouched

    shared = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.RandomRotation(0.05)])
    for layer in cnn.layers:
        shared.add(layer)
    assert check_augmented_model(shared, cnn) is False
    assert "shares layers" in said(NOT_YET)
    untrained = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.RandomRotation(0.05)]
        + keras.models.clone_model(cnn).layers
    )
    assert check_augmented_model(untrained, cnn) is False
    assert "not been trained" in said(NOT_YET)
    # Degrees where Keras wants a fraction of a turn: RandomRotation(15) turns up to 15 turns.
    in_degrees = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.RandomRotation(0.5)]
        + keras.models.clone_model(cnn).layers
    )
    assert check_augmented_model(in_degrees, cnn, rotation=15) is False
    assert "turns digits ±180°, not ±15°" in said(NOT_YET)
    assert check_augmented_model(keras.models.clone_model(cnn), cnn) is False
    assert "not RandomRotation" in said(NOT_YET)
    assert check_augmented_model("a model", cnn) is False
    assert "expected a Keras model" in said(NOT_YET)
