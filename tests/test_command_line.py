"""digitrec.command_line: every command line of the project says a usage error in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app import serve
from digitrec import calibration, classdata, refusal_training, train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # as a benchmark runs

import drawn_digits  # noqa: E402
import serve_load  # noqa: E402


@pytest.mark.parametrize(
    ("main", "argv", "said"),
    [
        (classdata.main, ["stats"], "the following arguments are required: --db"),
        (classdata.main, ["export", "--db", "x.sqlite", "--out"], "expected one argument"),
        (classdata.main, ["wat"], "invalid choice: 'wat'"),
        (calibration.main, ["--digits", "many"], "invalid int value: 'many'"),
        (refusal_training.main, ["train", "--epochs", "few"], "invalid int value: 'few'"),
        (serve.main, ["--threads", "0"], "from 1 to 64 threads"),
        (train.main, ["--epochs", "x"], "invalid int value: 'x'"),
        (drawn_digits.main, ["--n", "0"], "must be at least 1"),
        (serve_load.main, ["--wat"], "unrecognized arguments: --wat"),
    ],
)
def test_a_usage_error_is_one_line_and_status_2(main, argv, said, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["prog", *argv])  # for the benchmarks, which read sys.argv
    with pytest.raises(SystemExit) as stopped:
        main() if main is drawn_digits.main else main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert said in err and err.count("\n") == 1 and "usage:" not in err, err
