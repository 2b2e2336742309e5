"""Load test of the production servers on 127.0.0.1: clients posting real drawings.

Two scenarios, each server in its own process:

- By default, waitress (`app.serve`, one thread) and 8 clients: the app as shipped
  (`Predictor`, a traced TensorFlow function) beside the same app whose model call is Keras's
  `model.predict` per request (the naive way).
- With `--workers 1 2 4`, the class server: the app under gunicorn, `gunicorn
  "app:create_app()" --workers N --bind 127.0.0.1:PORT` (sync workers, as docs/teaching.md
  sets it up), one server per worker count, every worker loading `--model` itself; 30 clients
  by default, as for a class of 30. Per worker count it reports requests/s and the ratio to the
  fewest workers, latency p50/p99, errors (no answer, or not 200) and 5xx answers among them,
  the servers' CPU time per request, and each worker's memory from /proc: its RSS (what a
  worker holds, the TensorFlow libraries included) and its private part (what each further
  worker adds, since the workers share the libraries' pages).

In both, all servers run side by side and the clients move from one to the next in rounds
(1, 2, 4, 1, 2, 4, ...) so the machine's noise (other people's jobs) hits them alike; with
`--workers` each figure is the median over rounds. The CPU model, the core count and the load
average before and after come with the figures, which mean little without them. A sync
gunicorn worker closes the connection after each answer, so there every request is a new
connection, as a reverse proxy makes them to its upstream by default.

The drawings are MNIST test digits redrawn with a round 18 px pen at random sizes and places
on a 280x280 black canvas and sent as PNG data URLs, as the page sends them. The client is
http.client (keep-alive where the server allows it) in threads of this process, which stays
light (its CPU time is reported) so it does not eat the servers' cores.

Run:
    python bench/serve_load.py [--model models/cnn.keras] [--seconds 30] [--clients 8]
    python bench/serve_load.py --workers 1 2 4 [--clients 30] [--seconds 20] [--rounds 5]

`--seconds` is the load time per server in all (split over the rounds), or with `--workers`
per server and round. The model can also come from `DIGITREC_MODEL`. The servers stop when
the run ends, also on an error, Ctrl-C or SIGTERM (gunicorn by its process group). Linux only
(/proc).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from command_line import ArgumentParser, check_output, run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `app` lives at the project root
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound besides the clock
RESULTS = ROOT / "bench" / "results"
APP_FACTORY = "app:create_app()"
WARMUP_SECONDS = 5.0  # with every client: each worker's first calls trace its model
START_TIMEOUT = 300.0  # TensorFlow starting in several workers at once on a small machine
STOP_TIMEOUT = 30.0
READY_ENV = "SERVE_LOAD_READY_DIR"
# gunicorn settings file: each worker leaves a file named by its pid once it has loaded the app.
GUNICORN_HOOKS = f'''\
import os
from pathlib import Path


def post_worker_init(worker):
    Path(os.environ["{READY_ENV}"], str(worker.pid)).touch()
'''
LIMITS = {  # option: (smallest, largest) accepted
    "workers": (1, 64),
    "clients": (1, 1000),
    "seconds": (0.1, 3600.0),
    "rounds": (1, 100),
    "threads": (1, 64),
    "drawings": (1, 10_000),
}


# --- /proc -----------------------------------------------------------------------------------


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far; 0 if it is gone."""
    try:
        fields = proc_stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, for its master)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(proc_stat(int(entry.name))[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
    return sorted(children)


def kb_fields(text: str) -> dict[str, int]:
    """`Name: 123 kB` lines of a /proc file (status, smaps_rollup) as {name: kB}."""
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])
    return fields


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory (RSS) and the part of it no other process maps (private), MB."""
    try:
        fields = kb_fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except OSError:
        return {"rss": math.nan, "private": math.nan}
    private = fields.get("Private_Clean", math.nan) + fields.get("Private_Dirty", math.nan)
    return {"rss": fields.get("Rss", math.nan) / 1024, "private": private / 1024}


def lscpu_model(text: str) -> str | None:
    """The 'Model name' line of `lscpu` output, or None."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Model name" and value.strip():
            return value.strip()
    return None


def cpu_description() -> dict:
    """The CPU model (`lscpu`), its core count and how many of them this process may use."""
    try:
        text = subprocess.run(
            ["lscpu"], capture_output=True, text=True, timeout=10, env=dict(os.environ, LC_ALL="C")
        ).stdout
    except (OSError, subprocess.SubprocessError):
        text = ""
    return {
        "model": lscpu_model(text) or "unknown",
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
    }


def cpu_line(cpu: dict, load_before: float, load_after: float) -> str:
    usable = cpu["usable_cores"]
    cores = f"{cpu['cores']} cores" + (f" ({usable} usable)" if usable != cpu["cores"] else "")
    return f"CPU {cpu['model']}, {cores}; load average {load_before:.2f} -> {load_after:.2f}"


def free_ports(count: int) -> list[int]:
    """`count` different free TCP ports on 127.0.0.1 (all held open while choosing)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


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
    """The app under waitress (`serve` above) in a child process of this script."""

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
        """User + system CPU time the server process has used so far."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class GunicornServer:
    """`gunicorn "app:create_app()" --workers N` on 127.0.0.1:`port`, serving `model`.

    It runs in a process group of its own, so that stopping it reaches every worker; `folder`
    (temporary, the caller's) holds its log and the files its workers leave when ready.
    """

    def __init__(self, workers: int, model: str, port: int, folder: Path):
        self.workers = workers
        self.mode = f"gunicorn --workers {workers}"
        self.port = port
        self.ready = folder / f"ready-{workers}"
        self.ready.mkdir()
        hooks = folder / "gunicorn_hooks.py"
        hooks.write_text(GUNICORN_HOOKS)
        self.log = folder / f"gunicorn-{workers}.log"
        command = [sys.executable, "-m", "gunicorn", APP_FACTORY, "--workers", str(workers)]
        command += ["--bind", f"127.0.0.1:{port}", "--timeout", "60", "--config", str(hooks)]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", DIGITREC_MODEL_PATH=model)
        env[READY_ENV] = str(self.ready)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, led by the master
            )

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)

    def boots(self) -> int:
        """How many workers have loaded the app so far (more than N if some were restarted)."""
        return len(list(self.ready.iterdir()))

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until each of the N running workers has loaded the app, or fail in one line."""
        deadline = time.monotonic() + timeout
        while True:
            ready = {int(p.name) for p in self.ready.iterdir()} & set(self.worker_pids())
            if len(ready) >= self.workers:
                return
            if self.process.poll() is not None:
                raise SystemExit(f"{self.mode} stopped: {self.last_log_line()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.mode}: workers not ready after {timeout:.0f} s")
            time.sleep(0.2)

    def last_log_line(self) -> str:
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line]
        return lines[-1][:300] if lines else "no output"

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its current workers."""
        pids = [self.process.pid, *self.worker_pids()]
        return sum(cpu_seconds(pid) for pid in pids)

    def memory(self) -> dict:
        """Each worker's RSS and private memory, MB."""
        workers = [memory_mb(pid) for pid in self.worker_pids()]
        return {
            "worker_rss_mb": [m["rss"] for m in workers],
            "worker_private_mb": [m["private"] for m in workers],
        }

    def stop(self) -> None:
        """SIGTERM to the whole group (gunicorn's graceful stop), SIGKILL if it lingers.

        The group is signalled only while its leader, the master, is not yet reaped, so the
        group id cannot belong to anything else.
        """
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
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


def run_block(server, bodies, labels, clients: int, seconds: float, tally: Tally) -> None:
    """`clients` threads posting drawings to `server` for `seconds`; results added to `tally`."""
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


def wait_healthy(server, timeout: float = 180.0) -> dict:
    """The server's /healthz answer once it is 200; one line and exit if it stops, has no
    model (503) or is not healthy within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the {server.mode} server stopped")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            body = json.loads(response.read())
            connection.close()
            if response.status == 200:
                return body
            if response.status == 503:
                raise SystemExit(f"the {server.mode} server has no model: {body.get('error')}")
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the {server.mode} server never became healthy")


# --- figures -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation), NaN for no values."""
    return float(np.percentile(values, q)) if values else math.nan


def figures(t: Tally) -> dict:
    """What one server did in one block (or several, added up): rates, latencies, counts."""
    return {
        "requests": t.requests,
        "requests_per_s": t.requests / t.seconds if t.seconds else math.nan,
        "p50_ms": percentile(t.latencies_ms, 50),
        "p99_ms": percentile(t.latencies_ms, 99),
        "server_p50_ms": percentile(t.server_ms, 50),
        "server_p99_ms": percentile(t.server_ms, 99),
        "errors": t.errors,
        "server_errors": sum(n for status, n in t.statuses.items() if status >= 500),
        "statuses": t.statuses,
        "server_cpu_ms_per_request": 1000 * t.server_cpu / max(1, t.requests),
        "right": t.right / max(1, t.requests),
    }


MEDIANS = ("requests_per_s", "p50_ms", "p99_ms", "server_p50_ms", "server_p99_ms")


def summarize(rounds: list[dict]) -> dict:
    """One server's rounds (`figures` each): medians of rates, latencies and CPU per request,
    totals of the counts, the range of requests/s. A round with no answers makes its latency
    medians NaN rather than hiding it."""
    if not rounds:
        raise ValueError("no rounds to summarize")
    summary = {key: float(np.median([r[key] for r in rounds])) for key in MEDIANS}
    summary["server_cpu_ms_per_request"] = float(
        np.median([r["server_cpu_ms_per_request"] for r in rounds])
    )
    rates = [r["requests_per_s"] for r in rounds]
    summary["requests_per_s_range"] = [min(rates), max(rates)]
    requests = sum(r["requests"] for r in rounds)
    summary["requests"] = requests
    summary["errors"] = sum(r["errors"] for r in rounds)
    summary["server_errors"] = sum(r["server_errors"] for r in rounds)
    summary["right"] = sum(r["right"] * r["requests"] for r in rounds) / max(1, requests)
    return summary


def median_or_nan(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def scaling(requests_per_s: dict[int, float]) -> dict[int, float]:
    """Each worker count's requests/s as a multiple of the fewest workers' (1 worker's)."""
    base = requests_per_s[min(requests_per_s)]
    return {n: rate / base if base > 0 else math.nan for n, rate in requests_per_s.items()}


# --- the two scenarios -----------------------------------------------------------------------


def compare_servers(args, model: str, bodies, labels, cpu: dict) -> dict:
    """The shipped predictor against `model.predict`, each under waitress."""
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
    print(
        f"{'server':<22}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'srv p50':>9}{'srv p99':>9}"
        f"{'errors':>8}{'CPU ms/req':>11}{'right':>8}"
    )
    results = {mode: figures(t) for mode, t in tallies.items()}
    names = {"fast": "Predictor (shipped)", "naive": "model.predict (naive)"}
    for mode, row in results.items():
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
    client_ms = 1000 * client_cpu / max(1, total_requests)
    print(f"load generator CPU: {client_ms:.2f} ms/request")
    print(cpu_line(cpu, load_before, load_after))
    return {
        "results": results,
        "ratio_requests_per_s": ratio,
        "client_cpu_ms_per_request": client_ms,
        "load_average": [load_before, load_after],
    }


def compare_workers(args, model: str, bodies, labels, cpu: dict) -> dict:
    """gunicorn with each worker count in `args.workers`, all started, loaded in rounds."""
    rounds: dict[int, list[dict]] = {n: [] for n in args.workers}
    with (
        tempfile.TemporaryDirectory(prefix="serve_load-") as folder,
        contextlib.ExitStack() as stack,  # left first: the servers stop, then folder goes
    ):
        servers = {}
        for n, port in zip(args.workers, free_ports(len(args.workers)), strict=True):
            servers[n] = GunicornServer(n, model, port, Path(folder))
            stack.callback(servers[n].stop)
        for server in servers.values():
            server.wait_ready()
            health = wait_healthy(server)
        print(f"model {health['model']}: test accuracy {health['test_accuracy']:.2%}")
        for server in servers.values():
            run_block(server, bodies, labels, args.clients, WARMUP_SECONDS, Tally())

        load_before = os.getloadavg()[0]
        cpu_before = time.process_time()
        for r in range(args.rounds):
            for n, server in servers.items():
                load = os.getloadavg()[0]
                tally = Tally()
                run_block(server, bodies, labels, args.clients, args.seconds, tally)
                row = figures(tally) | {"load_average": load}
                rounds[n].append(row)
                print(
                    f"  round {r + 1} {n:>2} worker{'s' if n > 1 else ' '}: "
                    f"{row['requests_per_s']:7.1f} requests/s, p99 {row['p99_ms']:7.1f} ms, "
                    f"{row['errors']} errors"
                )
        client_cpu = time.process_time() - cpu_before
        load_after = os.getloadavg()[0]
        memory = {n: server.memory() for n, server in servers.items()}
        restarts = {n: server.boots() - n for n, server in servers.items()}

    results = {n: summarize(rows) for n, rows in rounds.items()}
    ratios = scaling({n: row["requests_per_s"] for n, row in results.items()})
    fewest = min(results)
    print(
        f'\ngunicorn "{APP_FACTORY}" (sync workers), 127.0.0.1; {args.clients} clients; '
        f"{args.rounds} rounds of {args.seconds:g} s per server, interleaved; medians over rounds"
    )
    print(
        f"{'workers':>7}{'req/s':>8}{'min-max':>12}{f'x{fewest}w':>6}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'errors':>8}{'5xx':>5}{'right':>7}{'CPU ms/req':>11}{'RSS MB':>8}{'private':>9}"
    )
    for n, row in results.items():
        low, high = row["requests_per_s_range"]
        row |= {"vs_fewest_workers": ratios[n], "worker_restarts": restarts[n]}
        row |= {"memory": memory[n], "rounds": rounds[n]}
        print(
            f"{n:>7}{row['requests_per_s']:>8.1f}{f'{low:.0f}-{high:.0f}':>12}"
            f"{ratios[n]:>6.2f}{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}{row['errors']:>8d}"
            f"{row['server_errors']:>5d}{row['right']:>7.1%}"
            f"{row['server_cpu_ms_per_request']:>11.2f}"
            f"{median_or_nan(memory[n]['worker_rss_mb']):>8.0f}"
            f"{median_or_nan(memory[n]['worker_private_mb']):>9.0f}"
        )
    for n, count in restarts.items():
        if count:
            print(f"warning: {count} of the {n}-worker server's workers were restarted")
    print("RSS MB, private: per worker (median), after the rounds")
    total_requests = sum(row["requests"] for row in results.values())
    client_ms = 1000 * client_cpu / max(1, total_requests)
    print(f"load generator CPU: {client_ms:.2f} ms/request, on the same machine")
    print(cpu_line(cpu, load_before, load_after))
    return {
        "results": {str(n): row for n, row in results.items()},
        "client_cpu_ms_per_request": client_ms,
        "load_average": [load_before, load_after],
    }


# --- the command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, checked, with the defaults of the scenario chosen filled in."""
    parser = ArgumentParser(prog="serve_load.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=None,
        help="default: the model the app reads (models/cnn.keras, else the shipped one)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        metavar="N",
        help="gunicorn worker counts to compare, e.g. 1 2 4 (default: waitress, shipped vs naive)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help="load time per server: in all, split over the rounds (default 30); "
        "with --workers per round (default 20)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the servers")
    parser.add_argument("--clients", type=int, help="default 8; with --workers 30")
    parser.add_argument("--threads", type=int, help="waitress worker threads (default 1)")
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--serve", choices=["fast", "naive"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON file for the figures (default: bench/results/serve_load.json, "
        "with --workers serve_load_workers.json)",
    )
    args = parser.parse_args(argv)

    if args.workers is not None and args.threads is not None:
        parser.error("--threads is waitress's; with --workers each gunicorn worker is a process")
    if args.workers is not None and len(set(args.workers)) != len(args.workers):
        parser.error(f"--workers: each count once, got {' '.join(map(str, args.workers))}")
    workers = args.workers is not None
    args.clients = args.clients if args.clients is not None else (30 if workers else 8)
    args.seconds = args.seconds if args.seconds is not None else (20.0 if workers else 30.0)
    args.threads = args.threads if args.threads is not None else 1
    for name, (low, high) in LIMITS.items():
        values = getattr(args, name)
        if values is None:  # --workers not given
            continue
        for value in values if isinstance(values, list) else [values]:
            if not low <= value <= high:  # False for NaN too
                parser.error(f"--{name} must be from {low} to {high}, got {value}")
    if args.out is None:
        args.out = RESULTS / ("serve_load_workers.json" if workers else "serve_load.json")
    if args.out.suffix != ".json" or args.out.is_dir():
        parser.error(f"--out must name a .json file, got {args.out}")
    check_output(parser, args.out)
    if args.model is not None and not args.serve and not Path(args.model).is_file():
        parser.error(f"--model: no such file: {args.model}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from digitrec import settings

    model = str(args.model or settings.default_model_path())
    if args.serve:
        serve(args.serve, model, args.threads)
        return
    if not Path(model).is_file():
        raise SystemExit(f"no model at {model}: train one (make train) or pass --model")
    if args.workers:
        import importlib.util

        if importlib.util.find_spec("gunicorn") is None:
            raise SystemExit("gunicorn is not installed: pip install gunicorn")

    # SIGTERM (`timeout`, a job runner) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("serve_load.py: stopped by SIGTERM"))
    cpu = cpu_description()
    bodies, labels = make_bodies(args.drawings)
    print(
        f"{len(bodies)} drawings (PNG, {statistics.median(map(len, bodies)) / 1000:.1f} kB median"
        f" body); model {model}"
    )
    scenario = compare_workers if args.workers else compare_servers
    record = scenario(args, model, bodies, labels, cpu)
    record = {"args": {k: str(v) for k, v in vars(args).items()}, "cpu": cpu, **record}
    args.out.write_text(json.dumps(record, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    run(main)
