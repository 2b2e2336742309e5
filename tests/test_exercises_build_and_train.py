"""Notebook 03's exercises: every solution passes its check, and wrong answers fail it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from digitrec import data, explain
from digitrec.exercises import NOT_YET, RIGHT
from digitrec.exercises.build_and_train import (
    check_early_stopping,
    check_max_pooling,
    check_parameter_count,
    early_stopping_epochs,
    seed_cnn_with_first_filters,
)
from digitrec.model import SEED_CNN_PARAMS

NOTEBOOK = "03_build_and_train_cnn"  # its worked solutions: the `solutions` fixture
# Validation losses that fall, then rise: with patience 2 the run stops after epoch 5.
TURNING = [1.0, 0.8, 0.7, 0.72, 0.75, 0.71, 0.9]


@pytest.fixture(scope="module")
def feature_map(mnist):
    """The notebook's map: a real digit through the vertical-edge kernel, 26x26."""
    (x_train, _), _ = mnist
    return explain.convolve(x_train[0] / 255.0, explain.EXAMPLE_FILTERS["vertical edges"])


def test_exercise_1_max_pooling(solutions, feature_map, said):
    answer = solutions.exercise_1(feature_map)
    assert answer.shape == (13, 13)
    assert check_max_pooling(answer, feature_map) is True
    assert "13x13" in said(RIGHT)

    average = feature_map.reshape(13, 2, 13, 2).mean(axis=(1, 3))
    assert check_max_pooling(average, feature_map) is False
    assert "average" in said(NOT_YET)
    assert check_max_pooling(feature_map, feature_map) is False
    assert "(13, 13)" in said(NOT_YET)
    nudged = answer.copy()
    nudged[5, 5] += 0.5
    assert check_max_pooling(nudged, feature_map) is False
    assert "values differ" in said(NOT_YET)


def test_exercise_1_odd_sized_map_drops_the_last_row_and_column(solutions, feature_map, said):
    odd = feature_map[:25, :25]
    assert check_max_pooling(solutions.exercise_1(odd), odd) is True
    said(RIGHT)
    padded = np.pad(odd, ((0, 1), (0, 1)))
    assert check_max_pooling(padded.reshape(13, 2, 13, 2).max(axis=(1, 3)), odd) is False
    assert "(12, 12)" in said(NOT_YET)


@pytest.mark.parametrize("placeholder", [..., None, "pooled", [1, 2, 3]])
def test_exercise_1_unfinished_answers_fail_without_raising(placeholder, feature_map, said):
    assert check_max_pooling(placeholder, feature_map) is False
    said(NOT_YET)


def test_exercise_1_rejects_a_batch_given_as_the_map(feature_map):
    with pytest.raises(ValueError, match="one 2-D map"):
        check_max_pooling(feature_map, feature_map[None])


def test_exercise_2_parameter_count(solutions, said):
    answer = solutions.exercise_2()
    assert check_parameter_count(answer, first_filters=16) is True
    assert f"{answer:,} parameters" in said(RIGHT)
    assert check_parameter_count(float(answer), first_filters=16) is True
    said(RIGHT)

    assert check_parameter_count(SEED_CNN_PARAMS, first_filters=16) is False
    assert "own count, with 32 filters" in said(NOT_YET)
    only_conv1 = SEED_CNN_PARAMS - (3 * 3 + 1) * 32 + (3 * 3 + 1) * 16
    assert check_parameter_count(only_conv1, first_filters=16) is False
    assert "conv1 only" in said(NOT_YET)
    for wrong in (answer + 1, "many", answer + 0.5, True, ...):
        assert check_parameter_count(wrong, first_filters=16) is False
        said(NOT_YET)


def test_exercise_2_other_filter_counts_come_from_keras(said):
    assert check_parameter_count(SEED_CNN_PARAMS, first_filters=32) is True
    said(RIGHT)
    variant = seed_cnn_with_first_filters(8)
    convs = [layer for layer in variant.layers if isinstance(layer, keras.layers.Conv2D)]
    first_conv, second_conv = convs[:2]
    assert first_conv.filters == 8 and second_conv.kernel.shape == (3, 3, 8, 64)
    assert check_parameter_count(variant.count_params(), first_filters=8) is True
    said(RIGHT)


def test_exercise_3_early_stopping(solutions, said):
    answer = solutions.exercise_3(TURNING, patience=2)
    assert answer == 5
    assert check_early_stopping(answer, TURNING, patience=2) is True
    assert "trains 5 epochs, then stops" in said(RIGHT)

    assert check_early_stopping(3, TURNING, patience=2) is False
    assert "lowest validation loss" in said(NOT_YET)
    assert check_early_stopping(len(TURNING), TURNING, patience=2) is False
    assert "before the last epoch" in said(NOT_YET)
    for wrong in (6, 4.5, "five", ...):
        assert check_early_stopping(wrong, TURNING, patience=2) is False
        said(NOT_YET)


@pytest.mark.parametrize(
    ("losses", "patience", "epochs"),
    [
        ([3.0, 2.0, 1.0], 2, 3),  # always improving: never stops early
        ([1.0, 1.0, 1.0, 1.0, 1.0], 3, 4),  # equal is not lower
        (TURNING, 1, 4),
        (TURNING, 4, 7),
    ],
)
def test_exercise_3_solution_agrees_with_keras(solutions, losses, patience, epochs, said):
    assert early_stopping_epochs(losses, patience) == epochs
    assert solutions.exercise_3(losses, patience=patience) == epochs
    assert check_early_stopping(epochs, losses, patience=patience) is True
    said(RIGHT)


def test_exercise_3_solution_agrees_with_keras_on_random_curves(solutions, rng):
    for _ in range(30):
        losses = np.round(rng.random(int(rng.integers(2, 15))), 1).tolist()  # ties happen
        patience = int(rng.integers(1, 5))
        assert solutions.exercise_3(losses, patience) == early_stopping_epochs(losses, patience)


def test_early_stopping_epochs_matches_a_real_fit(mnist):
    """The check's replay of the callback stops where a real `fit` with it stopped."""
    (x_train, y_train), _ = mnist
    x = data.scale_images(x_train[:300])
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
    history = model.fit(
        x[:200],
        y_train[:200],
        validation_data=(x[200:], y_train[200:300]),
        epochs=40,
        batch_size=50,
        callbacks=[stopper],
        verbose=0,
    ).history
    assert stopper.stopped_epoch > 0, "the run should stop early for this test to mean much"
    assert early_stopping_epochs(history["val_loss"], patience=1) == len(history["val_loss"])
