"""The JSON API: `POST /api/predict` reads a drawing of one digit, `POST /api/number` a
drawing of a whole number, `GET /api/models` lists the models they can choose from,
`GET /healthz` says which model serves by default.

The request is checked step by step (content type, size, JSON, fields, base64, image header,
pixels) so each kind of bad input gets its own status and message; see `app.errors`. Both
readings take the same request and give the same errors. A request chooses a model by name
only (`"model": "shipped"`); see `app.model`.

When the model was loaded with a refusal model (`digitrec.refusal`), each reading says
whether the drawing is a digit at all: `"not_a_digit": true` comes with `"digit": null`; the
confidence and probabilities are still given, for the curious. Such a drawing sent to
`/api/predict` that is plainly a number (`digitrec.numbers.several_digits`) comes with
`"number": "42"`, for the page to say so; else `"number"` is null.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request
from PIL import Image

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
from digitrec.constants import INK_THRESHOLD
from digitrec.numbers import MAX_PIECES, Box, TooManyPiecesError, read_number, several_digits
from digitrec.predict import Prediction, Predictor
from digitrec.preprocess import EmptyDrawingError, extract_ink, ink_pieces, linked

bp = Blueprint("api", __name__)

EXAMPLE = '{"image": "data:image/png;base64,..."}'
LISTING = "GET /api/models describes them"
# A number is read by trying many ways to cut it into digits, so a drawing of thousands of
# separate dots would keep the one worker busy for minutes. Real numbers have far fewer marks
# (each digit one to three strokes, and a few specks).
MAX_MARKS = MAX_PIECES  # more separate marks than any number has: not read
DUST = 4  # pixels: a speck this small is dust, not a mark (the page's thinnest dot is larger)


@bp.post("/api/predict")
def predict() -> Response:
    """Read the digit in a drawing sent as a PNG or JPEG data URL, through `Predictor.predict`,
    with the model the optional field "model" names (default: the default model)."""
    started = time.perf_counter()
    chosen, predictor, image = _drawing()
    decoded = time.perf_counter()
    with _reading("draw a digit first"):
        prediction = predictor.predict(image)
    number = _number_shown(image, predictor) if prediction.not_a_digit else None
    read = time.perf_counter()
    response = jsonify(
        digit=_digit(prediction, prediction.not_a_digit),
        confidence=round(prediction.confidence, 6),
        probabilities=[round(float(p), 6) for p in prediction.probabilities],
        preview=_preview(prediction),
        unsure=prediction.unsure,
        not_a_digit=prediction.not_a_digit,
        number=number,
        model=chosen,
    )
    return _timed(response, started, decoded, read)


@bp.post("/api/number")
def number() -> Response:
    """Read a whole number in a drawing, digit by digit from left to right, through
    `digitrec.numbers.read_number`; the request is the one `POST /api/predict` takes."""
    started = time.perf_counter()
    chosen, predictor, image = _drawing()
    decoded = time.perf_counter()
    with _reading("write a number first"):
        _check_marks(image)
        reading = read_number(image, predictor, refusal=predictor.refusal)
    read = time.perf_counter()
    response = jsonify(
        text=reading.text,
        digits=[
            _number_digit(prediction, box, refused)
            for prediction, box, refused in zip(
                reading.digits, reading.boxes, reading.not_a_digit, strict=True
            )
        ],
        complete=reading.complete,
        model=chosen,
    )
    return _timed(response, started, decoded, read)


@bp.get("/api/models")
def models() -> Response:
    """The models a request may choose, by name, with their records; nothing is loaded."""
    catalogue = current_catalogue()
    return jsonify(default=catalogue.default.name, models=catalogue.describe())


@bp.get("/healthz")
def healthz() -> Response | tuple[Response, int]:
    """200 with the default model's name and recorded test accuracy, and whether its readings
    are judged for being digits at all ("refusal"), or 503 when it is not loaded."""
    predictor = current_slot().predictor
    if predictor is None:
        return jsonify(status="no model", error=no_model_message()), 503
    catalogue = current_catalogue()
    about = catalogue.describe_one(catalogue.default)
    return jsonify(
        status="ok",
        model=about["name"],
        test_accuracy=about["test_accuracy"],
        arch=about["arch"],
        params=about["params"],
        created=about["created"],  # as GET /api/models calls it
        trained=about["created"],  # the same, by its first name, kept for clients
        refusal=getattr(predictor, "refusal", None) is not None,  # a stand-in may lack it
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
    except UnicodeDecodeError:
        compressed = body[:2] == b"\x1f\x8b"
        raise ApiError(
            400,
            "malformed JSON: the body is compressed (gzip); send it as plain text"
            if compressed
            else "malformed JSON: the body is not UTF-8 text",
        ) from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON: {str(exc).splitlines()[0][:120]}") from None
    except ValueError:  # a number too long for Python to convert
        raise ApiError(400, "malformed JSON: a number with thousands of digits") from None
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


def _drawing() -> tuple[str, Predictor, Image.Image]:
    """The chosen model's name and predictor, and the decoded drawing, of this request."""
    payload = json_object()
    value = image_of(payload)
    chosen, predictor = _chosen_model(payload)
    image = open_image(decode_data_url(value), current_app.config["MAX_IMAGE_PIXELS"])
    return chosen, predictor, image


@contextmanager
def _reading(empty_hint: str) -> Iterator[None]:
    """Turn what reading a drawing may raise into the API's errors: 422 for an empty one."""
    try:
        yield
    except EmptyDrawingError:
        raise ApiError(422, f"the drawing is empty: {empty_hint}") from None
    except TooManyPiecesError as exc:  # more separate marks than a number has
        raise ApiError(422, str(exc)) from None
    except ValueError as exc:  # an image the preprocessing cannot read (an odd mode or shape)
        raise ApiError(400, f"the image could not be read as a drawing: {exc}") from None


def _number_shown(image: Image.Image, predictor: Predictor) -> str | None:
    """The number a drawing refused as one digit plainly shows (`several_digits`), or None;
    None too for more marks than a number has, and, logged, if naming it fails: the answer
    stands without it."""
    try:
        return several_digits(image, predictor) if _marks(image) <= MAX_MARKS else None
    except Exception:  # a hint: never worth losing the answer for
        current_app.logger.exception("naming the number in a drawing refused as a digit failed")
        return None


def _marks(image: Image.Image) -> int:
    """How many separate marks a drawing has; dust (a speck of at most `DUST` pixels, as a
    dusty scan or a low-quality JPEG leaves) is no mark, and a line of beads is one
    (`preprocess.linked`)."""
    ink, _ = extract_ink(image)
    mask = ink > INK_THRESHOLD
    pieces = ink_pieces(mask)  # labelled once, and again only where beads were joined
    joined = linked(mask, pieces)
    labels, spans = pieces if joined is mask else ink_pieces(joined)
    return int(np.count_nonzero(np.bincount(labels.ravel(), minlength=len(spans) + 1)[1:] > DUST))


def _check_marks(image: Image.Image) -> None:
    """422 for a drawing of more separate marks than a number has (`MAX_MARKS`)."""
    marks = _marks(image)
    if marks > MAX_MARKS:
        raise ApiError(
            422,
            f"the drawing has {marks:,} separate marks, more than a number has (at most "
            f"{MAX_MARKS}): write the digits side by side, each in a stroke or two",
        )


def _digit(prediction: Prediction, refused: bool) -> int | None:
    """The digit read, or None when the drawing is not a digit at all."""
    return None if refused else prediction.digit


def _preview(prediction: Prediction) -> list:
    """The 28x28 image the model was given, to 3 decimals."""
    return np.round(prediction.image, 3).tolist()


def _number_digit(prediction: Prediction, box: Box, refused: bool) -> dict:
    """One digit of a number as JSON: its reading, whether the model is unsure of it (as for a
    single digit; never for a mark that is no digit), and its box in the drawing's pixels."""
    return {
        "digit": _digit(prediction, refused),
        "confidence": round(prediction.confidence, 6),
        "unsure": prediction.unsure and not refused,
        "not_a_digit": refused,
        "box": list(box),
        "preview": _preview(prediction),
    }


def _timed(response: Response, started: float, decoded: float, read: float) -> Response:
    """`response` with a Server-Timing header: decoding, reading, and the whole request."""
    response.headers["Server-Timing"] = ", ".join(
        f"{name};dur={(end - start) * 1000:.2f}"
        for name, start, end in (
            ("decode", started, decoded),
            ("predict", decoded, read),
            ("total", started, time.perf_counter()),
        )
    )
    return response


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
