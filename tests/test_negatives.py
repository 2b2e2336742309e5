"""digitrec.negatives: drawings that are not digits, for the refusal model and its bench."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec import negatives
from digitrec.constants import CANVAS_SIZE, INK_THRESHOLD
from digitrec.preprocess import to_mnist
from digitrec.strokes import centre_line


def stroke_width(ink: np.ndarray) -> float:
    """The pen's width: the ink's area over the length of its centre line."""
    inside = ink > 0.5
    return float(inside.sum() / centre_line(inside).sum())


@pytest.mark.parametrize("kind", [*negatives.SHAPES, *negatives.UNSEEN_SHAPES])
def test_every_shape_is_drawn_on_the_canvas_at_a_size_people_draw(kind, rng):
    ink = negatives.draw_shape(kind, rng, pen=18)
    assert ink.shape == (CANVAS_SIZE, CANVAS_SIZE) and ink.dtype == np.float32
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    longer = max(rows[-1] - rows[0], cols[-1] - cols[0])
    assert 60 <= longer <= 260  # about 70-200 px (more for close strokes), plus the pen
    assert to_mnist(ink).max() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["square", "triangle", "cross", "star"])
@pytest.mark.parametrize("pen", [8, 18, 30])
def test_shapes_are_drawn_with_the_pen_given(kind, pen, rng):
    assert abs(stroke_width(negatives.draw_shape(kind, rng, pen=pen)) - pen) <= 0.25 * pen + 1


def test_shapes_vary_from_one_drawing_to_the_next(rng):
    first, second = (negatives.draw_shape("star", rng) for _ in range(2))
    assert np.abs(to_mnist(first) - to_mnist(second)).mean() > 0.02


def test_an_unknown_shape_is_named_in_the_error(rng):
    with pytest.raises(ValueError, match="unknown shape 'circle'"):
        negatives.draw_shape("circle", rng)


def test_no_glyph_that_reads_as_a_digit_is_a_negative():
    glyphs = set(negatives.LETTERS + negatives.SYMBOLS)
    assert glyphs and not glyphs & negatives.DIGIT_LOOKALIKES
    assert set("OlISZBgqb") <= negatives.DIGIT_LOOKALIKES


def test_glyphs_are_redrawn_with_an_even_pen_in_pillows_own_font(rng):
    ink = negatives.draw_glyph("K", negatives.PILLOW_FONT, rng, pen=18)
    assert ink.shape == (CANVAS_SIZE, CANVAS_SIZE)
    assert abs(stroke_width(ink) - 18) <= 4
    as_printed = negatives.draw_glyph("K", negatives.PILLOW_FONT, rng, redraw=False)
    assert as_printed.max() > 0.5


def test_training_fonts_never_include_handwriting_fonts():
    training = negatives.training_fonts()
    assert training[0] == negatives.PILLOW_FONT
    assert not set(training) & set(negatives.handwriting_fonts())


def test_a_pair_puts_two_digits_side_by_side(mnist, rng):
    (x_train, _), _ = mnist
    pair = negatives.digit_pair(x_train[0], x_train[1], rng, gap=(0.3, 0.3))
    _, count = ndimage.label(pair > 0.5, structure=np.ones((3, 3)))
    assert count >= 2
    assert pair.shape[1] > pair.shape[0]
    squeezed = negatives.digit_pair(x_train[0], x_train[1], rng, gap=(-0.15, -0.15))
    assert squeezed.shape[1] < pair.shape[1]


def test_a_touching_pair_is_one_piece_of_ink(mnist, rng):
    (x_train, _), _ = mnist
    for _ in range(5):
        pair = negatives.digit_pair(x_train[2], x_train[3], rng, touching=1.0)
        _, count = ndimage.label(pair > INK_THRESHOLD, structure=np.ones((3, 3)))
        assert count == 1


def test_a_pair_needs_ink(rng):
    with pytest.raises(ValueError, match="no ink"):
        negatives.digit_pair(np.zeros((28, 28), np.uint8), np.ones((28, 28)), rng)


def test_training_negatives_are_mnist_images_of_known_kinds(mnist):
    (x_train, _), _ = mnist
    digits = list(x_train[:20])
    images, kinds = negatives.training_negatives(60, np.random.default_rng(3), digits)
    assert images.shape == (60, 28, 28) and images.dtype == np.float32
    assert set(kinds) <= {*negatives.SHAPES, "letter", "symbol", "pair", "combo"}
    assert {"pair", "letter", "picture"} <= set(kinds)
    assert not set(kinds) & set(negatives.UNSEEN_SHAPES)  # kept for evaluation only
    again, _ = negatives.training_negatives(60, np.random.default_rng(3), digits)
    np.testing.assert_array_equal(images, again)
    _, with_turns = negatives.training_negatives(
        60, np.random.default_rng(3), digits, turnable=digits
    )
    assert "turned" in set(with_turns)


def test_ink_along_the_small_canvas_edge_is_still_ink():
    """A square drawn along the training canvas's edge: its border is mostly ink, which
    `to_mnist` alone would take for a white page (and find nothing drawn on it)."""
    size = negatives.TRAINING_CANVAS
    ink = np.zeros((size, size), np.float32)
    ink[:6], ink[-6:], ink[:, :6], ink[:, -6:] = 1.0, 1.0, 1.0, 1.0
    image = negatives._in_mnist_form(ink)
    rows = np.flatnonzero(image.max(axis=1) > 0.5)
    cols = np.flatnonzero(image.max(axis=0) > 0.5)
    assert rows[-1] - rows[0] >= 18 and cols[-1] - cols[0] >= 18  # the whole frame
    assert image[11:17, 11:17].max() < 0.1  # and no ink in its middle


def test_a_check_mark_and_a_crescent_are_kept_for_evaluation():
    """Held-out drawers' pads read both as a 0 or a 6: the bench measures them on the judge,
    which never trains on them."""
    assert {"tick", "moon"} <= set(negatives.UNSEEN_SHAPES)
    assert not {"tick", "moon"} & set(negatives.SHAPES)


@pytest.mark.parametrize("seed", range(20))
def test_a_crescent_is_closed_and_thick_and_a_tick_is_no_slash(seed):
    rng = np.random.default_rng(seed)
    (moon,) = negatives._moon(rng)
    points = np.asarray(moon)
    assert np.isfinite(points).all()
    np.testing.assert_allclose(points[0], points[-1], atol=1e-6)  # the two arcs meet
    middle = np.abs(points[:, 1]) < 0.15  # points of both arcs near the middle row
    assert np.ptp(points[middle, 0]) >= 0.45  # at least about half the radius thick
    (tick,) = negatives._tick(rng)
    start, foot, end = np.asarray(tick)
    short, long = np.hypot(*(foot - start)), np.hypot(*(end - foot))
    assert short >= 0.3 * long and foot[1] > max(start[1], end[1])  # a V, not a /


def test_training_negatives_go_through_the_blank_rim(mnist, monkeypatch):
    (x_train, _), _ = mnist
    prepared = []
    original = negatives._in_mnist_form
    monkeypatch.setattr(
        negatives, "_in_mnist_form", lambda ink: prepared.append(ink.shape) or original(ink)
    )
    negatives.training_negatives(12, np.random.default_rng(0), list(x_train[:10]))
    assert len(prepared) == 12
