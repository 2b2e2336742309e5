"""Solutions to notebook 04's exercises (draw a digit and watch the model read it), one
function per exercise.

Each takes what the notebook has and returns the answer its check expects; the test suite runs
every one through its check.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from digitrec.constants import INK_THRESHOLD
from digitrec.predict import Predictor
from digitrec.preprocess import extract_ink
from digitrec.strokes import example_strokes
from digitrec.widgets import DrawingPad


def exercise_1(probabilities: np.ndarray) -> tuple[int, int, float]:
    """The most likely digit, the runner-up, and how far apart their probabilities are."""
    first, second = np.argsort(probabilities)[::-1][:2]
    return int(first), int(second), float(probabilities[first] - probabilities[second])


def exercise_2(predictor: Predictor, digit: int, heights: Sequence[float]) -> list[int]:
    """The digit the pad reads for `digit` drawn at each height near the top-left corner."""
    pad = DrawingPad(predictor)
    readings = []
    for height in heights:
        pad.clear()
        pad.draw_strokes(example_strokes(digit, height=height, top=20, left=20))
        readings.append(pad.predict().digit)
    return readings


def exercise_3(labels: np.ndarray, guesses: np.ndarray) -> np.ndarray:
    """The model's accuracy on each digit 0-9 of your drawings; NaN for a digit never drawn."""
    return np.array(
        [(guesses[labels == d] == d).mean() if (labels == d).any() else np.nan for d in range(10)]
    )


def exercise_4(drawing: np.ndarray) -> int:
    """How many connected pieces of ink the drawing has, diagonal neighbours touching."""
    ink, _ = extract_ink(drawing)
    _, count = ndimage.label(ink > INK_THRESHOLD, structure=np.ones((3, 3)))
    return int(count)
