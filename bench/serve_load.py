"""Load test of the production server: waitress on 127.0.0.1, 8 clients posting real drawings.

Two servers run side by side in one run, each in its own process: the app as shipped
(`Predictor`, a traced TensorFlow function) and the same app whose model call is Keras's
`model.predict` per request (the naive way). Clients alternate between them in rounds so the
machine's noise (other people's jobs) hits both alike.

The drawings are MNIST test digits redrawn with a round 18 px pen at random sizes and places
on a 280x280 black canvas and sent as PNG data URLs, as the page sends them. The client is
http.client over keep-alive connections in threads of this process, which stays light
(its CPU time is reported) so it does not eat the servers' two cores.

Reported per server: requests/s, client-observed latency p50/p99, the server's own time p50/p99
(the handler's `Server-Timing: total`), errors, server CPU per request, and how many answers
were the right digit.

Run: `python bench/serve_load.py [--model models/cnn.keras] [--seconds 30] [--clients 8]`
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `app` lives at the project root
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound besides the clock


# --- the servers (child processes) ---------------------------------------------------------


class NaivePredictor:
    """The app's predictor with Keras's `model.predict` per request in place of the traced
    function (and one reading per drawing, no turns)."""

    def __init__(self, predictor):
        self.model = predictor.model
        self.name = predictor.name + " (model.predict)"
        self.metadata = predictor.metadata

    def predict(self, image):
        from digitrec.predict import Prediction
        from digitrec.preprocess import to_mnist

        x = to_mnist(image)
        probabilities = self.model.predict(x.reshape(1, 28, 28, 1), verbose=0)[0]
        digit = int(np.argmax(probabilities))
        return Prediction(digit, probabilities, float(probabilities[digit]), x)


def serve(mode: str, model: str, threads: int) -> None:
    """Child process: build the app, bind a free port on 127.0.0.1, print it, serve forever.

    The server is `app.serve.make_server`'s, as `python -m app` runs it.
    """
    from app import create_app
    from app.model import EXTENSION
    from app.serve import make_server

    app = create_app({"MODEL_PATH": model})
    slot = app.extensions[EXTENSION]
    if slot.predictor is None:
        print(f"ERROR {slot.problem}", flush=True)
        sys.exit(1)
    if mode == "naive":
        slot.predictor = NaivePredictor(slot.predictor)
    server = make_server(app, host="127.0.0.1", port=0, threads=threads)
    print(f"PORT {server.effective_port}", flush=True)
    server.run()


class Server:
    def __init__(self, mode: str, model: str, threads: int):
        self.mode = mode
        command = [sys.executable, __file__, "--serve", mode, "--model", model]
        command += ["--threads", str(threads)]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise SystemExit(f"the {mode} server did not start: {line or 'no output'}")
        self.port = int(line.split()[1])

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the load generator ----------------------------------------------------------------------


def make_bodies(count: int, seed: int = 0) -> tuple[list[bytes], list[int]]:
    """Request bodies holding PNGs of MNIST test digits redrawn like a person would."""
    from PIL import Image

    from digitrec import synthetic
    from digitrec.data import load_mnist

    (_, _), (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_test), size=count, replace=False)
    bodies, labels = [], []
    for i in picks:
        height, top, left = synthetic.random_placement(rng, low=140, high=260)
        ink = synthetic.redraw_digit(x_test[i], height, top, left)
        buffer = io.BytesIO()
        Image.fromarray(synthetic.render(ink, synthetic.WHITE_ON_BLACK)).save(buffer, "PNG")
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        bodies.append(json.dumps({"image": url}).encode())
        labels.append(int(y_test[i]))
    return bodies, labels


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    errors: int = 0
    right: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)


def client(port: int, bodies, labels, offset, deadline, tally: Tally, lock) -> None:
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, server, right, errors, statuses = [], [], 0, 0, {}
    for n in range(MAX_REQUESTS_PER_CLIENT):
        if time.perf_counter() >= deadline:
            break
        k = (offset + n) % len(bodies)
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/predict", bodies[k], headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.status != 200:
            errors += 1
            continue
        right += json.loads(payload)["digit"] == labels[k]
        timing = response.getheader("Server-Timing", "")
        for part in timing.split(","):
            name, _, duration = part.strip().partition(";dur=")
            if name == "total":
                server.append(float(duration))
    connection.close()
    with lock:
        tally.latencies_ms += latencies
        tally.server_ms += server
        tally.right += right
        tally.errors += errors
        for status, count in statuses.items():
            tally.statuses[status] = tally.statuses.get(status, 0) + count


def run_block(server: Server, bodies, labels, clients: int, seconds: float, tally: Tally) -> None:
    lock = threading.Lock()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    deadline = started + seconds
    step = len(bodies) // clients
    threads = [
        threading.Thread(
            target=client, args=(server.port, bodies, labels, c * step, deadline, tally, lock)
        )
        for c in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    tally.seconds += time.perf_counter() - started
    tally.server_cpu += server.cpu_seconds() - cpu_before


def wait_healthy(server: Server, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            body = json.loads(response.read())
            connection.close()
            if response.status == 200:
                return body
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the {server.mode} server never became healthy")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: models/cnn.keras")
    parser.add_argument("--seconds", type=float, default=30.0, help="load time per server")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the servers")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="waitress worker threads")
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--serve", choices=["fast", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve_load.json")
    args = parser.parse_args()

    from digitrec import settings

    model = str(args.model or settings.default_model_path())
    if args.serve:
        serve(args.serve, model, args.threads)
        return

    bodies, labels = make_bodies(args.drawings)
    print(
        f"{len(bodies)} drawings (PNG, {statistics.median(map(len, bodies)) / 1000:.1f} kB median"
        f" body); model {model}"
    )
    servers = {}
    try:
        for mode in ("fast", "naive"):
            servers[mode] = Server(mode, model, args.threads)
        health = {mode: wait_healthy(server) for mode, server in servers.items()}["fast"]
        print(f"model {health['model']}: test accuracy {health['test_accuracy']:.2%}")
        for server in servers.values():  # warm-up: first-call allocations, tracing
            run_block(server, bodies, labels, 2, 2.0, Tally())

        load_before = os.getloadavg()[0]
        cpu_before = time.process_time()
        tallies = {mode: Tally() for mode in servers}
        per_round = args.seconds / args.rounds
        for r in range(args.rounds):
            for mode, server in servers.items():
                before = tallies[mode].requests
                run_block(server, bodies, labels, args.clients, per_round, tallies[mode])
                done = tallies[mode].requests - before
                print(f"  round {r + 1} {mode:>5}: {done / per_round:7.1f} requests/s")
        client_cpu = time.process_time() - cpu_before
        load_after = os.getloadavg()[0]
    finally:
        for server in servers.values():
            server.stop()

    print(
        f"\nwaitress --threads={args.threads}, 127.0.0.1; {args.clients} keep-alive clients; "
        f"{args.seconds:.0f} s per server in {args.rounds} alternating rounds"
    )
    header = (
        f"{'server':<22}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'srv p50':>9}{'srv p99':>9}"
        f"{'errors':>8}{'CPU ms/req':>11}{'right':>8}"
    )
    print(header)
    results = {}
    names = {"fast": "Predictor (shipped)", "naive": "model.predict (naive)"}
    for mode, t in tallies.items():
        row = {
            "requests": t.requests,
            "requests_per_s": t.requests / t.seconds,
            "p50_ms": percentile(t.latencies_ms, 50),
            "p99_ms": percentile(t.latencies_ms, 99),
            "server_p50_ms": percentile(t.server_ms, 50),
            "server_p99_ms": percentile(t.server_ms, 99),
            "errors": t.errors,
            "statuses": t.statuses,
            "server_cpu_ms_per_request": 1000 * t.server_cpu / max(1, t.requests),
            "right": t.right / max(1, t.requests),
        }
        results[mode] = row
        print(
            f"{names[mode]:<22}{row['requests_per_s']:>8.1f}{row['p50_ms']:>8.2f}"
            f"{row['p99_ms']:>8.2f}{row['server_p50_ms']:>9.2f}{row['server_p99_ms']:>9.2f}"
            f"{row['errors']:>8d}{row['server_cpu_ms_per_request']:>11.2f}{row['right']:>8.1%}"
        )
    fast, naive = results["fast"], results["naive"]
    ratio = fast["requests_per_s"] / naive["requests_per_s"]
    print(
        f"shipped vs naive: {ratio:.1f}x the requests/s, "
        f"{naive['p50_ms'] / fast['p50_ms']:.1f}x lower p50 latency"
    )
    total_requests = sum(t.requests for t in tallies.values())
    print(
        f"load generator CPU: {1000 * client_cpu / max(1, total_requests):.2f} ms/request; "
        f"load average {load_before:.2f} -> {load_after:.2f} (2 cores, shared machine)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "results": results,
                "ratio_requests_per_s": ratio,
                "client_cpu_ms_per_request": 1000 * client_cpu / max(1, total_requests),
                "load_average": [load_before, load_after],
            },
            indent=2,
        )
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
