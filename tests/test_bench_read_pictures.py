"""bench/read_pictures.py: a folder of labelled pictures, read through the real app."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_app_number import number_drawing

from digitrec.strokes import example_strokes, rasterise

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # as when a benchmark runs: its siblings beside it

import read_pictures  # noqa: E402


def save(folder: Path, name: str, ink: np.ndarray, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.fromarray(ink).save(buffer, fmt)
    (folder / name).write_bytes(buffer.getvalue())
    return name


def test_a_folder_is_read_through_the_app_and_scored_per_kind(tmp_path):
    square = rasterise([[(60, 60), (220, 60), (220, 220), (60, 220), (60, 60)]])
    cases = [
        {
            "file": save(tmp_path, "7.png", rasterise(example_strokes(7))),
            "kind": "digit",
            "expected": "7",
        },
        {
            "file": save(tmp_path, "7-as-3.jpg", rasterise(example_strokes(7)), "JPEG"),
            "kind": "digit",
            "expected": "3",
        },  # a wrong label: counted as a miss
        {
            "file": save(tmp_path, "26.png", number_drawing([2, 6])),
            "kind": "number",
            "expected": "26",
        },
        {"file": save(tmp_path, "square.png", square), "kind": "doodle", "expected": None},
    ]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    scores, misses = read_pictures.read_folder(tmp_path)  # the shipped model
    assert scores["digits read right"] == [1, 2]
    assert scores["numbers read right"] == [1, 1]
    assert scores["numbers named on the one-digit pad"] == [1, 1]  # "26", sent as one digit
    assert scores["doodles refused (one-digit pad)"] == [1, 1]
    assert scores["doodles giving no digit (number pad)"] == [1, 1]
    assert misses == ["digits read right: 7-as-3.jpg expected 3, read 7 / '7'"]


def test_a_picture_the_app_cannot_take_is_reported_and_an_empty_one_read_as_nothing(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"no image here")
    blank = np.zeros((280, 280), np.uint8)
    cases = [
        {"file": "broken.png", "kind": "doodle", "expected": None},
        {"file": save(tmp_path, "blank.png", blank), "kind": "doodle", "expected": None},
    ]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    scores, misses = read_pictures.read_folder(tmp_path)
    assert scores == {
        "pictures the app took": [1, 2],  # the blank one: taken, 422 on both pads
        "doodles refused (one-digit pad)": [1, 1],
        "doodles giving no digit (number pad)": [1, 1],
    }
    assert len(misses) == 1 and misses[0].startswith("not taken: broken.png ([400, 400]")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_picture_over_the_servers_limits_is_sent_scaled_down_as_the_page_does(tmp_path, fmt):
    seven = 255 - np.kron(rasterise(example_strokes(7)), np.ones((4, 4), np.uint8))  # 1120 px
    name = save(tmp_path, f"7.{fmt.lower()}", seven, fmt)
    data = (tmp_path / name).read_bytes()
    sent = read_pictures.as_the_page_sends(data, fmt == "JPEG", 313_600, 1024 * 1024)
    with Image.open(io.BytesIO(sent)) as picture:
        assert picture.format == fmt and picture.width * picture.height <= 313_600
    small = save(tmp_path, "small.png", rasterise(example_strokes(7)))
    assert (
        read_pictures.as_the_page_sends((tmp_path / small).read_bytes(), False, 313_600, 1 << 20)
        == (tmp_path / small).read_bytes()
    )  # a picture the server takes goes as it is
    (tmp_path / "cases.json").write_text(
        json.dumps([{"file": name, "kind": "digit", "expected": "7"}])
    )
    scores, misses = read_pictures.read_folder(tmp_path)
    assert scores == {"pictures the app took": [1, 1], "digits read right": [1, 1]}, misses


def test_a_picture_over_the_byte_limit_is_scaled_until_it_fits_and_turned_upright():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (600, 400, 3), np.uint8)  # hard to compress
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: shown rotated by 90 degrees
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=95, exif=exif)
    sent = read_pictures.as_the_page_sends(buffer.getvalue(), True, 313_600, 100_000)
    assert 4 * -(-len(sent) // 3) + 64 <= 100_000
    with Image.open(io.BytesIO(sent)) as picture:
        assert picture.height < picture.width  # upright: 600 tall, 400 wide turns on its side


def test_without_a_model_nothing_is_scored(tmp_path):
    ink = rasterise(example_strokes(1))
    cases = [{"file": save(tmp_path, "1.png", ink), "kind": "doodle", "expected": None}]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    with pytest.raises(ValueError, match="the app cannot read"):
        read_pictures.read_folder(tmp_path, model=tmp_path / "none.keras")
    cases[0]["kind"] = "letters"
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    with pytest.raises(ValueError, match="kind 'letters' is none of digit, number"):
        read_pictures.read_folder(tmp_path)


@pytest.mark.parametrize(
    ("cases", "said"),
    [
        ([], "cases.json holds no cases"),
        ({"file": "1.png"}, "cases.json holds no cases"),
        ([{"file": "1.png", "expected": "1"}], 'case 0 of cases.json lacks "file" or "kind"'),
        ([{"file": 5, "kind": "digit", "expected": "1"}], '"file" and "kind" are text'),
        ([{"file": "1.png", "kind": "digit", "expected": 1}], '"expected" is the digit as text'),
        ([{"file": "1.png", "kind": "number", "expected": "12a"}], '"expected" is the number'),
        ([{"file": "a.png", "kind": "letter", "expected": "a"}], "a letter expects null"),
        ([{"file": "a.png", "kind": "word", "expected": None}], "kind 'word' is none of"),
    ],
)
def test_a_cases_file_with_no_cases_says_so(tmp_path, cases, said):
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    with pytest.raises(ValueError, match=said):
        read_pictures.read_folder(tmp_path)
