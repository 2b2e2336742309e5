"""Load MNIST from a local file or Keras's cache, and fail with one clear message if we can't.

Learners meet data problems first (no network in a classroom, a half-downloaded file), so
every way loading can go wrong ends in a `DatasetError` that says what happened and how to
fix it, never a urllib or zipfile traceback.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import keras
import numpy as np
from keras.src.backend import config as keras_config  # where Keras caches downloads

from digitrec import settings

MNIST_ENV = "DIGITREC_MNIST"
KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

MNISTArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_HOW_TO_FIX = (
    "Fix: connect to the internet once so Keras can download mnist.npz into its cache, "
    f"or download mnist.npz yourself and set {MNIST_ENV}=/path/to/mnist.npz."
)


class DatasetError(RuntimeError):
    """MNIST could not be found, read or trusted; the message says why and how to fix it."""


def load_mnist(path: str | os.PathLike[str] | None = None) -> MNISTArrays:
    """Return `(x_train, y_train), (x_test, y_test)` as uint8 arrays, exactly like Keras.

    Looks, in order, at `path`, the `DIGITREC_MNIST` environment variable, then Keras's own
    cache (downloading into it when there is a network).
    """
    source, origin = _local_source(path)
    if source is not None:
        arrays = _read_npz(source, origin)
    else:
        arrays = _load_with_keras()
        origin = "Keras's download of MNIST"
    _validate(arrays, origin)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def dataset_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The file `load_mnist(path)` reads, or None if it would have to download first."""
    source, _ = _local_source(path)
    if source is not None:
        return source
    cached = _keras_cache_file()
    return cached if cached.is_file() else None


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, so a trained model records exactly which data it saw."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_float_images(images: np.ndarray) -> np.ndarray:
    """Images (N, H, W) or (N, H, W, 1), uint8 0-255 or float 0-1 -> float32 (N, H, W) in [0, 1].

    One image (H, W) becomes a batch of one.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    scaled = images.astype(np.float32)
    if images.dtype == np.uint8 or scaled.max(initial=0.0) > 1.0:
        scaled /= 255.0
    return scaled


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], the model's input."""
    scaled = as_float_images(images)
    if scaled.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28), got {scaled.shape}")
    return scaled[..., np.newaxis]


def take_subset(
    x: np.ndarray, y: np.ndarray, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A reproducible random subset of `n` examples (all of them if `n` >= len(x))."""
    if n >= len(x):
        return x, y
    index = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[index], y[index]


def _local_source(path: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
    if path is not None:
        return Path(path).expanduser(), f"the file {path}"
    env = os.environ.get(MNIST_ENV, "").strip()
    if env:  # a relative path is from the project root, as `make` takes it
        return settings.project_root() / Path(env).expanduser(), f"{MNIST_ENV}={env}"
    return None, ""


def _keras_cache_file() -> Path:
    return Path(keras_config.keras_home()).expanduser() / "datasets" / "mnist.npz"


def _read_npz(source: Path, origin: str) -> dict[str, np.ndarray]:
    if not source.exists():
        raise DatasetError(f"MNIST file not found: {source} (from {origin}). {_HOW_TO_FIX}")
    if source.is_dir():
        raise DatasetError(
            f"MNIST path is a folder, not a file: {source} (from {origin}). {_HOW_TO_FIX}"
        )
    try:
        with np.load(source, allow_pickle=False) as npz:
            missing = [key for key in KEYS if key not in npz.files]
            if missing:
                raise DatasetError(
                    f"MNIST file {source} lacks the arrays {', '.join(missing)} "
                    f"(it has: {', '.join(npz.files) or 'nothing'}); expected the Keras "
                    f"mnist.npz with {', '.join(KEYS)}. {_HOW_TO_FIX}"
                )
            return {key: npz[key] for key in KEYS}
    except DatasetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        # TypeError: an .npy file, one array rather than an archive of them
        raise DatasetError(
            f"MNIST file {source} is corrupt or not an .npz archive "
            f"({type(exc).__name__}: {exc}); if it is a download of MNIST, download it again. "
            f"{_HOW_TO_FIX}"
        ) from None


def _load_with_keras() -> dict[str, np.ndarray]:
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # Keras wraps urllib/HTTP errors in a bare Exception
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            "MNIST is not available: there is no local copy and Keras could not download "
            f"it ({reason}). {_HOW_TO_FIX}"
        ) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _validate(arrays: dict[str, np.ndarray], origin: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or x.shape[0] == 0:
            raise DatasetError(
                f"MNIST from {origin}: x_{split} has shape {x.shape}, expected (N, 28, 28)."
            )
        if y.shape != (x.shape[0],):
            raise DatasetError(
                f"MNIST from {origin}: y_{split} has shape {y.shape}, expected "
                f"({x.shape[0]},) to match x_{split}."
            )
        for name, arr in ((f"x_{split}", x), (f"y_{split}", y)):
            if arr.dtype != np.uint8:
                raise DatasetError(
                    f"MNIST from {origin}: {name} has dtype {arr.dtype}, expected uint8."
                )
        if y.max() >= NUM_CLASSES:
            raise DatasetError(
                f"MNIST from {origin}: y_{split} holds label {int(y.max())}; labels must be 0-9."
            )
