"""Checks for notebook 05's exercises (inside the CNN).

Each check takes the learner's answer and what it is about (the test labels and the model's
probabilities, a digit, the course's CNN), works the expected answer out with `digitrec`, and
prints one verdict (see `digitrec.exercises.verdict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digitrec import evaluation, robustness
from digitrec.exercises import verdict
from digitrec.exercises.answers import read_answer


def check_most_confident_mistake(
    answer: Any, y_true: np.ndarray, probabilities: np.ndarray
) -> bool:
    """Exercise 1: the index of the test digit the model reads wrongly with the most confidence."""
    index = read_answer(answer, int, "one index")
    if index is None:
        return False
    probabilities = np.asarray(probabilities)
    y_true = np.asarray(y_true)
    mistakes = evaluation.misclassified(y_true, probabilities)
    if not len(mistakes):
        return verdict(False, right="", wrong="the model reads every one of these digits right.")
    if not 0 <= index < len(y_true):
        return verdict(
            False, right="", wrong=f"{index} is not an index of the {len(y_true)} digits."
        )
    guess = int(probabilities[index].argmax())
    sure = float(probabilities[index, guess])
    if guess == int(y_true[index]):
        return verdict(
            False,
            right="",
            wrong=f"digit {index} is a {guess} and the model reads it right ({sure:.1%} sure).",
            hint="a mistake is where `probabilities.argmax(axis=1) != y_test`.",
        )
    best = int(mistakes[0])
    best_sure = float(probabilities[best].max())
    if index != best and sure < best_sure:
        return verdict(
            False,
            right="",
            wrong=f"digit {index} is a mistake, but the model is only {sure:.1%} sure of it; "
            "another mistake is read with more confidence.",
            hint="among the mistakes, take the one whose highest probability is largest.",
        )
    return verdict(
        True,
        right=f"x_test[{index}] is a {int(y_true[index])} that the model reads as {guess}, "
        f"{sure:.1%} sure: the worst of its {len(mistakes)} mistakes on these digits.",
        wrong="",
    )


def check_slant(answer: Any, image: np.ndarray) -> bool:
    """Exercise 2: the digit's slant, -cov(row, column) / var(row) of its ink."""
    value = read_answer(answer, float, "one number")
    if value is None:
        return False
    expected = robustness.slant(image)
    degrees = float(np.degrees(np.arctan(expected)))
    close = np.isclose(value, expected, rtol=1e-3, atol=1e-4)
    if not close and np.isclose(value, -expected, rtol=1e-3, atol=1e-4):
        return verdict(
            False,
            right="",
            wrong="the size is right but the sign is not.",
            hint="rows count downwards, so a digit whose top leans right has a *negative* "
            "covariance of row and column; the slant is minus the covariance over var(row).",
        )
    if not close and np.isclose(value, degrees, rtol=1e-3, atol=1e-2):
        return verdict(
            False,
            right="",
            wrong="that is the slant as an angle in degrees.",
            hint="give it as columns per row: the tangent of that angle.",
        )
    if not close:
        return verdict(
            False,
            right="",
            wrong=f"{value:.4f} is not the slant of this digit.",
            hint="weight every pixel by its ink (`image / image.sum()`), find the mean row and "
            "column, then cov(row, column) and var(row) around them; slant = -cov / var.",
        )
    return verdict(
        True,
        right=f"this digit's ink moves {expected:+.3f} columns per row going up: it leans "
        f"{degrees:+.1f}° from upright. `robustness.deskew` shears it by exactly that.",
        wrong="",
    )


def check_augmented_model(answer: Any, cnn: Any, rotation: float | None = None) -> bool:
    """Exercise 3: a trained copy of `cnn` with a RandomRotation layer in front of its layers,
    turning digits up to `rotation` degrees either way (any amount where it is None)."""
    import keras

    model = read_answer(answer, _keras_model, "a Keras model")
    if model is None:
        return False
    layers = list(model.layers)
    if not layers or not isinstance(layers[0], keras.layers.RandomRotation):
        first = type(layers[0]).__name__ if layers else "nothing"
        return verdict(
            False,
            right="",
            wrong=f"its first layer is {first}, not RandomRotation.",
            hint="keras.Sequential([keras.Input((28, 28, 1)), keras.layers.RandomRotation(...), "
            "*copy.layers])",
        )
    low, high = (360 * float(f) for f in layers[0].factor)  # Keras keeps (low, high) turns
    turns = f"±{high:.0f}°" if np.isclose(low, -high) else f"{low:+.0f}° to {high:+.0f}°"
    if rotation is not None and not np.allclose((low, high), (-rotation, rotation)):
        return verdict(
            False,
            right="",
            wrong=f"its RandomRotation turns digits {turns}, not ±{rotation:g}°.",
            hint="the layer takes a fraction of a full turn: `RandomRotation(ROTATION / 360)`.",
        )
    kinds = [type(layer).__name__ for layer in layers[1:]]
    expected = [type(layer).__name__ for layer in cnn.layers]
    if kinds != expected:
        return verdict(
            False,
            right="",
            wrong=f"after RandomRotation it has {kinds}; the course's CNN has {expected}.",
            hint="put all of the copy's layers after the rotation, in order.",
        )
    if any(mine is theirs for mine in layers for theirs in cnn.layers):
        return verdict(
            False,
            right="",
            wrong="it shares layers with the course's CNN, so training it changes that model too.",
            hint="make fresh layers with `keras.models.clone_model(cnn)`.",
        )
    optimizer = getattr(model, "optimizer", None)
    steps = int(optimizer.iterations.numpy()) if optimizer is not None else 0
    if steps == 0:
        return verdict(
            False,
            right="",
            wrong="the model has not been trained yet.",
            hint="compile it (Adam, sparse categorical cross-entropy) and `fit` it.",
        )
    return verdict(
        True,
        right=f"a fresh copy of the CNN's {len(expected)} layers behind a RandomRotation of "
        f"{turns}, trained for {steps} steps.",
        wrong="",
    )


def _keras_model(answer: Any) -> Any:
    """`answer` itself if it is a Keras model; a TypeError (for `read_answer`) if not."""
    import keras

    if not isinstance(answer, keras.Model):
        raise TypeError(f"not a Keras model: {type(answer).__name__}")
    return answer
