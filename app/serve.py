"""Serve the app with waitress, its request-size limit matched to the app's own.

waitress reads a whole request body (by default up to 1 GiB, spooled to disk) before the app
sees any of it, so Flask's `MAX_CONTENT_LENGTH` alone would refuse a huge body only after
receiving it. `make_server` gives waitress the same limit, so a body that is too large is
answered with 413 as soon as its `Content-Length` header arrives (or, for a chunked body, as
soon as the limit is passed). Every way of serving the app goes through here:

    python -m app [--host 127.0.0.1] [--port 8000] [--threads 1]

One worker thread is the default: the work is CPU-bound, so more threads only make each
request slower; waitress still accepts and buffers many connections in its I/O thread.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask
from waitress import create_server
from waitress.server import BaseWSGIServer

from app import create_app
from digitrec import classdata, command_line

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_THREADS = 1
MOST_THREADS = 64  # as bench/serve_load.py tries at most


def body_limit(app: Flask) -> int:
    """waitress's `max_request_body_size` for `app`: it refuses a body of this size or more,
    Flask one of more than `MAX_CONTENT_LENGTH`, so this is one byte more than the app's."""
    return int(app.config["MAX_CONTENT_LENGTH"]) + 1


def make_server(
    app: Flask,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    threads: int = DEFAULT_THREADS,
    **options: Any,
) -> BaseWSGIServer:
    """A waitress server for `app` (not started; call `.run()`), port 0 for any free port."""
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=body_limit(app),
        **options,
    )


@contextmanager
def serving(app: Flask, **options: Any) -> Iterator[str]:
    """Run `make_server(app, port=0, ...)` in a background thread; yield its base URL.

    For tests and benchmarks: the real server on 127.0.0.1, stopped cleanly on exit.
    """
    server = make_server(app, **{"port": 0, **options})
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://{server.effective_host}:{server.effective_port}"
    finally:
        # Closing every socket from inside the server's own loop thread ends its loop. Should
        # the loop's wake-up pipe be gone already (EBADF), close them from here: with nothing
        # left to watch, the loop ends within its poll timeout.
        try:
            server.trigger.pull_trigger(lambda: _close_all(server))
        except OSError:
            _close_all(server)
        thread.join(10)
        server.task_dispatcher.shutdown()


def _close_all(server: BaseWSGIServer) -> None:
    for channel in list(server._map.values()):
        channel.close()
    server._map.clear()


def _urls(server: Any) -> list[str]:
    """Where `server` listens (waitress makes one socket per address a host name resolves to)."""
    listening = getattr(server, "effective_listen", None)
    if listening is None:
        listening = [(server.effective_host, server.effective_port)]
    return [f"http://{host}:{port}" for host, port in listening]


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _port(text: str) -> int:
    port = _whole(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535; 0: any free one)")
    return port


def _threads(text: str) -> int:
    threads = _whole(text)
    if not 1 <= threads <= MOST_THREADS:
        raise argparse.ArgumentTypeError(
            f"{threads}: from 1 to {MOST_THREADS} threads (reading a drawing keeps a core busy: "
            "more threads than cores only queue)"
        )
    return threads


def _collecting(path: str | None) -> str:
    """Where class drawings go, said at start: the full path and what it holds, so a typo in
    the path shows as a new, empty database."""
    if path is None:
        return "Collecting class drawings: off (set DIGITREC_CLASSDATA_PATH to turn it on)"
    try:
        held = classdata.count_drawings(path)
    except (classdata.ClassDataError, OSError, sqlite3.Error) as exc:
        return f"Collecting class drawings at /collect into {path} (cannot count them: {exc})"
    holds = f"{held:,} drawing{'s' * (held != 1)} so far" if held else "empty: a new database"
    return f"Collecting class drawings at /collect into {path} ({holds})"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m app`: build the app from the environment and serve it until interrupted."""
    parser = command_line.ArgumentParser(
        prog="python -m app", description="Serve the digitrec web app with waitress."
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--threads", type=_threads, default=DEFAULT_THREADS, help="worker threads (default 1)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        app = create_app()
    except ValueError as exc:  # a bad setting: say which, without a traceback
        parser.exit(2, f"python -m app: {exc}\n")
    try:
        server = make_server(app, host=args.host, port=args.port, threads=args.threads)
    except (OSError, ValueError) as exc:  # a host that does not resolve, a port in use
        parser.exit(2, f"python -m app: cannot listen on {args.host}:{args.port}: {exc}\n")
    print(
        f"Serving on {', '.join(_urls(server))} "
        f"(requests up to {app.config['MAX_CONTENT_LENGTH']:,} bytes); Ctrl+C stops",
        flush=True,
    )
    print(_collecting(app.config.get("CLASSDATA_PATH")), flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
