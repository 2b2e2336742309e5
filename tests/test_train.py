"""digitrec.train: trains, records how, and never loses a model the learner already has."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import pytest

from digitrec import settings
from digitrec.train import ModelExistsError, ensure_model, main, save_model, train


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "digitrec.train", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_trains_saves_model_and_sidecar(tmp_path):
    out = tmp_path / "models" / "cnn.keras"
    result = run_cli("--epochs", "1", "--limit", "2000", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "saved" in result.stdout and "test accuracy" in result.stdout
    assert "32/32" in result.stdout  # Keras's progress bar: 2000 examples / batch 64
    sidecar = json.loads(settings.sidecar_path(out).read_text())
    assert sidecar["arch"] == "seed" and sidecar["epochs"] == 1 and sidecar["params"] == 93_322
    assert 0.5 < sidecar["test_accuracy"] <= 1.0 and sidecar["test_loss"] > 0
    assert sidecar["seconds"] > 0 and len(sidecar["data_sha256"]) == 64
    assert {"tensorflow", "keras", "numpy", "python"} <= set(sidecar["versions"])
    assert keras.models.load_model(out, safe_mode=True).count_params() == 93_322
    assert sorted(p.name for p in out.parent.iterdir()) == ["cnn.json", "cnn.keras"]


def test_cli_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"the learner's precious model")
    result = run_cli("--epochs", "1", "--limit", "500", "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, "expected a one-line message"
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_bytes() == b"the learner's precious model"


def test_force_replaces_the_model(tmp_path):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"old")
    assert main(["--epochs", "1", "--limit", "300", "--out", str(out), "--force"]) == 0
    assert keras.models.load_model(out).count_params() == 93_322


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "nope"], "invalid choice"),
        (["--epochs", "0"], "must be at least 1"),
        (["--validation-split", "1.5"], "must be in [0, 1)"),
    ],
)
def test_bad_arguments_give_one_line_usage_errors(tmp_path, args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main([*args, "--out", str(tmp_path / "m.keras")])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_data_file_is_a_one_line_error(tmp_path, capsys):
    code = main(["--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: MNIST file not found")
    assert not (tmp_path / "m.keras").exists()


def test_wrong_suffix_is_refused_before_training(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "model.h5")]) == 1
    assert "must end in .keras" in capsys.readouterr().err


def test_interrupted_save_leaves_the_old_model_intact(tmp_path, monkeypatch):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"old model")
    settings.sidecar_path(out).write_text('{"old": true}')
    result = train("seed", epochs=1, limit=200, verbose=0)

    def save_then_die(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as fh:
            fh.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        save_model(result.model, out, result.metrics, force=True)
    assert out.read_bytes() == b"old model"
    assert json.loads(settings.sidecar_path(out).read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.json", "cnn.keras"]


def test_save_model_refuses_existing_without_force(tmp_path):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"x")
    with pytest.raises(ModelExistsError):
        save_model(object(), out, {})


def test_train_in_memory_returns_history(tmp_path):
    result = train("dense", epochs=2, limit=1000, validation_split=0.2, verbose=0)
    assert result.path is None
    assert len(result.history["loss"]) == 2 and len(result.history["val_accuracy"]) == 2
    assert result.metrics["train_examples"] == 800 and result.metrics["arch"] == "dense"


def test_ensure_model_trains_only_when_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DIGITREC_FAST", "1")
    out = tmp_path / "cnn.keras"
    assert ensure_model(out) == out and out.is_file()
    assert "training a quick one" in capsys.readouterr().out
    before = out.stat().st_mtime_ns
    assert ensure_model(out) == out
    assert out.stat().st_mtime_ns == before
    assert "training" not in capsys.readouterr().out


def test_recipes_name_known_architectures():
    from digitrec.model import ARCHITECTURES
    from digitrec.train import DEFAULT_RECIPE, RECIPES, RECOMMENDED

    assert RECOMMENDED in RECIPES
    assert all(r.arch in ARCHITECTURES for r in RECIPES.values())
    assert set(DEFAULT_RECIPE) == set(ARCHITECTURES)
    classic = RECIPES["classic"]
    assert (classic.arch, classic.epochs, classic.batch_size, classic.learning_rate) == (
        "seed",
        5,
        64,
        1e-3,
    )


def test_cosine_schedule_warms_up_then_decays():
    from digitrec.train import learning_rate_schedule

    assert learning_rate_schedule(1e-3, "constant", 5, 100) == 1e-3
    schedule = learning_rate_schedule(
        4e-3, "cosine", epochs=3, steps_per_epoch=100, warmup_epochs=0.5
    )
    rates = [float(schedule(step)) for step in (0, 25, 50, 150, 299)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(4e-3)
    assert rates[2] > rates[3] > rates[4] >= 0
    with pytest.raises(ValueError, match="unknown schedule"):
        learning_rate_schedule(1e-3, "zigzag", 1, 1)


def test_train_recipe_with_augmentation_and_overrides(tmp_path):
    from digitrec.train import train_recipe

    result = train_recipe("improved", epochs=1, limit=512, batch_size=128, verbose=0)
    m = result.metrics
    assert m["recipe"] == "improved" and m["arch"] == "improved" and m["augment"] is True
    assert m["schedule"] == "cosine" and m["epochs"] == 1 and m["train_examples"] == 512
    assert len(result.history["loss"]) == 1
    with pytest.raises(ValueError, match="unknown recipe"):
        train_recipe("magic")


def test_mixed_precision_training_returns_a_float32_model(tmp_path):
    from digitrec.predict import Predictor

    out = tmp_path / "bf16.keras"
    result = train("improved", 1, 128, out, limit=256, precision="mixed_bfloat16", verbose=0)
    assert result.metrics["precision"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored afterwards
    for model in (result.model, Predictor.load(out).model):
        policies = {layer.dtype_policy.name for layer in model.layers}
        assert policies == {"float32"}
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0


def test_training_precision_auto_follows_the_cpu(monkeypatch):
    from digitrec import train as train_module

    monkeypatch.setattr(train_module, "cpu_has_bfloat16", lambda: True)
    assert train_module.training_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(train_module, "cpu_has_bfloat16", lambda: False)
    assert train_module.training_precision("auto") == "float32"
    assert train_module.training_precision("float32") == "float32"
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        train_module.training_precision("half")
    with pytest.raises(SystemExit) as exit_info:
        main(["--precision", "half"])
    assert exit_info.value.code == 2


def test_cli_recipe_and_overrides_reach_the_sidecar(tmp_path):
    out = tmp_path / "fast.keras"
    code = main(["--recipe", "fast", "--epochs", "1", "--limit", "600", "--out", str(out)])
    assert code == 0
    sidecar = json.loads(settings.sidecar_path(out).read_text())
    assert sidecar["recipe"] == "fast" and sidecar["epochs"] == 1
    assert sidecar["batch_size"] == 256 and sidecar["learning_rate"] == 4e-3
