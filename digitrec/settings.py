"""Where things live and which mode we run in, read from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout's root when digitrec runs from a clone, else the working directory.

    Notebooks run with `notebooks/` as their working directory, so paths such as
    `models/cnn.keras` are resolved against the project root, not the cwd.
    """
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def default_model_path() -> Path:
    """`DIGITREC_MODEL` if set, else `models/cnn.keras` under the project root."""
    override = os.environ.get("DIGITREC_MODEL")
    if override:
        return Path(override).expanduser()
    return project_root() / "models" / "cnn.keras"


def fast_mode() -> bool:
    """True when `DIGITREC_FAST` is set to a true value: a data subset and one epoch.

    The test suite sets it so every notebook runs in seconds; a learner leaves it unset and
    gets the real lesson.
    """
    return os.environ.get("DIGITREC_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def sidecar_path(model_path: str | os.PathLike[str]) -> Path:
    """The JSON file beside a model that records how it was trained (`cnn.keras` -> `cnn.json`)."""
    return Path(model_path).with_suffix(".json")
