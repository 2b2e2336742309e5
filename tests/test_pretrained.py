"""The models shipped in digitrec/pretrained: present, small, and as good as their records say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitrec import settings
from digitrec.data import as_float_images
from digitrec.predict import Predictor
from digitrec.refusal import DEFAULT_PATH as REFUSAL_PATH

SHIPPED = settings.shipped_model_path()


def test_the_recommended_model_ships_with_its_record():
    assert SHIPPED.is_file(), "the recommended model is shipped in digitrec/pretrained/"
    assert SHIPPED.stat().st_size <= 2 * 1024 * 1024
    record = json.loads(settings.sidecar_path(SHIPPED).read_text())
    for key in ("name", "arch", "epochs", "test_accuracy", "data_sha256", "versions"):
        assert key in record, f"the shipped model's record lacks {key}"
    assert record["arch"] == "improved" and record["test_accuracy"] >= 0.996


@pytest.mark.slow
def test_the_shipped_model_reads_mnist_as_its_record_says(mnist):
    (_, _), (x_test, y_test) = mnist
    reader = Predictor.load(SHIPPED)
    accuracy = float(np.mean(reader.predict_arrays(as_float_images(x_test)).argmax(1) == y_test))
    recorded = reader.metadata["test_accuracy"]
    assert accuracy >= 0.996
    assert abs(accuracy - recorded) <= 0.0005, (accuracy, recorded)


def test_a_fresh_clone_reads_with_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_MODELS", str(tmp_path))
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    assert settings.default_model_path() == SHIPPED
    (tmp_path / "cnn.keras").write_bytes(b"yours")
    assert settings.default_model_path() == tmp_path / "cnn.keras"


def test_the_refusal_model_ships_with_its_threshold():
    assert REFUSAL_PATH.is_file() and REFUSAL_PATH.stat().st_size <= 1024 * 1024
    record = json.loads(settings.sidecar_path(REFUSAL_PATH).read_text())
    assert 0.0 < record["threshold"] < 1.0
