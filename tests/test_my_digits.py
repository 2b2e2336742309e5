"""The learner's own-handwriting dataset: append-only, atomic saves, loaded back as arrays."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from digitrec import my_digits, synthetic
from digitrec.preprocess import EmptyDrawingError


@pytest.fixture
def drawing(mnist) -> np.ndarray:
    """A real MNIST 3 redrawn on a 280x280 canvas with the pad's pen, as RGBA."""
    (x_train, y_train), _ = mnist
    three = x_train[np.flatnonzero(y_train == 3)[0]]
    ink = synthetic.redraw_digit(three, height=200, top=40, left=40)
    return synthetic.render(ink, synthetic.WHITE_ON_BLACK)


def test_save_then_load_round_trips_pixels_and_label(tmp_path, drawing):
    path = my_digits.save_drawing(drawing, 3, tmp_path)

    assert path.parent == tmp_path / "3"
    assert path.suffix == ".png"
    loaded = my_digits.load_my_digits(tmp_path)
    assert len(loaded) == 1
    assert loaded.labels.tolist() == [3]
    assert loaded.paths == (path,)
    assert loaded.images.shape == (1, 280, 280)
    assert loaded.images.dtype == np.uint8
    np.testing.assert_array_equal(loaded.images[0], drawing[..., 0])


def test_saving_appends_and_never_overwrites(tmp_path, drawing):
    first = my_digits.save_drawing(drawing, 7, tmp_path)
    before = first.read_bytes()
    others = [my_digits.save_drawing(drawing[:, ::-1], 7, tmp_path) for _ in range(5)]

    assert len({first, *others}) == 6
    assert first.read_bytes() == before
    assert my_digits.count_my_digits(tmp_path)[7] == 6
    assert len(my_digits.load_my_digits(tmp_path)) == 6


def test_labels_come_back_in_order_with_their_images(tmp_path, drawing):
    for label in (5, 0, 9, 5):
        my_digits.save_drawing(drawing, label, tmp_path)

    loaded = my_digits.load_my_digits(tmp_path)
    assert loaded.labels.tolist() == [0, 5, 5, 9]
    assert [int(path.parent.name) for path in loaded.paths] == [0, 5, 5, 9]


def test_half_written_temp_file_and_hidden_files_are_ignored(tmp_path, drawing):
    saved = my_digits.save_drawing(drawing, 2, tmp_path)
    # What a kernel killed mid-save leaves behind: a truncated temp file, never a .png.
    temp = saved.parent / f".{saved.stem}-dead{my_digits.SUFFIX}{my_digits.TEMP_SUFFIX}"
    temp.write_bytes(saved.read_bytes()[:100])
    (saved.parent / ".hidden.png").write_bytes(b"not a png")

    loaded = my_digits.load_my_digits(tmp_path)
    assert loaded.paths == (saved,)
    assert my_digits.count_my_digits(tmp_path)[2] == 1


def test_an_unreadable_png_is_skipped_with_a_warning(tmp_path, drawing):
    good = my_digits.save_drawing(drawing, 4, tmp_path)
    (tmp_path / "4" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")

    with pytest.warns(UserWarning, match="broken.png"):
        loaded = my_digits.load_my_digits(tmp_path)
    assert loaded.paths == (good,)


def test_a_crash_during_save_leaves_no_png_and_no_temp(tmp_path, drawing, monkeypatch):
    def crash(src, dst):
        raise OSError("disk vanished")

    monkeypatch.setattr(my_digits.os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        my_digits.save_drawing(drawing, 1, tmp_path)

    assert list((tmp_path / "1").iterdir()) == []
    assert len(my_digits.load_my_digits(tmp_path)) == 0


def test_missing_folder_is_an_empty_dataset(tmp_path):
    loaded = my_digits.load_my_digits(tmp_path / "nothing-yet")

    assert len(loaded) == 0
    assert loaded.labels.shape == (0,)
    assert loaded.as_mnist().shape == (0, 28, 28)
    assert my_digits.count_my_digits(tmp_path / "nothing-yet") == dict.fromkeys(range(10), 0)


@pytest.mark.parametrize("label", [-1, 10, 3.0, "3", None, True])
def test_a_bad_label_is_refused_before_anything_is_written(tmp_path, drawing, label):
    with pytest.raises(my_digits.MyDigitsError, match="0-9"):
        my_digits.save_drawing(drawing, label, tmp_path)
    assert not any(tmp_path.rglob("*"))


def test_an_empty_drawing_is_refused(tmp_path):
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    with pytest.raises(EmptyDrawingError):
        my_digits.save_drawing(blank, 0, tmp_path)
    assert not any(tmp_path.rglob("*.png"))


def test_as_mnist_prepares_drawings_like_the_model_expects(tmp_path, drawing, predictor):
    my_digits.save_drawing(drawing, 3, tmp_path)

    loaded = my_digits.load_my_digits(tmp_path)
    x = loaded.as_mnist()
    assert x.shape == (1, 28, 28)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x[0], predictor.predict(drawing).image, atol=1e-6)
    assert int(np.argmax(predictor.predict_arrays(x)[0])) == 3


def test_saved_files_are_plain_greyscale_pngs_keras_can_read(tmp_path, drawing):
    path = my_digits.save_drawing(drawing, 8, tmp_path)
    with Image.open(path) as image:
        assert image.mode == "L"
        assert image.size == (280, 280)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_default_folder_is_data_my_digits_under_the_project_root():
    from digitrec import settings

    assert my_digits.default_folder() == settings.project_root() / "data" / "my_digits"
    assert os.fspath(my_digits.FOLDER) == os.path.join("data", "my_digits")
