"""POST /api/number, and "not a digit" in both readings, through Flask's test client.

The drawings are digits drawn from code (`digitrec.strokes.example_strokes`) side by side on
the number mode's wide canvas, read by the small trained model. Refusal is judged by tiny real
Keras models saved where the app looks for the shipped one: one that calls everything "not a
digit", and one that refuses only drawings with much more ink than a digit has.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from test_app_api import assert_error, data_url
from test_app_models import copy_model, save_constant_model
from test_predict import constant_judge
from test_preprocess import beads, photographed

from app import create_app
from app.model import current_slot
from app.pages import NUMBER_WIDTH
from digitrec import numbers, refusal
from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.numbers import MAX_PIECES, read_number
from digitrec.refusal import NotDigitModel
from digitrec.strokes import example_strokes, rasterise

SPACING = 190  # canvas pixels from one digit's left edge to the next one's
FIRST = 60


def digit_strokes(digits: list[int], height: float = 160) -> list[list]:
    """Strokes of `digits` written side by side on the number canvas, left to right."""
    strokes = []
    for i, digit in enumerate(digits):
        left = FIRST + i * SPACING
        strokes.append(example_strokes(digit, height=height, top=60, left=left, size=NUMBER_WIDTH))
    return strokes


def number_drawing(digits: list[int]) -> np.ndarray:
    """`digits` drawn with the page's pen on the number mode's canvas (NUMBER_WIDTH wide)."""
    strokes = [s for each in digit_strokes(digits) for s in each]
    return rasterise(strokes, size=NUMBER_WIDTH)[:CANVAS_SIZE]


def read(client, body, path: str = "/api/number"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json")


def ink_judge(limit: float) -> NotDigitModel:
    """A refusal model that refuses a 28x28 image whose ink adds up to more than `limit`
    (a digit drawn with the page's pen has about 50-110; a filled block 150 or more)."""
    judge = constant_judge(0.5)
    layer = judge.model.layers[-1]
    kernel, _ = layer.get_weights()
    layer.set_weights([np.full_like(kernel, 0.1), np.array([-0.1 * limit], np.float32)])
    return judge


def judged_app(folder: Path, trained_model_path: Path, judge: NotDigitModel) -> Flask:
    """The app serving the trained model, with `judge` saved where the shipped refusal model
    is looked for, so it is loaded the way the shipped one is (`Predictor.load`)."""
    model = copy_model(trained_model_path, folder / "cnn.keras")  # a fresh load of its own
    judge.model.save(folder / "not_digit.keras")
    (folder / "not_digit.json").write_text(json.dumps({"threshold": judge.threshold}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(refusal, "DEFAULT_PATH", folder / "not_digit.keras")
        return create_app({"TESTING": True, "MODEL_PATH": str(model)})


@pytest.fixture(scope="module")
def refusing(tmp_path_factory, trained_model_path):
    """A client of the app whose refusal model calls every drawing "not a digit"."""
    folder = tmp_path_factory.mktemp("refusing")
    return judged_app(folder, trained_model_path, constant_judge(0.9)).test_client()


@pytest.fixture(scope="module")
def ink_judged(tmp_path_factory, trained_model_path):
    """A client of the app whose refusal model refuses only blots of ink."""
    folder = tmp_path_factory.mktemp("ink")
    return judged_app(folder, trained_model_path, ink_judge(130)).test_client()


def blot(pixels: np.ndarray, left: int, width: int = 90) -> np.ndarray:
    """`pixels` with a filled block of ink, as tall as the digits, from column `left`: too
    narrow to be taken for touching digits (`digitrec.numbers.SPLITTABLE`)."""
    blotted = pixels.copy()
    blotted[60:220, left : left + width] = 255
    return blotted


# --- 200: numbers are read ------------------------------------------------------------------


@pytest.mark.parametrize("digits", [[2, 0, 2, 6], [3, 1], [4, 7, 5, 9], [7]])
def test_a_number_is_read_digit_by_digit(client, digits):
    response = read(client, {"image": data_url(number_drawing(digits))})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert list(body) == ["text", "digits", "complete", "model"]
    assert body["text"] == "".join(map(str, digits))
    assert body["complete"] is True and body["model"] == "cnn"
    assert [d["digit"] for d in body["digits"]] == digits
    for found in body["digits"]:
        assert list(found) == ["digit", "confidence", "unsure", "not_a_digit", "box", "preview"]
        assert found["not_a_digit"] is False
        assert 0.0 < found["confidence"] <= 1.0
        assert np.array(found["preview"]).shape == (28, 28)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_number_photographed_on_ruled_paper_is_read(client, fmt):
    """The lines, grain and shadow of a photographed page are not marks of the number."""
    photo = photographed(number_drawing([3, 1, 4]))
    response = read(client, {"image": data_url(photo, fmt, quality=80)})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["text"] == "314"


def test_each_digits_box_holds_its_strokes(client):
    """Boxes are (top, left, bottom, right) in the drawing's pixels, each around its digit."""
    digits = [2, 0, 2, 6]
    body = read(client, {"image": data_url(number_drawing(digits))}).get_json()
    for found, strokes in zip(body["digits"], digit_strokes(digits), strict=True):
        points = np.concatenate([np.asarray(s) for s in strokes])
        (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
        expected = np.array([top, left, bottom, right]) + np.array([-1, -1, 1, 1]) * PEN_WIDTH / 2
        np.testing.assert_allclose(found["box"], expected, atol=3)
        assert all(isinstance(v, int) for v in found["box"])
    lefts = [d["box"][1] for d in body["digits"]]
    assert lefts == sorted(lefts)


def test_the_answer_is_exactly_read_number(app, client):
    """Pinned: the API answers what `read_number` reads with the app's model and judge."""
    pixels = number_drawing([4, 7, 5, 9])
    body = read(client, {"image": data_url(pixels)}).get_json()
    with app.app_context():
        predictor = current_slot().predictor
    reading = read_number(pixels, predictor, refusal=predictor.refusal)
    assert body["text"] == reading.text
    assert [d["box"] for d in body["digits"]] == [list(box) for box in reading.boxes]
    for found, prediction, refused in zip(
        body["digits"], reading.digits, reading.not_a_digit, strict=True
    ):
        assert found["confidence"] == pytest.approx(prediction.confidence, abs=1e-6)
        assert found["unsure"] is (prediction.unsure and not refused)
        np.testing.assert_allclose(found["preview"], prediction.image, atol=5e-4)


def test_a_number_comes_with_the_same_headers(client):
    response = read(client, {"image": data_url(number_drawing([3, 1]))})
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    timings = dict(p.strip().split(";dur=") for p in response.headers["Server-Timing"].split(","))
    assert set(timings) == {"decode", "predict", "total"}


def test_a_number_can_be_read_by_another_model(tmp_path, trained_model_path):
    save_constant_model(tmp_path / "always3.keras", 3)
    app = create_app(
        {"TESTING": True, "MODEL_PATH": str(trained_model_path), "MODELS_DIR": str(tmp_path)}
    )
    body = read(app.test_client(), {"image": data_url(number_drawing([2, 0])), "model": "always3"})
    assert body.get_json()["text"] == "33" and body.get_json()["model"] == "always3"


def test_a_digit_the_model_is_unsure_of_is_marked_as_for_one_digit(tmp_path, trained_model_path):
    """Below the model's recorded "unsure" threshold a digit of a number is `unsure`, as a
    single reading is; these constant models answer 3 at 99.96 %."""
    save_constant_model(tmp_path / "doubtful.keras", 3, {"calibration": {"unsure_below": 0.9999}})
    save_constant_model(tmp_path / "assured.keras", 3, {"calibration": {"unsure_below": 0.5}})
    app = create_app(
        {"TESTING": True, "MODEL_PATH": str(trained_model_path), "MODELS_DIR": str(tmp_path)}
    )
    client = app.test_client()
    for name, unsure in (("doubtful", True), ("assured", False)):
        body = read(client, {"image": data_url(number_drawing([2, 0])), "model": name}).get_json()
        assert body["text"] == "33" and body["complete"] is True
        assert [d["unsure"] for d in body["digits"]] == [unsure, unsure]
        single = data_url(number_drawing([7])[:, :CANVAS_SIZE])
        assert (
            read(client, {"image": single, "model": name}, "/api/predict").get_json()["unsure"]
            is unsure
        )


# --- not a digit ------------------------------------------------------------------------------


def test_a_refused_single_reading_has_no_digit_but_its_confidence(refusing, client):
    url = data_url(number_drawing([7])[:, :CANVAS_SIZE])
    judged, plain = (
        read(refusing, {"image": url}, "/api/predict"),
        read(client, {"image": url}, "/api/predict"),
    )
    assert judged.status_code == 200
    body, unjudged = judged.get_json(), plain.get_json()
    assert body["not_a_digit"] is True and body["digit"] is None
    # Forced to choose, the model still says what it would have: nothing else changes.
    assert unjudged["digit"] == 7
    for key in ("confidence", "probabilities", "preview", "unsure", "model"):
        assert body[key] == unjudged[key], key
    assert refusing.get("/healthz").get_json()["refusal"] is True


def test_every_refused_piece_of_a_number_is_reported_not_guessed(refusing, monkeypatch):
    request = {"image": data_url(number_drawing([2, 0, 2, 6]))}
    with monkeypatch.context() as patched:
        patched.setattr(numbers, "MOSTLY", 1.01)  # each piece, not the drawing as one mark
        body = read(refusing, request).get_json()
    assert body["text"] == "????" and body["complete"] is False
    assert all(d["digit"] is None and d["not_a_digit"] for d in body["digits"])
    assert all(d["confidence"] > 0 for d in body["digits"])
    assert not any(d["unsure"] for d in body["digits"])  # no digit, so nothing to be unsure of
    # Refused pieces holding most of the ink make the drawing one mark (`numbers.MOSTLY`).
    body = read(refusing, request).get_json()
    assert body["text"] == "?" and body["complete"] is False and len(body["digits"]) == 1
    (whole,) = body["digits"]
    assert whole["digit"] is None and whole["not_a_digit"]
    top, left, bottom, right = whole["box"]
    assert left <= FIRST and right >= FIRST + 3 * SPACING


def test_a_blot_between_digits_is_not_a_digit(ink_judged):
    plain = number_drawing([2, 0, 6])
    body = read(ink_judged, {"image": data_url(plain)}).get_json()
    assert body["text"] == "206" and body["complete"] is True  # digits pass the judge
    blotted = blot(number_drawing([2, 0, 1, 6]), FIRST + 2 * SPACING - 10)  # over the 1
    body = read(ink_judged, {"image": data_url(blotted)}).get_json()
    assert body["text"] == "20?6" and body["complete"] is False
    assert [d["not_a_digit"] for d in body["digits"]] == [False, False, True, False]
    assert body["digits"][2]["digit"] is None
    top, left, bottom, right = body["digits"][2]["box"]
    assert left <= FIRST + 2 * SPACING - 10 and right >= FIRST + 2 * SPACING + 80


def test_without_a_refusal_model_readings_are_not_judged(tmp_path, trained_model_path, caplog):
    """No shipped refusal model: every reading is a digit, and the log says why, once."""
    model = copy_model(trained_model_path, tmp_path / "cnn.keras")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(refusal, "DEFAULT_PATH", tmp_path / "missing.keras")
        apps = [create_app({"TESTING": True, "MODEL_PATH": str(model)}) for _ in range(2)]
    client = apps[0].test_client()
    assert client.get("/healthz").get_json()["refusal"] is False
    body = read(client, {"image": data_url(blot(number_drawing([1]), 400))}).get_json()
    assert body["complete"] is True and "?" not in body["text"]
    single = read(client, {"image": data_url(number_drawing([7])[:, :CANVAS_SIZE])}, "/api/predict")
    assert single.get_json()["not_a_digit"] is False
    assert caplog.text.count("without asking whether they are digits") == 1
    assert "missing.keras" in caplog.text


# --- errors: the same as /api/predict's ------------------------------------------------------


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((CANVAS_SIZE, NUMBER_WIDTH, 4), np.uint8), np.full((CANVAS_SIZE, 90), 255, np.uint8)],
    ids=["transparent", "white"],
)
def test_an_empty_drawing_is_422(client, pixels):
    assert_error(read(client, {"image": data_url(pixels)}), 422, "empty", "write a number")


def test_a_drawing_of_countless_dots_is_422_at_once(client):
    dots = np.zeros((CANVAS_SIZE, NUMBER_WIDTH), np.uint8)
    dots[::4, ::4] = 255  # thousands of separate marks: no number
    message = assert_error(read(client, {"image": data_url(dots)}), 422, "separate marks")
    assert f"{MAX_PIECES}" in message
    few = np.zeros_like(dots)
    few[100:130:6, 100:130:6] = 255  # 25 dots: few enough to be read (as whatever they are)
    assert read(client, {"image": data_url(few)}).status_code == 200


def test_a_number_drawn_in_beads_is_read_not_refused_for_its_marks(client):
    """Beads stamped at each pointer sample, never joined, are more marks than a number has,
    but they make its strokes: the number is read, one digit per digit drawn."""
    strokes = [s for each in digit_strokes([3, 5, 7]) for s in each]
    pixels = beads(
        strokes, dot=PEN_WIDTH, spacing=1.6 * PEN_WIDTH, shape=(CANVAS_SIZE, NUMBER_WIDTH)
    )
    assert len(numbers.segment(pixels).pieces) == 3
    response = read(client, {"image": data_url((255 * pixels).astype(np.uint8))})
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["digits"]) == 3


def test_dust_beside_a_number_is_no_reason_to_refuse_it(client):
    """Specks (a dusty scan, a low-quality JPEG) are set aside, not counted as marks."""
    pixels = number_drawing([3, 5]).copy()
    rows, columns = np.random.default_rng(45).integers(0, pixels.shape, (2 * MAX_PIECES, 2)).T
    pixels[rows, columns] = 255
    response = read(client, {"image": data_url(pixels)})
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["digits"]) == 2


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{", 400, ["malformed JSON"]),
        (b"[1]", 400, ["JSON object", "array"]),
        (b"{}", 400, ["missing", "image"]),
        (b'{"image": 7}', 400, ["must be a string", "number"]),
        (b'{"image": "data:image/gif;base64,R0lGODlh"}', 400, ["PNG or JPEG"]),
        (b'{"image": "data:image/png;base64,aGVsbG8="}', 400, ["not a PNG or JPEG"]),
        (b'{"image": "iVBORw0KGgo=", "model": "../etc"}', 400, ["not a model name"]),
        (b'{"image": "iVBORw0KGgo=", "model": "nope"}', 404, ["no model", "nope"]),
    ],
)
def test_bad_requests_get_the_same_errors_as_predict(client, body, status, words):
    number = assert_error(read(client, body), status, *words)
    assert number == read(client, body, "/api/predict").get_json()["error"]


def test_wrong_content_type_size_and_method(client, app):
    response = client.post("/api/number", data="{}", content_type="text/plain")
    assert_error(response, 415, "application/json")
    huge = np.zeros((600, 600), np.uint8)
    assert_error(read(client, {"image": data_url(huge)}), 413, "600x600")
    too_long = json.dumps({"image": "A" * app.config["MAX_CONTENT_LENGTH"]})
    assert_error(read(client, too_long), 413, "too large")
    assert_error(client.get("/api/number"), 405, "POST")


def test_no_model_is_503(tmp_path):
    app = create_app({"TESTING": True, "MODEL_PATH": str(tmp_path / "missing.keras")})
    response = read(app.test_client(), {"image": data_url(number_drawing([1]))})
    assert_error(response, 503, "no model")
