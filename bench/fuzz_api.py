"""Fuzz the running production server: >= 10,000 malformed requests, no 5xx, still healthy after.

Starts waitress on 127.0.0.1 (a child process, as `bench/serve_load.py` does) and sends
seeded random bad requests of every layer from several keep-alive clients, each to one of the
two readings (`POST /api/predict`, `POST /api/number`): junk bodies, wrong content types,
broken JSON, wrong fields, bad base64, damaged PNG and JPEG files (single digits and wide
numbers), drawings of countless dots, decompression bombs, oversized bodies, wrong methods
and paths, and raw malformed HTTP. Every answer must be below 500, and every answer from the
app a JSON error (or a 200). Afterwards the server must still answer /healthz and read real
drawings (digits and numbers) correctly.

Run: `python bench/fuzz_api.py [--requests 10000] [--seed 0]`
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import random
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command_line import ArgumentParser, count, random_seed, run  # noqa: E402
from serve_load import Server, make_bodies, wait_healthy  # noqa: E402

from app.pages import NUMBER_WIDTH  # noqa: E402  (serve_load puts the project on the path)
from digitrec.constants import CANVAS_SIZE  # noqa: E402
from digitrec.strokes import example_strokes, rasterise  # noqa: E402

JSON = "application/json"
LIMIT_SECONDS = 600  # a bound besides the request count
READINGS = ("/api/predict", "/api/number")
# Numbers written from code on the page's number canvas, to damage and to read at the end.
NUMBERS = ("2026", "31", "4759", "80", "615")


def encoded(pixels: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


def number_png(text: str) -> bytes:
    """The digits of `text` drawn side by side on the number mode's canvas, as PNG."""
    strokes = [
        stroke
        for i, digit in enumerate(text)
        for stroke in example_strokes(int(digit), height=160, top=60, left=60 + 190 * i)
    ]
    return encoded(rasterise(strokes, size=NUMBER_WIDTH)[:CANVAS_SIZE], "PNG")


class Corpus:
    """Valid material to damage: real drawings (digits and numbers) as PNG and JPEG."""

    def __init__(self):
        bodies, self.labels = make_bodies(20, seed=1)
        self.bodies = bodies
        self.urls = [json.loads(b)["image"] for b in bodies]
        self.pngs = [base64.b64decode(u.split(",", 1)[1]) for u in self.urls]
        rgb = [np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in self.pngs[:5]]
        self.jpegs = [encoded(p, "JPEG") for p in rgb]
        self.numbers = [number_png(text) for text in NUMBERS]
        self.pngs += self.numbers
        dots = np.zeros((CANVAS_SIZE, NUMBER_WIDTH), np.uint8)
        dots[::3, ::3] = 255  # over 25,000 separate marks: refused before any reading
        self.dots = encoded(dots, "PNG")
        self.empty = encoded(np.zeros((280, 280, 4), np.uint8), "PNG")
        bomb = io.BytesIO()
        Image.new("1", (6000, 6000)).save(bomb, "PNG", optimize=True)
        self.bomb = bomb.getvalue()


def damage(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        at = rng.randrange(len(data)) if rng.random() < 0.3 else rng.randrange(8, max(9, len(data)))
        at = min(at, len(data) - 1)
        kind = rng.choice(["flip", "cut", "insert", "delete", "zero"])
        if kind == "flip":
            data[at] ^= rng.randint(1, 255)
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 64))
        elif kind == "delete":
            del data[at : at + rng.randint(1, 64)]
        else:
            data[at : at + 16] = bytes(min(16, len(data) - at))
    return bytes(data)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body_of(image) -> bytes:
    return json.dumps({"image": image}).encode()


def make_request(rng: random.Random, c: Corpus) -> tuple[str, str, str, bytes, str | None]:
    """(category, method, path, body, content type) of one malformed request."""
    kind = rng.choice(
        ["damaged-png"] * 6
        + ["damaged-jpeg"] * 2
        + ["random-body", "content-type", "broken-json", "wrong-json", "wrong-field"]
        + ["bad-base64", "random-image-bytes", "data-url", "empty-drawing", "bomb", "dots"]
        + ["method-or-path", "nested-json"]
        + ["oversize"] * (1 if rng.random() < 0.05 else 0)
    )
    reading = rng.choice(READINGS)
    if kind == "damaged-png":
        return (
            kind,
            "POST",
            reading,
            body_of("data:image/png;base64," + b64(damage(rng, rng.choice(c.pngs)))),
            JSON,
        )
    if kind == "damaged-jpeg":
        return (
            kind,
            "POST",
            reading,
            body_of("data:image/jpeg;base64," + b64(damage(rng, rng.choice(c.jpegs)))),
            JSON,
        )
    if kind == "random-body":
        return kind, "POST", reading, rng.randbytes(rng.randint(0, 2000)), JSON
    if kind == "content-type":
        ctype = rng.choice(
            [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "image/png",
                "application/xml",
                "",
                None,
                "application/jsonx",
                "json",
            ]
        )
        return kind, "POST", reading, rng.choice(c.bodies), ctype
    if kind == "broken-json":
        body = rng.choice(c.bodies)
        cut = rng.randrange(len(body))
        return kind, "POST", reading, damage(rng, body[:cut] + body[cut + 1 :]), JSON
    if kind == "wrong-json":
        value = rng.choice([None, 1, 2.5, "text", [], [1, 2], True, {"img": "x"}, {}])
        return kind, "POST", reading, json.dumps(value).encode(), JSON
    if kind == "wrong-field":
        value = rng.choice([None, 7, 1.5, True, [c.urls[0]], {"data": c.urls[0]}, ""])
        return kind, "POST", reading, body_of(value), JSON
    if kind == "bad-base64":
        url = rng.choice(c.urls)
        chars = list(url)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(22, len(chars))
            chars[at] = rng.choice("!@#$%^&*()_-~`'\"\\é\u0000 ")
        return kind, "POST", reading, body_of("".join(chars)), JSON
    if kind == "random-image-bytes":
        prefix = rng.choice([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF"])
        payload = prefix + rng.randbytes(rng.randint(0, 3000))
        return kind, "POST", reading, body_of("data:image/png;base64," + b64(payload)), JSON
    if kind == "data-url":
        head = rng.choice(
            [
                "data:text/html;base64,",
                "data:image/png,",
                "data:image/gif;base64,",
                "data:",
                "data:image/png;base64",
                "data:;;;,",
                "DATA:IMAGE/PNG;BASE64,",
                "javascript:",
            ]
        )
        return kind, "POST", reading, body_of(head + b64(rng.choice(c.pngs))), JSON
    if kind == "empty-drawing":
        return kind, "POST", reading, body_of("data:image/png;base64," + b64(c.empty)), JSON
    if kind == "dots":
        return kind, "POST", reading, body_of("data:image/png;base64," + b64(c.dots)), JSON
    if kind == "bomb":
        return kind, "POST", reading, body_of("data:image/png;base64," + b64(c.bomb)), JSON
    if kind == "method-or-path":
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "POST", "OPTIONS", "HEAD"])
        path = rng.choice(
            [
                reading,
                "/api/",
                "/api/predict/x",
                "/api/%00",
                "/healthz",
                "/api/" + "a" * rng.randint(1, 3000),
                "/static/../app/__init__.py",
            ]
        )
        if method == "POST" and path in READINGS:
            path += "s"
        return kind, method, path, rng.choice(c.bodies), JSON
    if kind == "nested-json":
        depth = rng.randint(1000, 200_000)
        return kind, "POST", reading, b"[" * depth + b"]" * rng.randint(0, depth), JSON
    # oversize: a body over the 1 MB limit
    return kind, "POST", reading, body_of("data:image/png;base64," + "A" * 1_100_000), JSON


RAW_REQUESTS = [  # malformed HTTP itself; waitress answers these before the app sees them
    b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"POST /api/predict HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
]


def raw_request(port: int, data: bytes) -> int | None:
    """Send raw bytes; the status code of the answer, or None if the server just closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/"):
        return None
    return int(answer.split(b" ", 2)[1])


def worker(port, seed, count, corpus, deadline, tally, lock) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    statuses: Counter = Counter()
    bad: list[str] = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        kind, method, path, body, ctype = make_request(rng, corpus)
        headers = {"Content-Type": ctype} if ctype is not None else {}
        for attempt in range(2):
            try:
                try:
                    connection.request(method, path, body, headers)
                except BrokenPipeError:
                    # The server may answer a body over its limit (413) and close before the
                    # body is all sent; its answer is still there to read.
                    if kind != "oversize":
                        raise
                response = connection.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt:
                    statuses[(kind, "connection error")] += 1
                    bad.append(f"{kind}: {type(exc).__name__} {exc}")
        else:
            continue
        status = response.status
        statuses[(kind, status)] += 1
        if status >= 500:
            bad.append(f"{kind}: {status} {payload[:200]!r}")
        elif kind == "oversize":
            # Refused at the server's edge (waitress's plain-text 413) before the app reads it.
            if status != 413:
                bad.append(f"{kind}: {status} instead of 413")
        elif path.startswith("/api/") and method not in ("HEAD", "OPTIONS"):
            try:
                answer = json.loads(payload)
                ok = (status == 200 and ("digit" in answer or "text" in answer)) or (
                    400 <= status < 500 and isinstance(answer.get("error"), str)
                )
            except ValueError:
                ok = False
            if not ok:
                bad.append(f"{kind}: {status} not a JSON answer: {payload[:200]!r}")
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()
    with lock:
        tally["statuses"].update(statuses)
        tally["bad"] += bad


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=None,
        help="default: the model the app reads (models/cnn.keras, else the shipped one)",
    )
    parser.add_argument("--requests", type=count, default=10_000)
    parser.add_argument("--clients", type=count, default=4)
    parser.add_argument("--threads", type=count, default=4, help="waitress worker threads")
    parser.add_argument("--seed", type=random_seed, default=0)
    args = parser.parse_args()

    from digitrec import settings

    model = str(args.model or settings.default_model_path())
    corpus = Corpus()
    server = Server("fast", model, args.threads)
    try:
        wait_healthy(server)
        rss_before = rss_kb(server.process.pid)
        tally = {"statuses": Counter(), "bad": []}
        lock = threading.Lock()
        started = time.monotonic()
        deadline = started + LIMIT_SECONDS
        per_client = -(-args.requests // args.clients)
        threads = [
            threading.Thread(
                target=worker,
                args=(server.port, args.seed * 1000 + k, per_client, corpus, deadline, tally, lock),
            )
            for k in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LIMIT_SECONDS + 60)
        raw = Counter()
        for data in RAW_REQUESTS:
            status = raw_request(server.port, data)
            raw[status] += 1
            if status is not None and status >= 500:
                tally["bad"].append(f"raw HTTP: {status} for {data[:60]!r}")
        elapsed = time.monotonic() - started

        # Still healthy, and still reading real drawings right?
        health = wait_healthy(server, timeout=10)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        right = 0
        for body, label in zip(corpus.bodies, corpus.labels, strict=True):
            connection.request("POST", "/api/predict", body, {"Content-Type": JSON})
            response = connection.getresponse()
            answer = json.loads(response.read())
            right += response.status == 200 and answer["digit"] == label
        numbers_right = 0
        for text, png in zip(NUMBERS, corpus.numbers, strict=True):
            body = body_of("data:image/png;base64," + b64(png))
            connection.request("POST", "/api/number", body, {"Content-Type": JSON})
            response = connection.getresponse()
            answer = json.loads(response.read())
            numbers_right += response.status == 200 and answer["text"] == text
        connection.close()
        alive = server.process.poll() is None
        rss_after = rss_kb(server.process.pid)
    finally:
        server.stop()

    statuses: Counter = tally["statuses"]
    total = sum(statuses.values())
    by_status = Counter()
    by_kind: dict[str, Counter] = {}
    for (kind, status), n in statuses.items():
        by_status[status] += n
        by_kind.setdefault(kind, Counter())[status] += n
    rate = total / elapsed
    print(f"{total:,} malformed requests in {elapsed:.1f} s ({rate:.0f}/s), seed {args.seed}")
    for kind in sorted(by_kind):
        counts = ", ".join(f"{s}: {n}" for s, n in sorted(by_kind[kind].items(), key=str))
        print(f"  {kind:<20} {counts}")
    print("by status:", dict(sorted(by_status.items(), key=str)))
    print(f"raw malformed HTTP ({len(RAW_REQUESTS)}): {dict(raw)}")
    server_errors = sum(n for s, n in by_status.items() if isinstance(s, int) and s >= 500)
    print(f"5xx responses: {server_errors}; other failures: {len(tally['bad']) - server_errors}")
    for line in tally["bad"][:10]:
        print("  ", line)
    print(
        f"after: server alive {alive}, /healthz {health['status']} ({health['model']}), "
        f"{right}/{len(corpus.bodies)} real drawings and {numbers_right}/{len(NUMBERS)} numbers "
        f"read right; "
        f"RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MB"
    )
    ok = (
        total >= args.requests
        and not tally["bad"]
        and alive
        and right >= len(corpus.bodies) - 1
        and numbers_right >= len(NUMBERS) - 1
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    run(main)
