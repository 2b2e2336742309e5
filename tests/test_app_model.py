"""app.model: a model is loaded once per file and shared; a new file is loaded afresh; a file
that cannot be loaded is remembered as such."""

from __future__ import annotations

import os
import shutil

import pytest

from app import create_app, model
from app.model import current_slot
from digitrec.predict import READ_TURNS, ModelLoadError, ModelNotFoundError


def test_two_apps_share_one_loaded_model(trained_model_path):
    first = create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})
    second = create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})
    with first.app_context():
        a = current_slot().predictor
    with second.app_context():
        b = current_slot().predictor
    assert a is not None and a is b
    assert a.turns == READ_TURNS  # the app reads each drawing as drawn and turned a little


def test_a_replaced_model_file_is_loaded_again(trained_model_path, tmp_path):
    path = tmp_path / "cnn.keras"
    shutil.copy(trained_model_path, path)
    shutil.copy(trained_model_path.with_suffix(".json"), tmp_path / "cnn.json")
    before = model.load_predictor(path)
    assert model.load_predictor(path) is before
    # A retrained model: the same size, a new modification time (set, not waited for).
    shutil.copy(trained_model_path, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = model.load_predictor(path)
    assert after is not before
    assert after.metadata["test_accuracy"] == before.metadata["test_accuracy"]


def test_load_errors_say_how_to_train(tmp_path):
    with pytest.raises(ModelNotFoundError, match="digitrec.train"):
        model.load_predictor(tmp_path / "absent.keras")
    junk = tmp_path / "junk.keras"
    junk.write_text("junk")
    with pytest.raises(ModelLoadError, match="--force"):
        model.load_predictor(junk)


def test_cache_keeps_few_models(trained_model_path, tmp_path):
    for i in range(model.KEEP + 2):
        path = tmp_path / f"m{i}.keras"
        shutil.copy(trained_model_path, path)
        model.load_predictor(path)
    assert len(model._loaded) <= model.KEEP


def test_the_cache_keeps_the_most_recently_used_models(trained_model_path, tmp_path):
    paths = []
    for i in range(model.KEEP + 1):
        paths.append(tmp_path / f"m{i}.keras")
        shutil.copy(trained_model_path, paths[-1])
    first = [model.load_predictor(path) for path in paths[: model.KEEP]]
    assert model.load_predictor(paths[0]) is first[0]  # used again: now the most recent
    model.load_predictor(paths[-1])  # one more: the least recently used one goes
    assert model.load_predictor(paths[0]) is first[0]
    assert model.load_predictor(paths[1]) is not first[1]


def test_a_file_that_cannot_be_loaded_is_not_read_again(tmp_path, monkeypatch):
    junk = tmp_path / "junk.keras"
    junk.write_text("junk")
    calls = []
    real = model.Predictor.load
    monkeypatch.setattr(model.Predictor, "load", lambda *a, **k: calls.append(a) or real(*a, **k))
    for _ in range(3):
        with pytest.raises(ModelLoadError, match="--force"):
            model.load_predictor(junk)
    assert len(calls) == 1
    # A new version of the file is tried afresh.
    junk.write_text("other junk")
    with pytest.raises(ModelLoadError):
        model.load_predictor(junk)
    assert len(calls) == 2
