"""The JSON API: `POST /api/predict` reads a drawing, `GET /api/models` lists the models it
can choose from, `GET /healthz` says which model serves by default.

The request is checked step by step (content type, size, JSON, fields, base64, image header,
pixels) so each kind of bad input gets its own status and message; see `app.errors`. A
request chooses a model by name only (`"model": "shipped"`); see `app.model`.
"""

from __future__ import annotations

import json
import time

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import ApiError
from app.images import decode_data_url, open_image
from app.model import (
    NAME_RULE,
    ModelUnavailableError,
    UnknownModelError,
    current_catalogue,
    current_slot,
    is_model_name,
)
from app.model import no_model_message as _no_model_message
from digitrec.predict import Predictor
from digitrec.preprocess import EmptyDrawingError

bp = Blueprint("api", __name__)

EXAMPLE = '{"image": "data:image/png;base64,..."}'
LISTING = "GET /api/models describes them"


@bp.post("/api/predict")
def predict() -> Response:
    """Read the digit in a drawing sent as a PNG or JPEG data URL, through `Predictor.predict`,
    with the model the optional field "model" names (default: the default model)."""
    started = time.perf_counter()
    payload = json_object()
    value = image_of(payload)
    chosen, predictor = _chosen_model(payload)
    image = open_image(decode_data_url(value), current_app.config["MAX_IMAGE_PIXELS"])
    decoded = time.perf_counter()
    try:
        prediction = predictor.predict(image)
    except EmptyDrawingError:
        raise ApiError(422, "the drawing is empty: draw a digit first") from None
    except ValueError as exc:  # an image the preprocessing cannot read (an odd mode or shape)
        raise ApiError(400, f"the image could not be read as a drawing: {exc}") from None
    read = time.perf_counter()

    response = jsonify(
        digit=prediction.digit,
        confidence=round(prediction.confidence, 6),
        probabilities=[round(float(p), 6) for p in prediction.probabilities],
        preview=np.round(prediction.image, 3).tolist(),
        unsure=prediction.unsure,
        model=chosen,
    )
    response.headers["Server-Timing"] = ", ".join(
        f"{name};dur={(end - start) * 1000:.2f}"
        for name, start, end in (
            ("decode", started, decoded),
            ("predict", decoded, read),
            ("total", started, time.perf_counter()),
        )
    )
    return response


@bp.get("/api/models")
def models() -> Response:
    """The models a request may choose, by name, with their records; nothing is loaded."""
    catalogue = current_catalogue()
    return jsonify(default=catalogue.default.name, models=catalogue.describe())


@bp.get("/healthz")
def healthz() -> Response | tuple[Response, int]:
    """200 with the default model's name and recorded test accuracy, or 503 when it is not
    loaded."""
    if current_slot().predictor is None:
        return jsonify(status="no model", error=no_model_message()), 503
    catalogue = current_catalogue()
    about = catalogue.describe_one(catalogue.default)
    return jsonify(
        status="ok",
        model=about["name"],
        test_accuracy=about["test_accuracy"],
        arch=about["arch"],
        params=about["params"],
        trained=about["created"],
    )


def json_object() -> dict:
    """The JSON object a request carries, or an ApiError saying what is wrong."""
    if not request.is_json:
        got = request.mimetype or "none"
        raise ApiError(415, f"expected Content-Type: application/json (got {got}); send {EXAMPLE}")
    body = request.get_data(cache=False)  # Werkzeug raises 413 past MAX_CONTENT_LENGTH
    if not body.strip():
        raise ApiError(400, f"the request body is empty; send {EXAMPLE}")
    try:
        payload = json.loads(body)
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ApiError(400, f"malformed JSON: {str(exc).splitlines()[0][:120]}") from None
    if not isinstance(payload, dict):
        raise ApiError(400, f"expected a JSON object like {EXAMPLE}, got {_json_type(payload)}")
    return payload


def image_of(payload: dict) -> str:
    """The `image` string of a request's JSON object, or an ApiError saying what is wrong."""
    if "image" not in payload:
        raise ApiError(400, f'missing field "image"; send {EXAMPLE}')
    value = payload["image"]
    if not isinstance(value, str):
        raise ApiError(
            400, f'the field "image" must be a string (a data URL), not {_json_type(value)}'
        )
    return value


def _chosen_model(payload: dict) -> tuple[str, Predictor]:
    """The name and predictor of the model the request's "model" field names (400 for a
    value that is no model name, 404 for an unknown one, 503 for one that cannot be loaded).

    Only a name that matches `NAME_PATTERN` is looked up, in the app's catalogue: nothing in
    a request is ever used as a path.
    """
    catalogue = current_catalogue()
    name = payload.get("model")
    if "model" in payload and not is_model_name(name):
        if isinstance(name, str):
            shown = json.dumps(name[:40] + ("..." if len(name) > 40 else ""))
            problem = f"{shown} is not a model name: {NAME_RULE}"
        else:
            problem = (
                f'the field "model" must be a model\'s name (a string), not {_json_type(name)}'
            )
        raise ApiError(400, f"{problem}; the models are: {_known(catalogue.names())}")
    try:
        return catalogue.predictor(name)
    except UnknownModelError as exc:
        raise ApiError(
            404, f'there is no model "{exc.name}"; the models are: {_known(exc.known)}'
        ) from None
    except ModelUnavailableError as exc:
        raise ApiError(503, str(exc)) from None


def _known(names: list[str]) -> str:
    return f"{', '.join(names)} ({LISTING})"


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def no_model_message() -> str:
    """What a client is told when no model is loaded: the problem and how to fix it."""
    return _no_model_message(current_slot())
