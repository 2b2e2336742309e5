"""The JSON API: `POST /api/predict` reads a drawing, `GET /healthz` says which model serves.

The request is checked step by step (content type, size, JSON, field, base64, image header,
pixels) so each kind of bad input gets its own status and message; see `app.errors`.
"""

from __future__ import annotations

import json
import time

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import ApiError
from app.images import decode_data_url, open_image
from app.model import current_slot
from digitrec.preprocess import EmptyDrawingError

bp = Blueprint("api", __name__)

EXAMPLE = '{"image": "data:image/png;base64,..."}'


@bp.post("/api/predict")
def predict() -> Response:
    """Read the digit in a drawing sent as a PNG or JPEG data URL, through `Predictor.predict`."""
    started = time.perf_counter()
    value = _image_field()
    predictor = current_slot().predictor
    if predictor is None:
        raise ApiError(503, no_model_message())
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
        model=predictor.name,
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


@bp.get("/healthz")
def healthz() -> Response | tuple[Response, int]:
    """200 with the model's name and test accuracy, or 503 when no model is loaded."""
    slot = current_slot()
    if slot.predictor is None:
        return jsonify(status="no model", error=no_model_message()), 503
    meta = slot.predictor.metadata
    return jsonify(
        status="ok",
        model=slot.predictor.name,
        test_accuracy=meta.get("test_accuracy"),
        arch=meta.get("arch"),
        params=meta.get("params"),
        trained=meta.get("created"),
    )


def _image_field() -> str:
    """The `image` string from a JSON body, or an ApiError saying what is wrong."""
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
    if "image" not in payload:
        raise ApiError(400, f'missing field "image"; send {EXAMPLE}')
    value = payload["image"]
    if not isinstance(value, str):
        raise ApiError(
            400, f'the field "image" must be a string (a data URL), not {_json_type(value)}'
        )
    return value


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def no_model_message() -> str:
    """What a client is told when no model is loaded: the problem and how to fix it."""
    return f"no model is loaded: {current_slot().problem}; then restart the app"
