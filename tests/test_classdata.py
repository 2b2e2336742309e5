"""The class's drawings: a real SQLite file, append-only, validated, exported and read back."""

from __future__ import annotations

import io
import re
import sqlite3
import subprocess
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from digitrec import classdata
from digitrec.classdata import ClassDataError, add_drawing, count_drawings, export, load_class_set
from digitrec.my_digits import load_my_digits
from digitrec.preprocess import to_mnist
from digitrec.strokes import example_strokes, rasterise


def png_of(digit: int) -> bytes:
    """A drawing of `digit` from code, as the collect page sends it (ink in alpha)."""
    pixels = rasterise(example_strokes(digit))
    rgba = np.zeros((*pixels.shape, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = pixels
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "class.sqlite"


def test_stores_drawings_and_reads_them_back_through_to_mnist(db):
    ids = [add_drawing(db, png_of(d), d, "Ada", "7b") for d in (3, 1, 4)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    data = load_class_set(db)
    assert data.labels.tolist() == [3, 1, 4]
    assert data.writers.tolist() == ["7b/Ada"] * 3
    expected = to_mnist(Image.open(io.BytesIO(png_of(4))))
    np.testing.assert_array_equal(data.images[2], expected)
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("label", [-1, 10, 3.0, "3", True, None])
def test_rejects_labels_that_are_not_a_digit(db, label):
    with pytest.raises(ClassDataError, match="label must be a whole number from 0 to 9"):
        add_drawing(db, png_of(3), label, "Ada", "7b")
    assert count_drawings(db) == 0


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 41, "a;b", 'say "hi"', "a/b", "../etc", "-dash", None, 7]
)
def test_rejects_names_it_cannot_show_or_store_safely(db, name):
    with pytest.raises(ClassDataError, match="writer must"):
        add_drawing(db, png_of(3), 3, name, "7b")
    assert count_drawings(db) == 0


def test_sql_significant_characters_are_stored_verbatim(db):
    """Parameters, never string building: an apostrophe is just a letter of a name."""
    add_drawing(db, png_of(2), 2, "O'Brien -- drop", "7b'")
    add_drawing(db, png_of(5), 5, "Zoë", "7b'")
    assert load_class_set(db).writers.tolist() == ["7b'/O'Brien -- drop", "7b'/Zoë"]
    assert count_drawings(db) == 2


def test_a_class_code_is_one_class_in_any_case(db, tmp_path):
    add_drawing(db, png_of(1), 1, "Ada", "7B")
    add_drawing(db, png_of(2), 2, "Bo", "7b")
    with sqlite3.connect(db) as connection:  # a row stored as typed, before codes were lowered
        connection.execute(
            "INSERT INTO drawings (class, writer, label, png, created) VALUES (?, ?, ?, ?, ?)",
            ("7B", "Cy", 3, png_of(3), "2026-01-01T00:00:00.000+00:00"),
        )
    connection.close()
    assert count_drawings(db, "7b") == count_drawings(db, "7B") == 3
    assert count_drawings(db, "7b", "cy") == count_drawings(db, "7B", "Ada") == 1
    with pytest.raises(ValueError, match="within a class"):
        count_drawings(db, writer="Ada")
    assert load_class_set(db, "7B").labels.tolist() == [1, 2, 3]
    assert export(db, tmp_path / "7b.npz", class_code="7b") == 3
    assert load_class_set(tmp_path / "7b.npz", "7B").writers.tolist() == [
        "7b/Ada",
        "7b/Bo",
        "7b/Cy",  # stored as "7B", read as the one class
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("प्रिया", "प्रिया"),  # Devanagari: a virama and a vowel sign are marks, not letters
        ("கார்த்திக்", "கார்த்திக்"),
        ("مُحَمَّد", "مُحَمَّد"),
        ("Jose\u0301", "Jos\u00e9"),  # a combining accent, stored as the accented letter
        ("Ａｄａ", "Ada"),  # full-width letters, as some keyboards type them
    ],
)
def test_names_in_any_script_with_their_marks_are_kept(db, typed, stored):
    add_drawing(db, png_of(3), 3, typed, "7b")
    assert load_class_set(db).writers.tolist() == [f"7b/{stored}"]


def test_a_class_code_with_a_dotted_capital_i_is_one_class(db):
    add_drawing(db, png_of(3), 3, "Ada", "İstanbul")
    add_drawing(db, png_of(4), 4, "Bo", "i̇stanbul")
    assert count_drawings(db, "İstanbul") == 2


def test_a_phone_keyboards_apostrophe_is_a_plain_one(db):
    add_drawing(db, png_of(3), 3, "O\u2019Brien", "7b")  # as iOS types it
    add_drawing(db, png_of(4), 4, "O'Brien", "7b")
    assert load_class_set(db).writers.tolist() == ["7b/O'Brien", "7b/O'Brien"]  # one writer


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a png", "must be a PNG"),
        (classdata.PNG_SIGNATURE + b"\x00" * 64, "could not be read"),
        (classdata.PNG_SIGNATURE + b"\x00" * (classdata.MAX_PNG_BYTES + 1), "larger than"),
        ("a string", "must be a PNG"),
    ],
)
def test_rejects_what_is_not_a_small_png(db, data, message):
    with pytest.raises(ClassDataError, match=message):
        add_drawing(db, data, 3, "Ada", "7b")


def test_rejects_an_empty_drawing(db):
    buffer = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(buffer, format="PNG")
    with pytest.raises(ClassDataError, match="empty"):
        add_drawing(db, buffer.getvalue(), 3, "Ada", "7b")


def png(image: Image.Image, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (Image.new("RGBA", (280, 280), (128, 128, 128, 100)), "is 100% ink"),  # a faint veil
        # as opaque as not: a grey page, and nothing on it
        (Image.new("RGBA", (280, 280), (128, 128, 128, 128)), "the drawing is empty"),
        (Image.fromarray(np.random.default_rng(0).integers(0, 256, (280, 280), np.uint8)), "ink"),
        (Image.new("L", (2, 2), 255), "2x2 pixels"),
        (Image.new("L", (10, 3000), 255), "10x3000 pixels"),
    ],
)
def test_a_picture_that_is_no_drawing_is_not_stored(db, image, message):
    """The table keeps every row for good: noise, a filled box or a strip never gets in."""
    with pytest.raises(ClassDataError, match=message):
        add_drawing(db, png(image), 3, "Ada", "7b")
    assert count_drawings(db) == 0


def sheet_with(strokes, pen: float = 18) -> Image.Image:
    return Image.fromarray(rasterise(strokes, pen=pen))


def test_a_tap_or_a_short_dash_is_no_digit_but_a_small_1_is(db):
    """A tap on the sheet is no drawing of the digit asked for; a 1 drawn small still is."""
    for mark in ([[(200, 200)]], [[(200, 200), (215, 204)]]):
        with pytest.raises(ClassDataError, match="only a dot or a short dash"):
            add_drawing(db, png(sheet_with(mark)), 3, "Ada", "7b")
    assert count_drawings(db) == 0
    add_drawing(db, png(sheet_with([[(140, 110), (140, 150)]])), 1, "Ada", "7b")  # 40 px tall
    assert count_drawings(db) == 1


def test_a_drawing_is_stored_upright_and_without_the_senders_metadata(db, tmp_path):
    drawing = Image.open(io.BytesIO(png_of(7)))
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees to show": the app reads it turned, so is it stored
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ada Lovelace, 12 Some Street")
    add_drawing(db, png(drawing, exif=exif, pnginfo=info), 7, "Ada", "7b")
    assert export(db, tmp_path / "out") == 1
    (stored,) = (tmp_path / "out").rglob("*.png")
    assert b"Some Street" not in stored.read_bytes()
    with Image.open(stored) as again:
        assert not again.getexif() and again.size == drawing.size
        expected = ImageOps.exif_transpose(Image.open(io.BytesIO(png(drawing, exif=exif))))
        np.testing.assert_array_equal(np.asarray(again), np.asarray(expected))
        assert not np.array_equal(np.asarray(again), np.asarray(drawing))  # it was turned


def test_the_table_is_append_only(db):
    add_drawing(db, png_of(7), 7, "Ada", "7b")
    with sqlite3.connect(db) as connection:
        for statement in ("UPDATE drawings SET label = 1", "DELETE FROM drawings"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    assert load_class_set(db).labels.tolist() == [7]


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("my lesson notes, not a database" * 100)
    with pytest.raises(ClassDataError, match="not a usable class database"):
        add_drawing(bad, png_of(1), 1, "Ada", "7b")
    assert bad.read_text().startswith("my lesson notes")


def test_a_new_database_another_process_is_setting_up_is_waited_for(db):
    """Workers starting together open one new file: while one holds its write lock creating the
    table, SQLite refuses another's switch to WAL at once ("database is locked"); the other
    waits for it instead of failing."""
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute(classdata.SCHEMA.split(";")[0])  # the table, in a transaction not yet done
    release = threading.Timer(0.5, other.execute, ["COMMIT"])
    release.start()
    try:
        with classdata.connect(db) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert add_drawing(db, png_of(3), 3, "Ada", "7b") > 0
    finally:
        release.join()
        other.close()


def test_concurrent_writers_store_every_drawing_once_while_readers_read(db):
    drawings = {d: png_of(d) for d in range(10)}
    stored: list[int] = []
    errors: list[BaseException] = []
    stop = time.monotonic() + 3.0

    def write(writer: int) -> None:
        try:
            count = 0
            while time.monotonic() < stop:
                digit = count % 10
                stored.append(add_drawing(db, drawings[digit], digit, f"w{writer}", "7b"))
                count += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    reads = 0
    while any(thread.is_alive() for thread in threads):
        count_drawings(db)
        reads += 1
    for thread in threads:
        thread.join()
    assert not errors
    assert reads > 0 and len(stored) >= 8
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id FROM drawings ORDER BY id").fetchall()
    assert sorted(stored) == [row[0] for row in rows]


def test_export_to_a_folder_round_trips_like_my_digits(db, tmp_path):
    for digit in (0, 6, 6, 9):
        add_drawing(db, png_of(digit), digit, "Ada", "7b")
    add_drawing(db, png_of(1), 1, "Bo", "8a")
    out = tmp_path / "export"
    assert export(db, out, class_code="7b") == 4
    mine = load_my_digits(out)
    assert sorted(mine.labels.tolist()) == [0, 6, 6, 9]
    index = (out / classdata.INDEX).read_text(encoding="utf-8").splitlines()
    assert index[0] == "file,label,class,writer,created" and len(index) == 5
    assert all(",7b,Ada," in line for line in index[1:])


def test_export_to_npz_round_trips_and_never_overwrites(db, tmp_path):
    for digit in (2, 3):
        add_drawing(db, png_of(digit), digit, "Ada", "7b")
    out = tmp_path / "set.npz"
    assert export(db, out) == 2
    again = load_class_set(out)
    original = load_class_set(db)
    np.testing.assert_array_equal(again.images, original.images)
    assert again.writers.tolist() == original.writers.tolist()
    before = out.read_bytes()
    with pytest.raises(ClassDataError, match="already exists"):
        export(db, out)
    assert out.read_bytes() == before


def test_a_missing_exported_set_says_where_it_looked_and_how_to_make_one(tmp_path):
    with pytest.raises(ClassDataError, match="no class set at .*gone.npz: export one with"):
        load_class_set(tmp_path / "gone.npz")


def test_a_name_in_any_case_is_one_writer_named_as_first_typed(db, tmp_path, capsys):
    """As for the rate limit, "Zoë" and "ZOË" are one person: a split by writer keeps their
    drawings together, and the stats count them once."""
    for label, name in enumerate(["Zoë", "ZOË", "Bo", "zoë"]):
        add_drawing(db, png_of(label), label, name, "7b")
    assert load_class_set(db).writers.tolist() == ["7b/Zoë", "7b/Zoë", "7b/Bo", "7b/Zoë"]
    assert export(db, tmp_path / "set.npz") == 4
    assert len(set(load_class_set(tmp_path / "set.npz").writers.tolist())) == 2
    assert classdata.main(["stats", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "7b / Zoë: 3 (0-9: 1 1 0 1 0 0 0 0 0 0)" in out and "7b / Bo: 1" in out


def test_a_copy_in_a_folder_no_one_may_write_to_is_read(db, tmp_path):
    """A teacher hands the database out read-only: WAL readers need to create a file beside
    it, which they cannot there, so it is read as it is. `chattr +i` makes the folder one
    even root cannot write to."""
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    shared = tmp_path / "shared"
    shared.mkdir()
    copy = shared / "class.sqlite"
    copy.write_bytes(db.read_bytes())
    locked = subprocess.run(["chattr", "+i", str(shared)], capture_output=True).returncode == 0
    if not locked:
        pytest.skip("chattr cannot make a folder immutable on this file system")
    try:
        with pytest.raises(OSError):
            (shared / "probe").touch()
        assert count_drawings(copy) == 1
        assert load_class_set(copy).labels.tolist() == [8]
        assert export(copy, tmp_path / "set.npz") == 1
    finally:
        subprocess.run(["chattr", "-i", str(shared)], check=True)
    assert sorted(p.name for p in shared.iterdir()) == ["class.sqlite"]


def test_an_npz_in_capitals_is_an_npz_and_a_folder_is_refused_as_a_class_set(db, tmp_path):
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    assert export(db, tmp_path / "Class.NPZ") == 1
    assert load_class_set(tmp_path / "Class.NPZ").labels.tolist() == [8]
    assert export(db, tmp_path / "pngs") == 1
    with pytest.raises(ClassDataError, match="is a folder.*export the class set to a .npz"):
        load_class_set(tmp_path / "pngs")


def test_exporting_nothing_is_an_error_and_writes_nothing(db, tmp_path):
    """A new, empty database (a mistyped path, say) is no class set."""
    with classdata.connect(db):
        pass
    for out in ("set.npz", "pngs"):
        with pytest.raises(ClassDataError, match="holds no drawings yet"):
            export(db, tmp_path / out)
        assert not (tmp_path / out).exists()


def test_an_export_that_cannot_be_written_names_the_file_asked_for(db, tmp_path):
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "set.npz"
    with pytest.raises(ClassDataError, match=f"cannot write {re.escape(str(out))} ") as error:
        export(db, out)
    assert ".tmp" not in str(error.value)


def test_a_damaged_database_is_one_line_on_the_command_line(db, tmp_path, capsys):
    for digit in range(4):
        add_drawing(db, png_of(digit), digit, "Ada", "7b")
    with classdata.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    data[page:] = b"\xff" * (len(data) - page)  # every page but the schema's overwritten
    db.write_bytes(bytes(data))
    for command in (["stats"], ["export", "--out", str(tmp_path / "out.npz")]):
        assert classdata.main([*command, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out.npz").exists()


def test_command_line_exports_and_explains_errors_in_one_line(db, tmp_path, capsys):
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    assert classdata.main(["stats", "--db", str(db)]) == 0
    assert "7b / Ada: 1" in capsys.readouterr().out
    assert classdata.main(["export", "--db", str(db), "--out", str(tmp_path / "o.npz")]) == 0
    assert classdata.main(["export", "--db", str(tmp_path / "missing.sqlite"), "--out", "x"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: no class database at") and "\n" not in error


def test_a_class_that_is_not_there_is_an_error_and_writes_nothing(db, tmp_path, capsys):
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    add_drawing(db, png_of(1), 1, "Bo", "8a")
    for out in (tmp_path / "o.npz", tmp_path / "folder"):
        argv = ["export", "--db", str(db), "--out", str(out), "--class", "9z"]
        assert classdata.main(argv) == 2
        error = capsys.readouterr().err.strip()
        assert "no drawings of class '9z' (its classes: 7b, 8a)" in error and "\n" not in error
        assert not out.exists()  # no empty export left to block the name


def test_an_exported_set_keeps_only_the_class_asked_for(db, tmp_path):
    add_drawing(db, png_of(8), 8, "Ada", "7b")
    add_drawing(db, png_of(1), 1, "Bo", "8a")
    exported = tmp_path / "all.npz"
    assert export(db, exported) == 2
    assert load_class_set(exported, "8a").writers.tolist() == ["8a/Bo"]
    assert export(exported, tmp_path / "7b.npz", class_code="7b") == 1
    with pytest.raises(ClassDataError, match="no drawings of class '9z'"):
        load_class_set(exported, "9z")


@pytest.fixture
def other_program_db(tmp_path):
    """Another program's SQLite file, as a mistyped --db or DIGITREC_CLASSDATA_PATH finds it."""
    path = tmp_path / "gradebook.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE marks (pupil TEXT, mark INTEGER)")
        connection.execute("INSERT INTO marks VALUES ('Ada', 9)")
    connection.close()
    return path


def test_another_programs_database_is_refused_and_left_as_it_was(other_program_db, capsys):
    before = other_program_db.read_bytes()
    with pytest.raises(ClassDataError, match="another program's database .*marks"):
        add_drawing(other_program_db, png_of(1), 1, "Ada", "7b")
    assert classdata.main(["stats", "--db", str(other_program_db)]) == 2
    error = capsys.readouterr().err.strip()
    assert "another program's database" in error and "\n" not in error
    assert other_program_db.read_bytes() == before
    assert sorted(p.name for p in other_program_db.parent.iterdir()) == ["gradebook.sqlite"]


def test_reading_changes_nothing_even_in_an_empty_file(db, tmp_path, capsys):
    db.touch()
    assert classdata.main(["stats", "--db", str(db)]) == 2
    assert "holds no class drawings" in capsys.readouterr().err
    assert db.stat().st_size == 0
    add_drawing(db, png_of(5), 5, "Ada", "7b")  # writing, though, makes it a class database
    assert count_drawings(db) == 1
    assert count_drawings(tmp_path / "not-yet.sqlite") == 0
    assert not (tmp_path / "not-yet.sqlite").exists()


def test_export_makes_the_folder_it_is_asked_to_write_into(db, tmp_path):
    add_drawing(db, png_of(6), 6, "Ada", "7b")
    out = tmp_path / "exports" / "term 1" / "7b.npz"
    assert classdata.main(["export", "--db", str(db), "--out", str(out)]) == 0
    assert load_class_set(out).labels.tolist() == [6]
