"""digitrec.synthetic: redrawn digits look like drawings of the same digit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec import synthetic
from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.preprocess import extract_ink, to_mnist
from digitrec.strokes import centre_line


@pytest.fixture(scope="module")
def seven(mnist):
    (_, _), (x_test, y_test) = mnist
    assert y_test[0] == 7
    return x_test[0]


def stroke_width(ink: np.ndarray) -> float:
    """Typical width: twice the distance to the edge, measured along the centre line."""
    inside = ink > 0.5
    depth = ndimage.distance_transform_edt(inside)
    return 2 * float(np.median(depth[centre_line(inside)]))


def test_redraw_uses_a_fixed_pen_whatever_the_size(seven):
    small = synthetic.redraw_digit(seven, 100, 10, 10)
    large = synthetic.redraw_digit(seven, 270, 5, 5)
    assert small.shape == large.shape == (CANVAS_SIZE, CANVAS_SIZE)
    assert abs(stroke_width(small) - PEN_WIDTH) <= 3 and abs(stroke_width(large) - PEN_WIDTH) <= 3
    rows = np.flatnonzero(large.max(axis=1) > 0.5)
    assert 150 < rows[-1] - rows[0] < 230  # ink is about 5/7 of the field


def test_a_straightened_digit_is_straight_strokes_with_the_same_pen_and_place(mnist):
    (_, _), (x_test, y_test) = mnist
    zero = x_test[int(np.flatnonzero(y_test == 0)[0])]
    rng = np.random.default_rng(0)
    traced = synthetic.redraw_digit(zero, 200, 40, 40)
    straight = synthetic.redraw_digit(zero, 200, 40, 40, straighten=0.05, rng=rng)
    boxy = synthetic.redraw_digit(zero, 200, 40, 40, straighten=0.05, square=True, rng=rng)
    for ink in (straight, boxy):
        assert ink.shape == traced.shape and ink.dtype == np.float32 and ink.max() <= 1.0
        assert abs(stroke_width(ink) - PEN_WIDTH) <= 3
        # the same digit in the same place: the boxes of the ink nearly agree
        assert np.abs(np.subtract(box(ink), box(traced))).max() <= 0.1 * 200
    # straight strokes: on the 0's centre line, the direction changes at a few corners only
    assert turns(straight) < turns(traced)
    # square corners: the ink fills its box's edges, as an oblong does and an oval does not
    assert edge_share(boxy) > edge_share(traced) + 0.1


def box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    return rows[0], cols[0], rows[-1], cols[-1]


def turns(ink: np.ndarray) -> int:
    """How many centre-line pixels have neighbours in a direction unlike the line's at them:
    a rough count of where a line bends (a curve bends everywhere, a polygon at corners)."""
    line = centre_line(ink > 0.5).astype(float)
    straight = [np.ones((1, 3)), np.ones((3, 1)), np.eye(3), np.fliplr(np.eye(3))]
    along = [ndimage.convolve(line, k, mode="constant") * line for k in straight]
    return int(np.count_nonzero(line.astype(bool) & (np.max(along, axis=0) < 3)))


def edge_share(ink: np.ndarray) -> float:
    """The share of the ink's box's edge band (a tenth of its size) that holds ink."""
    top, left, bottom, right = box(ink)
    inside = ink[top : bottom + 1, left : right + 1] > 0.5
    band = max(2, (bottom - top) // 10)
    edge = np.ones_like(inside)
    edge[band:-band, band:-band] = False
    return float(inside[edge].mean())


def test_pen_width_follows_the_argument(seven):
    assert stroke_width(synthetic.redraw_digit(seven, 200, 40, 40, pen=6)) < 9
    assert stroke_width(synthetic.redraw_digit(seven, 200, 40, 40, pen=32)) > 28


def test_rotation_tilts_the_digit(seven):
    upright = to_mnist(synthetic.redraw_digit(seven, 200, 40, 40))
    tilted = to_mnist(synthetic.redraw_digit(seven, 200, 40, 40, rotation=15))
    assert np.abs(upright - tilted).mean() > 0.02
    back = ndimage.rotate(tilted, -15, reshape=False, order=1)
    assert np.abs(back - upright).mean() < np.abs(tilted - upright).mean()


def test_wobble_bends_but_keeps_the_digit(seven, predictor):
    rng = np.random.default_rng(0)
    plain = synthetic.redraw_digit(seven, 200, 40, 40)
    sloppy = synthetic.redraw_digit(seven, 200, 40, 40, wobble=2.0, rng=rng)
    assert np.abs(plain - sloppy).mean() > 0.01
    assert predictor.predict(sloppy).digit == 7


def ink_span(ink: np.ndarray) -> tuple[int, int]:
    """The ink's height and width in px."""
    rows, cols = (np.flatnonzero(ink.max(axis=a) > 0.5) for a in (1, 0))
    return rows[-1] - rows[0], cols[-1] - cols[0]


@pytest.mark.parametrize("stretch", [0.6, 1.5])
def test_stretch_changes_the_width_not_the_height(seven, stretch):
    height, width = ink_span(synthetic.redraw_digit(seven, 180, 50, 50))
    new_height, new_width = ink_span(synthetic.redraw_digit(seven, 180, 50, 50, stretch=stretch))
    assert abs(new_height - height) <= 3
    # The pen keeps its width, so the ink's width scales a little less than the strokes do.
    assert new_width == pytest.approx(width * stretch, rel=0.15)


def test_a_stretch_turns_with_the_tilt_the_same_way(seven):
    tilted = synthetic.redraw_digit(seven, 180, 50, 50, rotation=15)
    both = synthetic.redraw_digit(seven, 180, 50, 50, rotation=15, stretch=1.0001)
    assert np.abs(both - tilted).mean() < 0.002
    other_way = synthetic.redraw_digit(seven, 180, 50, 50, rotation=-15, stretch=1.0001)
    assert np.abs(other_way - tilted).mean() > 0.02


def test_a_stretch_that_is_not_positive_is_rejected(seven):
    with pytest.raises(ValueError, match="stretch"):
        synthetic.redraw_digit(seven, 180, 50, 50, stretch=0)


def test_rotated_digits_near_the_edge_are_cropped_not_wrapped(seven):
    ink = synthetic.redraw_digit(seven, 200, 0, 0, rotation=15)
    assert ink.shape == (CANVAS_SIZE, CANVAS_SIZE) and ink[:, -20:].max() == 0


def test_random_placement_stays_on_the_canvas():
    rng = np.random.default_rng(1)
    for _ in range(200):
        height, top, left = synthetic.random_placement(rng)
        assert 100 <= height <= CANVAS_SIZE
        assert 0 <= top <= CANVAS_SIZE - height and 0 <= left <= CANVAS_SIZE - height


@pytest.mark.parametrize("convention", synthetic.CONVENTIONS)
def test_render_round_trips_through_extract_ink(seven, convention):
    ink = synthetic.redraw_digit(seven, 200, 40, 40)
    found, name = extract_ink(synthetic.render(ink, convention))
    assert name == convention and np.abs(found - ink).max() < 0.01


def test_render_rejects_unknown_conventions():
    with pytest.raises(ValueError, match="unknown convention"):
        synthetic.render(np.zeros((4, 4)), "green-on-pink")


def test_a_flag_goes_down_to_the_left_from_the_top_of_a_one(mnist):
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(0)
    for one in x_test[y_test == 1][:20] / 255.0:
        flagged = synthetic.add_flag(one, rng)
        added = (flagged > 0.5) & ~(one > 0.5)
        assert added.any() and (flagged >= one).all()
        rows = np.flatnonzero((one > 0.5).any(axis=1))
        top_cols = np.flatnonzero(one[rows[0]] > 0.5)
        ys, xs = np.nonzero(added)
        # below the top, and reaching further left than the top of the stroke
        assert ys.min() >= rows[0] - 1 and xs.min() < top_cols.min()
    assert not synthetic.add_flag(np.zeros((28, 28)), rng).any()


def test_a_slash_crosses_a_zero_through_its_middle_rising_to_the_right(mnist):
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(0)
    for zero in x_test[y_test == 0][:20] / 255.0:
        slashed = synthetic.add_slash(zero, rng)
        added = (slashed > 0.5) & ~(zero > 0.5)
        assert (slashed >= zero).all()
        # the slash crosses the middle of the 0's box, where a 0 has its hole
        rows, columns = np.flatnonzero((zero > 0.5).any(1)), np.flatnonzero((zero > 0.5).any(0))
        middle = (rows[0] + rows[-1]) // 2, (columns[0] + columns[-1]) // 2
        assert slashed[middle] > 0.5
        # rising to the right: its lowest ink lies left of its highest
        ys, xs = np.nonzero(added)
        assert xs[ys == ys.max()].mean() < xs[ys == ys.min()].mean()
    assert not synthetic.add_slash(np.zeros((28, 28)), rng).any()


def test_a_dot_sits_in_a_zeros_hole_apart_from_its_ring(mnist):
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(0)
    dotted = 0
    for zero in (x_test[y_test == 0][:30] / 255.0).astype(np.float32):
        marked = synthetic.add_dot(zero, rng)
        assert (marked >= zero).all()
        ring = zero > 0.5
        added = (marked > 0.5) & ~ring
        if not added.any():  # a hole too small for a dot: left as it was
            assert np.array_equal(marked, zero)
            continue
        dotted += 1
        hole = ndimage.binary_fill_holes(ring) & ~ring
        assert hole[added].all()  # all inside the hole
        assert ndimage.label(marked > 0.5)[1] == ndimage.label(ring)[1] + 1  # a piece of its own
    assert dotted >= 20
    one = np.zeros((28, 28), np.float32)
    one[4:24, 13:15] = 1.0  # no hole, no dot
    assert np.array_equal(synthetic.add_dot(one, rng), one)


@pytest.mark.parametrize(
    ("mark_some", "digit"), [(synthetic.flag_ones, 1), (synthetic.slash_zeros, 0)]
)
def test_a_share_of_one_digit_is_marked_and_no_other(mnist, mark_some, digit):
    (_, _), (x_test, y_test) = mnist
    x, y = x_test[:500] / 255.0, y_test[:500]
    marked = mark_some(x, y, 0.25, seed=3)
    changed = np.flatnonzero((marked != x).any(axis=(1, 2)))
    assert (y[changed] == digit).all() and len(changed) == round(0.25 * np.sum(y == digit))
    np.testing.assert_array_equal(mark_some(x, y, 0.25, seed=3), marked)
    np.testing.assert_array_equal(mark_some(x[..., None], y, 0.25, seed=3)[..., 0], marked)


@pytest.mark.parametrize(("factor", "kept"), [(0.5, 0), (2.0, 1)])
def test_stretch_some_narrows_at_the_same_height_or_widens_at_the_same_width(mnist, factor, kept):
    """A narrower digit keeps its height, a wider one its width (it loses height instead, so it
    stays in its field); either way the ink's width to height changes by about the factor, and
    the strokes survive (a narrowed stroke is not skipped)."""
    (_, _), (x_test, _) = mnist
    x = x_test[:40] / 255.0
    stretched = synthetic.stretch_some(x, 1.0, seed=0, span=(factor, factor))
    for before, after in zip(x, stretched, strict=True):
        spans, new_spans = ink_span(before), ink_span(after)
        assert abs(new_spans[kept] - spans[kept]) <= 1
        ratio = (new_spans[1] + 1) / (new_spans[0] + 1) / ((spans[1] + 1) / (spans[0] + 1))
        assert ratio == pytest.approx(factor, rel=0.35)
        assert after.max() > 0.9 and (after > 0.5).sum() >= 0.4 * (before > 0.5).sum()


def test_stretch_some_changes_that_share_of_any_digits(mnist):
    (_, _), (x_test, _) = mnist
    x = x_test[:500] / 255.0
    stretched = synthetic.stretch_some(x, 0.3, seed=3)
    assert len(np.flatnonzero((stretched != x).any(axis=(1, 2)))) == 150
    np.testing.assert_array_equal(synthetic.stretch_some(x, 0.3, seed=3), stretched)
    np.testing.assert_array_equal(
        synthetic.stretch_some(x[..., None], 0.3, seed=3)[..., 0], stretched
    )
    with pytest.raises(ValueError, match="span"):
        synthetic.stretch_some(x, 0.3, span=(0.0, 1.5))
