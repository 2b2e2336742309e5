"""bench/command_line.py: the benchmarks' bad input is one line and a non-zero exit, early."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # as when a benchmark runs: its siblings beside it

import command_line  # noqa: E402


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (command_line.count, "0", "must be at least 1"),
        (command_line.count, "-5", "must be at least 1"),
        (command_line.random_seed, "-1", "must be 0 or more"),
        (command_line.finite, "nan", "must be a finite number"),
        (command_line.finite, "inf", "must be a finite number"),
    ],
)
def test_option_types_refuse_what_no_run_can_use(kind, text, message, capsys):
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--x", type=kind)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--x", text])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert parser.parse_args(["--x", "3"]).x == 3


def test_outputs_are_checked_before_the_run(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="bench")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    for path, folder, message in [
        (notes / "results.json", False, "is a file, not a folder"),
        (tmp_path, False, "is a folder; give a file name"),
        (notes, True, "is a file, not a folder"),
        (Path("/proc/x/results.json"), False, "cannot write /proc/x/results.json"),  # as root
        (Path("/proc/x/res"), True, "cannot write /proc/x/res"),
    ]:
        with pytest.raises(SystemExit):
            command_line.check_output(parser, path, folder=folder)
        assert message in capsys.readouterr().err
    assert notes.read_text() == "mine"
    # A file's missing folders are made, ready for the results.
    command_line.check_output(parser, tmp_path / "new" / "results.json")
    assert (tmp_path / "new").is_dir()


def test_mnist_that_cannot_be_read_ends_a_run_in_one_line(tmp_path, monkeypatch, capsys):
    from digitrec.data import load_mnist

    monkeypatch.setenv("DIGITREC_MNIST", str(tmp_path / "gone.npz"))
    with pytest.raises(SystemExit) as stopped:
        command_line.run(load_mnist)
    err = capsys.readouterr().err
    assert stopped.value.code == 1 and err.startswith("error: MNIST file not found")
    assert err.count("\n") == 1


def test_ctrl_c_ends_a_run_in_one_line(capsys):
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as stopped:
        command_line.run(interrupted)
    assert stopped.value.code == 130
    assert capsys.readouterr().err.strip().startswith("interrupted")
    with pytest.raises(SystemExit) as stopped:
        command_line.run(lambda: 3)
    assert stopped.value.code == 3


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("drawn_digits.py", ["--n", "0"], "--n: must be at least 1"),
        ("read_numbers.py", ["--turns", "nan"], "--turns: must be a finite number"),
        ("predict_latency.py", ["--model", "missing.keras"], "no trained model at missing.keras"),
    ],
)
def test_a_benchmark_stops_at_bad_input_in_one_line(script, args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
