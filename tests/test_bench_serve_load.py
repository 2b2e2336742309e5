"""bench/serve_load.py: its figures, its /proc readings, its options, and a real gunicorn."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # as when it runs: its sibling modules beside it
_spec = importlib.util.spec_from_file_location("serve_load", ROOT / "bench" / "serve_load.py")
serve_load = importlib.util.module_from_spec(_spec)
sys.modules["serve_load"] = serve_load  # its dataclass looks itself up there
_spec.loader.exec_module(serve_load)


def tally(latencies, *, seconds=10.0, statuses=None, errors=0, right=0, cpu=0.0):
    return serve_load.Tally(
        latencies_ms=list(latencies),
        errors=errors,
        right=right,
        seconds=seconds,
        server_cpu=cpu,
        statuses=statuses or {200: len(latencies)},
    )


def test_percentile_interpolates_and_is_nan_for_nothing():
    assert serve_load.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert serve_load.percentile([float(v) for v in range(101)], 99) == 99.0
    assert math.isnan(serve_load.percentile([], 99))


def test_figures_of_one_round():
    row = serve_load.figures(
        tally(
            range(1, 101),
            seconds=4.0,
            statuses={200: 90, 503: 6, 500: 1, 413: 3},
            errors=12,
            right=45,
            cpu=0.5,
        )
    )
    assert row["requests"] == 100
    assert row["requests_per_s"] == 25.0
    assert row["p50_ms"] == 50.5
    assert row["server_errors"] == 7  # 500 and 503, not the 413s
    assert row["errors"] == 12
    assert row["right"] == 0.45
    assert row["server_cpu_ms_per_request"] == 5.0


def test_summary_takes_medians_of_rates_and_totals_of_counts():
    rounds = [
        serve_load.figures(tally([10.0] * 100, seconds=1.0, right=100)),
        serve_load.figures(tally([30.0] * 300, seconds=1.0, errors=2, statuses={200: 298, 502: 2})),
        serve_load.figures(tally([20.0] * 200, seconds=1.0, right=200)),
    ]
    summary = serve_load.summarize(rounds)
    assert summary["requests_per_s"] == 200.0
    assert summary["requests_per_s_range"] == [100.0, 300.0]
    assert summary["p99_ms"] == 20.0
    assert summary["requests"] == 600
    assert summary["errors"] == 2
    assert summary["server_errors"] == 2
    assert summary["right"] == pytest.approx(300 / 600)


def test_summary_shows_a_round_without_answers_and_refuses_no_rounds():
    rounds = [serve_load.figures(tally([5.0] * 10)), serve_load.figures(tally([], errors=30))]
    summary = serve_load.summarize(rounds)
    assert math.isnan(summary["p99_ms"])
    assert summary["errors"] == 30
    with pytest.raises(ValueError, match="no rounds"):
        serve_load.summarize([])


def test_scaling_is_relative_to_the_fewest_workers():
    assert serve_load.scaling({2: 180.0, 1: 100.0, 4: 300.0}) == {2: 1.8, 1: 1.0, 4: 3.0}
    assert serve_load.scaling({2: 50.0, 4: 75.0}) == {2: 1.0, 4: 1.5}
    assert math.isnan(serve_load.scaling({1: 0.0, 2: 10.0})[2])


def test_lscpu_model_line():
    text = "Architecture:  x86_64\nCPU(s):   2\nModel name:   AMD EPYC 7B13\nStepping: 1\n"
    assert serve_load.lscpu_model(text) == "AMD EPYC 7B13"
    assert serve_load.lscpu_model("Architecture: x86_64\n") is None
    cpu = serve_load.cpu_description()
    # The model as the kernel names it, read here without the code under test.
    names = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    assert names and cpu["model"] == names[0]
    assert 1 <= cpu["usable_cores"] <= cpu["cores"]


def test_proc_readings_of_real_processes():
    fields = serve_load.kb_fields(Path("/proc/self/status").read_text())
    assert fields["VmRSS"] > 0
    assert "Name" not in fields  # not a kB line
    memory = serve_load.memory_mb(os.getpid())
    assert 0 < memory["private"] <= memory["rss"]
    with subprocess.Popen(["sleep", "30"]) as child:
        try:
            assert child.pid in serve_load.child_pids(os.getpid())
        finally:
            child.kill()
    gone = child.pid  # reaped: no such process now
    assert serve_load.cpu_seconds(gone) == 0.0
    assert math.isnan(serve_load.memory_mb(gone)["rss"])
    assert serve_load.cpu_seconds(os.getpid()) > 0


def test_free_ports_are_different():
    ports = serve_load.free_ports(3)
    assert len(set(ports)) == 3
    assert all(1024 <= port < 65536 for port in ports)


def test_options_fill_the_defaults_of_each_scenario(tmp_path):
    workers = serve_load.parse_args(["--workers", "1", "2", "4"])
    assert (workers.workers, workers.clients, workers.seconds) == ([1, 2, 4], 30, 20.0)
    assert workers.out.name == "serve_load_workers.json"
    waitress = serve_load.parse_args([])
    assert (waitress.workers, waitress.clients, waitress.seconds, waitress.threads) == (
        None,
        8,
        30.0,
        1,
    )
    out = tmp_path / "figures.json"
    chosen = serve_load.parse_args(["--workers", "2", "--clients", "5", "--out", str(out)])
    assert (chosen.clients, chosen.out) == (5, out)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--workers", "0", "2"], "--workers must be from 1 to 64, got 0"),
        (["--workers", "2", "2"], "each count once"),
        (["--workers", "2", "--threads", "4"], "--threads is waitress's"),
        (["--clients", "0"], "--clients must be from 1 to 1000"),
        (["--seconds", "nan"], "--seconds must be from"),
        (["--rounds", "two"], "invalid int value"),
        (["--out", "figures.txt"], "--out must name a .json file"),
        (["--model", "/no/such/model.keras"], "no such file"),
    ],
)
def test_bad_options_are_one_line(argv, says, capsys):
    with pytest.raises(SystemExit) as stop:
        serve_load.parse_args(argv)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert says in error
    assert error.count("\n") == 1


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_real_gunicorn_serves_drawings_and_stops_with_its_workers(trained_model_path, tmp_path):
    bodies, labels = serve_load.make_bodies(20, seed=3)
    server = serve_load.GunicornServer(
        2, str(trained_model_path), *serve_load.free_ports(1), tmp_path
    )
    try:
        server.wait_ready()
        assert serve_load.wait_healthy(server, timeout=60)["status"] == "ok"
        workers = server.worker_pids()
        assert len(workers) == 2
        result = serve_load.Tally()
        serve_load.run_block(server, bodies, labels, 4, 2.0, result)
        row = serve_load.figures(result)
        assert row["requests"] > 0
        assert row["errors"] == 0
        assert row["right"] > 0.5
        assert result.server_cpu > 0
        memory = server.memory()
        assert all(rss > 100 for rss in memory["worker_rss_mb"])  # TensorFlow is loaded
        assert server.boots() == 2
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert not group_exists(server.process.pid)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.slow
def test_gunicorn_without_its_model_fails_in_one_line(tmp_path):
    missing = str(tmp_path / "missing.keras")
    server = serve_load.GunicornServer(1, missing, *serve_load.free_ports(1), tmp_path)
    try:
        server.wait_ready()
        with pytest.raises(SystemExit, match="has no model"):
            serve_load.wait_healthy(server, timeout=60)
    finally:
        server.stop()
    assert not group_exists(server.process.pid)
