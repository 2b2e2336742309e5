"""digitrec.strokes: the pad's pen, centre lines traced back out of ink, and example digits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.strokes import (
    SQUARE_SLANT,
    PenRaster,
    angular,
    canvas_rgba,
    centre_line,
    centre_line_distance,
    centre_line_paths,
    example_strokes,
    inside_strokes,
    pen_coverage,
    pen_width,
    rasterise,
)


def round_pen(strokes, size: int = CANVAS_SIZE, pen: float = PEN_WIDTH) -> np.ndarray:
    """An independent rendering: each pixel's coverage from its centre's distance to the strokes.

    The same geometry a browser's canvas uses (pixel centres at +0.5, a one-pixel soft edge),
    with none of Pillow's code: what `rasterise` must agree with, within anti-aliasing.
    """
    rows, cols = np.mgrid[:size, :size] + 0.5
    distance = np.full((size, size), np.inf)
    for stroke in strokes:
        points = np.asarray(stroke, float)
        segments = list(zip(points[:-1], points[1:], strict=True)) or [(points[0], points[0])]
        for start, end in segments:
            along = end - start
            length2 = max(float(along @ along), 1e-12)
            t = ((cols - start[0]) * along[0] + (rows - start[1]) * along[1]) / length2
            t = np.clip(t, 0.0, 1.0)
            nearest_x, nearest_y = start[0] + t * along[0], start[1] + t * along[1]
            distance = np.minimum(distance, np.hypot(cols - nearest_x, rows - nearest_y))
    return np.clip(pen / 2 + 0.5 - distance, 0.0, 1.0)


def loops(mask: np.ndarray, area: float = 1) -> int:
    """How many holes of at least `area` pixels the mask encloses."""
    holes, _ = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    return int(np.sum(np.bincount(holes.ravel())[1:] >= area))


@pytest.mark.parametrize("digit", range(10))
def test_rasterise_draws_a_round_pen_like_a_browser_canvas(digit):
    strokes = example_strokes(digit)
    ink = rasterise(strokes)
    assert ink.shape == (CANVAS_SIZE, CANVAS_SIZE) and ink.dtype == np.uint8
    assert ink.max() == 255 and ((ink > 0) & (ink < 255)).any()  # anti-aliased edges
    difference = np.abs(ink / 255.0 - round_pen(strokes))
    assert difference.max() < 0.5 and difference.mean() < 0.003


def test_a_thicker_pen_and_a_larger_canvas():
    line = [[(20, 50), (80, 50)]]
    thin, thick = rasterise(line, size=100, pen=4), rasterise(line, size=100, pen=30)
    assert thin.shape == thick.shape == (100, 100)
    assert np.flatnonzero(thin[:, 50] > 127).size in (3, 4, 5)
    assert np.flatnonzero(thick[:, 50] > 127).size in (29, 30, 31)
    difference = np.abs(thick / 255.0 - round_pen(line, 100, 30))
    assert difference.max() < 0.5


def test_drawing_point_by_point_equals_drawing_whole_strokes():
    strokes = example_strokes(8, height=120, top=20, left=30)
    raster = PenRaster()
    for stroke in strokes:
        raster.dot(stroke[0])
        for start, end in zip(stroke[:-1], stroke[1:], strict=True):
            raster.segment(start, end)
    np.testing.assert_array_equal(raster.level(), rasterise(strokes))
    raster.clear()
    assert raster.level().max() == 0
    raster.stroke([])  # nothing to draw
    assert raster.level().max() == 0


@pytest.mark.parametrize("pen", [0, -5, float("nan"), 1e9])
def test_a_pen_that_cannot_draw_is_refused_when_the_canvas_is_made(pen):
    with pytest.raises(ValueError, match="pen's width"):
        PenRaster(280, pen)
    with pytest.raises(ValueError, match="pen's width"):
        rasterise([[(10, 10), (100, 100)]], size=280, pen=pen)


def test_canvas_rgba_is_white_ink_on_opaque_black():
    level = np.array([[0, 128], [255, 7]], np.uint8)
    rgba = canvas_rgba(level)
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.uint8
    assert (rgba[..., :3] == level[..., None]).all() and (rgba[..., 3] == 255).all()


def test_example_strokes_fill_the_box_they_are_given():
    for digit in range(10):
        points = np.concatenate([np.asarray(s) for s in example_strokes(digit)])
        top, bottom = points[:, 1].min(), points[:, 1].max()
        assert abs(top - 40) < 2 and abs(bottom - 240) < 2, f"{digit}: {top:.1f} to {bottom:.1f}"
        assert points[:, 0].min() >= (CANVAS_SIZE - 130) / 2 - 1e-9  # centred, 0.65 as wide
        assert points[:, 0].max() <= (CANVAS_SIZE + 130) / 2 + 1e-9
    small = np.concatenate(example_strokes(3, height=100, width=50, top=12, left=12))
    np.testing.assert_allclose(small.min(axis=0), [12, 12], atol=0.5)  # the box's corner
    assert (small.max(axis=0) <= [62 + 1e-9, 112 + 1e-9]).all()
    with pytest.raises(ValueError, match="digit must be 0-9, got 10"):
        example_strokes(10)


@pytest.mark.parametrize("digit", range(10))
def test_a_drawn_digit_is_traced_back_to_its_centre_line(digit):
    drawn = rasterise(example_strokes(digit)) / 255.0
    distance = centre_line_distance(drawn)
    redrawn = pen_coverage(distance, PEN_WIDTH)
    assert redrawn.dtype == np.float32 and redrawn.min() >= 0.0 and redrawn.max() <= 1.0
    ink, again = drawn > 0.5, redrawn > 0.5
    assert (ink & again).sum() / (ink | again).sum() > 0.9  # the same strokes, the same pen
    assert (pen_coverage(distance, 2 * PEN_WIDTH) > 0.5).sum() > 1.5 * again.sum()


def test_nothing_to_trace_in_an_empty_field():
    assert centre_line_distance(np.zeros((30, 30))) is None
    assert centre_line_distance(np.full((30, 30), 0.4)) is None  # no ink above half


def test_a_loop_filled_at_half_ink_is_kept_open():
    rows, cols = np.mgrid[:60, :60]
    radius = np.hypot(rows - 30, cols - 30)
    ring = np.where(radius < 24, 1.0, 0.0)
    ring[radius < 8] = 0.6  # a thick pen's loop: grey inside, so "ink above half" fills it
    assert loops(ring > 0.5) == 0
    inside = inside_strokes(ring, pixel=4)
    assert loops(inside) == 1 and inside[30, 30] == 0
    assert loops(centre_line(inside)) == 1  # the centre line goes round the loop

    speck = np.where(radius < 24, 1.0, 0.0)
    speck[30, 30] = 0.6  # one grey pixel: a sixteenth of an MNIST pixel at pixel=4
    assert inside_strokes(speck, pixel=4)[30, 30]


def test_mnist_digits_with_filled_loops_are_traced_with_their_loops(mnist):
    (_, _), (x_test, _) = mnist
    scale = 5
    kept = filled = 0
    for digit in x_test[:1000]:
        big = ndimage.zoom(digit / 255.0, scale, order=1)
        wanted = loops(big > 0.8, area=scale * scale / 4)  # loops still open at 80 % ink
        if loops(big > 0.5, area=scale * scale / 4) < wanted:
            filled += 1
            line = centre_line(inside_strokes(big, scale))
            kept += loops(line, area=20) >= wanted
    assert filled >= 5  # thick 2s, 4s, 6s and 8s among the first 1,000
    assert kept >= filled - 1, f"only {kept} of {filled} filled loops traced"


@pytest.mark.parametrize("pen", [6, 18, 32])
def test_pen_width_measures_the_pen_that_drew_a_digit(pen):
    ink = rasterise(example_strokes(3, height=200), pen=pen) > 127
    assert pen_width(ink) == pytest.approx(pen, abs=2.5)


def test_pen_width_of_a_tightly_cropped_mark_is_the_pen_it_was_drawn_with():
    ink = rasterise([[(100, 140), (110, 140)]], pen=30) > 127  # a short dash
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    assert pen_width(crop) == pytest.approx(pen_width(ink)) == pytest.approx(30, abs=2.5)
    assert pen_width(np.zeros((28, 28), bool)) == 0.0


def test_a_centre_line_is_followed_from_end_to_end():
    plus = rasterise([[(140, 40), (140, 240)], [(40, 140), (240, 140)]]) > 127
    paths = centre_line_paths(centre_line(plus))
    long = [path for path in paths if len(path) > 20]  # besides a pixel or two at the junction
    assert len(long) == 4  # four arms from the junction
    for path in long:
        ends = {tuple(np.round(path[0] / 10)), tuple(np.round(path[-1] / 10))}
        assert any(abs(row - 14) + abs(col - 14) <= 2 for row, col in ends)  # one end there
        assert any(abs(row - 14) + abs(col - 14) >= 8 for row, col in ends)  # one far out
    covered = np.concatenate(paths).astype(int)
    assert len({tuple(p) for p in covered}) == np.count_nonzero(centre_line(plus))


def test_a_ring_is_one_closed_path():
    ring = rasterise(example_strokes(0)) > 127
    (path,) = centre_line_paths(centre_line(ring))
    assert np.abs(path[0] - path[-1]).max() <= 1  # back where it began
    assert len(path) == np.count_nonzero(centre_line(ring)) + 1


def test_straightened_paths_are_a_few_segments_near_the_line():
    ring = rasterise(example_strokes(0, height=200)) > 127
    (path,) = centre_line_paths(centre_line(ring))
    rng = np.random.default_rng(0)
    (straight,) = angular([path], 12.0, rng, square=False)
    assert 4 <= len(straight) <= 12 < len(path)
    drawn = rasterise([[(c, r) for r, c in straight]], pen=4) > 127
    distance = ndimage.distance_transform_edt(~drawn)
    assert distance[tuple(path.astype(int).T)].max() <= 12 + 3  # within the tolerance


def test_square_corners_make_an_oval_an_oblong():
    ring = rasterise(example_strokes(0, height=200)) > 127
    paths = centre_line_paths(centre_line(ring))
    (boxy,) = angular(paths, 12.0, np.random.default_rng(0), square=True)
    steps = np.abs(np.diff(boxy, axis=0))
    slants = np.degrees(np.arctan2(steps[:, 0], steps[:, 1]))
    assert not ((slants >= SQUARE_SLANT[0]) & (slants <= SQUARE_SLANT[1])).any()
    # the corners sit out at the oval's box: the oblong holds the oval, not a cross inside it
    top, left = boxy.min(axis=0)
    bottom, right = boxy.max(axis=0)
    corners = [(top, left), (top, right), (bottom, left), (bottom, right)]
    for corner in corners:
        assert np.linalg.norm(boxy - corner, axis=1).min() < 0.25 * (right - left)


def test_a_long_slanting_stroke_is_not_squared():
    one = rasterise([[(100, 40), (200, 240)]]) > 127  # a 1 leaning 27 degrees
    seven = rasterise([[(60, 40), (200, 40), (90, 240)]]) > 127
    for ink in (one, seven):
        paths = centre_line_paths(centre_line(ink))
        plain = angular(paths, 8.0, np.random.default_rng(0), square=False)
        boxy = angular(paths, 8.0, np.random.default_rng(0), square=True)
        assert sum(map(len, boxy)) == sum(map(len, plain))  # no corner added


def test_a_dot_alone_squared_stays_a_dot():
    """All that is left of a digit may be a dot (a dotted 0 whose ring faded): no corner."""
    dot = [np.array([[12.0, 30.0]])]
    boxy = angular(dot, 2.0, np.random.default_rng(0), square=True)
    np.testing.assert_array_equal(np.concatenate(boxy), [[12.0, 30.0]])
    field = np.zeros((64, 64), np.float32)
    field[30:34, 20:24] = 1.0
    rng = np.random.default_rng(0)
    distance = centre_line_distance(field, straighten=2.0, square=True, rng=rng)
    assert distance is not None and np.isfinite(distance).all() and distance.min() == 0
