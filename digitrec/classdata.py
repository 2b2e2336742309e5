"""A class's drawings as a data set: one SQLite file, append-only, exported for the lesson.

The web app's collect page (`/collect`) stores each drawing a learner makes, with the digit
they were asked for, the name they chose and their class code. A teacher then exports the set
to a folder of PNGs laid out like `data/my_digits` (`<label>/<file>.png`, so
`digitrec.my_digits.load_my_digits` reads it) plus an index of who drew what, or to one `.npz`
file, and the course measures how well the model reads *this class*, writer by writer.

Why SQLite: one file the teacher can copy, safe with many writers at once (WAL mode lets readers
read while a drawing is written), and nothing to install. The table is append-only: triggers
refuse any UPDATE or DELETE, so a bug or a bad request can never lose a drawing.

Command line::

    python -m digitrec.classdata stats  --db class.sqlite
    python -m digitrec.classdata export --db class.sqlite --out class_set/ [--class 7b]
    python -m digitrec.classdata export --db class.sqlite --out class_set.npz
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from digitrec.constants import MNIST_SIZE, NUM_CLASSES
from digitrec.preprocess import EmptyDrawingError, to_mnist

# A name or class code: letters (any script), digits, spaces, '.', "'", '_' and '-', 1-40 long,
# starting with a letter or digit. Shown back on pages and used in exported file names.
NAME = re.compile(r"[^\W_][\w .'-]{0,39}")
MAX_PNG_BYTES = 256 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INDEX = "index.csv"

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY,
    class TEXT NOT NULL,
    writer TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    png BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drawings_by_class ON drawings (class, writer);
CREATE TRIGGER IF NOT EXISTS drawings_append_only_update BEFORE UPDATE ON drawings
BEGIN SELECT RAISE(ABORT, 'class drawings are append-only'); END;
CREATE TRIGGER IF NOT EXISTS drawings_append_only_delete BEFORE DELETE ON drawings
BEGIN SELECT RAISE(ABORT, 'class drawings are append-only'); END;
"""


class ClassDataError(ValueError):
    """A drawing, name or file that cannot be stored or exported; the message says why."""


@dataclass(frozen=True)
class ClassSet:
    """A class's drawings, ready for a model: `images` went through `to_mnist`."""

    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (N,) int64
    writers: np.ndarray  # (N,) str: "class/writer", unique across classes
    ids: np.ndarray  # (N,) int64, the row ids in the database

    def __len__(self) -> int:
        return len(self.labels)


def check_name(value: object, what: str) -> str:
    """A valid writer name or class code (stripped), or `ClassDataError` saying what is wrong."""
    if not isinstance(value, str):
        raise ClassDataError(f"{what} must be a string")
    name = value.strip()
    if not NAME.fullmatch(name):
        raise ClassDataError(
            f"{what} must be 1-40 letters, digits, spaces, and . ' _ -, "
            "starting with a letter or digit"
        )
    return name


def check_label(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < NUM_CLASSES:
        raise ClassDataError("label must be a whole number from 0 to 9")
    return value


def check_png(data: object) -> bytes:
    """PNG bytes that Pillow can read and that hold some ink."""
    if not isinstance(data, bytes) or not data.startswith(PNG_SIGNATURE):
        raise ClassDataError("the drawing must be a PNG image")
    if len(data) > MAX_PNG_BYTES:
        raise ClassDataError(f"the drawing is larger than {MAX_PNG_BYTES // 1024} kB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            to_mnist(image)
    except EmptyDrawingError:
        raise ClassDataError("the drawing is empty: draw the digit first") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ClassDataError("the drawing could not be read as a PNG image") from None
    return data


@contextmanager
def connect(path: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """An open database with the schema in place, in WAL mode; closed on exit."""
    path = Path(path)
    if path.is_dir():
        raise ClassDataError(f"{path} is a folder, not a database file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ClassDataError(f"{path} is not a usable class database ({exc})") from None
        yield connection


def add_drawing(
    path: str | os.PathLike[str], png: bytes, label: int, writer: str, class_code: str
) -> int:
    """Store one drawing and return its id. Checks everything before writing."""
    row = (check_name(class_code, "class"), check_name(writer, "writer"), check_label(label))
    png = check_png(png)
    created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    with connect(path) as connection, connection:
        cursor = connection.execute(
            "INSERT INTO drawings (class, writer, label, png, created) VALUES (?, ?, ?, ?, ?)",
            (*row, png, created),
        )
        return int(cursor.lastrowid)


def count_drawings(path: str | os.PathLike[str], class_code: str | None = None) -> int:
    with connect(path) as connection:
        if class_code is None:
            return connection.execute("SELECT COUNT(*) FROM drawings").fetchone()[0]
        query = "SELECT COUNT(*) FROM drawings WHERE class = ?"
        return connection.execute(query, (class_code,)).fetchone()[0]


def _rows(path: str | os.PathLike[str], class_code: str | None) -> list[tuple]:
    if not Path(path).is_file():
        raise ClassDataError(f"no class database at {path}")
    query = "SELECT id, class, writer, label, png, created FROM drawings"
    arguments: tuple = ()
    if class_code is not None:
        query += " WHERE class = ?"
        arguments = (check_name(class_code, "class"),)
    with connect(path) as connection:
        return connection.execute(query + " ORDER BY id", arguments).fetchall()


def load_class_set(path: str | os.PathLike[str], class_code: str | None = None) -> ClassSet:
    """The drawings in a database, or in an `.npz` made by `export`, through `to_mnist`."""
    path = Path(path)
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                return ClassSet(npz["images"], npz["labels"], npz["writers"], npz["ids"])
        except (OSError, KeyError, ValueError) as exc:
            raise ClassDataError(
                f"{path} is not a class set exported by digitrec ({exc})"
            ) from None
    rows = _rows(path, class_code)
    images = [to_mnist(Image.open(io.BytesIO(row[4]))) for row in rows]
    return ClassSet(
        np.stack(images) if images else np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.float32),
        np.array([row[3] for row in rows], dtype=np.int64),
        np.array([f"{row[1]}/{row[2]}" for row in rows], dtype=str),
        np.array([row[0] for row in rows], dtype=np.int64),
    )


def export(
    path: str | os.PathLike[str], out: str | os.PathLike[str], class_code: str | None = None
) -> int:
    """Write the drawings to `out`: a `.npz` file, or a new folder of PNGs plus `index.csv`.

    Never overwrites: the `.npz` or the folder must not exist yet. Returns how many drawings
    were written.
    """
    out = Path(out)
    if out.exists():
        raise ClassDataError(f"{out} already exists; choose a new name (nothing is overwritten)")
    if out.suffix == ".npz":
        data = load_class_set(path, class_code)
        temp = out.with_name(f".{out.name}.tmp")
        with open(temp, "wb") as handle:
            np.savez_compressed(
                handle, images=data.images, labels=data.labels, writers=data.writers, ids=data.ids
            )
        os.replace(temp, out)
        return len(data)
    rows = _rows(path, class_code)
    out.mkdir(parents=True)
    with open(out / INDEX, "w", newline="", encoding="utf-8") as handle:
        index = csv.writer(handle)
        index.writerow(["file", "label", "class", "writer", "created"])
        for row_id, class_name, writer, label, png, created in rows:
            name = Path(str(label)) / f"{row_id:07d}.png"
            (out / name.parent).mkdir(exist_ok=True)
            (out / name).write_bytes(png)
            index.writerow([name.as_posix(), label, class_name, writer, created])
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m digitrec.classdata", description="A class's drawings: stats and export."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser("stats", help="how many drawings, per class, writer and digit")
    stats.add_argument("--db", required=True, type=Path)
    out = commands.add_parser("export", help="to a new folder of PNGs, or to a .npz file")
    out.add_argument("--db", required=True, type=Path)
    out.add_argument("--out", required=True, type=Path)
    out.add_argument("--class", dest="class_code", default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            written = export(args.db, args.out, args.class_code)
            print(f"exported {written} drawings to {args.out}")
        else:
            rows = _rows(args.db, None)
            print(f"{len(rows)} drawings in {args.db}")
            counts: dict[tuple[str, str], np.ndarray] = {}
            for _, class_name, writer, label, _, _ in rows:
                counts.setdefault((class_name, writer), np.zeros(NUM_CLASSES, int))[label] += 1
            for (class_name, writer), per_digit in sorted(counts.items()):
                digits = " ".join(map(str, per_digit))
                print(f"  {class_name} / {writer}: {per_digit.sum()} (0-9: {digits})")
    except ClassDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
