"""The one trained model the app serves, loaded once and shared by every request thread.

`Predictor` is thread-safe (a traced TensorFlow function), so request threads call it
directly with no lock. Loading is the slow part (seconds), so loaded predictors are kept per
model file: apps created again in one process (tests, a reloader) reuse the model instead of
loading it again, and a retrained file (new modification time) is loaded afresh.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from digitrec.predict import (
    READ_TURNS,
    RETRAIN_COMMAND,
    TRAIN_COMMAND,
    ModelLoadError,
    ModelNotFoundError,
    Predictor,
)

EXTENSION = "digitrec"
KEEP = 2  # model files kept loaded at once
log = logging.getLogger(__name__)

_loaded: dict[tuple[str, int, int], Predictor] = {}
_loading = threading.Lock()


@dataclass
class ModelSlot:
    """The app's model, or why there is none and how to train one (sent with each 503).

    `problem` names the model file but not where it is: the full path is in the server's log,
    not in answers to clients.
    """

    predictor: Predictor | None
    problem: str | None = None


def init_app(app: Flask) -> None:
    """Load the model named by MODEL_PATH now, so the first drawing is answered quickly."""
    path = Path(app.config["MODEL_PATH"])
    try:
        slot = ModelSlot(load_predictor(path))
    except ModelNotFoundError as exc:
        app.logger.warning("the app starts without a model: %s", exc)
        slot = ModelSlot(
            None, f"there is no model file {path.name}. Train one with: {TRAIN_COMMAND}"
        )
    except ModelLoadError as exc:
        app.logger.warning("the app starts without a model: %s", exc)
        slot = ModelSlot(
            None,
            f"the model file {path.name} could not be loaded. "
            f"Train a new one with: {RETRAIN_COMMAND}",
        )
    app.extensions[EXTENSION] = slot


def load_predictor(path: str | Path) -> Predictor:
    """The `Predictor` for the model file at `path`, loaded at most once per file version.

    It reads each drawing as drawn and turned by `READ_TURNS`, and averages the readings.
    """
    model_path = Path(path).expanduser().resolve()
    try:
        stat = model_path.stat()
    except OSError:
        # raises ModelNotFoundError, whose message gives the train command
        return Predictor.load(model_path, turns=READ_TURNS)
    key = (str(model_path), stat.st_mtime_ns, stat.st_size)
    with _loading:
        predictor = _loaded.get(key)
        if predictor is None:
            predictor = Predictor.load(model_path, turns=READ_TURNS)
            while len(_loaded) >= KEEP:  # not every version ever served stays in memory
                del _loaded[next(iter(_loaded))]
            _loaded[key] = predictor
            log.info("loaded model %s from %s", predictor.name, model_path)
    return predictor


def current_slot() -> ModelSlot:
    return current_app.extensions[EXTENSION]
