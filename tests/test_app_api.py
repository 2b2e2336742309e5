"""POST /api/predict and GET /healthz through Flask's test client, with a really trained model."""

from __future__ import annotations

import base64
import gzip
import io
import itertools
import json
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app as app_package
from app import api, create_app
from app.errors import is_api_path
from app.model import current_slot
from digitrec import synthetic
from digitrec.numbers import several_digits
from digitrec.predict import READ_TURNS, TRAIN_COMMAND, Predictor
from digitrec.preprocess import to_mnist
from digitrec.strokes import example_strokes, rasterise


def data_url(pixels: np.ndarray, fmt: str = "PNG", **save) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **save)
    media = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{media};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def drawing(mnist, index: int, convention: str = synthetic.WHITE_ON_BLACK) -> np.ndarray:
    (_, _), (x_test, _) = mnist
    ink = synthetic.redraw_digit(x_test[index], height=200, top=40, left=40)
    return synthetic.render(ink, convention)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/predict", data=data, content_type=content_type)


def assert_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    message = response.get_json()["error"]
    assert isinstance(message, str) and message
    assert "Traceback" not in response.get_data(as_text=True)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# --- 200: real drawings are read ---------------------------------------------------------


def test_predict_reads_redrawn_mnist_digits(client, mnist):
    (_, _), (x_test, y_test) = mnist
    right = 0
    for i in range(30):
        response = post(client, {"image": data_url(drawing(mnist, i))})
        assert response.status_code == 200
        right += response.get_json()["digit"] == int(y_test[i])
    assert right >= 27, f"only {right}/30 redrawn test digits read correctly"


@pytest.mark.parametrize("convention", synthetic.CONVENTIONS)
def test_predict_accepts_every_drawing_convention(client, mnist, convention):
    (_, _), (_, y_test) = mnist
    response = post(client, {"image": data_url(drawing(mnist, 0, convention))})
    assert response.status_code == 200
    assert response.get_json()["digit"] == int(y_test[0])


def test_predict_accepts_jpeg_and_bare_base64(client, mnist):
    (_, _), (_, y_test) = mnist
    rgb = drawing(mnist, 1)[..., :3]
    jpeg = post(client, {"image": data_url(rgb, "JPEG", quality=90)})
    assert jpeg.status_code == 200 and jpeg.get_json()["digit"] == int(y_test[1])
    bare = data_url(rgb).split(",", 1)[1]
    response = post(client, {"image": bare})
    assert response.status_code == 200 and response.get_json()["digit"] == int(y_test[1])


def test_predict_response_shape_and_preview(client, mnist, predictor):
    pixels = drawing(mnist, 2)
    response = post(client, {"image": data_url(pixels)})
    body = response.get_json()
    assert list(body) == [
        "digit",
        "confidence",
        "probabilities",
        "preview",
        "unsure",
        "not_a_digit",
        "number",
        "model",
    ]
    assert body["not_a_digit"] is False and body["number"] is None
    assert isinstance(body["digit"], int) and 0 <= body["digit"] <= 9
    probabilities = np.array(body["probabilities"])
    assert probabilities.shape == (10,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert body["confidence"] == pytest.approx(probabilities.max(), abs=1e-6)
    assert body["digit"] == int(np.argmax(probabilities))
    assert body["unsure"] == (body["confidence"] < 0.6)
    preview = np.array(body["preview"])
    assert preview.shape == (28, 28)
    # The preview is exactly what the model was fed: the one preprocessing function's output.
    np.testing.assert_allclose(preview, to_mnist(pixels), atol=1e-3)
    # ... and it is read as drawn and turned by READ_TURNS, the readings averaged
    expected = Predictor(predictor.model, turns=READ_TURNS).predict(pixels)
    assert body["digit"] == expected.digit
    np.testing.assert_allclose(probabilities, expected.probabilities, atol=1e-5)


def fixed_drawings(mnist) -> dict[str, str]:
    """A few fixed drawings as the page and API clients send them (PNG and JPEG data URLs)."""
    (_, _), (x_test, _) = mnist
    corner = synthetic.render(
        synthetic.redraw_digit(x_test[3], height=150, top=60, left=90), synthetic.WHITE_ON_BLACK
    )
    dot = np.zeros((280, 280), np.uint8)
    dot[130:150, 130:150] = 255
    return {
        "white-on-black": data_url(drawing(mnist, 0)),
        "black-on-white": data_url(drawing(mnist, 1, synthetic.BLACK_ON_WHITE)),
        "ink-in-alpha": data_url(drawing(mnist, 2, synthetic.INK_IN_ALPHA)),
        "jpeg": data_url(corner[..., :3], "JPEG", quality=90),
        "dot": data_url(dot),
        "a number": data_url(one_digit_pad(4, 2)),
    }


def expected_body(predictor: Predictor, url: str) -> dict:
    """What the API has always answered: `Predictor.predict`'s reading, rounded for JSON."""
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    prediction = predictor.predict(image)
    np.testing.assert_array_equal(prediction.image, to_mnist(image))
    return {
        "digit": None if prediction.not_a_digit else prediction.digit,
        "confidence": round(prediction.confidence, 6),
        "probabilities": [round(float(p), 6) for p in prediction.probabilities],
        "preview": np.round(to_mnist(image), 3).tolist(),
        "unsure": prediction.unsure,
        "not_a_digit": prediction.not_a_digit,
        "number": several_digits(image, predictor) if prediction.not_a_digit else None,
        "model": "cnn",
    }


def test_responses_are_exactly_predictor_predict(app, client, mnist, predictor):
    """Pinned: the API answers what `Predictor.predict` (with READ_TURNS, and the refusal
    model the app loaded, if any) reads, rounded.

    The preview is `to_mnist`'s image to 3 decimals, the probabilities to 6, in this order.
    """
    with app.app_context():
        judge = current_slot().predictor.refusal
    reader = Predictor(predictor.model, turns=READ_TURNS, refusal=judge)
    for name, url in fixed_drawings(mnist).items():
        response = post(client, {"image": url})
        assert response.status_code == 200, name
        body, expected = response.get_json(), expected_body(reader, url)
        assert list(body) == list(expected), name
        for key in ("digit", "unsure", "not_a_digit", "number", "model", "preview"):
            assert body[key] == expected[key], (name, key)
        np.testing.assert_allclose(body["probabilities"], expected["probabilities"], atol=2e-6)
        assert body["confidence"] == pytest.approx(expected["confidence"], abs=2e-6)


def test_the_app_reads_drawings_only_through_predictor():
    """No second copy of the preprocessing or of the model call lives in the app."""
    for path in Path(app_package.__file__).parent.glob("*.py"):
        source = path.read_text()
        for name in ("to_mnist", "predict_arrays", "preprocess_stages"):
            assert name not in source, f"{path.name} uses {name}"


def test_predict_headers(client, mnist):
    response = post(client, {"image": data_url(drawing(mnist, 3))})
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    timings = dict(
        part.strip().split(";dur=") for part in response.headers["Server-Timing"].split(",")
    )
    assert set(timings) == {"decode", "predict", "total"}
    assert all(float(value) >= 0 for value in timings.values())
    assert float(timings["total"]) >= float(timings["predict"])


def test_a_dot_and_a_grid_are_not_answered_as_digits(client):
    # A lone dot is no digit, and a grid of lines is none either: neither gets a plain answer.
    pixels = np.zeros((280, 280), np.uint8)
    pixels[130:150, 130:150] = 255
    scribble = np.zeros((280, 280), np.uint8)
    scribble[::7, :] = 255
    scribble[:, ::9] = 255
    responses = [post(client, {"image": data_url(p)}) for p in (pixels, scribble)]
    assert [response.status_code for response in responses] == [200, 200]
    dot, grid = (response.get_json() for response in responses)
    assert dot["not_a_digit"] is True and dot["digit"] is None
    assert grid["not_a_digit"] or grid["unsure"]


def one_digit_pad_strokes(*digits: int) -> list:
    """Strokes of `digits` side by side on the one-digit pad, as a learner writes a number
    there."""
    width = 230 / len(digits)
    return [
        s
        for k, digit in enumerate(digits)
        for s in example_strokes(digit, height=110, top=85, left=25 + k * width, size=280)
    ]


def one_digit_pad(*digits: int) -> np.ndarray:
    """`digits` side by side on the one-digit pad, drawn with the page's pen."""
    return rasterise(one_digit_pad_strokes(*digits), size=280)


def test_a_number_written_on_the_one_digit_pad_is_named(client, app, caplog, monkeypatch):
    """A number drawn where one digit is asked for is no digit, and the answer names the
    number it plainly shows (`digitrec.numbers.several_digits`), for the page to say so; a
    digit, and a mark that is no digit, name none. Naming is a hint: more marks than a number
    has are not read for it, and if it fails the answer stands without it."""
    pad = one_digit_pad
    bodies = [post(client, {"image": data_url(pad(*ds))}).get_json() for ds in [(4, 2), (3,)]]
    number, digit = bodies
    assert number["not_a_digit"] is True and number["digit"] is None
    assert number["number"] == "42"
    assert digit["not_a_digit"] is False and digit["digit"] == 3 and digit["number"] is None
    dot = np.zeros((280, 280), np.uint8)
    dot[130:150, 130:150] = 255
    body = post(client, {"image": data_url(dot)}).get_json()
    assert body["not_a_digit"] is True and body["number"] is None

    named = []
    monkeypatch.setattr(api, "several_digits", lambda *args: named.append(args) or "42")
    dots = np.zeros((280, 280), np.uint8)
    for row, column in itertools.product(range(10, 270, 20), repeat=2):
        dots[row : row + 4, column : column + 4] = 255  # 169 dots: more marks than a number has
    body = post(client, {"image": data_url(dots)}).get_json()
    assert body["not_a_digit"] is True and body["number"] is None and named == []
    assert post(client, {"image": data_url(pad(4, 2))}).get_json()["number"] == "42"

    def broken(*args):
        raise RuntimeError("a bug in naming")

    monkeypatch.setattr(api, "several_digits", broken)
    response = post(client, {"image": data_url(pad(4, 2))})
    assert response.status_code == 200
    assert response.get_json()["not_a_digit"] is True and response.get_json()["number"] is None
    assert "naming the number" in caplog.text


def test_concurrent_requests_get_their_own_answers(app, mnist):
    """Eight threads share the one model; each gets the answer for its own drawing."""
    (_, _), (_, y_test) = mnist
    urls = [data_url(drawing(mnist, i)) for i in range(8)]
    expected = [post(app.test_client(), {"image": u}).get_json()["digit"] for u in urls]
    got: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        client = app.test_client()
        try:
            got[k] = [post(client, {"image": urls[k]}).get_json()["digit"] for _ in range(5)]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert got == {k: [expected[k]] * 5 for k in range(8)}
    assert sum(e == int(y) for e, y in zip(expected, y_test[:8], strict=True)) >= 7


# --- 400: malformed requests -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{", ["malformed JSON"]),
        (b'{"image": "abc"', ["malformed JSON"]),
        (b"\xff\xfe\x00garbage", ["malformed JSON"]),
        (gzip.compress(b'{"image": "x"}'), ["malformed JSON", "compressed"]),
        (b"[" * 50_000 + b"]" * 50_000, ["malformed JSON", "deep"]),
        (b'{"image": "x", "n": ' + b"9" * 5000 + b"}", ["malformed JSON", "thousands of digits"]),
        (b"", ["empty"]),
        (b"null", ["JSON object", "null"]),
        (b"[1, 2]", ["JSON object", "array"]),
        (b'"data:image/png;base64,AAAA"', ["JSON object", "string"]),
        (b"{}", ["missing", "image"]),
        (b'{"img": "data:image/png;base64,AAAA"}', ["missing", "image"]),
        (b'{"image": null}', ["must be a string", "null"]),
        (b'{"image": 7}', ["must be a string", "number"]),
        (b'{"image": ["a"]}', ["must be a string", "array"]),
        (b'{"image": {"data": "x"}}', ["must be a string", "object"]),
        (b'{"image": true}', ["must be a string", "boolean"]),
    ],
)
def test_malformed_json_and_fields_are_400(client, body, words):
    assert_error(post(client, body), 400, *words)


@pytest.mark.parametrize(
    ("image", "words"),
    [
        ("", ["empty"]),
        ("data:image/png;base64,", ["empty"]),
        ("data:image/png;base64,@@@@", ["base64"]),
        ("data:image/png;base64,abc", ["base64", "padding"]),  # bad length (padding)
        ("  \n", ["empty"]),
        ("data:" + "x" * 5_000 + ";base64,AAAA", ["PNG or JPEG", "x" * 40 + "..."]),
        ("data:image/png;base64,ab=c", ["base64"]),
        ("data:image/png;base64,\u00e9\u00e9\u00e9\u00e9", ["base64"]),
        ("data:image/png,iVBORw0KGgo=", ["base64"]),
        ("data:text/plain;base64,aGVsbG8=", ["PNG or JPEG", "text/plain"]),
        ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", ["PNG or JPEG", "image/gif"]),
        ("data:no-comma", ["malformed data URL"]),
    ],
)
def test_bad_data_urls_are_400(client, image, words):
    assert_error(post(client, {"image": image}), 400, *words)


def test_bytes_that_are_not_png_or_jpeg_are_400(client):
    gif = io.BytesIO()
    Image.new("L", (28, 28)).save(gif, "GIF")
    for payload in (b"hello world", gif.getvalue(), b"%PDF-1.4 ...", b"\x00" * 64):
        image = "data:image/png;base64," + base64.b64encode(payload).decode()
        assert_error(post(client, {"image": image}), 400, "not a PNG or JPEG")


def test_broken_png_and_jpeg_are_400(client, mnist):
    pixels = drawing(mnist, 4)
    png = base64.b64decode(data_url(pixels).split(",", 1)[1])
    jpeg = base64.b64decode(data_url(pixels[..., :3], "JPEG").split(",", 1)[1])
    flipped = bytearray(png)
    flipped[60] ^= 0xFF  # inside the first chunk: its checksum no longer matches
    broken = [png[:40], png[: len(png) // 2], bytes(flipped), png[:8], jpeg[:3], jpeg[:200]]
    for payload in broken:
        image = "data:image/png;base64," + base64.b64encode(payload).decode()
        assert_error(post(client, {"image": image}), 400, "image")


# --- 413: too large -----------------------------------------------------------------------


def test_body_over_max_content_length_is_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"image": "data:image/png;base64," + "A" * limit})
    message = assert_error(post(client, body), 413, "too large")
    assert f"{limit:,}" in message


def test_decompression_bomb_is_refused_before_decoding(client):
    """A 25-megapixel black PNG compresses to ~25 kB: it must be refused from its header."""
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, "PNG", optimize=True)
    assert len(buffer.getvalue()) < 1_000_000
    image = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert_error(post(client, {"image": image}), 413, "5000x5000", "limit")


def test_header_claiming_huge_size_is_413_without_decoding(client, app):
    # A PNG whose header claims 100000 x 100000 pixels, followed by no real pixel data.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"x")
        + (png_chunk(b"IEND", b""))
    )
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    assert_error(
        post(client, {"image": image}),
        413,
        "too large",
        f"limit is {app.config['MAX_IMAGE_PIXELS']:,}",
    )
    # Large, but under Pillow's own bomb limit: our limit speaks, with the dimensions.
    header = struct.pack(">IIBBBBB", 9_000, 9_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"x")
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    assert_error(post(client, {"image": image}), 413, "9000x9000", "limit")


def test_png_over_the_pixel_limit_is_413_with_its_size(client, app):
    limit = app.config["MAX_IMAGE_PIXELS"]
    buffer = io.BytesIO()
    Image.new("L", (600, 600)).save(buffer, "PNG")
    assert limit < 600 * 600
    image = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert_error(post(client, {"image": image}), 413, "600x600", f"{limit:,}", "smaller image")


def upscaled_photo(mnist, index: int, size: int) -> np.ndarray:
    """A redrawn test digit, black ink on white paper, enlarged to a size x size "photo"."""
    pixels = drawing(mnist, index, synthetic.BLACK_ON_WHITE)[..., :3]
    return np.asarray(Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR))


def test_large_jpeg_photo_is_read_at_a_reduced_scale(client, app, mnist):
    """A 1600x1600 photo is over the pixel limit, but libjpeg decodes it at 1/4 scale."""
    (_, _), (_, y_test) = mnist
    photo = upscaled_photo(mnist, 5, 1600)
    assert app.config["MAX_IMAGE_PIXELS"] < 1600 * 1600
    for progressive in (False, True):
        url = data_url(photo, "JPEG", quality=85, progressive=progressive)
        response = post(client, {"image": url})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["digit"] == int(y_test[5])


def test_jpeg_too_large_even_at_one_eighth_is_413(client, app):
    limit = app.config["MAX_IMAGE_PIXELS"]
    buffer = io.BytesIO()
    Image.new("L", (5000, 5000), 255).save(buffer, "JPEG", quality=50)
    assert limit < (5000 // 8) ** 2 and len(buffer.getvalue()) < app.config["MAX_CONTENT_LENGTH"]
    image = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert_error(post(client, {"image": image}), 413, "5000x5000", "1/8 scale", f"{limit:,}")


def jpeg_bytes(image: Image.Image, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def post_bytes(client, data: bytes, media: str = "image/jpeg"):
    return post(client, {"image": f"data:{media};base64,{base64.b64encode(data).decode()}"})


def test_exif_rotated_photo_is_read_upright(client, mnist):
    """A camera stores a photo sideways and records "turn me 90 degrees" in its EXIF data."""
    (_, _), (_, y_test) = mnist
    upright = Image.fromarray(drawing(mnist, 0, synthetic.BLACK_ON_WHITE)[..., :3])
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor saved
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    as_shown = post_bytes(client, jpeg_bytes(upright, quality=95)).get_json()
    sideways = post_bytes(client, jpeg_bytes(stored, quality=95)).get_json()
    rotated = post_bytes(client, jpeg_bytes(stored, quality=95, exif=exif.tobytes())).get_json()
    assert as_shown["digit"] == int(y_test[0])
    assert rotated["digit"] == as_shown["digit"]
    np.testing.assert_allclose(rotated["preview"], as_shown["preview"], atol=0.05)
    # Without its EXIF orientation the same pixels are another picture: the check can fail.
    assert np.abs(np.array(sideways["preview"]) - np.array(as_shown["preview"])).max() > 0.5


def test_cmyk_jpeg_is_read_like_its_rgb_original(client, mnist):
    (_, _), (_, y_test) = mnist
    rgb = Image.fromarray(drawing(mnist, 1, synthetic.BLACK_ON_WHITE)[..., :3])
    cmyk = jpeg_bytes(rgb.convert("CMYK"), quality=95)
    assert Image.open(io.BytesIO(cmyk)).mode == "CMYK"
    from_rgb = post_bytes(client, jpeg_bytes(rgb, quality=95)).get_json()
    from_cmyk = post_bytes(client, cmyk).get_json()
    assert from_cmyk["digit"] == from_rgb["digit"] == int(y_test[1])
    np.testing.assert_allclose(from_cmyk["preview"], from_rgb["preview"], atol=0.05)


def test_progressive_jpeg_is_read_like_a_baseline_one(client, mnist):
    rgb = Image.fromarray(drawing(mnist, 2)[..., :3])
    progressive = jpeg_bytes(rgb, quality=95, progressive=True)
    assert Image.open(io.BytesIO(progressive)).info.get("progressive")
    baseline = post_bytes(client, jpeg_bytes(rgb, quality=95)).get_json()
    answer = post_bytes(client, progressive).get_json()
    assert answer["digit"] == baseline["digit"]
    np.testing.assert_allclose(answer["probabilities"], baseline["probabilities"], atol=1e-5)


def test_animated_png_is_read_as_its_first_frame(client, mnist):
    first, second = (Image.fromarray(drawing(mnist, i)) for i in (0, 2))
    buffer = io.BytesIO()
    first.save(buffer, "PNG", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2
    animated = post_bytes(client, buffer.getvalue(), "image/png").get_json()
    still = post(client, {"image": data_url(drawing(mnist, 0))}).get_json()
    other = post(client, {"image": data_url(drawing(mnist, 2))}).get_json()
    assert animated == still
    assert still["digit"] != other["digit"]  # the two frames are different digits


def test_pixel_limit_is_configurable(trained_model_path, mnist):
    app = create_app(
        {"TESTING": True, "MODEL_PATH": str(trained_model_path), "MAX_IMAGE_PIXELS": 10_000}
    )
    response = post(app.test_client(), {"image": data_url(drawing(mnist, 0))})
    assert_error(response, 413, "280x280", "10,000")


# --- 415, 422, 503 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "image/png", ""],
)
def test_wrong_content_type_is_415(client, content_type):
    body = json.dumps({"image": "data:image/png;base64,AAAA"})
    response = client.post("/api/predict", data=body, content_type=content_type or None)
    assert_error(response, 415, "application/json")


def test_json_content_type_with_charset_is_accepted(client, mnist):
    body = json.dumps({"image": data_url(drawing(mnist, 0))})
    response = post(client, body, content_type="application/json; charset=utf-8")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((280, 280, 4), np.uint8),  # an untouched HTML canvas: transparent
        np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),
        np.full((280, 280, 3), 255, np.uint8),  # blank white paper
        np.zeros((1, 1), np.uint8),
    ],
    ids=["transparent", "black", "white", "one-pixel"],
)
def test_empty_drawing_is_422(client, pixels):
    assert_error(post(client, {"image": data_url(pixels)}), 422, "empty", "draw a digit")


def test_no_model_is_503_with_the_train_command(tmp_path, mnist, caplog):
    missing = tmp_path / "missing.keras"
    app = create_app({"TESTING": True, "MODEL_PATH": str(missing)})
    client = app.test_client()
    message = assert_error(post(client, {"image": data_url(drawing(mnist, 0))}), 503)
    assert TRAIN_COMMAND in message and "missing.keras" in message
    health = client.get("/healthz")
    assert health.status_code == 503
    assert TRAIN_COMMAND in health.get_json()["error"]
    # Where the model should be is the server's business: logged, not sent.
    for text in (message, health.get_data(as_text=True)):
        assert str(tmp_path) not in text
    assert str(missing) in caplog.text
    # Requests that are wrong anyway still say what is wrong with them.
    assert_error(post(client, b"{"), 400, "malformed JSON")
    # The page itself still works.
    assert client.get("/").status_code == 200


def test_unreadable_model_file_is_503(tmp_path, mnist):
    bad = tmp_path / "cnn.keras"
    bad.write_bytes(b"this is not a keras file")
    app = create_app({"TESTING": True, "MODEL_PATH": str(bad)})
    message = assert_error(post(app.test_client(), {"image": data_url(drawing(mnist, 0))}), 503)
    assert "could not be loaded" in message and TRAIN_COMMAND in message
    assert "--force" not in message  # it may be a good model of another kind
    assert str(tmp_path) not in message


# --- 404, 405, 500 --------------------------------------------------------------------------


def test_unknown_api_route_is_json_404(client):
    assert_error(client.get("/api/nope"), 404, "/api/predict")
    assert_error(client.post("/api/predict/extra", json={}), 404)
    for path in ("/api", "/healthz/", "/api//nope"):  # written oddly: JSON too
        assert client.get(path).is_json, path
    # (The test client reads "//api" as a host; a server hands the path over as sent.)
    assert is_api_path("//api/predict") and not is_api_path("/apidocs")


def test_wrong_method_is_json_405(client):
    response = client.get("/api/predict")
    assert_error(response, 405, "POST")
    assert "POST" in response.headers["Allow"]
    assert_error(client.put("/api/predict", json={}), 405)
    assert_error(client.post("/healthz"), 405, "GET")


def test_unexpected_error_is_json_500_without_traceback(app, client, mnist, monkeypatch):
    with app.app_context():
        predictor = current_slot().predictor

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(predictor, "predict_arrays", broken)
    response = post(client, {"image": data_url(drawing(mnist, 0))})
    message = assert_error(response, 500, "internal server error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in message


# --- /healthz -----------------------------------------------------------------------------


def test_healthz_names_the_model_and_its_accuracy(client, trained_model_path):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    sidecar = json.loads(trained_model_path.with_suffix(".json").read_text())
    assert body["status"] == "ok"
    assert body["model"] == trained_model_path.stem
    assert body["test_accuracy"] == pytest.approx(sidecar["test_accuracy"])
    assert body["test_accuracy"] > 0.9
    assert body["created"] == body["trained"] == sidecar["created"]  # as /api/models has it
    assert response.headers["Cache-Control"] == "no-store"
    with client.application.app_context():
        assert body["refusal"] is (current_slot().predictor.refusal is not None)
