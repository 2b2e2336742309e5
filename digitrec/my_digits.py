"""A small dataset of the learner's own handwriting: one PNG per drawing, a folder per label.

Layout (the folder-per-class format `keras.utils.image_dataset_from_directory` also reads)::

    data/my_digits/            (under the project root, or any folder you pass)
        3/20261123T215803123456-1a2b3c4d.png
        7/20261123T215811408112-9f8e7d6c.png

Each PNG is the whole drawing as the learner made it, 8-bit greyscale, white ink on black,
not yet preprocessed, so later code (benchmarks, a better `to_mnist`) can prepare it again.

Why one file per drawing: saving only ever *adds* a file with a fresh, unique name, so it
cannot overwrite anything the learner made before. Each file is written under a hidden
temporary name (`.name.png.tmp`), flushed to disk, then renamed into place with
`os.replace`, which is atomic: if the kernel dies mid-save, what is left is a stray temp file
the loader ignores, never a half-written PNG.
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from digitrec import settings
from digitrec.constants import INK_THRESHOLD
from digitrec.preprocess import EmptyDrawingError, extract_ink, to_mnist

FOLDER = Path("data") / "my_digits"
LABELS = tuple(range(10))
SUFFIX = ".png"
TEMP_SUFFIX = ".tmp"


class MyDigitsError(ValueError):
    """A drawing or label that cannot go into the dataset; the message says why."""


@dataclass(frozen=True)
class MyDigits:
    """The learner's drawings loaded back: raw drawings, labels, and where each came from."""

    images: np.ndarray  # (N, H, W) uint8 ink, white on black
    labels: np.ndarray  # (N,) int64 in 0..9
    paths: tuple[Path, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def as_mnist(self) -> np.ndarray:
        """Every drawing through `to_mnist`: (N, 28, 28) float32, ready for a model."""
        if not len(self):
            return np.zeros((0, 28, 28), np.float32)
        return np.stack([to_mnist(image) for image in self.images])


def default_folder() -> Path:
    """`data/my_digits` under the project root (git-ignored with the rest of `data/`)."""
    return settings.project_root() / FOLDER


def save_drawing(image: Any, label: int, folder: str | os.PathLike[str] | None = None) -> Path:
    """Add one drawing with its label to the dataset and return the new file's path.

    `image` is anything `digitrec.preprocess` accepts (the pad's RGBA canvas, an ink array, a
    PIL image); it is stored as white-on-black greyscale. Never overwrites an existing file.
    """
    label = _check_label(label)
    ink, _ = extract_ink(image)
    if not (ink > INK_THRESHOLD).any():
        raise EmptyDrawingError("the drawing is empty: draw a digit before saving it")
    grey = Image.fromarray(np.round(ink * 255).astype(np.uint8))

    target_dir = Path(folder if folder is not None else default_folder()) / str(label)
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    while True:
        target = target_dir / f"{stamp}-{secrets.token_hex(4)}{SUFFIX}"
        if not target.exists():
            break
    temp = target_dir / f".{target.name}{TEMP_SUFFIX}"
    try:
        with open(temp, "xb") as handle:
            grey.save(handle, format="PNG")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()
    _fsync_dir(target_dir)
    return target


def load_my_digits(folder: str | os.PathLike[str] | None = None) -> MyDigits:
    """Load every saved drawing, oldest first within each label, labels in order 0..9.

    Hidden and temporary files are ignored (a save the kernel never finished); a PNG that
    cannot be read is skipped with a warning, so one bad file never locks the learner out.
    An empty or missing folder gives an empty dataset.
    """
    root = Path(folder if folder is not None else default_folder())
    images: list[np.ndarray] = []
    labels: list[int] = []
    paths: list[Path] = []
    for label in LABELS:
        label_dir = root / str(label)
        if not label_dir.is_dir():
            continue
        for path in sorted(label_dir.glob(f"*{SUFFIX}")):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                with Image.open(path) as opened:
                    pixels = np.asarray(opened.convert("L"))
            except (OSError, UnidentifiedImageError) as exc:
                warnings.warn(f"skipping unreadable drawing {path}: {exc}", stacklevel=2)
                continue
            images.append(pixels)
            labels.append(label)
            paths.append(path)
    if not images:
        return MyDigits(np.zeros((0, 0, 0), np.uint8), np.zeros(0, np.int64), ())
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        # Drawings from different canvases: pad them to one size, ink stays top-left.
        height = max(shape[0] for shape in shapes)
        width = max(shape[1] for shape in shapes)
        images = [np.pad(i, ((0, height - i.shape[0]), (0, width - i.shape[1]))) for i in images]
    return MyDigits(np.stack(images), np.asarray(labels, np.int64), tuple(paths))


def count_my_digits(folder: str | os.PathLike[str] | None = None) -> dict[int, int]:
    """How many drawings each label has, without decoding them."""
    root = Path(folder if folder is not None else default_folder())
    return {
        label: sum(
            1 for path in (root / str(label)).glob(f"*{SUFFIX}") if not path.name.startswith(".")
        )
        if (root / str(label)).is_dir()
        else 0
        for label in LABELS
    }


def _check_label(label: Any) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise MyDigitsError(f"the label must be a digit 0-9, got {label!r}")
    if int(label) not in LABELS:
        raise MyDigitsError(f"the label must be a digit 0-9, got {label}")
    return int(label)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
