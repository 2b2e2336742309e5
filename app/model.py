"""The models the app serves, chosen by name: the default one, the shipped one and yours.

The catalogue is

- the default model, `MODEL_PATH` (the model you trained with `make train`, else the one
  shipped with the package), named by its file's stem, or "shipped" when it is that file;
- "shipped", the recommended model installed with the package (`SHIPPED_MODEL_PATH`), when
  the file exists;
- each `<name>.keras` file directly in the models folder (`MODELS_DIR`, `models/`), where the
  name matches `NAME_PATTERN`. Subfolders are not searched, and a link that leads out of the
  folder is ignored.

A request names a model; the name is checked against `NAME_PATTERN` and looked up in the
catalogue, whose paths come from the folder's own listing, so no path is ever taken from a
request. The folder is read again on each listing, so a model saved while the app runs shows
up on the next page load.

Listing reads only file names and the JSON records beside the models. The default model is
loaded when the app starts, so the first drawing is answered quickly; any other model is
loaded the first time a request chooses it. `Predictor` is thread-safe (a traced TensorFlow
function), so request threads call it directly with no lock. Loaded predictors are kept per
model file version (path, modification time, size), at most `KEEP` at once and shared by the
apps of one process (tests, a reloader); a retrained file is loaded afresh, the default one
too (until it loads, say while it is being written, the default model loaded at the start
answers). A file that fails to load is remembered as such, so it is not read again on every
request that chooses it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from digitrec import settings
from digitrec.predict import (
    READ_TURNS,
    TRAIN_COMMAND,
    ModelLoadError,
    ModelNotFoundError,
    Predictor,
)

EXTENSION = "digitrec"  # the default model's `ModelSlot`
CATALOGUE = "digitrec.models"  # the app's `Catalogue`
SHIPPED = "shipped"
# A model's name: what a request may send, and what a file in the models folder is called.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)
NAME_RULE = (
    'a name is 1 to 64 lowercase letters, digits, "_" or "-", starting with a letter or a '
    'digit, with no folder and no ".keras"'
)
SUFFIX = ".keras"
KEEP = 3  # model files kept loaded at once (each app also holds on to its default model)
KEEP_FAILURES = 64  # file versions remembered as unloadable
RECORD_LIMIT = 64 * 1024  # a JSON record larger than this is not read
log = logging.getLogger(__name__)

_loaded: OrderedDict[tuple[str, int, int], Predictor] = OrderedDict()
_failed: OrderedDict[tuple[str, int, int], str] = OrderedDict()  # why each could not load
_cache = threading.Lock()  # guards the two dicts above; held only briefly
_loading = threading.Lock()  # one model is read at a time
_warned: set[str] = set()


@dataclass
class ModelSlot:
    """The default model, or why there is none and how to train one (sent with each 503).

    `problem` names the model file but not where it is: the full path is in the server's log,
    not in answers to clients.
    """

    predictor: Predictor | None
    problem: str | None = None


@dataclass(frozen=True)
class ModelFile:
    """One model of the catalogue: its name and its file (which may be missing)."""

    name: str
    path: Path
    in_folder: bool = False  # from the models folder: its record must be in the folder too


class UnknownModelError(LookupError):
    """No model of that name; `known` lists the names there are."""

    def __init__(self, name: str, known: list[str]):
        super().__init__(name)
        self.name = name
        self.known = known


class ModelUnavailableError(RuntimeError):
    """The chosen model cannot read drawings; the message says why, without the path."""


def is_model_name(value: object) -> bool:
    """True when `value` is a string a model may be called (`NAME_PATTERN`)."""
    return isinstance(value, str) and NAME_PATTERN.fullmatch(value) is not None


class Catalogue:
    """The app's models by name: listed cheaply, loaded on first use (see the module's doc)."""

    def __init__(self, default: ModelFile, slot: ModelSlot, folder: Path, shipped: Path):
        self.default = default
        self.slot = slot
        self.folder = folder
        self.shipped = shipped
        # The default model as last read, by its file's version: read again only when the
        # file changes, however many other models the cache of loaded ones holds meanwhile.
        self._default_read = (_version(default.path), slot.predictor)

    def files(self) -> dict[str, ModelFile]:
        """Every model by name: "shipped" first, then the rest by name."""
        found: dict[str, ModelFile] = {}
        if self.shipped.is_file():
            found[SHIPPED] = ModelFile(SHIPPED, self.shipped)
        found.update(_scan(self.folder))
        mine = found.get(self.default.name)
        if mine is not None and not _same_file(mine.path, self.default.path):
            _warn_once(f"the default model {self.default.path} hides {mine.path}, of the same name")
        found[self.default.name] = self.default
        return dict(sorted(found.items(), key=lambda item: (item[0] != SHIPPED, item[0])))

    def names(self) -> list[str]:
        return list(self.files())

    def describe(self) -> list[dict[str, Any]]:
        """Each model's name, recorded architecture, test accuracy, size and date, and
        whether it can read drawings (with the reason when it cannot); nothing is loaded."""
        return [self.describe_one(entry) for entry in self.files().values()]

    def describe_one(self, entry: ModelFile) -> dict[str, Any]:
        record = _record(entry)
        problem = self._problem(entry)
        return {
            "name": entry.name,
            "arch": _typed(record.get("arch"), str),
            "test_accuracy": _typed(record.get("test_accuracy"), float),
            "params": _typed(record.get("params"), int),
            "created": _typed(record.get("created"), str),
            "available": problem is None,
            "problem": problem,
        }

    def predictor(self, name: str | None = None) -> tuple[str, Predictor]:
        """The model called `name` (default: the default one), loaded if it was not yet.

        Raises `UnknownModelError` for a name not in the catalogue and `ModelUnavailableError`
        for a model that cannot be loaded.
        """
        if name is None or name == self.default.name:
            if self.slot.predictor is None:
                raise ModelUnavailableError(no_model_message(self.slot))
            version, predictor = self._default_read
            if _version(self.default.path) != version:
                try:  # as its record now is: a retrained model is read afresh
                    predictor = load_predictor(self.default.path)
                    self._default_read = (_version(self.default.path), predictor)
                except (ModelNotFoundError, ModelLoadError):  # gone or half written
                    predictor = self.slot.predictor  # the one loaded at the start answers
            return self.default.name, predictor
        files = self.files()
        entry = files.get(name)
        if entry is None:
            raise UnknownModelError(name, list(files))
        try:
            return entry.name, load_predictor(entry.path)
        except (ModelNotFoundError, ModelLoadError):  # load_predictor logged why, once
            raise ModelUnavailableError(_unloadable(entry)) from None

    def _problem(self, entry: ModelFile) -> str | None:
        """Why `entry` cannot read drawings, as far as is known without loading it."""
        if entry == self.default:
            return self.slot.problem
        if not entry.path.is_file():
            return f"there is no model file {entry.path.name}"
        if _known_failure(entry.path) or not _looks_like_keras(entry.path):
            return _unloadable(entry)
        return None


def init_app(app: Flask) -> None:
    """Load the default model (MODEL_PATH) now, so the first drawing is answered quickly,
    and set up the catalogue of the others."""
    path = Path(app.config["MODEL_PATH"])
    shipped = Path(app.config["SHIPPED_MODEL_PATH"])
    default = ModelFile(default_name(path, shipped), path)
    try:
        slot = ModelSlot(load_predictor(path))
    except ModelNotFoundError as exc:
        app.logger.warning("the app starts without a model: %s", exc)
        slot = ModelSlot(
            None, f"there is no model file {path.name}. Train one with: {TRAIN_COMMAND}"
        )
    except ModelLoadError as exc:
        app.logger.warning("the app starts without a model: %s", exc)
        # Unreadable, or a good model of another kind given by mistake: the log says which,
        # with the command that suits it; nothing here says to replace the file.
        slot = ModelSlot(
            None,
            f"the model file {path.name} could not be loaded (the server's log says why). "
            f"Give a digit model, or train one with: {TRAIN_COMMAND}",
        )
    app.extensions[EXTENSION] = slot
    app.extensions[CATALOGUE] = Catalogue(default, slot, Path(app.config["MODELS_DIR"]), shipped)


def default_name(path: Path, shipped: Path) -> str:
    """What the default model is called: "shipped" for the shipped file, else its stem when
    that is a valid name, else "default"."""
    if _same_file(path, shipped):
        return SHIPPED
    if is_model_name(path.stem) and path.stem != SHIPPED:
        return path.stem
    return "default"


def load_predictor(path: str | Path) -> Predictor:
    """The `Predictor` for the model file at `path`, loaded at most once per file version.

    It reads each drawing as drawn and turned by `READ_TURNS`, and averages the readings, and
    judges whether it is a digit at all with the shipped refusal model (`digitrec.refusal`);
    without that model the readings are simply not judged, and the log says why, once.
    Raises `ModelNotFoundError` or `ModelLoadError`, whose messages say how to train one.
    """
    model_path = Path(path).expanduser().resolve()
    try:
        stat = model_path.stat()
    except OSError:
        # raises ModelNotFoundError, whose message gives the train command
        return _load(model_path)
    key = (str(model_path), stat.st_mtime_ns, stat.st_size)
    predictor = _cached(key)
    if predictor is not None:
        return predictor
    with _loading:
        predictor = _cached(key)  # another thread may have loaded it meanwhile
        if predictor is not None:
            return predictor
        try:
            predictor = _load(model_path)
        except ModelNotFoundError:
            raise
        except Exception as exc:  # ModelLoadError, or a model that loads but cannot run
            message = (
                str(exc)
                if isinstance(exc, ModelLoadError)
                else f"the model {model_path} cannot read drawings: {exc!r}"
            )
            log.warning("%s", message)
            with _cache:
                _failed[key] = message
                while len(_failed) > KEEP_FAILURES:
                    _failed.popitem(last=False)
            raise ModelLoadError(message) from None
        with _cache:
            _loaded[key] = predictor
            while len(_loaded) > KEEP:  # not every model ever served stays in memory
                _loaded.popitem(last=False)
        log.info("loaded model %s from %s", predictor.name, model_path)
    return predictor


def _load(path: Path) -> Predictor:
    predictor = Predictor.load(path, turns=READ_TURNS, refusal=True)
    if predictor.refusal_problem is not None:
        _warn_once(
            f"drawings are read without asking whether they are digits at all: "
            f"{predictor.refusal_problem}"
        )
    return predictor


def _cached(key: tuple[str, int, int]) -> Predictor | None:
    """The predictor loaded for `key` (now the most recently used), or None; raises the
    `ModelLoadError` of an earlier failed attempt at this same file version."""
    with _cache:
        predictor = _loaded.get(key)
        if predictor is not None:
            _loaded.move_to_end(key)
            return predictor
        failure = _failed.get(key)
    if failure is not None:
        raise ModelLoadError(failure)
    return None


def _known_failure(path: Path) -> bool:
    try:
        resolved = path.resolve()
        stat = resolved.stat()
    except OSError:
        return False
    with _cache:
        return (str(resolved), stat.st_mtime_ns, stat.st_size) in _failed


def _looks_like_keras(path: Path) -> bool:
    """A cheap look at a `.keras` file without loading it: a zip with a model config."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def no_model_message(slot: ModelSlot) -> str:
    """What a client is told when the default model is missing: the problem and the fix."""
    return f"no model is loaded: {slot.problem}; then restart the app"


def current_slot() -> ModelSlot:
    """The default model of the app handling this request."""
    return current_app.extensions[EXTENSION]


def current_catalogue() -> Catalogue:
    """The models of the app handling this request."""
    return current_app.extensions[CATALOGUE]


def _scan(folder: Path) -> dict[str, ModelFile]:
    """The `<name>.keras` files directly in `folder`, by name; links out of it are left out."""
    try:
        root = folder.resolve()
        paths = sorted(folder.iterdir())
    except OSError:  # no models folder yet
        return {}
    found = {}
    for path in paths:
        if path.suffix != SUFFIX or path.name.startswith("."):  # also training's temp files
            continue
        name = path.stem
        if not is_model_name(name):
            _warn_once(f"{path} is not served: its name is no model name ({NAME_RULE})")
            continue
        if name == SHIPPED:
            _warn_once(f"{path} is not served: {SHIPPED!r} is the shipped model's name")
            continue
        try:
            inside = path.is_file() and path.resolve().parent == root
        except OSError:
            continue
        if not inside:
            _warn_once(f"{path} is not served: it is not a file in {folder}")
            continue
        found[name] = ModelFile(name, path, in_folder=True)
    return found


def _record(entry: ModelFile) -> dict[str, Any]:
    """The JSON record beside a model (`settings.sidecar_path`), or {} when there is none.

    For a model of the folder, the record beside the file a link leads to, and only when
    that record is in the folder too.
    """
    try:
        if entry.in_folder:
            model_file = entry.path.resolve()
            sidecar = settings.sidecar_path(model_file)
            if sidecar.resolve().parent != model_file.parent:
                return {}
        else:
            sidecar = settings.sidecar_path(entry.path)
        if sidecar.stat().st_size > RECORD_LIMIT:
            return {}
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _version(path: Path) -> tuple[int, int] | None:
    """A model file's version: (modification time, size), or None when it cannot be read."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _typed(value: Any, kind: type) -> Any:
    """`value` when it is of `kind` (an int counts as a float; a bool as neither), else None."""
    if isinstance(value, bool):
        return None
    if kind is float and isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None  # JSON has no NaN
    return value if isinstance(value, kind) else None


def _unloadable(entry: ModelFile) -> str:
    return (
        f'the model "{entry.name}" ({entry.path.name}) could not be loaded: it is not a digit '
        "model this app can read (the server's log says why). Choose another model, or train "
        "this one again"
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.expanduser().resolve() == b.expanduser().resolve()
    except OSError:
        return False


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)
