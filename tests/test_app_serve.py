"""The real server: `python -m app` and `app.serve`, with waitress's body limit at the app's.

These tests talk HTTP over sockets on 127.0.0.1, not through Flask's test client, because the
limit that matters is the one waitress applies before the app sees a request.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from app.serve import _collecting, body_limit, main, serving
from digitrec import classdata

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FIFTY_MB = 50_000_000
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def served(trained_model_path) -> Iterator[tuple[str, int]]:
    """`python -m app --port 0` in a child process, exactly as a person starts it."""
    env = dict(os.environ, DIGITREC_MODEL_PATH=str(trained_model_path), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Serving on http://127.0.0.1:"), line
        assert "1,048,576 bytes" in line
        assert process.stdout.readline().startswith("Collecting class drawings: off")
        address = urlsplit(line.split()[2])
        yield address.hostname, address.port
    finally:
        process.terminate()
        process.wait(20)


def request(address, method: str, path: str, body: bytes = b"", headers=None):
    connection = http.client.HTTPConnection(*address, timeout=30)
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    """Whatever the server has said on `sock` within `timeout` seconds (up to its close)."""
    answer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
        if b"\r\n\r\n" in answer:
            break
    return answer


def send_until_refused(sock: socket.socket, total: int, chunked: bool) -> tuple[int, bytes]:
    """Stream up to `total` body bytes; stop when the server answers or hangs up.

    Returns how many body bytes were sent and what the server answered.
    """
    sent = 0
    block = b"A" * CHUNK
    frame = (b"%x\r\n" % CHUNK) + block + b"\r\n" if chunked else block
    sock.setblocking(False)
    answer = b""
    while sent < total:
        readable, writable, _ = select.select([sock], [sock], [], 10)
        if readable:
            sock.setblocking(True)
            return sent, read_answer(sock, 5)
        if not writable:
            break
        try:
            sock.sendall(frame)
        except (BlockingIOError, InterruptedError):
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += CHUNK
    sock.setblocking(True)
    return sent, answer or read_answer(sock, 5)


def test_the_entry_point_serves_the_page_and_the_api(served):
    response, payload = request(served, "GET", "/healthz")
    assert response.status == 200 and json.loads(payload)["status"] == "ok"
    response, payload = request(served, "GET", "/")
    assert response.status == 200 and b'id="pad"' in payload


def test_a_50_mb_body_is_refused_before_a_byte_of_it_is_read(served):
    """The 413 comes back as soon as the headers say 50 MB, before any body byte is sent."""
    with socket.create_connection(served, timeout=30) as sock:
        sock.sendall(
            b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % FIFTY_MB
        )
        answer = read_answer(sock, 10)  # the answer comes with no body byte sent
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # Sending the body anyway: the server has hung up, so most of it never goes out.
        sent, _ = send_until_refused(sock, FIFTY_MB, chunked=False)
    assert sent < FIFTY_MB // 5, f"{sent:,} bytes of the body were taken"


def test_a_50_mb_chunked_body_is_refused_after_about_the_limit(served):
    """No Content-Length to judge by: waitress counts the bytes and stops at the limit."""
    with socket.create_connection(served, timeout=30) as sock:
        sock.sendall(
            b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent, answer = send_until_refused(sock, FIFTY_MB, chunked=True)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < FIFTY_MB // 5, f"{sent:,} bytes were sent before the refusal"


def test_the_edge_and_the_app_share_one_limit(trained_model_path):
    """A body of exactly MAX_CONTENT_LENGTH reaches the app; one byte more does not."""
    limit = 4096
    app = create_app(
        {"TESTING": True, "MODEL_PATH": str(trained_model_path), "MAX_CONTENT_LENGTH": limit}
    )
    assert body_limit(app) == limit + 1
    prefix = b'{"image": "data:image/png;base64,'
    with serving(app) as url:
        address = urlsplit(url).hostname, urlsplit(url).port
        for size, status in ((limit, 400), (limit + 1, 413)):
            body = prefix + b"A" * (size - len(prefix) - 2) + b'"}'
            assert len(body) == size
            response, payload = request(
                address, "POST", "/api/predict", body, {"Content-Type": "application/json"}
            )
            assert response.status == status, payload[:200]
        # Under the limit the app answers, in JSON; over it the server's edge does.
        assert json.loads(request(address, "GET", "/healthz")[1])["status"] == "ok"


def test_serving_stops_cleanly(trained_model_path):
    app = create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})
    with serving(app) as url:
        address = urlsplit(url).hostname, urlsplit(url).port
        assert request(address, "GET", "/healthz")[0].status == 200
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2).close()


def test_a_bad_setting_stops_the_entry_point_with_a_clear_message(tmp_path):
    env = dict(os.environ, DIGITREC_MAX_CONTENT_LENGTH="lots")
    env["DIGITREC_MODEL_PATH"] = str(tmp_path / "absent.keras")
    result = subprocess.run(
        [sys.executable, "-m", "app", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "MAX_CONTENT_LENGTH must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--port", "99999"], "99999 is not a port"),
        (["--port", "eighty"], "'eighty' is not a whole number"),
        (["--threads", "0"], "0: from 1 to 64 threads"),
        (["--threads", "200000"], "200000: from 1 to 64 threads"),
    ],
)
def test_an_impossible_port_or_thread_count_is_refused_before_serving(option, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(option)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


def test_a_port_in_use_stops_the_entry_point_with_one_line(trained_model_path, monkeypatch, capsys):
    monkeypatch.setenv("DIGITREC_MODEL_PATH", str(trained_model_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            main(["--port", str(port)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_entry_point_says_where_class_drawings_go_so_a_typo_shows(tmp_path):
    """A mistyped database path makes a new, empty database: the start-up line says so, with
    the full path; the right one says how many drawings it already holds."""
    db = tmp_path / "class.sqlite"
    app = create_app({"MODEL_PATH": str(tmp_path / "none.keras"), "CLASSDATA_PATH": str(db)})
    assert _collecting(app.config["CLASSDATA_PATH"]) == (
        f"Collecting class drawings at /collect into {db} (empty: a new database)"
    )
    png = Path(ROOT / "docs/screenshots/app-dark-phone.png")  # any picture with ink will do
    with classdata.connect(db) as connection:
        connection.execute(
            "INSERT INTO drawings (class, writer, label, png, created) VALUES (?, ?, ?, ?, ?)",
            ("7b", "Ada", 3, png.read_bytes(), "2026-01-01T00:00:00.000+00:00"),
        )
        connection.commit()
    assert _collecting(str(db)).endswith(f"into {db} (1 drawing so far)")
