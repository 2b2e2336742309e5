"""Where things live and which mode we run in, read from the environment in one place."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
COURSE_MODEL = "seed_cnn.keras"  # the seed CNN as notebook 03 and `make train-seed` save it


def project_root() -> Path:
    """The checkout's root when digitrec runs from a clone, else the working directory.

    Notebooks run with `notebooks/` as their working directory, so paths such as
    `models/cnn.keras` are resolved against the project root, not the cwd.
    """
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def models_dir() -> Path:
    """Where trained models live: `DIGITREC_MODELS` if set, else `models/` in the project.

    A relative `DIGITREC_MODELS` is taken from the project root, as `make` takes it: a
    notebook's kernel runs in `notebooks/` and finds the same folder.
    """
    override = os.environ.get("DIGITREC_MODELS")
    if override:
        return project_root() / Path(override).expanduser()
    return project_root() / "models"


def recommended_model_path() -> Path:
    """Where `make train` writes the recommended model: `DIGITREC_MODEL` if set (a relative
    path from the project root), else `cnn.keras` in `models_dir()`."""
    override = os.environ.get("DIGITREC_MODEL")
    if override:
        return project_root() / Path(override).expanduser()
    return models_dir() / "cnn.keras"


def shipped_model_path() -> Path:
    """The recommended model as trained by the project and installed with the package."""
    return PACKAGE_DIR / "pretrained" / "cnn.keras"


def default_model_path() -> Path:
    """The model the app, the drawing pad and `Predictor.load()` read when told nothing else.

    The recommended model you trained (`recommended_model_path()`) if it exists, else the one
    shipped with the package; a fresh clone therefore reads drawings without training first.
    """
    trained = recommended_model_path()
    if trained.is_file() or os.environ.get("DIGITREC_MODEL"):
        return trained
    shipped = shipped_model_path()
    return shipped if shipped.is_file() else trained


def course_dir() -> Path:
    """Where the course's notebooks keep the models they train: `models_dir()`, or in fast mode
    its `fast-mode/` folder, so a one-epoch model from a quick check never stands in for the
    real lesson's in a later full run."""
    return models_dir() / "fast-mode" if fast_mode() else models_dir()


def course_model_path() -> Path:
    """The course's seed CNN: notebook 03 trains and saves it, notebooks 04 to 07 read it."""
    return course_dir() / COURSE_MODEL


def quick_model_path() -> Path:
    """A one-epoch seed CNN for a learner who opens one of notebooks 04 to 07 before 03.

    Kept apart from `course_model_path()` so it never takes the place of a real model.
    """
    return course_dir() / "seed_cnn_quick.keras"


def fast_mode() -> bool:
    """True when `DIGITREC_FAST` is set to a true value: a data subset and one epoch.

    The test suite sets it so every notebook runs quickly; a learner leaves it unset and gets
    the real lesson. The models the course trains then go apart (`course_dir`).
    """
    return os.environ.get("DIGITREC_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def sidecar_path(model_path: str | os.PathLike[str]) -> Path:
    """The JSON file beside a model that records how it was trained (`cnn.keras` -> `cnn.json`)."""
    return Path(model_path).with_suffix(".json")


def why_unreadable(path: str | os.PathLike[str], error: Exception) -> str:
    """Why Keras could not load a model file, in words for an error message.

    Keras says "File not found" for a file that is there but is no `.keras` archive (cut
    short, or another kind of file); that is said as it is.
    """
    text = str(error).splitlines()[0] if str(error) else ""
    if not Path(path).is_file():
        return "no such file"
    if isinstance(error, zipfile.BadZipFile) or "File not found" in text:
        return "not a .keras model file, or one cut short"
    return f"{type(error).__name__}: {text or 'unreadable'}"
