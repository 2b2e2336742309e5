"""The collect feature: GET /collect and POST /api/collect through Flask's test client and
through a real waitress server, each drawing checked against the real SQLite file.

These apps have no model: collecting drawings needs none, so most tests here are quick.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import sqlite3
import struct
import threading
import time
import zlib
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import create_app
from digitrec import classdata, settings
from digitrec.strokes import canvas_rgba, example_strokes, rasterise


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing_png(digit: int) -> bytes:
    """What the page sends: the canvas as PNG, a white round pen on black."""
    return png_bytes(canvas_rgba(rasterise(example_strokes(digit))))


def as_data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


def body(digit: int = 3, **fields) -> dict:
    return {
        "image": as_data_url(drawing_png(digit)),
        "label": digit,
        "writer": "Ada",
        "class": "7b",
        **fields,
    }


def make_app(tmp_path: Path, **config):
    """The real app (create_app) with the collect blueprint, no model, its own database."""
    settings = {
        "TESTING": True,
        "MODEL_PATH": str(tmp_path / "no-model.keras"),
        "CLASSDATA_PATH": str(tmp_path / "class.sqlite"),
        **config,
    }
    app = create_app(settings)
    assert "collect" in app.blueprints  # create_app registers it
    return app


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "class.sqlite"


@pytest.fixture
def web(tmp_path):
    return make_app(tmp_path).test_client()


def post(client, payload, content_type="application/json"):
    data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post("/api/collect", data=data, content_type=content_type)


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        query = "SELECT id, class, writer, label, png FROM drawings ORDER BY id"
        return connection.execute(query).fetchall()


def assert_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    message = response.get_json()["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# --- 201: a drawing is stored, and the prompt moves on ------------------------------------


def test_a_drawing_is_stored_exactly_as_sent_and_the_next_digit_is_asked(web, db):
    response = post(web, body(4))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["next"] == 5
    assert response.headers["Cache-Control"] == "no-store"
    assert rows(db) == [(answer["id"], "7b", "Ada", 4, drawing_png(4))]
    assert classdata.load_class_set(db).labels.tolist() == [4]


def test_the_answer_counts_this_writers_drawings_in_this_class(web):
    """What the page shows as "N saved": the database's count, so it holds across reloads."""
    assert [post(web, body(d)).get_json()["saved"] for d in (1, 2)] == [1, 2]
    assert post(web, body(3, writer="Bo")).get_json()["saved"] == 1
    assert post(web, body(4, **{"class": "8a"})).get_json()["saved"] == 1
    assert post(web, body(5, writer="ADA", **{"class": "7B"})).get_json()["saved"] == 3


def test_the_prompt_cycles_from_9_back_to_0(web):
    assert post(web, body(9)).get_json()["next"] == 0


def test_names_with_sql_significant_characters_are_stored_verbatim(web, db):
    for writer, class_code in [("O'Brien -- x", "7b'"), ("Zoë. d'Arc", "class_1-a")]:
        assert post(web, body(2, writer=writer, **{"class": class_code})).status_code == 201
    assert [(r[1], r[2]) for r in rows(db)] == [
        ("7b'", "O'Brien -- x"),
        ("class_1-a", "Zoë. d'Arc"),
    ]


@pytest.mark.parametrize(
    "writer",
    ["Robert'); DROP TABLE drawings;--", 'a" OR "1"="1', "x; DELETE FROM drawings", "../../etc"],
)
def test_names_that_could_be_sql_or_paths_are_refused_and_the_table_is_intact(web, db, writer):
    assert post(web, body(1)).status_code == 201
    assert_error(post(web, body(1, writer=writer)), 400, "writer must be")
    assert len(rows(db)) == 1


# --- 400 / 413 / 415 / 422: bad requests, each with its own message ------------------------


@pytest.mark.parametrize("label", [-1, 10, 3.5, "3", True, None, [3]])
def test_a_label_that_is_not_a_digit_is_400(web, db, label):
    assert_error(post(web, body(3, label=label)), 400, "label must be a whole number from 0 to 9")
    assert rows(db) == []


@pytest.mark.parametrize("field", ["image", "label", "writer", "class"])
def test_a_missing_field_is_400_and_named(web, db, field):
    payload = body(3)
    del payload[field]
    assert_error(post(web, payload), 400, f'missing field "{field}"')
    assert rows(db) == []


@pytest.mark.parametrize(
    "payload, status, words",
    [
        ("{not json", 400, ["malformed JSON"]),
        ("[1, 2]", 400, ["expected a JSON object"]),
        ("", 400, ["body is empty"]),
        ({"image": 7, "label": 1, "writer": "A", "class": "B"}, 400, ["must be a string"]),
        ({**body(3), "writer": 7}, 400, ["writer must be a string"]),
        ({**body(3), "class": ""}, 400, ["class must be"]),
        ({**body(3), "writer": "x" * 41}, 400, ["writer must be 1-40"]),
        ({**body(3), "image": "data:text/html;base64,PGI+"}, 400, ["PNG or JPEG"]),
        ({**body(3), "image": "data:image/png;base64,@@@@"}, 400, ["not valid base64"]),
    ],
)
def test_malformed_bodies_are_400(web, db, payload, status, words):
    assert_error(post(web, payload), status, *words)
    assert rows(db) == []


def test_a_jpeg_is_refused_the_class_set_keeps_pngs(web):
    buffer = io.BytesIO()
    Image.fromarray(canvas_rgba(rasterise(example_strokes(3)))[..., :3]).save(buffer, "JPEG")
    image = as_data_url(buffer.getvalue(), "image/jpeg")
    assert_error(post(web, body(3, image=image)), 400, "must be a PNG")


def test_not_json_is_415(web):
    assert_error(post(web, "label=3", content_type="application/x-www-form-urlencoded"), 415)


def test_an_empty_drawing_is_422(web, db):
    blank = png_bytes(np.zeros((280, 280, 4), np.uint8) + np.array([0, 0, 0, 255], np.uint8))
    assert_error(post(web, body(3, image=as_data_url(blank))), 422, "empty")
    assert rows(db) == []


def test_a_body_over_the_apps_limit_is_413(tmp_path, db):
    web = make_app(tmp_path, MAX_CONTENT_LENGTH=50_000).test_client()
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    assert_error(post(web, body(3, image=as_data_url(png_bytes(noise)))), 413, "50,000 bytes")
    assert rows(db) == []


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (and holds none)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_a_png_claiming_a_huge_size_is_413_before_decoding(web, db):
    bomb = as_data_url(png_claiming(5000, 5000))
    assert_error(post(web, body(3, image=bomb)), 413, "5000x5000 = 25,000,000 pixels")
    assert rows(db) == []


def test_the_store_itself_refuses_a_huge_png_from_its_header(db):
    with pytest.raises(classdata.DrawingTooLargeError, match="5000x5000 pixels; the limit is"):
        classdata.add_drawing(db, png_claiming(5000, 5000), 3, "Ada", "7b")


def test_a_png_over_the_class_sets_byte_limit_is_413(web, db):
    side = 520  # within the pixel limit, but noise does not compress
    noise = np.random.default_rng(1).integers(0, 256, (side, side), dtype=np.uint8)
    data = png_bytes(noise)
    assert len(data) > classdata.MAX_PNG_BYTES and side * side <= classdata.MAX_PNG_PIXELS
    assert_error(post(web, body(3, image=as_data_url(data))), 413, "larger than 256 kB")
    assert rows(db) == []


# --- 429: the rate limit per writer ----------------------------------------------------------


def test_a_writer_over_the_limit_gets_429_with_retry_after_and_others_carry_on(tmp_path, db):
    web = make_app(tmp_path, COLLECT_PER_MINUTE=3).test_client()
    assert [post(web, body(d)).status_code for d in range(3)] == [201] * 3
    refused = post(web, body(3))
    assert_error(refused, 429, "Ada has saved 3 drawings in the last minute")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert post(web, body(3, writer="Bo")).status_code == 201
    assert post(web, body(3, **{"class": "8a"})).status_code == 201  # another class's Ada
    assert len(rows(db)) == 5


def test_the_limit_holds_for_concurrent_requests_of_one_writer(db):
    """The count and the insert share one write transaction: 8 threads cannot slip past."""
    png = drawing_png(5)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def save() -> None:
        start.wait()
        try:
            classdata.add_drawing(db, png, 5, "Ada", "7b", per_minute=5)
            outcomes.append("stored")
        except classdata.RateLimitError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 3 + ["stored"] * 5
    assert len(rows(db)) == 5


def test_old_drawings_do_not_count_against_the_limit(db):
    """Only the last minute counts: a row from two minutes ago leaves room for one more."""
    classdata.add_drawing(db, drawing_png(1), 1, "Ada", "7b")
    with sqlite3.connect(db) as connection:  # the triggers forbid UPDATE: insert an old row
        connection.execute(
            "INSERT INTO drawings (class, writer, label, png, created) VALUES (?, ?, ?, ?, ?)",
            ("7b", "Ada", 2, drawing_png(2), "2000-01-01T00:00:00.000+00:00"),
        )
    assert classdata.add_drawing(db, drawing_png(3), 3, "Ada", "7b", per_minute=2) > 0
    with pytest.raises(classdata.RateLimitError):
        classdata.add_drawing(db, drawing_png(4), 4, "Ada", "7b", per_minute=2)


def test_a_name_in_another_case_is_the_same_writer_to_the_limit(db):
    classdata.add_drawing(db, drawing_png(1), 1, "Ada", "7b", per_minute=2)
    classdata.add_drawing(db, drawing_png(2), 2, "ADA", "7b", per_minute=2)
    for name in ("ada", "Ａｄａ"):  # full-width letters are "Ada" too
        with pytest.raises(classdata.RateLimitError, match="saved 2 drawings"):
            classdata.add_drawing(db, drawing_png(3), 3, name, "7b", per_minute=2)
    assert classdata.add_drawing(db, drawing_png(4), 4, "Bo", "7b", per_minute=2) > 0


# --- off unless configured, and configured safely ---------------------------------------------


def test_off_by_default_both_routes_say_so_with_404(tmp_path):
    web = make_app(tmp_path, CLASSDATA_PATH=None).test_client()
    page = web.get("/collect")
    assert page.status_code == 404 and "Collecting drawings is off" in page.get_data(as_text=True)
    assert "collect.js" not in page.get_data(as_text=True)
    assert_error(post(web, body(3)), 404, "collecting drawings is off", "DIGITREC_CLASSDATA_PATH")
    assert list(tmp_path.iterdir()) == []  # no database was made


def test_the_environment_turns_it_on(tmp_path, monkeypatch, db):
    monkeypatch.setenv("DIGITREC_CLASSDATA_PATH", str(db))
    monkeypatch.setenv("DIGITREC_COLLECT_PER_MINUTE", "2")
    monkeypatch.setenv("DIGITREC_MODEL_PATH", str(tmp_path / "no-model.keras"))
    app = create_app()
    assert "collect" in app.blueprints
    assert app.config["COLLECT_PER_MINUTE"] == 2
    web = app.test_client()
    assert [post(web, body(d)).status_code for d in range(3)] == [201, 201, 429]
    assert db.is_file() and len(rows(db)) == 2


def test_a_relative_database_path_is_from_the_project_root(tmp_path, monkeypatch):
    """As notebook 07 reads the same variable, wherever the app is started."""
    monkeypatch.setattr(settings, "project_root", lambda: tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, CLASSDATA_PATH="data/class.sqlite")
    assert app.config["CLASSDATA_PATH"] == str(tmp_path / "project" / "data" / "class.sqlite")
    assert (tmp_path / "project" / "data" / "class.sqlite").is_file()
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "config, words",
    [
        ({"COLLECT_PER_MINUTE": 0}, "COLLECT_PER_MINUTE must be a positive whole number"),
        ({"COLLECT_PER_MINUTE": "many"}, "COLLECT_PER_MINUTE must be a positive whole number"),
        ({"CLASSDATA_PATH": "."}, "is a folder"),
    ],
)
def test_bad_settings_fail_when_the_app_is_built(tmp_path, config, words):
    with pytest.raises(ValueError, match=words):
        make_app(tmp_path, **config)


def test_a_file_that_is_not_a_database_fails_at_start_and_is_left_alone(tmp_path):
    notes = tmp_path / "notes.sqlite"
    notes.write_text("lesson notes " * 200)
    with pytest.raises(ValueError, match="cannot use .* as the class database"):
        make_app(tmp_path, CLASSDATA_PATH=str(notes))
    assert notes.read_text().startswith("lesson notes")


def test_a_database_that_breaks_while_serving_is_a_503_naming_no_path(tmp_path, db, caplog):
    app = make_app(tmp_path)
    web = app.test_client()
    assert post(web, body(1)).status_code == 201
    for extra in db.parent.glob(db.name + "-*"):  # the WAL files: the database is now the file
        extra.unlink()
    db.write_bytes(b"not a database any more " * 100)  # a disk fault, a bad copy
    message = assert_error(post(web, body(2)), 503, "not saved", "teacher")
    assert str(tmp_path) not in message
    assert str(db) in caplog.text  # the teacher finds the cause in the log
    assert db.read_bytes().startswith(b"not a database any more")  # left as it was


def test_another_programs_database_fails_at_start_and_is_left_alone(tmp_path):
    other = tmp_path / "gradebook.sqlite"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("CREATE TABLE marks (pupil TEXT, mark INTEGER)")
    before = other.read_bytes()
    with pytest.raises(ValueError, match="another program's database .*marks"):
        make_app(tmp_path, CLASSDATA_PATH=str(other))
    assert other.read_bytes() == before


def test_the_wrong_method_is_json_405(web):
    assert_error(web.get("/api/collect"), 405, "GET is not allowed", "POST")


# --- the page -----------------------------------------------------------------------------------


def test_the_page_loads_its_script_and_has_no_inline_code(web):
    response = web.get("/collect")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<script src="/static/collect.js" defer></script>' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline script
    assert " style=" not in html and "<style" not in html and " on" + "click=" not in html
    assert 'id="sheet" width="280" height="280" data-pen="18"' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert web.get("/static/collect.js").status_code == 200


# --- a real server, many writers at once -------------------------------------------------------

WRITERS = 8
SECONDS = 10.0


@pytest.mark.slow
def test_eight_writers_for_10_s_through_a_real_server(tmp_path, db):
    """Every accepted drawing is stored exactly once, no 5xx, the database readable throughout."""
    from app.serve import serving

    app = make_app(tmp_path, TESTING=False, COLLECT_PER_MINUTE=100_000)
    payloads = [json.dumps(body(d)).encode() for d in range(10)]
    accepted: dict[str, list[int]] = {f"w{n}": [] for n in range(WRITERS)}
    statuses: list[int] = []
    errors: list[BaseException] = []
    counts: list[int] = []
    stop = time.monotonic() + SECONDS

    def write(name: str, port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            sent = 0
            while time.monotonic() < stop:
                digit = sent % 10
                payload = payloads[digit].replace(b'"Ada"', json.dumps(name).encode())
                connection.request(
                    "POST", "/api/collect", payload, {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                answer = json.loads(response.read())
                statuses.append(response.status)
                if response.status == 201:
                    accepted[name].append(answer["id"])
                    assert answer["next"] == (digit + 1) % 10
                sent += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def read() -> None:
        try:
            while time.monotonic() < stop + 1:
                counts.append(classdata.count_drawings(db))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with serving(app, threads=4) as url:
        port = int(url.rsplit(":", 1)[1])
        threads = [threading.Thread(target=read)]
        threads += [threading.Thread(target=write, args=(name, port)) for name in accepted]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 60)
    assert not errors, errors
    assert set(statuses) == {201}, f"statuses other than 201: {set(statuses) - {201}}"
    ids = sorted(i for written in accepted.values() for i in written)
    stored = rows(db)
    assert ids == [row[0] for row in stored], "every accepted drawing stored exactly once"
    by_id = {row[0]: row[2] for row in stored}
    assert all(by_id[i] == name for name, written in accepted.items() for i in written)
    assert all(accepted.values()), "every writer was served"
    assert len(counts) >= 2 and counts == sorted(counts), "the reader saw rows only ever added"
