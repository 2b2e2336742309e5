"""A class's drawings as a data set: one SQLite file, append-only, exported for the lesson.

The web app's collect page (`/collect`) stores each drawing a learner makes, with the digit
they were asked for, the name they chose and their class code. A teacher then exports the set
to a folder of PNGs laid out like `data/my_digits` (`<label>/<file>.png`, so
`digitrec.my_digits.load_my_digits` reads it) plus an index of who drew what, or to one `.npz`
file, and the course measures how well the model reads *this class*, writer by writer.

Why SQLite: one file the teacher can copy, safe with many writers at once (WAL mode lets readers
read while a drawing is written), and nothing to install. The table is append-only: triggers
refuse any UPDATE or DELETE, so a bug or a bad request can never lose a drawing. The rate limit
per writer is counted in the database itself, inside the writing transaction, so it holds
across threads and across the worker processes of a production server alike.

Without a class, `generated_class_set` makes a stand-in: a few imaginary writers, each with a
hand of their own (pen, slant, size, wobble), redrawing MNIST digits; the lesson says when it
uses one.

Command line::

    python -m digitrec.classdata stats  --db class.sqlite
    python -m digitrec.classdata export --db class.sqlite --out class_set/ [--class 7b]
    python -m digitrec.classdata export --db class.sqlite --out class_set.npz
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitrec import command_line, settings, synthetic
from digitrec.constants import CANVAS_SIZE, INK_THRESHOLD, MNIST_SIZE, NUM_CLASSES
from digitrec.preprocess import EmptyDrawingError, extract_ink, to_mnist
from digitrec.refusal import is_dot

# A name or class code: letters (any script, with their accents and vowel signs), digits,
# spaces, '.', "'", '_' and '-', 1-40 long, starting with a letter or digit. Shown back on pages
# and used in exported file names.
NAME_LENGTH = 40
NAME_PUNCTUATION = " .'_-"
MAX_PNG_BYTES = 256 * 1024
# Twice the canvas each way, read from the PNG's header before any pixel is decoded.
MAX_PNG_PIXELS = (2 * CANVAS_SIZE) ** 2
# A drawing with ink on more than this share of it is a filled box or noise, not a digit.
MOSTLY_INK = 0.4
# A drawing whose ink is shorter each way than this many pen widths is a dot or a dash.
DOT = 2.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INDEX = "index.csv"
# Where the web app and the lesson find the class's database (or an exported .npz).
PATH_ENV = "DIGITREC_CLASSDATA_PATH"
RATE_WINDOW = timedelta(minutes=1)
# The class code of a generated stand-in class set.
GENERATED_CLASS = "generated"

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


class DatabaseError(ClassDataError):
    """A class database that cannot be opened or used (not the drawing's fault)."""


class DrawingTooLargeError(ClassDataError):
    """A drawing over `MAX_PNG_BYTES` bytes or `MAX_PNG_PIXELS` pixels."""


class BlankDrawingError(ClassDataError):
    """A drawing with no ink in it."""


class RateLimitError(ClassDataError):
    """A writer who saved their quota of drawings in the last minute; try after `retry_after` s."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


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
    """A valid writer name or class code (stripped), or `ClassDataError` saying what is wrong.

    A typographic apostrophe (as phone keyboards type it: O’Brien) is stored as a plain one,
    and the name in Unicode's NFKC form: "José" typed with a combining accent and "José"
    typed with an accented letter are one name, and so are full-width "Ａｄａ" and "Ada".
    """
    if not isinstance(value, str):
        raise ClassDataError(f"{what} must be a string")
    name = unicodedata.normalize("NFKC", value.strip().replace("\u2019", "'")).strip()
    if not _is_name(name):
        raise ClassDataError(
            f"{what} must be 1-40 letters, digits, spaces, and . ' _ -, "
            "starting with a letter or digit"
        )
    return name


def _is_name(name: str) -> bool:
    def allowed(character: str) -> bool:
        mark = unicodedata.category(character).startswith("M")  # an accent, a vowel sign
        return character.isalnum() or mark or character in NAME_PUNCTUATION

    return 1 <= len(name) <= NAME_LENGTH and name[0].isalnum() and all(map(allowed, name))


def check_class_code(value: object) -> str:
    """A valid class code, in lower case: a class told to type "7b" also types "7B", and both
    are one class. Codes stored before were kept as typed; queries match them in any case
    (SQLite folds ASCII letters only, so an old "Ä1" is not "ä1")."""
    return check_name(value, "class").lower()


def check_label(value: object) -> int:
    """A label 0-9 (an int, not a bool, float or string), or `ClassDataError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < NUM_CLASSES:
        raise ClassDataError("label must be a whole number from 0 to 9")
    return value


def check_png(data: object) -> bytes:
    """The PNG to store: bytes that Pillow can read, within the size limits, that hold a
    drawing (some ink, not mostly ink, at least MNIST's size each way).

    The pixel count is read from the header before any pixel is decoded, so a small file
    that claims to be a huge image costs nothing. What is stored is the picture encoded
    again, upright: the pixels the app would read, and none of the sender's metadata (text
    chunks, EXIF) in a table nothing can delete from.
    """
    if not isinstance(data, bytes) or not data.startswith(PNG_SIGNATURE):
        raise ClassDataError("the drawing must be a PNG image")
    if len(data) > MAX_PNG_BYTES:
        raise DrawingTooLargeError(f"the drawing is larger than {MAX_PNG_BYTES // 1024} kB")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            width, height = image.size
            if width * height > MAX_PNG_PIXELS:
                raise DrawingTooLargeError(
                    f"the drawing is {width}x{height} pixels; the limit is "
                    f"{MAX_PNG_PIXELS:,} pixels (the canvas is {CANVAS_SIZE}x{CANVAS_SIZE})"
                )
            if min(width, height) < MNIST_SIZE:
                raise ClassDataError(
                    f"the drawing is {width}x{height} pixels, smaller than {MNIST_SIZE}x"
                    f"{MNIST_SIZE}: draw on the {CANVAS_SIZE}x{CANVAS_SIZE} box"
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            ink = extract_ink(upright)[0] > INK_THRESHOLD
            if ink.mean() > MOSTLY_INK:
                raise ClassDataError(
                    f"the drawing is {ink.mean():.0%} ink, not a digit drawn with the pen: "
                    "clear the box and draw again"
                )
            to_mnist(upright)
            _check_not_a_dot(ink)
            stored = io.BytesIO()
            upright.save(stored, "PNG")
    except EmptyDrawingError:
        raise BlankDrawingError("the drawing is empty: draw the digit first") from None
    except ClassDataError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ClassDataError("the drawing could not be read as a PNG image") from None
    return stored.getvalue()


def _check_not_a_dot(ink: np.ndarray) -> None:
    """Refuse a tap or a short dash: ink no longer each way than `DOT` pen widths is no
    digit, however small the digit was drawn (a class's test set keeps only digits)."""
    if is_dot(ink, longest=DOT):
        raise ClassDataError(
            "the drawing is only a dot or a short dash, not a digit: clear the box and draw "
            "the digit larger"
        )


# What `SCHEMA` creates: a database holding anything else belongs to something else.
OWN_OBJECTS = frozenset(
    ("drawings", "drawings_by_class", "drawings_append_only_update", "drawings_append_only_delete")
)


@contextmanager
def connect(path: str | os.PathLike[str], *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """An open class database; closed on exit.

    `write`: create the file and the schema where missing, in WAL mode (storing drawings, the
    app's start). Otherwise open an existing database read-only (stats, export, reading a
    class set): its contents are never changed, though SQLite may leave its `-wal` and `-shm`
    files beside a WAL database. Either way a database that holds other tables is refused, so
    a mistyped path never alters another program's data.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(
            f"{path} is a folder, not a database file (an export to a folder of PNGs is for "
            "people to look at; export the class set to a .npz file for the course to read)"
        )
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        target, uri = str(path), False
    elif not path.is_file():
        raise ClassDataError(f"no class database at {path}")
    else:
        target, uri = f"{path.resolve().as_uri()}?mode=ro", True
    try:
        connection = sqlite3.connect(target, uri=uri, timeout=30)
        if not write and not _readable(connection):
            # A WAL database in a folder this user cannot write to (a copy handed out to
            # read): SQLite cannot make the shared-memory file WAL readers need, so read the
            # file as it is, as nobody else can change it either.
            connection.close()
            connection = sqlite3.connect(f"{target}&immutable=1", uri=True, timeout=30)
    except sqlite3.Error as exc:  # a file this user may not read, say
        raise DatabaseError(f"cannot open {path} ({exc})") from None
    with closing(connection):
        try:
            names = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                )
            }
            if names - OWN_OBJECTS:
                others = ", ".join(sorted(names - OWN_OBJECTS))
                raise DatabaseError(
                    f"{path} is another program's database (it holds {others}); "
                    "give a new file for the class's drawings"
                )
            if write:
                _set_up(connection)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path} is not a usable class database ({exc})") from None
        yield connection


# How long opening a database waits for another connection to let it be set up (the same as
# SQLite's own wait for a lock here).
SET_UP_WAIT = 30.0


def _set_up(connection: sqlite3.Connection) -> None:
    """Put the database in WAL mode and create the schema, where missing. Where another
    connection holds a new database's write lock (the app's workers starting together),
    SQLite answers a change of journal mode with "database is locked" at once instead of
    waiting, so wait here, up to `SET_UP_WAIT` seconds."""
    deadline = time.monotonic() + SET_UP_WAIT
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # kept as it is where WAL cannot be
            connection.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def _readable(connection: sqlite3.Connection) -> bool:
    """Whether a read-only connection can read its database (it cannot open a WAL database
    where it may not create the `-shm` file)."""
    try:
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def add_drawing(
    path: str | os.PathLike[str],
    png: bytes,
    label: int,
    writer: str,
    class_code: str,
    *,
    per_minute: int | None = None,
) -> int:
    """Store one drawing and return its id. Checks everything before writing.

    `per_minute`: refuse (`RateLimitError`) a writer of this class who already saved that many
    drawings in the last minute. The count and the insert happen in one write transaction, so
    concurrent requests cannot slip past the limit together.
    """
    row = (check_class_code(class_code), check_name(writer, "writer"), check_label(label))
    png = check_png(png)
    if per_minute is not None and (isinstance(per_minute, bool) or per_minute < 1):
        raise ValueError(f"per_minute must be a positive whole number, got {per_minute!r}")
    with connect(path) as connection:
        connection.execute("BEGIN IMMEDIATE")  # the write lock, taken before counting
        try:
            now = datetime.now(timezone.utc)
            if per_minute is not None:
                _check_rate(connection, row[0], row[1], per_minute, now)
            cursor = connection.execute(
                "INSERT INTO drawings (class, writer, label, png, created) VALUES (?, ?, ?, ?, ?)",
                (*row, png, _timestamp(now)),
            )
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        return int(cursor.lastrowid)


def _timestamp(moment: datetime) -> str:
    """UTC, ISO 8601 to the millisecond: these sort as text in time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _writer_key(name: str) -> str:
    """Who a stored name is: "Ada" and "ADA" are one writer (names are kept as typed)."""
    return name.casefold()


def _check_rate(
    connection: sqlite3.Connection, class_code: str, writer: str, limit: int, now: datetime
) -> None:
    rows = connection.execute(
        # Plain `=`, so the class index serves it: codes are stored in lower case now, and the
        # window is a minute, long after any row stored as typed.
        "SELECT writer, created FROM drawings WHERE class = ? AND created > ?",
        (class_code, _timestamp(now - RATE_WINDOW)),
    ).fetchall()
    # "Ada" and "ADA" are one writer to the limit (names are kept as typed for the export).
    times = [created for name, created in rows if _writer_key(name) == _writer_key(writer)]
    recent = len(times)
    if recent >= limit:
        free_at = datetime.fromisoformat(min(times)) + RATE_WINDOW
        wait = max(1, math.ceil((free_at - now).total_seconds()))
        raise RateLimitError(
            f"{writer} has saved {recent} drawings in the last minute, the most allowed; "
            f"wait {wait} s and save again",
            retry_after=wait,
        )


def configured_path() -> Path | None:
    """The class set named by `DIGITREC_CLASSDATA_PATH` (a database or an exported `.npz`).

    None when the variable is unset or empty: then there is no class set to read. A relative
    path is taken from the project root, as `make` takes it, so the app and a notebook (whose
    kernel runs in `notebooks/`) find the same file.
    """
    value = os.environ.get(PATH_ENV, "").strip()
    return settings.project_root() / Path(value).expanduser() if value else None


def count_drawings(
    path: str | os.PathLike[str], class_code: str | None = None, writer: str | None = None
) -> int:
    """How many drawings the database holds (none if it is missing): of one class, if given,
    and by one writer of it ("Ada" and "ADA" are one, as for the rate limit)."""
    if writer is not None and class_code is None:
        raise ValueError("a writer is counted within a class: give class_code too")
    if not Path(path).exists():
        return 0
    with connect(path, write=False) as connection:
        if not _has_drawings(connection):  # a new file a first writer has not filled yet
            return 0
        if class_code is None:
            return connection.execute("SELECT COUNT(*) FROM drawings").fetchone()[0]
        code = check_class_code(class_code)
        if writer is None:
            query = "SELECT COUNT(*) FROM drawings WHERE class = ? COLLATE NOCASE"
            return connection.execute(query, (code,)).fetchone()[0]
        key = _writer_key(check_name(writer, "writer"))
        query = "SELECT writer FROM drawings WHERE class = ? COLLATE NOCASE"
        return sum(_writer_key(row[0]) == key for row in connection.execute(query, (code,)))


def _rows(path: str | os.PathLike[str], class_code: str | None) -> list[tuple]:
    query = "SELECT id, class, writer, label, png, created FROM drawings"
    arguments: tuple = ()
    if class_code is not None:
        query += " WHERE class = ? COLLATE NOCASE"
        arguments = (check_class_code(class_code),)
    with connect(path, write=False) as connection:
        if not _has_drawings(connection):
            raise ClassDataError(f"{path} holds no class drawings")
        rows = connection.execute(query + " ORDER BY id", arguments).fetchall()
        if class_code is not None and not rows:
            classes = [row[0] for row in connection.execute("SELECT DISTINCT class FROM drawings")]
            raise ClassDataError(_no_such_class(path, class_code, classes))
    return rows


def _no_such_class(path: str | os.PathLike[str], class_code: str, classes: list[str]) -> str:
    """The error for a class a database (or an exported set) holds no drawings of."""
    known = ", ".join(sorted(classes)) or "none"
    return f"{path} holds no drawings of class {class_code!r} (its classes: {known})"


def _has_drawings(connection: sqlite3.Connection) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drawings'"
    return connection.execute(query).fetchone() is not None


def load_class_set(path: str | os.PathLike[str], class_code: str | None = None) -> ClassSet:
    """The drawings in a database, or in an `.npz` made by `export`, through `to_mnist`."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise ClassDataError(
                f"no class set at {path.resolve()}: export one with `python -m "
                "digitrec.classdata export --db DATABASE --out FILE.npz`"
            )
        try:
            with np.load(path, allow_pickle=False) as npz:
                exported = ClassSet(npz["images"], npz["labels"], npz["writers"], npz["ids"])
        except (OSError, KeyError, ValueError) as exc:
            raise ClassDataError(
                f"{path} is not a class set exported by digitrec ({exc})"
            ) from None
        if class_code is None:
            return exported
        # Each writer is "class/writer": keep the class asked for.
        classes = [str(writer).split("/")[0] for writer in exported.writers]
        keep = np.char.lower(np.array(classes, dtype=str)) == check_class_code(class_code)
        if not keep.any():
            raise ClassDataError(_no_such_class(path, class_code, sorted(set(classes))))
        return ClassSet(
            exported.images[keep], exported.labels[keep], exported.writers[keep], exported.ids[keep]
        )
    rows = _rows(path, class_code)
    images = [to_mnist(Image.open(io.BytesIO(row[4]))) for row in rows]
    return ClassSet(
        np.stack(images) if images else np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.float32),
        np.array([row[3] for row in rows], dtype=np.int64),
        np.array(_writers(rows), dtype=str),
        np.array([row[0] for row in rows], dtype=np.int64),
    )


def _writers(rows: list[tuple]) -> list[str]:
    """Each row's writer as "class/writer": a class in any case is one class, and "Ada" and
    "ADA" are one writer (as for the rate limit), named as first typed; so a split by writer
    never puts one person on both sides."""
    first: dict[tuple[str, str], str] = {}
    names = []
    for row in rows:
        class_code, writer = row[1].lower(), row[2]
        name = first.setdefault((class_code, _writer_key(writer)), writer)
        names.append(f"{class_code}/{name}")
    return names


@dataclass(frozen=True)
class Hand:
    """One imaginary writer's way of drawing: pen width (canvas px), slant (degrees,
    anticlockwise), how much the strokes wobble (MNIST px) and the digit's height range."""

    pen: float
    slant: float
    wobble: float
    heights: tuple[int, int]


def random_hand(rng: np.random.Generator) -> Hand:
    """A hand of its own: thin to thick pen, upright to strongly slanted, neat to sloppy."""
    low = int(rng.integers(110, 200))
    return Hand(
        pen=float(rng.uniform(8.0, 30.0)),
        slant=float(rng.uniform(-25.0, 25.0)),
        wobble=float(rng.uniform(0.0, 2.5)),
        heights=(low, int(min(CANVAS_SIZE, low + 60))),
    )


def generated_class_set(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    writers: int = 6,
    per_digit: int = 2,
    seed: int = 0,
) -> ClassSet:
    """A stand-in class: `writers` imaginary learners, each drawing every digit `per_digit` times.

    Each writer has one `random_hand`, and redraws MNIST digits from `digits` (uint8, (N, 28,
    28), with their `labels`) in it with `synthetic.redraw_digit`, each a little turned and
    placed at random; the drawings then go through `to_mnist` like real ones. No source digit
    is used twice. Writers are named "generated/writer 01", ...; `ids` are the indices of the
    source digits in `digits`, so a lesson can keep them out of any test it runs on `digits`.
    """
    digits, labels = np.asarray(digits), np.asarray(labels)
    if digits.ndim != 3 or digits.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"digits must have shape (N, 28, 28), got {digits.shape}")
    if labels.shape != (len(digits),):
        raise ValueError(f"labels must have shape ({len(digits)},), got {labels.shape}")
    if writers < 1 or per_digit < 1:
        raise ValueError("writers and per_digit must be at least 1")
    rng = np.random.default_rng(seed)
    pools = {d: list(rng.permutation(np.flatnonzero(labels == d))) for d in range(NUM_CLASSES)}
    short = [d for d, pool in pools.items() if len(pool) < writers * per_digit]
    if short:
        raise ValueError(
            f"not enough source digits for {writers} writers x {per_digit}: too few of {short}"
        )
    images, names, sources = [], [], []
    for number in range(1, writers + 1):
        hand = random_hand(rng)
        for digit in np.repeat(np.arange(NUM_CLASSES), per_digit):
            source = int(pools[int(digit)].pop())
            height = int(rng.integers(hand.heights[0], hand.heights[1] + 1))
            top, left = (int(rng.integers(0, CANVAS_SIZE - height + 1)) for _ in range(2))
            ink = synthetic.redraw_digit(
                digits[source],
                height,
                top,
                left,
                pen=hand.pen,
                rotation=hand.slant + float(rng.normal(0.0, 3.0)),
                wobble=hand.wobble,
                rng=rng,
            )
            images.append(to_mnist(synthetic.render(ink, synthetic.WHITE_ON_BLACK)))
            names.append(f"{GENERATED_CLASS}/writer {number:02d}")
            sources.append(source)
    sources_array = np.array(sources, dtype=np.int64)
    return ClassSet(
        np.stack(images),
        labels[sources_array].astype(np.int64),
        np.array(names, dtype=str),
        sources_array,
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
    if out.suffix.lower() == ".npz":
        data = load_class_set(path, class_code)
        _check_some(path, len(data))
        temp = out.with_name(f".{out.name}.tmp")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as handle:
                np.savez_compressed(
                    handle,
                    images=data.images,
                    labels=data.labels,
                    writers=data.writers,
                    ids=data.ids,
                )
            os.replace(temp, out)
        except OSError as exc:  # the error would name the temporary file
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise ClassDataError(f"cannot write {out} ({exc.strerror or exc})") from None
        return len(data)
    rows = _rows(path, class_code)
    _check_some(path, len(rows))
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


def _check_some(path: str | os.PathLike[str], count: int) -> None:
    """An export of nothing is a mistake (a new database at a mistyped path, say): say so."""
    if count == 0:
        raise ClassDataError(
            f"{path} holds no drawings yet: nothing to export (is it the database the app "
            "writes? it says which at start)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(
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
            counts: dict[str, np.ndarray] = {}
            for writer, row in zip(_writers(rows), rows, strict=True):
                counts.setdefault(writer, np.zeros(NUM_CLASSES, int))[row[3]] += 1
            for writer, per_digit in sorted(counts.items()):
                digits = " ".join(map(str, per_digit))
                print(f"  {writer.replace('/', ' / ', 1)}: {per_digit.sum()} (0-9: {digits})")
    except (ClassDataError, OSError) as exc:  # OSError: a folder that cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # a damaged file: SQLite finds out as it reads
        print(f"error: {args.db} cannot be read as a class database ({exc})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
