"""Reading a learner's answer before checking it: a placeholder or an answer of the wrong kind
gets one verdict that says what an answer looks like, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from digitrec.exercises import unanswered, verdict

T = TypeVar("T")

UNFINISHED = "replace the `...` with your answer and run the cell again."


def read_answer(answer: Any, convert: Callable[[Any], T], expected: str) -> T | None:
    """`convert(answer)`, or None after printing why `answer` is not an answer yet.

    `convert` raises TypeError or ValueError for an answer of the wrong kind (`int`, `float`,
    or a function that unpacks a tuple); `expected` says what a right kind of answer is, e.g.
    "one number" or "two arrays: (weights, bias)".
    """
    if unanswered(answer):
        verdict(False, right="", wrong=UNFINISHED)
        return None
    try:
        return convert(answer)
    except (TypeError, ValueError):
        verdict(False, right="", wrong=f"expected {expected}, got {describe(answer)}.")
        return None


def describe(answer: Any) -> str:
    """A short description of an answer: its shape for an array, else a shortened repr."""
    if isinstance(answer, np.ndarray):
        return f"an array of shape {answer.shape}"
    text = repr(answer)
    return text if len(text) <= 60 else text[:57] + "..."
