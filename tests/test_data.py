"""digitrec.data: the real MNIST loads exactly like Keras; every bad file gives a DatasetError."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import data, settings
from digitrec.data import DatasetError, load_mnist


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good_arrays(n_train=8, n_test=4):
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def test_real_mnist_has_keras_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert set(np.unique(y_test)) == set(range(10))


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch):
    good = _save(tmp_path / "small.npz", **_good_arrays())
    monkeypatch.setenv(data.MNIST_ENV, str(tmp_path / "elsewhere.npz"))
    (x_train, _), (x_test, _) = load_mnist(good)
    assert x_train.shape == (8, 28, 28) and x_test.shape == (4, 28, 28)


def test_environment_variable_is_used(tmp_path, monkeypatch):
    good = _save(tmp_path / "small.npz", **_good_arrays(n_train=5))
    monkeypatch.setenv(data.MNIST_ENV, str(good))
    (x_train, _), _ = load_mnist()
    assert len(x_train) == 5
    assert data.dataset_file() == good


def test_a_relative_environment_path_is_from_the_project_root(tmp_path, monkeypatch):
    """A notebook's kernel runs in notebooks/: DIGITREC_MNIST=data/x.npz still finds the
    project's data/x.npz, as make and the app (run from the root) do."""
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "data").mkdir()
    good = _save(project / "data" / "small.npz", **_good_arrays(n_train=6))
    monkeypatch.setattr(settings, "project_root", lambda: project)
    monkeypatch.chdir(project / "notebooks")
    monkeypatch.setenv(data.MNIST_ENV, "data/small.npz")
    (x_train, _), _ = load_mnist()
    assert len(x_train) == 6
    assert data.dataset_file() == good


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(DatasetError) as info:
        load_mnist(missing)
    message = str(info.value)
    assert "not found" in message and str(missing) in message
    assert data.MNIST_ENV in message


def test_missing_env_file_says_where_the_path_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv(data.MNIST_ENV, str(tmp_path / "gone.npz"))
    with pytest.raises(DatasetError, match=f"{data.MNIST_ENV}="):
        load_mnist()


def test_corrupt_file_is_reported_as_corrupt(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(DatasetError, match="corrupt") as info:
        load_mnist(bad)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_truncated_download_is_reported_as_corrupt(tmp_path, mnist_file_bytes):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(mnist_file_bytes[: len(mnist_file_bytes) // 2])
    with pytest.raises(DatasetError, match="corrupt"):
        load_mnist(bad)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DatasetError, match="folder"):
        load_mnist(tmp_path)


def test_missing_keys_are_listed(tmp_path):
    arrays = _good_arrays()
    del arrays["y_test"]
    with pytest.raises(DatasetError, match="lacks the arrays y_test"):
        load_mnist(_save(tmp_path / "m.npz", **arrays))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("x_train", np.zeros((8, 32, 32), np.uint8), r"x_train has shape \(8, 32, 32\)"),
        ("x_test", np.zeros((4, 784), np.uint8), r"x_test has shape \(4, 784\)"),
        ("y_train", np.zeros((7,), np.uint8), r"y_train has shape \(7,\)"),
        ("x_train", np.zeros((8, 28, 28), np.float32), "dtype float32, expected uint8"),
        ("y_test", np.full((4,), 10, np.uint8), "label 10"),
    ],
)
def test_wrong_contents_are_described(tmp_path, key, value, expected):
    arrays = _good_arrays()
    arrays[key] = value
    with pytest.raises(DatasetError, match=expected):
        load_mnist(_save(tmp_path / "m.npz", **arrays))


def test_no_network_and_no_copy_gives_one_clear_error(tmp_path, monkeypatch):
    # An empty Keras home: Keras must try to download, and this machine has no network
    # (on a machine with one, simulate the outage by pointing the download at a closed port).
    monkeypatch.delenv(data.MNIST_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    import keras.src.backend.config as keras_config
    import keras.src.datasets.mnist as keras_mnist

    monkeypatch.setattr(keras_config, "keras_home", lambda: str(tmp_path / "keras-home"))
    real_get_file = keras_mnist.get_file

    def offline_get_file(fname, origin, **kwargs):
        return real_get_file(fname, "http://127.0.0.1:9/mnist.npz", **kwargs)

    monkeypatch.setattr(keras_mnist, "get_file", offline_get_file)
    with pytest.raises(DatasetError) as info:
        load_mnist()
    message = str(info.value)
    assert "could not download" in message and data.MNIST_ENV in message
    assert info.value.__suppress_context__


def test_scale_images_gives_model_input():
    x = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    scaled = data.scale_images(x)
    assert scaled.shape == (1, 28, 28, 1) and scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert data.scale_images(x[0]).shape == (1, 28, 28, 1)
    with pytest.raises(ValueError, match="shape"):
        data.scale_images(np.zeros((2, 27, 28), np.uint8))


def test_take_subset_is_reproducible_and_keeps_pairs():
    x = np.arange(100)
    y = np.arange(100) * 2
    xs, ys = data.take_subset(x, y, 10, seed=3)
    xs2, _ = data.take_subset(x, y, 10, seed=3)
    assert len(xs) == 10 and np.array_equal(xs, xs2)
    assert np.array_equal(ys, xs * 2)
    assert data.take_subset(x, y, 500)[0] is x


def test_sha256_of_the_shared_file_matches_its_checksum():
    source = data.dataset_file()
    checksum = source.with_name(source.name + ".sha256")
    if not checksum.is_file():
        pytest.skip("no .sha256 beside this copy of mnist.npz")
    assert data.file_sha256(source) == checksum.read_text().split()[0]


@pytest.fixture(scope="module")
def mnist_file_bytes():
    source = data.dataset_file()
    assert source is not None, "set DIGITREC_MNIST or let Keras download MNIST once"
    return source.read_bytes()
