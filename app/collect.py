"""The collect page: a class draws digits for its own test set (`/collect`, `POST /api/collect`).

Each learner types a name of their choice and the class code, draws the digit the page asks
for (a prompt that cycles 0-9) and presses Save; the drawing goes into the class's SQLite file
(`digitrec.classdata`), which a teacher exports for the lesson in notebook 07.

Off unless configured: `CLASSDATA_PATH` (from the environment `DIGITREC_CLASSDATA_PATH`) names
the database file; without it both routes answer 404 and say that collecting is off. The path
comes only from the configuration, never from a request. `COLLECT_PER_MINUTE`
(`DIGITREC_COLLECT_PER_MINUTE`) is how many drawings one writer of a class may save per
minute; the count is kept in the database, so it holds across threads and worker processes.

`POST /api/collect` takes JSON `{"image": "data:image/png;base64,...", "label": 3, "writer":
"Ada", "class": "7b"}` and answers 201 `{"id": <row id>, "next": <the next digit to ask>,
"saved": <how many drawings this writer has saved in this class>}` (`saved` null if the count
failed after the drawing was stored), or an error in the API's shape (`app.errors`): 400 bad
field, 404 off, 413 too large, 415 not JSON, 422 empty drawing, 429 too many drawings in a
minute (with `Retry-After`), 503 when the class database cannot store it (the log says why).
A class code is one class in any case.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from flask.blueprints import BlueprintSetupState

# The API's own checks: content type, size, a JSON object; its "image" field.
from app.api import image_of, json_object
from app.errors import ApiError, error_response
from app.images import decode_data_url, open_image
from digitrec import classdata, settings
from digitrec.constants import CANVAS_SIZE, NUM_CLASSES, PEN_WIDTH

bp = Blueprint("collect", __name__)

# The settings this blueprint reads, with their defaults (set where create_app set none).
DEFAULTS: dict[str, Any] = {"CLASSDATA_PATH": None, "COLLECT_PER_MINUTE": 30}
EXAMPLE = '{"image": "data:image/png;base64,...", "label": 3, "writer": "Ada", "class": "7b"}'
OFF = (
    "collecting drawings is off on this server; a teacher turns it on by setting "
    "DIGITREC_CLASSDATA_PATH to a database file and restarting the app"
)
UNAVAILABLE = (
    "the class database cannot store drawings just now; the drawing is not saved. "
    "Tell your teacher (the app's log says why)"
)


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Check the settings when the app is built, and create the database if it is on, so a
    wrong path fails at start-up with a clear message rather than at the first drawing."""
    config = state.app.config
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    limit = config["COLLECT_PER_MINUTE"]
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"COLLECT_PER_MINUTE must be a positive whole number, got {limit!r}")
    path = config["CLASSDATA_PATH"]
    if path is None or not str(path).strip():
        config["CLASSDATA_PATH"] = None
        return
    # A relative path is from the project root, as for every DIGITREC_ path and as notebook
    # 07 takes the same variable, wherever the app was started.
    path = settings.project_root() / Path(str(path).strip()).expanduser()
    try:
        with classdata.connect(path):
            pass
    except (classdata.ClassDataError, OSError, sqlite3.Error) as exc:
        raise ValueError(
            f"CLASSDATA_PATH: cannot use {path} as the class database ({exc})"
        ) from None
    config["CLASSDATA_PATH"] = str(path)


@bp.get("/collect")
def page() -> tuple[str, int]:
    """The drawing page, or (404) a page that says collecting is off."""
    enabled = current_app.config["CLASSDATA_PATH"] is not None
    html = render_template(
        "collect.html", enabled=enabled, off=OFF, canvas=CANVAS_SIZE, pen=PEN_WIDTH
    )
    return html, 200 if enabled else 404


@bp.post("/api/collect")
def collect() -> tuple[Response, int]:
    """Store one drawing of the digit asked for; answer its id and the next digit to ask."""
    config = current_app.config
    path = config["CLASSDATA_PATH"]
    if path is None:
        raise ApiError(404, OFF)
    payload = json_object()
    value = image_of(payload)
    label = _field(payload, "label", classdata.check_label)
    writer = _field(payload, "writer", lambda v: classdata.check_name(v, "writer"))
    class_code = _field(payload, "class", classdata.check_class_code)
    png = decode_data_url(value)
    open_image(png, config["MAX_IMAGE_PIXELS"])  # size from the header first: 413 early
    try:
        row_id = classdata.add_drawing(
            path, png, label, writer, class_code, per_minute=config["COLLECT_PER_MINUTE"]
        )
    except classdata.RateLimitError as exc:
        response, status = error_response(429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, status
    except classdata.DrawingTooLargeError as exc:
        raise ApiError(413, str(exc)) from None
    except classdata.BlankDrawingError as exc:
        raise ApiError(422, str(exc)) from None
    except (classdata.DatabaseError, sqlite3.Error, OSError) as exc:
        # The server's fault, not the learner's: the detail (a path) goes to the log only.
        current_app.logger.error("the class database cannot store a drawing: %s", exc)
        raise ApiError(503, UNAVAILABLE) from None
    except classdata.ClassDataError as exc:
        raise ApiError(400, str(exc)) from None
    try:
        saved = classdata.count_drawings(path, class_code, writer)
    except (classdata.DatabaseError, sqlite3.Error, OSError) as exc:  # stored all the same
        current_app.logger.error("the class database cannot count a writer's drawings: %s", exc)
        saved = None
    return jsonify(id=row_id, next=(label + 1) % NUM_CLASSES, saved=saved), 201


def _field(payload: dict[str, Any], name: str, check: Any) -> Any:
    """`payload[name]` passed through `check`, or a 400 saying what is missing or wrong."""
    if name not in payload:
        raise ApiError(400, f'missing field "{name}"; send {EXAMPLE}')
    try:
        return check(payload[name])
    except classdata.ClassDataError as exc:
        raise ApiError(400, str(exc)) from None
