"""digitrec.train: trains by a recipe, records how, and never loses a model the learner has."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

import digitrec
from digitrec import augment, settings
from digitrec import train as train_module
from digitrec.data import scale_images
from digitrec.model import build_model
from digitrec.train import (
    DEFAULT_RECIPE,
    RECIPES,
    RECOMMENDED,
    ModelExistsError,
    Recipe,
    default_out,
    ensure_model,
    learning_rate_schedule,
    main,
    save_model,
    train,
    training_record,
)

TINY = Recipe("tiny", arch="dense", epochs=1, limit=300)


@pytest.fixture(scope="module")
def tiny():
    """A really trained (if barely) dense model, kept in memory."""
    return train(TINY, verbose=0)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty models folder in place of the project's, and no DIGITREC_MODEL override."""
    folder = tmp_path / "models"
    monkeypatch.setenv("DIGITREC_MODELS", str(folder))
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    return folder


def run_cli(*args: str) -> subprocess.CompletedProcess:
    # TensorFlow's oneDNN setting left to the command, as when a learner runs it
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    return subprocess.run(
        [sys.executable, "-m", "digitrec.train", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def read_record(model_path) -> dict:
    return json.loads(settings.sidecar_path(model_path).read_text())


def recipe_of(record: dict) -> Recipe:
    """The recipe a record was made by: its fields, read back."""
    return Recipe(**{f.name: record[f.name] for f in dataclasses.fields(Recipe)})


def test_cli_trains_saves_model_and_record(tmp_path):
    out = tmp_path / "models" / "cnn.keras"
    result = run_cli("--epochs", "1", "--limit", "2000", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "saved" in result.stdout and "test accuracy" in result.stdout
    assert "32/32" in result.stdout  # Keras's progress bar: 2000 examples / batch 64
    record = read_record(out)
    assert recipe_of(record) == dataclasses.replace(RECIPES["classic"], epochs=1, limit=2000)
    assert record["params"] == 93_322 and record["train_examples"] == 2000
    assert 0.5 < record["test_accuracy"] <= 1.0 and record["test_loss"] > 0
    assert record["seconds"] > 0 and len(record["data_sha256"]) == 64
    here = train_module.cpu_description().rpartition(", TensorFlow oneDNN")[0]
    assert record["cpu_seconds"] > 0 and record["cpu"] == f"{here}, TensorFlow oneDNN on"
    assert result.stdout.rstrip().endswith(f"on {record['cpu']}")  # the time, and where
    assert {"tensorflow", "keras", "numpy", "python"} <= set(record["versions"])
    assert record["versions"]["keras_backend"] == "tensorflow" and record["accelerator"] is None
    assert keras.models.load_model(out, safe_mode=True).count_params() == 93_322
    assert sorted(p.name for p in out.parent.iterdir()) == ["cnn.json", "cnn.keras"]


def test_recipe_record_round_trip(tmp_path):
    recipe = Recipe("round-trip", arch="dense", epochs=2, batch_size=50, seed=3, limit=400)
    recipe = dataclasses.replace(recipe, validation_split=0.25, learning_rate=2e-3)
    epochs_seen: list[int] = []
    watch = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)
    )
    result = train(recipe, out=tmp_path / "dense.keras", verbose=0, callbacks=[watch])
    assert result.path == tmp_path / "dense.keras" and epochs_seen == [0, 1]
    record = read_record(result.path)
    assert record == result.record
    assert recipe_of(record) == recipe
    assert record["train_examples"] == 300 and record["dtype_policy"] == "float32"
    assert record["augmentation"] is None
    assert len(result.history["loss"]) == 2 and len(result.history["val_accuracy"]) == 2


def test_a_run_can_start_from_a_trained_model(tmp_path, tiny):
    first = save_model(tiny.model, tmp_path / "first.keras", tiny.record)
    again = dataclasses.replace(TINY, init=str(first), learning_rate=1e-9)
    result = train(again, verbose=0)
    for before, after in zip(tiny.model.get_weights(), result.model.get_weights(), strict=True):
        assert abs(before - after).max() < 1e-4  # it went on from there, barely moving
    assert result.record["init"] == str(first) and result.record["init_record"] == tiny.record
    fresh = train(dataclasses.replace(TINY, learning_rate=1e-9), verbose=0)
    assert abs(fresh.model.get_weights()[0] - tiny.model.get_weights()[0]).max() > 1e-3


class _Stop(Exception):
    pass


def _stop_before_epoch(n: int) -> keras.callbacks.Callback:
    def stop(epoch, logs):
        if epoch == n:
            raise _Stop

    return keras.callbacks.LambdaCallback(on_epoch_begin=stop)


def test_an_interrupted_run_resumes_from_its_last_epoch(tmp_path):
    recipe = dataclasses.replace(TINY, epochs=3)
    folder = tmp_path / "resume"
    with pytest.raises(_Stop):
        train(recipe, verbose=0, resume_dir=folder, callbacks=[_stop_before_epoch(2)])
    kept = json.loads((folder / "clock.json").read_text())
    assert kept["epochs_done"] == 2 and kept["seconds"] > 0
    epochs_seen: list[int] = []
    watch = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)
    )
    result = train(
        recipe, out=tmp_path / "m.keras", verbose=0, resume_dir=folder, callbacks=[watch]
    )
    assert epochs_seen == [2]  # only the epoch the first part did not reach
    assert len(result.history["loss"]) == 1
    assert result.record["seconds"] > kept["seconds"]  # the whole run's time
    assert result.record["test_accuracy"] > 0.5
    assert not folder.exists()  # nothing left to resume


def test_an_interrupted_command_says_how_to_resume(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "resume"
    stop = keras.callbacks.LambdaCallback(on_epoch_begin=_interrupt_at_epoch_1)  # as Ctrl-C
    real_train = train_module.train
    monkeypatch.setattr(
        train_module, "train", lambda *a, **k: real_train(*a, callbacks=[stop], verbose=0, **k)
    )
    out = tmp_path / "m.keras"
    args = ["--arch", "dense", "--epochs", "2", "--limit", "300", "--out", str(out)]
    assert main([*args, "--resume-dir", str(folder)]) == 130
    err = capsys.readouterr().err
    assert f"{out} is unchanged" in err and f"continues from the last epoch kept in {folder}" in err
    assert (folder / "latest.weights.h5").is_file() and not out.exists()


def _interrupt_at_epoch_1(epoch, logs=None):
    if epoch == 1:
        raise KeyboardInterrupt


def test_a_folder_with_other_files_is_never_used_to_resume(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "cnn.keras").write_bytes(b"a learner's model")
    with pytest.raises(ValueError, match=r"holds other files \(cnn.keras\)"):
        train(TINY, verbose=0, resume_dir=folder)
    assert (folder / "cnn.keras").read_bytes() == b"a learner's model"


def test_a_checkpoint_of_another_recipe_is_not_resumed(tmp_path, capsys):
    folder = tmp_path / "resume"
    with pytest.raises(_Stop):
        train(TINY, verbose=0, resume_dir=folder, callbacks=[_stop_before_epoch(0)])
    other = dataclasses.replace(TINY, learning_rate=2e-3)
    with pytest.raises(ValueError, match="another recipe"):
        train(other, verbose=0, resume_dir=folder)
    out = tmp_path / "m.keras"
    args = ["--arch", "dense", "--epochs", "1", "--limit", "300", "--learning-rate", "2e-3"]
    assert main([*args, "--out", str(out), "--resume-dir", str(folder)]) == 1
    assert "another recipe" in capsys.readouterr().err and not out.exists()


def test_a_bad_starting_model_fails_before_any_data(tmp_path, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data loaded")

    monkeypatch.setattr(train_module.data, "load_mnist", no_data)
    with pytest.raises(ValueError, match="no model to start from at .*missing.keras"):
        train(dataclasses.replace(TINY, init=str(tmp_path / "missing.keras")), verbose=0)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="could not read .*corrupt.keras"):
        train(dataclasses.replace(TINY, init=str(corrupt)), verbose=0)
    seed = save_model(build_model("seed"), tmp_path / "seed.keras", {})
    with pytest.raises(ValueError, match="not a model of the 'dense' architecture"):
        train(dataclasses.replace(TINY, init=str(seed)), verbose=0)
    for name in ("polish", "finish"):
        with pytest.raises(ValueError, match=f"{name} recipe continues a trained model"):
            train(name, verbose=0)


def test_models_of_one_architecture_average_into_one(tmp_path, tiny):
    first = save_model(tiny.model, tmp_path / "a.keras", tiny.record)
    other = train(dataclasses.replace(TINY, seed=1), verbose=0)
    second = save_model(other.model, tmp_path / "b.keras", other.record)
    out = tmp_path / "soup.keras"
    assert main(["--average", str(first), str(second), "--out", str(out)]) == 0
    record, soup = read_record(out), keras.models.load_model(out)
    for mine, a, b in zip(
        soup.get_weights(), tiny.model.get_weights(), other.model.get_weights(), strict=True
    ):
        assert np.allclose(mine, (a + b) / 2, atol=1e-6)
    assert record["arch"] == "dense" and [m["seed"] for m in record["members"]] == [0, 1]
    assert [m["path"] for m in record["members"]] == [str(first), str(second)]
    assert 0.1 < record["test_accuracy"] <= 1.0 and len(record["data_sha256"]) == 64
    assert main(["--average", str(first), str(second), "--out", str(out)]) == 1  # no --force
    with pytest.raises(SystemExit) as stopped:  # an option it would ignore
        main(["--average", str(first), str(second), "--out", str(out), "--epochs", "3"])
    assert stopped.value.code == 2
    seed = save_model(build_model("seed"), tmp_path / "seed.keras", {})
    with pytest.raises(ValueError, match="do not share one architecture"):
        train_module.average_models([first, seed])
    with pytest.raises(ValueError, match="at least two"):
        train_module.average_models([first])
    (tmp_path / "bad.keras").write_bytes(b"junk")
    with pytest.raises(ValueError, match="could not read the model .*bad.keras"):
        train_module.average_models([first, tmp_path / "bad.keras"])
    judge = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    judges = [save_model(judge, tmp_path / f"judge{k}.keras", {}) for k in (1, 2)]
    with pytest.raises(ValueError, match="is not a digit model .*1 outputs"):
        train_module.average_models(judges)


def test_improved_and_polish_redraw_with_pens_wider_than_the_default():
    polish, improved = RECIPES["polish"], RECIPES["improved"]
    assert polish.arch == improved.arch and polish.augment and improved.augment
    assert polish.learning_rate <= improved.learning_rate / 5
    assert polish.epochs < improved.epochs / 10
    narrow = dataclasses.replace(improved, pen_max=augment.DEFAULT.pen[1])
    assert train_module.augmentation_of(narrow) == augment.DEFAULT
    for recipe in (improved, polish):
        widened = train_module.augmentation_of(recipe)
        assert widened.pen == (augment.DEFAULT.pen[0], recipe.pen_max) and recipe.pen_max > 6
        assert dataclasses.replace(widened, pen=augment.DEFAULT.pen) == augment.DEFAULT
    with pytest.raises(ValueError, match="pen_max must be between 1 and 12"):
        dataclasses.replace(improved, pen_max=0.5)


def test_best_is_the_deep_cnn_finished_on_plain_mnist_at_a_lower_rate():
    best, finish = RECIPES["best"], RECIPES["finish"]
    assert best.arch == finish.arch == "deep" and best.augment and not finish.augment
    assert finish.learning_rate <= best.learning_rate / 5 and finish.epochs < best.epochs / 10
    assert best.init is None and "finish" in best.description


def test_plain_share_reaches_the_augmentation_and_is_checked():
    improved = RECIPES["improved"]
    assert improved.plain == augment.DEFAULT.plain == 0.0
    mixed = dataclasses.replace(improved, plain=0.25)
    assert train_module.augmentation_of(mixed).plain == 0.25
    args = train_module._parser().parse_args(["--recipe", "improved", "--plain", "0.25"])
    assert train_module.recipe_from_args(args) == mixed
    for bad in (-0.1, 0.6):
        with pytest.raises(ValueError, match="plain must be between 0 and 0.5"):
            dataclasses.replace(improved, plain=bad)
    mnist_like = dataclasses.replace(improved, redraw=0.0, plain=1.0)
    assert train_module.augmentation_of(mnist_like).redraw == 0.0
    with pytest.raises(ValueError, match="redraw must be between 0 and 1"):
        dataclasses.replace(improved, redraw=1.5)


@pytest.fixture
def fed(monkeypatch) -> list[dict]:
    """What training passes to the augmentation, one call's keyword arguments per run (through
    `augmented_batches`, the same data as the `tf.data` pipeline)."""
    calls, feed = [], augment.augmented_batches

    def batches(*args, **kwargs):
        calls.append(kwargs)
        yield from feed(*args, **kwargs)

    monkeypatch.setattr(train_module, "uses_tf_data", lambda: False)
    monkeypatch.setattr(augment, "augmented_batches", batches)
    return calls


def test_shares_of_the_ones_and_zeros_train_flagged_and_slashed(fed):
    """`flags` and `slashes`: those shares of the 1s and the 0s reach the augmentation with a
    flag or a slash added; no other digit changes; a share outside 0-1 is refused."""
    recipe = Recipe(
        "marks", arch="dense", epochs=1, limit=640, augment=True, flags=0.5, slashes=0.25
    )
    result = train(recipe, verbose=0)
    assert result.record["flags"] == 0.5 and result.record["slashes"] == 0.25
    arrays = train_module._prepare_data(recipe, None)
    changed = set(np.flatnonzero((fed[0]["x"] != arrays.x_fit).any(axis=(1, 2, 3))))
    ones = set(np.flatnonzero(arrays.y_fit == 1))
    zeros = set(np.flatnonzero(arrays.y_fit == 0))
    assert changed <= ones | zeros
    assert len(changed & ones) == round(0.5 * len(ones)) > 0
    assert len(changed & zeros) == round(0.25 * len(zeros)) > 0
    assert (fed[0]["x"] >= arrays.x_fit).all()  # a flag or a slash only adds ink
    with pytest.raises(ValueError, match="flags must be between 0 and 1"):
        dataclasses.replace(RECIPES["improved"], flags=1.5)
    with pytest.raises(ValueError, match="slashes must be between 0 and 1"):
        dataclasses.replace(RECIPES["improved"], slashes=-0.1)


def test_flags_reach_training_without_augmentation_too(monkeypatch):
    """`finish` trains on MNIST's digits as they are: a share of flagged 1s still reaches fit."""
    seen, fit = [], keras.Model.fit

    def spy(self, *args, **kwargs):
        seen.append(kwargs["x"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    recipe = Recipe("plain flags", arch="dense", epochs=1, limit=640, flags=0.5)
    train(recipe, verbose=0)
    arrays = train_module._prepare_data(recipe, None)
    changed = set(np.flatnonzero((seen[0] != arrays.x_fit).any(axis=(1, 2, 3))))
    ones = set(np.flatnonzero(arrays.y_fit == 1))
    assert changed <= ones and len(changed) == round(0.5 * len(ones)) > 0


def test_a_share_of_all_digits_trains_narrower_or_wider(fed):
    """`stretches`: that share of the digits, of any label, reaches the augmentation drawn
    narrower or wider; a share outside 0-1 is refused."""
    recipe = Recipe("narrow", arch="dense", epochs=1, limit=640, augment=True, stretches=0.25)
    assert train(recipe, verbose=0).record["stretches"] == 0.25
    arrays = train_module._prepare_data(recipe, None)
    changed = np.flatnonzero((fed[0]["x"] != arrays.x_fit).any(axis=(1, 2, 3)))
    assert len(changed) == round(0.25 * len(arrays.x_fit))
    assert len(set(arrays.y_fit[changed])) == 10
    with pytest.raises(ValueError, match="stretches must be between 0 and 1"):
        dataclasses.replace(RECIPES["improved"], stretches=1.5)


def test_a_share_of_the_digits_is_redrawn_along_straightened_lines(fed):
    """`angular`: the centre lines the redraw follows are straightened for that share of the
    digits (`augment.centre_line_distances`'s `angular`), from the recipe's seed; a share
    outside 0-1 is refused."""
    recipe = Recipe("angular", arch="dense", epochs=1, limit=640, augment=True, angular=0.3)
    assert train(recipe, verbose=0).record["angular"] == 0.3
    arrays = train_module._prepare_data(recipe, None)
    traced = augment.centre_line_distances(arrays.x_fit)
    straight = augment.centre_line_distances(arrays.x_fit, 0.3, seed=recipe.seed)
    assert np.array_equal(fed[0]["distances"], straight)
    changed = (straight != traced).any(axis=(1, 2, 3))
    assert 0.2 < changed.mean() < 0.4
    with pytest.raises(ValueError, match="angular must be between 0 and 1"):
        dataclasses.replace(RECIPES["improved"], angular=-0.1)


def test_training_without_redraw_traces_no_centre_lines(monkeypatch):
    def no_tracing(images):
        raise AssertionError("centre lines traced for a recipe that redraws nothing")

    monkeypatch.setattr(augment, "centre_line_distances", no_tracing)
    recipe = dataclasses.replace(
        RECIPES["improved"], redraw=0.0, plain=1.0, epochs=1, limit=256, precision="float32"
    )
    result = train(recipe, verbose=0)
    assert result.record["augmentation"]["plain"] == 1.0
    assert result.record["augmentation"]["redraw"] == 0.0
    assert len(result.history["loss"]) == 1


def test_other_backends_train_from_augmented_batches(monkeypatch):
    """JAX or PyTorch on an accelerator (TensorFlow may be absent there) train from
    `augment.augmented_batches`, not `tf.data`: the same augmentation, fed another way."""
    fed, feed = [], augment.augmented_batches

    def batches(*args, **kwargs):
        fed.append(kwargs)
        yield from feed(*args, **kwargs)

    def no_tf_data(*args, **kwargs):
        raise AssertionError("tf.data used")

    monkeypatch.setattr(train_module, "uses_tf_data", lambda: False)
    monkeypatch.setattr(augment, "augmented_batches", batches)
    monkeypatch.setattr(augment, "training_dataset", no_tf_data)
    recipe = Recipe("other backend", arch="dense", epochs=2, limit=640, augment=True)
    result = train(recipe, verbose=0)
    assert len(fed) == 1 and fed[0]["distances"].shape == (640, 56, 56, 1)
    assert fed[0]["config"] == train_module.augmentation_of(recipe)
    first, second = result.history["loss"]
    assert second < first
    assert result.record["test_accuracy"] > 0.5


def test_cli_options_override_the_recipe():
    args = train_module._parser().parse_args(
        ["--recipe", "fast", "--epochs", "2", "--no-augment", "--seed", "7", "--limit", "99"]
    )
    expected = dataclasses.replace(RECIPES["fast"], epochs=2, augment=False, seed=7, limit=99)
    assert train_module.recipe_from_args(args) == expected
    args = train_module._parser().parse_args(["--arch", "improved", "--warmup-epochs", "1.5"])
    assert train_module.recipe_from_args(args) == dataclasses.replace(
        RECIPES["improved"], warmup_epochs=1.5
    )
    args = train_module._parser().parse_args(["--arch", "dense", "--augment"])
    assert train_module.recipe_from_args(args) == dataclasses.replace(
        RECIPES["classic"], arch="dense", augment=True
    )


def test_every_setting_is_a_cli_option():
    options = train_module._parser()._option_string_actions
    settings_ = [f.name for f in dataclasses.fields(Recipe) if f.name not in train_module.LABELS]
    assert settings_ and all(f"--{name.replace('_', '-')}" in options for name in settings_)
    assert "--name" not in options and "--description" not in options


def test_cli_recipe_and_overrides_reach_the_record(tmp_path):
    out = tmp_path / "fast.keras"
    code = main(["--recipe", "fast", "--epochs", "1", "--limit", "600", "--out", str(out)])
    assert code == 0
    assert recipe_of(read_record(out)) == dataclasses.replace(RECIPES["fast"], epochs=1, limit=600)


def test_cli_default_out_follows_the_architecture(models_dir):
    assert default_out(RECIPES[RECOMMENDED]) == settings.recommended_model_path()
    # the lesson's seed CNN, even under the suite's fast mode: the command trains it whole
    assert default_out(RECIPES["classic"]) == models_dir / "seed_cnn.keras"
    assert default_out(RECIPES["fast"]) == models_dir / "seed_cnn.keras"
    assert default_out(dataclasses.replace(TINY, name="x")) == models_dir / "dense.keras"
    assert main(["--recipe", "fast", "--epochs", "1", "--limit", "300"]) == 0
    assert sorted(p.name for p in models_dir.iterdir()) == ["seed_cnn.json", "seed_cnn.keras"]


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
        (["--epochs", "0"], "epochs must be at least 1"),
        (["--seed", "-1"], "seed must be 0 or more"),
        (["--limit", "ten"], "invalid int value"),
        (["--validation-split", "1.5"], "must be in [0, 1)"),
        (["--learning-rate", "3"], "must be between 0 and 1"),
        (["--precision", "half"], "invalid choice"),
        (["--recipe", "magic"], "invalid choice"),
        (["--wat"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_give_one_line_errors(tmp_path, args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main([*args, "--out", str(tmp_path / "m.keras")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.keras").exists()


def test_a_path_that_cannot_be_written_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """Each fails at once (no data loaded, nothing trained), in one line."""
    (tmp_path / "a-file.txt").write_text("notes")
    (tmp_path / "folder.keras").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    # Root may write anywhere, and the tests may run as root: the folder is made read-only
    # for the check by an injected fault as well.
    access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and access(p, mode))
    cases = [
        (tmp_path / "a-file.txt" / "m.keras", "is a file, not a folder"),
        (tmp_path / "folder.keras", "is a folder"),
        (locked / "m.keras", "no permission to write in"),
        (Path("/proc/m.keras"), "cannot save /proc/m.keras: "),  # as root too
    ]
    for out, message in cases:
        code = main(["--data", str(tmp_path / "none.npz"), "--out", str(out), "--force"])
        err = capsys.readouterr().err
        assert code == 1 and message in err and err.count("\n") == 1, err
    assert (tmp_path / "a-file.txt").read_text() == "notes"


def test_holding_out_everything_is_refused(tmp_path, capsys):
    out = tmp_path / "m.keras"
    code = main(["--limit", "200", "--validation-split", "0.999", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "leaves none to train on" in err and not out.exists()


def test_missing_data_file_is_a_one_line_error(tmp_path, capsys):
    code = main(["--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: MNIST file not found")
    assert not (tmp_path / "m.keras").exists()


def test_an_npy_file_as_mnist_is_a_one_line_error(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((2, 28, 28), np.uint8))
    code = main(["--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert code == 1 and "is corrupt or not an .npz archive" in err and err.count("\n") == 1


def test_a_record_already_beside_the_new_model_is_not_replaced(tmp_path, capsys):
    """`--out notes.keras` writes `notes.json`: a file of that name that is the user's stays."""
    (tmp_path / "notes.json").write_text('{"mine": true}')
    code = main(["--out", str(tmp_path / "notes.keras"), "--data", str(tmp_path / "none.npz")])
    err = capsys.readouterr().err
    assert code == 1 and "notes.json already exists" in err and err.count("\n") == 1
    assert (tmp_path / "notes.json").read_text() == '{"mine": true}'


def test_wrong_suffix_is_refused_before_training(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "model.h5")]) == 1
    assert "must end in .keras" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"arch": "resnet"},
            "unknown arch 'resnet'; choose one of: deep, dense, improved, lean, seed, wide",
        ),
        ({"schedule": "zigzag"}, "unknown schedule 'zigzag'"),
        ({"precision": "half"}, "unknown precision 'half'"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"batch_size": 10**21}, "batch_size must be at most 60,000"),
        ({"epochs": 10**5}, "epochs must be at most 10,000"),
        ({"seed": 2**32}, r"seed must be 0 or more and under 2\*\*32"),
        ({"warmup_epochs": -1.0}, "warmup_epochs must be a number of at least 0"),
        ({"warmup_epochs": float("inf")}, "warmup_epochs must be a number of at least 0"),
        ({"warmup_epochs": float("nan")}, "warmup_epochs must be a number of at least 0"),
        ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
    ],
)
def test_a_bad_recipe_fails_when_made(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(RECIPES["classic"], **change)


def test_trained_model_is_saved_without_optimizer_state(tmp_path):
    """Adam's two moments per weight would triple the file (the shipped model's size)."""
    result = train(TINY, out=tmp_path / "dense.keras", verbose=0)
    with zipfile.ZipFile(result.path) as archive:
        weights = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(weights) as h5:
        optimizer = h5["optimizer"]["vars"]
        assert sum(optimizer[name].size for name in optimizer) <= 2  # step, rate
    assert result.path.stat().st_size < 4 * result.record["params"] + 50_000


def test_save_model_refuses_existing_without_force(tmp_path, tiny):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"x")
    with pytest.raises(ModelExistsError, match="force=True"):
        save_model(tiny.model, out, tiny.record)
    assert out.read_bytes() == b"x"
    assert save_model(tiny.model, out, tiny.record, force=True) == out
    assert keras.models.load_model(out).count_params() == tiny.record["params"]
    assert read_record(out) == tiny.record


def test_interrupted_save_leaves_the_old_model_intact(tmp_path, monkeypatch, tiny):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"old model")
    settings.sidecar_path(out).write_text('{"old": true}')

    def save_then_die(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as fh:
            fh.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        save_model(tiny.model, out, tiny.record, force=True)
    assert out.read_bytes() == b"old model"
    assert read_record(out) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.json", "cnn.keras"]


def test_failed_record_leaves_the_old_model_intact(tmp_path, tiny):
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"old model")
    with pytest.raises(TypeError, match="not JSON serializable"):
        save_model(tiny.model, out, {"bad": object()}, force=True)
    assert out.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.keras"]


def test_a_hand_trained_model_saves_with_its_record(tmp_path, mnist):
    """What notebook 03 does: train with plain Keras, then save with a record."""
    (x_train, y_train), (x_test, y_test) = mnist
    recipe = Recipe("notebook", arch="dense", epochs=1, limit=256)
    model = build_model("dense")
    x = scale_images(x_train[:256])
    model.fit(x, y_train[:256], epochs=1, batch_size=64, verbose=0)
    loss, accuracy = model.evaluate(scale_images(x_test[:500]), y_test[:500], verbose=0)
    record = training_record(
        recipe, model, test_loss=loss, test_accuracy=accuracy, seconds=1.5, train_examples=256
    )
    out = save_model(model, tmp_path / "seed_cnn.keras", record)
    saved = read_record(out)
    assert recipe_of(saved) == recipe and saved["test_accuracy"] == pytest.approx(accuracy)
    assert len(saved["data_sha256"]) == 64 and saved["params"] == model.count_params()


def test_ensure_model_never_touches_the_course_or_recommended_model(models_dir, capsys):
    quick = settings.quick_model_path()
    assert ensure_model() == quick and quick.is_file()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "training a quick" in out and "notebook 03" in out
    assert recipe_of(read_record(quick)).name == "quick"
    assert sorted(p.name for p in settings.course_dir().iterdir()) == [
        "seed_cnn_quick.json",
        "seed_cnn_quick.keras",
    ]
    before = quick.stat().st_mtime_ns
    assert ensure_model() == quick
    assert quick.stat().st_mtime_ns == before
    assert "training" not in capsys.readouterr().out
    assert not settings.course_model_path().exists()
    assert not settings.recommended_model_path().exists()

    course = settings.course_model_path()
    course.write_bytes(quick.read_bytes())  # notebook 03 has saved the course model
    assert ensure_model() == course
    assert capsys.readouterr().out == ""


def test_recipes_name_known_architectures():
    assert RECOMMENDED in RECIPES
    assert all(name == recipe.name for name, recipe in RECIPES.items())
    assert set(DEFAULT_RECIPE) == set(train_module.ARCHITECTURES)
    assert set(DEFAULT_RECIPE.values()) <= set(RECIPES)
    classic = RECIPES["classic"]
    assert (classic.arch, classic.epochs, classic.batch_size, classic.learning_rate) == (
        "seed",
        5,
        64,
        1e-3,
    )


def test_cosine_schedule_warms_up_then_decays():
    assert learning_rate_schedule(RECIPES["classic"], 100) == 1e-3
    recipe = dataclasses.replace(RECIPES["fast"], epochs=3, warmup_epochs=0.5)
    schedule = learning_rate_schedule(recipe, steps_per_epoch=100)
    rates = [float(schedule(step)) for step in (0, 25, 50, 150, 299)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(recipe.learning_rate)
    assert rates[2] > rates[3] > rates[4] >= 0


def test_train_by_name_with_augmentation_and_overrides():
    recipe = dataclasses.replace(RECIPES["improved"], epochs=1, limit=512, precision="float32")
    result = train(recipe, verbose=0)
    assert recipe_of(result.record) == recipe and result.record["train_examples"] == 512
    widened = dataclasses.replace(augment.DEFAULT, pen=(augment.DEFAULT.pen[0], recipe.pen_max))
    assert result.record["augmentation"] == json.loads(json.dumps(dataclasses.asdict(widened)))
    assert len(result.history["loss"]) == 1 and result.path is None
    with pytest.raises(ValueError, match="unknown recipe 'magic'; choose one of: best, classic"):
        train("magic")


def test_mixed_precision_training_returns_a_float32_model(tmp_path):
    from digitrec.predict import Predictor

    out = tmp_path / "bf16.keras"
    recipe = Recipe(
        arch="improved", epochs=1, batch_size=128, limit=256, precision="mixed_bfloat16"
    )
    result = train(recipe, out=out, verbose=0)
    assert result.record["dtype_policy"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored afterwards
    for model in (result.model, Predictor.load(out).model):
        policies = {layer.dtype_policy.name for layer in model.layers}
        assert policies == {"float32"}
    # The saved float32 model reads as the one trained in bfloat16 does.
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(
        Predictor.load(out).model.predict(x, verbose=0),
        result.model.predict(x, verbose=0),
        atol=1e-5,
    )
    assert math.isfinite(result.record["test_accuracy"])


@pytest.fixture
def hardware(monkeypatch):
    """Pretend hardware for `choose_precision`: set `.gpu`, `.bf16` and `.step_ms`."""

    class Hardware:
        gpu = False
        bf16 = True
        step_ms = {"float32": 100.0, "mixed_bfloat16": 50.0}
        probes: list[tuple[str, int]] = []

    def step_times(arch, batch_size):
        Hardware.probes.append((arch, batch_size))
        return {policy: ms / 1000 for policy, ms in Hardware.step_ms.items()}

    monkeypatch.setattr(train_module, "has_gpu", lambda: Hardware.gpu)
    monkeypatch.setattr(train_module, "cpu_has_bfloat16", lambda: Hardware.bf16)
    monkeypatch.setattr(train_module, "precision_step_times", step_times)
    train_module.choose_precision.cache_clear()
    yield Hardware
    train_module.choose_precision.cache_clear()


@pytest.mark.parametrize(
    ("bf16_ms", "expected", "why"),
    [
        (50.0, "mixed_bfloat16", "took 50 ms of CPU time in bfloat16, 100 ms in float32"),
        (95.0, "float32", "bfloat16 is not clearly faster"),
        (180.0, "float32", "took 180 ms of CPU time in bfloat16, 100 ms in float32"),
    ],
)
def test_auto_precision_takes_what_is_faster_here(hardware, bf16_ms, expected, why):
    hardware.step_ms = {"float32": 100.0, "mixed_bfloat16": bf16_ms}
    choice = train_module.choose_precision("improved", 256)
    assert choice.policy == expected and why in choice.reason
    assert choice.step_ms == hardware.step_ms
    assert train_module.training_precision("auto", "improved", 256) == expected
    assert hardware.probes == [("improved", 256)]  # timed once, then cached
    assert train_module.training_precision("float32") == "float32"
    assert train_module.training_precision("mixed_bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize(
    ("gpu", "bf16", "why"),
    [(True, True, "a GPU"), (False, False, "no bfloat16 units")],
)
def test_auto_precision_needs_no_timing_without_bfloat16_cpu(hardware, gpu, bf16, why):
    hardware.gpu, hardware.bf16 = gpu, bf16
    choice = train_module.choose_precision("improved", 128)
    assert choice.policy == "float32" and why in choice.reason
    assert hardware.probes == []


def test_auto_precision_falls_back_to_float32_if_bfloat16_fails(hardware, monkeypatch):
    def fail(arch, batch_size):
        raise tf.errors.AbortedError(None, None, "could not create a primitive\nmore")

    monkeypatch.setattr(train_module, "precision_step_times", fail)
    choice = train_module.choose_precision("improved", 128)
    assert choice.policy == "float32"
    assert choice.reason == "a bfloat16 training step failed here (AbortedError)"


def test_training_says_what_auto_precision_chose(hardware, capsys):
    hardware.step_ms = {"float32": 30.0, "mixed_bfloat16": 60.0}
    result = train(dataclasses.replace(TINY, precision="auto"), verbose=2)
    assert result.record["dtype_policy"] == "float32"
    out = capsys.readouterr().out
    assert "precision auto: training in float32" in out
    assert "took 60 ms of CPU time in bfloat16, 30 ms in float32" in out
    assert hardware.probes == [("dense", TINY.batch_size)]


def test_precision_step_times_times_both_precisions():
    times = train_module.precision_step_times("dense", 32, steps=2, warmup=1)
    assert set(times) == {"float32", "mixed_bfloat16"}
    assert all(math.isfinite(seconds) and seconds > 0 for seconds in times.values())
    assert keras.mixed_precision.global_policy().name == "float32"


def test_cpu_description_names_the_flags_that_matter():
    description = train_module.cpu_description()
    assert f"{os.cpu_count()} cores" in description
    # The flags as the kernel lists them, read here independently of the code under test.
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    assert flags, "no flags line in /proc/cpuinfo"
    for flag in ("avx2", "avx512_bf16", "amx_bf16"):
        assert f"{flag}={'yes' if flag in flags else 'no'}" in description
    assert train_module.cpu_has_bfloat16() == bool({"avx512_bf16", "amx_bf16"} & flags)
    onednn = {True: "on", False: "off", None: "unknown"}[train_module.onednn_enabled()]
    assert description.endswith(f"TensorFlow oneDNN {onednn}")


def _onednn_in_a_fresh_process(*argv: str, setting: str | None = None) -> str:
    """`onednn_enabled()` in a new Python started as `python *argv` (the last line it prints)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    done = subprocess.run(
        [sys.executable, *argv], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_only_the_training_commands_turn_tensorflows_onednn_kernels_on():
    tensorflow_alone = "from tensorflow.python.util import _pywrap_util_port as p; "
    tensorflow_alone += "print(bool(p.IsMklEnabled()))"
    asked = "import digitrec.train as t; print(t.onednn_enabled())"
    # importing digitrec (the app, the notebooks) keeps TensorFlow's own choice for this CPU
    assert _onednn_in_a_fresh_process("-c", asked) == _onednn_in_a_fresh_process(
        "-c", tensorflow_alone
    )
    assert _onednn_in_a_fresh_process("-c", asked, setting="1") == "True"
    assert _onednn_in_a_fresh_process("-c", asked, setting="0") == "False"
    assert digitrec.is_training_command(["python", "-m", "digitrec.train", "--recipe", "lean"])
    assert digitrec.is_training_command(["python3", "-m", "digitrec.refusal_training", "train"])
    assert not digitrec.is_training_command(["python", "-m", "app"])
    assert not digitrec.is_training_command(["python", "bench/train_speed.py"])
    assert not digitrec.is_training_command(["python", "-m"])
