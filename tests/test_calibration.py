"""Reliability, coverage and the "unsure" threshold, on synthetic confidences with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitrec.calibration import (
    CalibrationError,
    choose_threshold,
    confidence_and_correct,
    coverage_curve,
    reliability,
)


def readings(confidence, correct, labels=None):
    """Probabilities whose best guess has `confidence`, right (the label) where `correct`."""
    confidence = np.asarray(confidence, dtype=np.float64)
    n = len(confidence)
    labels = np.arange(n) % 10 if labels is None else np.asarray(labels)
    guess = np.where(correct, labels, (labels + 1) % 10)
    p = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    p[np.arange(n), guess] = confidence
    return p, labels


def calibrated(n: int, rng: np.random.Generator):
    """Readings that are right exactly as often as they are sure (up to sampling)."""
    confidence = rng.uniform(0.2, 1.0, n)
    return readings(confidence, rng.random(n) < confidence)


def test_confidence_and_correct_reads_the_best_guess():
    p, y = readings([0.9, 0.6, 0.3], [True, False, True])
    confidence, correct = confidence_and_correct(p, y)
    np.testing.assert_allclose(confidence, [0.9, 0.6, 0.3])
    assert correct.tolist() == [True, False, True]


def test_a_calibrated_model_has_accuracy_equal_to_confidence_in_every_bin(rng):
    p, y = calibrated(50_000, rng)
    result = reliability(p, y, bins=8)
    assert len(result.edges) == 9 and result.counts.sum() == 50_000
    filled = result.counts > 0
    np.testing.assert_allclose(result.accuracy[filled], result.confidence[filled], atol=0.02)
    assert result.expected_calibration_error < 0.01


def test_an_overconfident_model_shows_its_gap(rng):
    # Always 95 % sure, right only 70 % of the time.
    p, y = readings(np.full(10_000, 0.95), rng.random(10_000) < 0.7)
    result = reliability(p, y, bins=10)
    assert result.counts[9] == 10_000 and result.counts[:9].sum() == 0
    assert np.isnan(result.accuracy[0]) and np.isnan(result.confidence[0])
    assert result.accuracy[9] == pytest.approx(0.7, abs=0.02)
    assert result.expected_calibration_error == pytest.approx(0.25, abs=0.02)


def test_confidence_on_an_edge_falls_in_the_bin_below_it_and_one_in_the_last():
    p, y = readings([0.5, 1.0, 0.55], [True, True, False])
    result = reliability(p, y, bins=2)
    assert result.counts.tolist() == [1, 2]
    assert result.accuracy.tolist() == [1.0, 0.5]


def test_coverage_falls_and_accuracy_rises_with_the_threshold():
    # Ten readings, sure 0.19, 0.28, ... 1.0; the three least sure are wrong.
    confidence = np.linspace(0.19, 1.0, 10)
    p, y = readings(confidence, confidence > 0.4)
    curve = coverage_curve(p, y)
    np.testing.assert_allclose(curve.thresholds[1:], confidence)  # 0, then each confidence
    assert curve.thresholds[0] == 0.0 and curve.examples == 10
    np.testing.assert_allclose(curve.coverage, [1.0, *np.arange(10, 0, -1) / 10])
    assert curve.accuracy[0] == pytest.approx(0.7)  # everything answered
    assert curve.accuracy[3] == pytest.approx(7 / 8)  # threshold 0.37 answers 8, 1 wrong
    assert np.all(curve.accuracy[4:] == 1.0)


def test_ties_are_answered_together():
    p, y = readings([0.8, 0.8, 0.8, 0.9], [True, False, True, True])
    curve = coverage_curve(p, y)
    assert curve.thresholds.tolist() == pytest.approx([0.0, 0.8, 0.9])
    assert curve.coverage.tolist() == [1.0, 1.0, 0.25]
    assert curve.accuracy.tolist() == [0.75, 0.75, 1.0]


def test_the_threshold_is_the_lowest_that_reaches_the_target():
    confidence = np.linspace(0.19, 1.0, 10)
    p, y = readings(confidence, confidence > 0.4)
    choice = choose_threshold(p, y, target_accuracy=0.99)
    assert choice.unsure_below == pytest.approx(0.46)
    assert choice.coverage == pytest.approx(0.7) and choice.accuracy == 1.0
    assert choose_threshold(p, y, target_accuracy=0.85).unsure_below == pytest.approx(0.37)
    # A target everything already meets: nothing needs to be called unsure.
    assert choose_threshold(p, y, target_accuracy=0.5).unsure_below == 0.0


def test_a_higher_target_never_gives_a_lower_threshold_or_more_coverage(rng):
    p, y = calibrated(5_000, rng)
    choices = [choose_threshold(p, y, target) for target in (0.8, 0.9, 0.95, 0.98)]
    thresholds = [c.unsure_below for c in choices]
    assert thresholds == sorted(thresholds) and len(set(thresholds)) == 4
    assert [c.coverage for c in choices] == sorted((c.coverage for c in choices), reverse=True)
    assert all(c.accuracy >= c.target_accuracy for c in choices)


def test_the_record_is_json():
    p, y = readings([0.3, 0.9, 0.95], [False, True, True])
    record = choose_threshold(p, y, 0.99).record()
    assert json.loads(json.dumps(record)) == {
        "unsure_below": pytest.approx(0.9),
        "target_accuracy": 0.99,
        "coverage": pytest.approx(2 / 3),
        "accuracy": 1.0,
        "examples": 3,
    }


def test_an_unreachable_target_says_so():
    p, y = readings([0.9, 0.95], [True, False])
    with pytest.raises(CalibrationError, match=r"no threshold reaches 99\.00% .* best is 50\.00%"):
        choose_threshold(p, y, 0.99)


@pytest.mark.parametrize(
    ("probabilities", "labels", "message"),
    [
        (np.full((3, 9), 0.1), [0, 1, 2], r"shape \(N, 10\)"),
        (np.full((3, 10), 0.1), [0, 1], "one label per reading"),
        (np.zeros((0, 10)), np.zeros(0, int), "no readings"),
        (np.full((2, 10), 0.1), [0, 10], "0-9"),
        (np.full((2, 10), 0.1), [0.5, 1.0], "0-9"),
        (np.full((2, 10), 2.0), [0, 1], "between 0 and 1"),
        (np.full((2, 10), np.nan), [0, 1], "between 0 and 1"),
    ],
)
def test_bad_readings_get_a_clear_error(probabilities, labels, message):
    with pytest.raises(CalibrationError, match=message):
        coverage_curve(probabilities, np.asarray(labels))


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_bad_bins_get_a_clear_error(bins):
    p, y = readings([0.9], [True])
    with pytest.raises(CalibrationError, match="bins"):
        reliability(p, y, bins=bins)


@pytest.mark.parametrize("target", [0.0, 1.5, -0.1, float("nan")])
def test_a_bad_target_gets_a_clear_error(target):
    p, y = readings([0.9], [True])
    with pytest.raises(CalibrationError, match="target_accuracy"):
        choose_threshold(p, y, target)


def test_the_command_line_records_a_models_threshold(trained_model_path, tmp_path, capsys):
    import shutil

    from digitrec import settings
    from digitrec.calibration import main
    from digitrec.predict import UNSURE_BELOW, Predictor

    model = shutil.copy(trained_model_path, tmp_path / "cnn.keras")
    shutil.copy(settings.sidecar_path(trained_model_path), settings.sidecar_path(model))
    before = json.loads(settings.sidecar_path(model).read_text())
    assert Predictor.load(model).unsure_below == UNSURE_BELOW  # none recorded yet
    assert main(["--model", str(model), "--digits", "300", "--target", "0.9"]) == 0
    assert json.loads(settings.sidecar_path(model).read_text()) == before  # shown, not written
    assert main(["--model", str(model), "--digits", "300", "--target", "0.9", "--write"]) == 0
    out = capsys.readouterr().out
    record = json.loads(settings.sidecar_path(model).read_text())
    chosen = record.pop("calibration")
    assert record == before and chosen["examples"] == 300 and chosen["accuracy"] >= 0.9
    assert f"unsure below {chosen['unsure_below']:.3f}" in out and "recorded" in out
    assert Predictor.load(model).unsure_below == chosen["unsure_below"]

    assert main(["--model", str(model), "--digits", "5", "--write"]) == 1
    assert "--digits must be at least 10" in capsys.readouterr().err
    assert json.loads(settings.sidecar_path(model).read_text())["calibration"] == chosen
    assert main(["--model", str(tmp_path / "missing.keras")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["--model", str(model), "--seed", "-1"]) == 1
    assert "--seed must be 0 or more" in capsys.readouterr().err


@pytest.mark.parametrize("record", ["[1, 2]", "{not json", ""])
def test_a_bad_record_is_left_alone(trained_model_path, tmp_path, capsys, record):
    import shutil

    from digitrec.calibration import main

    model = shutil.copy(trained_model_path, tmp_path / "cnn.keras")
    sidecar = tmp_path / "cnn.json"
    sidecar.write_text(record)
    assert main(["--model", str(model), "--digits", "20", "--write"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cnn.json" in err and "Traceback" not in err
    assert sidecar.read_text() == record
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.json", "cnn.keras"]  # no temp


def test_write_without_a_model_of_ones_own_leaves_the_shipped_record(tmp_path, monkeypatch, capsys):
    from digitrec import settings
    from digitrec.calibration import main

    monkeypatch.setenv("DIGITREC_MODELS", str(tmp_path))  # no model of one's own there
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    assert settings.default_model_path() == settings.shipped_model_path()
    shipped = settings.sidecar_path(settings.shipped_model_path())
    before = shipped.read_bytes()
    assert main(["--digits", "20", "--write"]) == 1
    assert "name the model to record it in with --model" in capsys.readouterr().err
    assert shipped.read_bytes() == before


@pytest.mark.slow
def test_the_shipped_threshold_is_what_calibration_chooses_now():
    """The shipped model's recorded threshold is the package's choice for it today (at
    `TARGET_ACCURACY` on `CALIBRATION_DIGITS`), and a real one: a threshold of 0 would mean
    the front ends never say "unsure"."""
    from digitrec import settings
    from digitrec.calibration import CALIBRATION_DIGITS, TARGET_ACCURACY, calibrate_model

    model = settings.shipped_model_path()
    recorded = json.loads(settings.sidecar_path(model).read_text())["calibration"]
    assert recorded["target_accuracy"] == TARGET_ACCURACY
    assert recorded["examples"] == CALIBRATION_DIGITS
    assert 0.0 < recorded["unsure_below"] < 1.0 and recorded["accuracy"] >= TARGET_ACCURACY
    chosen = calibrate_model(model)  # shown, not written
    assert chosen["unsure_below"] == pytest.approx(recorded["unsure_below"], abs=1e-3)
    assert chosen["coverage"] == pytest.approx(recorded["coverage"], abs=1e-3)
