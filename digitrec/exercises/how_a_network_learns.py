"""Checks for notebook 02's exercises (how a network learns).

Each check works out the expected answer itself (from the arguments, or from the definition of
the loss) and prints one verdict (see `digitrec.exercises.verdict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from digitrec.constants import NUM_CLASSES
from digitrec.data import as_float_images
from digitrec.exercises import verdict
from digitrec.exercises.answers import read_answer

# Exercise 2: the linear model must give the nearest mean digit's answer on this share of images.
AGREEMENT = 0.999


def check_uniform_loss(answer: Any) -> bool:
    """Exercise 1: the cross-entropy of a model that gives each of the ten digits 1/10."""
    loss = read_answer(answer, float, "one number")
    if loss is None:
        return False
    expected = -np.log(1 / NUM_CLASSES)
    if np.isclose(loss, expected, rtol=1e-4):
        return verdict(
            True,
            right=(
                f"-ln(1/10) = ln 10 = {expected:.4f}, whatever the label: the loss a model "
                "starts from when all its weights are zero."
            ),
            wrong="",
        )
    if np.isclose(loss, -expected, rtol=1e-4):
        hint = "the loss is minus the log of the probability, so it is positive."
    elif np.isclose(loss, 1.0) or np.isclose(loss, -np.log10(1 / NUM_CLASSES)):
        hint = "cross-entropy uses the natural logarithm, np.log."
    elif np.isclose(loss, 1 / NUM_CLASSES):
        hint = "that is the probability; the loss is -log(probability)."
    else:
        hint = "the probability of the right digit is 1/10; the loss is -log of it."
    return verdict(False, right="", wrong=f"{loss:.4f} is not that loss.", hint=hint)


def check_nearest_mean_as_linear(answer: Any, means: np.ndarray, images: np.ndarray) -> bool:
    """Exercise 2: (weights (784, 10), bias (10,)) whose largest score is the nearest mean digit.

    `means` are the ten mean digits, `images` the digits to compare on (any shape with 784
    pixels each, values in [0, 1] or 0-255).
    """
    read = read_answer(answer, _two_arrays, "two arrays: (weights, bias)")
    if read is None:
        return False
    weights, bias = read
    pixels = int(np.prod(np.shape(means)[1:]))
    if weights.shape != (pixels, NUM_CLASSES) or bias.shape != (NUM_CLASSES,):
        hint = "reshape the means to (10, 784) and transpose them (`.T`)."
        if weights.shape == (NUM_CLASSES, pixels):
            hint = "transpose the weights: images @ weights needs (784, 10)."
        return verdict(
            False,
            right="",
            wrong=(
                f"weights {weights.shape} and bias {bias.shape}; expected "
                f"({pixels}, {NUM_CLASSES}) and ({NUM_CLASSES},)."
            ),
            hint=hint,
        )
    flat = as_float_images(images).reshape(len(images), -1).astype(np.float64)
    centres = np.asarray(means, np.float64).reshape(NUM_CLASSES, -1)
    nearest = cdist(flat, centres, "sqeuclidean").argmin(axis=1)
    linear = (flat @ weights + bias).argmax(axis=1)
    agreement = float(np.mean(linear == nearest))
    if agreement >= AGREEMENT:
        return verdict(
            True,
            right=(
                f"your linear model gives the nearest mean digit's answer on {agreement:.2%} "
                f"of {len(flat):,} images: nearest-mean is a linear classifier."
            ),
            wrong="",
        )
    return verdict(
        False,
        right="",
        wrong=f"your model agrees with nearest-mean on only {agreement:.1%} of the images.",
        hint=(
            "|x - m|² = |x|² - 2 x·m + |m|²; |x|² is the same for every digit, so the "
            "nearest m has the largest x·m - |m|²/2."
        ),
    )


def check_steps_per_epoch(answer: Any, examples: int, batch_size: int) -> bool:
    """Exercise 3: (steps per epoch, images in the last batch) for one pass over `examples`."""
    read = read_answer(answer, _two_whole_numbers, "two whole numbers: (steps, last_batch)")
    if read is None:
        return False
    steps, last = read
    expected_steps = -(-examples // batch_size)
    expected_last = examples - (expected_steps - 1) * batch_size
    if (steps, last) == (expected_steps, expected_last):
        return verdict(
            True,
            right=(
                f"{examples:,} images in batches of {batch_size} take {steps:,} steps per "
                f"epoch, the last one with {last} images."
            ),
            wrong="",
        )
    if steps == examples // batch_size and expected_last != batch_size:
        hint = "the last, smaller batch is a step too: round up."
    elif steps != expected_steps:
        hint = "one step per batch: divide the images by the batch size and round up."
    else:
        hint = "the last batch holds what the full ones leave over."
    return verdict(False, right="", wrong=f"({steps}, {last}) is not right.", hint=hint)


def _two_arrays(answer: Any) -> tuple[np.ndarray, np.ndarray]:
    weights, bias = answer
    return np.asarray(weights, dtype=np.float64), np.asarray(bias, dtype=np.float64)


def _two_whole_numbers(answer: Any) -> tuple[int, int]:
    steps, last = answer
    return int(steps), int(last)
