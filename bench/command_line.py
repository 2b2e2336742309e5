"""What the benchmarks' command lines share: bad input is one line and a non-zero exit.

Option types for counts, seeds and angles (argparse turns their ValueError into a usage
error), checks of the paths a benchmark writes at its end, made before the run so a long run
does not fail at its end, and `run`, which ends a run cut short with Ctrl-C in one line.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from digitrec.command_line import ArgumentParser  # noqa: F401  (the benchmarks' parser)


def count(text: str) -> int:
    """A whole number of at least 1 (digits, rounds, clients, a batch size)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def random_seed(text: str) -> int:
    """A random seed: a whole number of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def finite(text: str) -> float:
    """A number that is neither infinite nor NaN (an angle, a target)."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def check_output(
    parser: argparse.ArgumentParser, path: Path | str | None, *, folder: bool = False
) -> None:
    """Stop with a usage error now if `path` (a file, or with `folder` a folder the run fills)
    could not be written at the end of the run; make a file's folder if it is missing."""
    if path is None:
        return
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        parser.error(f"{path} is a file, not a folder")
    if not folder and path.is_dir():
        parser.error(f"{path} is a folder; give a file name")
    nearest = path.absolute() if folder else path.absolute().parent
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    if not nearest.is_dir():
        parser.error(f"cannot write {path}: {nearest} is a file, not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        parser.error(f"cannot write {path}: no permission to write in {nearest}")
    try:  # root passes `os.access` everywhere, yet cannot write in /proc: a file made there
        with tempfile.TemporaryFile(dir=nearest):
            pass
    except OSError as exc:
        parser.error(f"cannot write {path}: cannot write in {nearest} ({exc.strerror or exc})")
    if not folder:
        path.parent.mkdir(parents=True, exist_ok=True)


def run(main: Callable[[], int | None]) -> NoReturn:
    """Run a benchmark's `main` and exit with its status; Ctrl-C ends it in one line, and so
    does MNIST that cannot be found or read (every benchmark that trains or measures needs it)."""
    from digitrec.data import DatasetError

    try:
        status = main()
    except KeyboardInterrupt:
        print("\ninterrupted: the run was stopped before its results were written", file=sys.stderr)
        sys.exit(130)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)
