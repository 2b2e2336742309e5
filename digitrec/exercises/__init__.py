"""Checks for the notebooks' exercises: each says "right", or what is wrong and a hint.

Every notebook ends with exercises written as code cells: a starting point the learner edits,
then a call such as `check_mean_distance(answer)`. A check never raises on a wrong or
unfinished answer (the notebook must still run top to bottom); it prints one verdict and
returns True or False, so the test suite can run each solution in `notebooks/solutions/`
through its check, and show that a wrong answer fails it. One module per notebook.
"""

from __future__ import annotations

from typing import Any

RIGHT = "✅ Right"
NOT_YET = "❌ Not yet"


def verdict(ok: bool, *, right: str, wrong: str, hint: str = "") -> bool:
    """Print one line that says whether the answer is right (and why), or what is wrong."""
    if ok:
        print(f"{RIGHT}: {right}")
    else:
        print(f"{NOT_YET}: {wrong}" + (f" Hint: {hint}" if hint else ""))
    return bool(ok)


def unanswered(answer: Any) -> bool:
    """True for the placeholders a starting point leaves (`None` or `...`)."""
    return answer is None or answer is Ellipsis
