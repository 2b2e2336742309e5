"""digitrec.negatives: drawings that are not digits, for the refusal model and its bench."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec import negatives
from digitrec.constants import CANVAS_SIZE, INK_THRESHOLD
from digitrec.preprocess import to_mnist
from digitrec.strokes import STRAIGHTEN, centre_line


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


def test_oblongs_are_never_drawn_taller_than_wide(monkeypatch):
    """A taller oblong is a 0 drawn with straight strokes: no example of a non-digit."""
    kind = "square"
    monkeypatch.setattr(negatives, "NEVER_TALL", frozenset({kind}))
    rng = np.random.default_rng(5)
    extents = [extent(negatives.shape_strokes(kind, rng)) for _ in range(200)]
    assert all(height <= width for width, height in extents)
    assert any(width > 1.3 * height for width, height in extents)  # still stretched, the other way
    for other in ("triangle", "polygon"):  # other shapes may stand tall
        extents = [extent(negatives.shape_strokes(other, rng)) for _ in range(200)]
        assert any(height > width for width, height in extents)
    monkeypatch.setattr(negatives, "NEVER_TALL", frozenset())  # as the shipped judge saw them
    extents = [extent(negatives.shape_strokes(kind, rng)) for _ in range(200)]
    assert any(height > 1.3 * width for width, height in extents)


def extent(strokes) -> np.ndarray:
    """(width, height) of a shape's strokes."""
    return np.ptp(np.concatenate([np.asarray(stroke) for stroke in strokes]), axis=0)


def test_a_glyph_drawn_square_reaches_into_the_corners_of_its_box():
    """A C with square corners, as drawn on graph paper, fills corners a round C cuts."""

    def corners_inked(ink: np.ndarray) -> float:
        rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
        cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
        box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] > 0.5
        k = max(2, int(0.12 * min(box.shape)))
        return np.mean(
            [box[:k, :k].any(), box[:k, -k:].any(), box[-k:, :k].any(), box[-k:, -k:].any()]
        )

    def share(square: bool) -> float:
        return np.mean(
            [
                corners_inked(
                    negatives.draw_glyph(
                        "C",
                        negatives.PILLOW_FONT,
                        np.random.default_rng(seed),
                        pen=8,
                        straighten=0.05 if square else 0.0,
                        square=square,
                    )
                )
                for seed in range(12)
            ]
        )

    assert share(square=False) <= 0.15
    assert share(square=True) >= 0.35


def test_a_share_of_the_training_glyphs_is_drawn_with_straight_strokes(monkeypatch):
    draw, asked = negatives.draw_glyph, []

    def spy(*args, **kwargs):  # the real drawing, how straight and square it was asked to be
        asked.append((kwargs["straighten"], kwargs["square"]))
        return draw(*args, **kwargs)

    monkeypatch.setattr(negatives, "draw_glyph", spy)
    fonts = [negatives.PILLOW_FONT]
    for angular in (0.0, 1.0):
        monkeypatch.setattr(negatives, "ANGULAR_NEGATIVES", angular)
        asked.clear()
        rng = np.random.default_rng(4)
        for _ in range(40):
            negatives._one("glyph", rng, fonts)
        straighten = np.array([a[0] for a in asked])
        square = np.array([a[1] for a in asked])
        if angular:
            low, high = STRAIGHTEN
            assert ((straighten >= low) & (straighten <= high)).all()
            assert 0.2 < square.mean() < 0.8  # about half with square corners
        else:
            assert (straighten == 0).all() and not square.any()


@pytest.mark.parametrize("kind", ["scribble", "cloud", "picture"])
def test_a_shape_drawn_from_point_to_point_keeps_a_few_of_its_points(kind):
    drawn = negatives.shape_strokes(kind, np.random.default_rng(2))
    straight = negatives.shape_strokes(kind, np.random.default_rng(2), straighten=0.05)
    assert len(straight) == len(drawn)
    for curve, polyline in zip(drawn, straight, strict=True):
        points = {tuple(p) for p in curve}
        assert all(tuple(p) in points for p in polyline)  # corners on the drawn line
        assert polyline[0] == tuple(curve[0]) and polyline[-1] == tuple(curve[-1])
    assert sum(map(len, straight)) < sum(map(len, drawn)) / 4


EIGHT = np.ones((3, 3), bool)  # pixels touching at a corner are one piece


def test_a_share_of_the_training_pairs_touch(mnist, monkeypatch):
    """Two digits run into each other are no one digit: with every pair touching, each pair
    the judge is shown is one piece of ink."""
    (x_train, _), _ = mnist
    inks = []
    original = negatives._in_mnist_form
    monkeypatch.setattr(negatives, "_in_mnist_form", lambda ink: inks.append(ink) or original(ink))
    monkeypatch.setattr(negatives, "TRAINING_MIX", {"pair": 1.0})
    monkeypatch.setattr(negatives, "SQUEEZED_PAIRS", 0.0)
    for share in (0.0, 1.0):
        monkeypatch.setattr(negatives, "TOUCHING_PAIRS", share)
        inks.clear()
        whole = [x for x in x_train[:60] if ndimage.label(x > 255 * INK_THRESHOLD, EIGHT)[1] == 1]
        negatives.training_negatives(20, np.random.default_rng(1), whole)
        pieces = [ndimage.label(ink > INK_THRESHOLD, EIGHT)[1] for ink in inks]
        assert len(pieces) == 20
        if share:
            assert pieces == [1] * 20
        else:  # most pairs stand apart, though some overlap
            assert sum(n > 1 for n in pieces) >= 10, pieces


def test_a_share_of_the_training_pairs_is_squeezed_narrow(mnist, monkeypatch):
    """Two digits written narrow, about as wide as one: as tall as the pair, half as wide."""
    (x_train, _), _ = mnist
    pairs, inks = [], []
    pair, original = negatives.digit_pair, negatives._in_mnist_form
    monkeypatch.setattr(
        negatives, "digit_pair", lambda *a, **k: pairs.append(pair(*a, **k)) or pairs[-1]
    )
    monkeypatch.setattr(negatives, "_in_mnist_form", lambda ink: inks.append(ink) or original(ink))
    monkeypatch.setattr(negatives, "TRAINING_MIX", {"pair": 1.0})
    monkeypatch.setattr(negatives, "SQUEEZE", (0.5, 0.5))
    for share in (0.0, 1.0):
        monkeypatch.setattr(negatives, "SQUEEZED_PAIRS", share)
        pairs.clear(), inks.clear()
        negatives.training_negatives(10, np.random.default_rng(2), list(x_train[:20]))
        assert len(pairs) == len(inks) == 10
        for drawn, shown in zip(pairs, inks, strict=True):
            assert shown.shape[0] == drawn.shape[0]
            assert shown.shape[1] == (round(drawn.shape[1] / 2) if share else drawn.shape[1])
