"""Property: whatever body arrives at POST /api/predict or POST /api/number, the answer is a
200 or a 4xx JSON error.

Hypothesis builds malformed bodies of every layer: random bytes, random JSON, objects with an
`image` of the wrong type, data URLs with junk or damaged PNG/JPEG bytes inside, and wrong
content types. A 5xx or a non-JSON answer fails the test.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image


def _encoded(fmt: str, size: int = 56, ink: bool = True) -> bytes:
    pixels = np.zeros((size, size), np.uint8)
    if ink:
        pixels[10:46, 24:32] = 255  # a "1"
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


PNG = _encoded("PNG")
JPEG = _encoded("JPEG")
EMPTY = _encoded("PNG", ink=False)  # 422
HUGE = _encoded("PNG", size=1100, ink=False)  # 413: too many pixels

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@st.composite
def damaged_images(draw) -> bytes:
    data = bytearray(draw(st.sampled_from([PNG, JPEG, EMPTY])))
    # Damage after the header more often than in it, so decoding itself is exercised.
    start = draw(st.sampled_from([0, 33, 33, 100]))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not data:
            break
        at = draw(st.integers(min(start, len(data) - 1), len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
    return bytes(data)


payload_bytes = st.one_of(
    damaged_images(),
    damaged_images(),
    st.binary(max_size=512),
    st.sampled_from([PNG, JPEG, EMPTY, HUGE]),
)
prefixes = st.sampled_from(
    [
        "data:image/png;base64,",
        "data:image/jpeg;base64,",
        "data:;base64,",
        "data:image/png,",
        "data:text/html;base64,",
        "data:image/png;base64",
        "",
    ]
)


@st.composite
def image_values(draw):
    choice = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))  # mostly base64 of (damaged) images
    if choice == 0:
        return draw(json_values)
    if choice == 1:
        return draw(st.text(max_size=200))
    text = base64.b64encode(draw(payload_bytes)).decode()
    if choice == 3 and text:  # damage the base64 itself
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.text(max_size=3)) + text[at + 1 :]
    return draw(prefixes) + text


@st.composite
def bodies(draw) -> bytes:
    choice = draw(st.sampled_from([0, 1, 2, 2, 2, 3, 4]))
    if choice == 0:
        return draw(st.binary(max_size=300))
    if choice == 1:
        return json.dumps(draw(json_values)).encode()
    fields = {"image": draw(image_values())}
    if draw(st.booleans()):
        fields.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
    body = json.dumps(fields).encode()
    if choice == 4 and body:  # damage the JSON text
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=4))
    return body


content_types = st.one_of(
    st.just("application/json"),
    st.sampled_from(
        [
            "application/json; charset=utf-8",
            "application/vnd.api+json",
            "text/plain",
            "application/x-www-form-urlencoded",
            None,
        ]
    ),
)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies(),
    content_type=content_types,
    path=st.sampled_from(["/api/predict", "/api/number"]),
)
def test_readings_answer_any_body_with_200_or_a_4xx_json_error(client, body, content_type, path):
    response = client.post(path, data=body, content_type=content_type)
    status = response.status_code
    event(f"{path} status {status}")  # --hypothesis-show-statistics: how deep bodies got
    assert status == 200 or 400 <= status < 500, (status, response.get_data()[:200])
    assert response.mimetype == "application/json"
    payload = response.get_json()
    if status == 200 and path == "/api/number":
        assert len(payload["text"]) == len(payload["digits"]) > 0
        assert all(np.array(d["preview"]).shape == (28, 28) for d in payload["digits"])
    elif status == 200:
        assert payload["digit"] is None or 0 <= payload["digit"] <= 9
        assert len(payload["probabilities"]) == 10
        assert np.array(payload["preview"]).shape == (28, 28)
    else:
        assert isinstance(payload["error"], str) and payload["error"]
        event(f"error: {' '.join(payload['error'].split()[:4])}")
        assert "Traceback" not in payload["error"]
