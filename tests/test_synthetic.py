"""digitrec.synthetic: redrawn digits look like drawings of the same digit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec import synthetic
from digitrec.preprocess import extract_ink, to_mnist


@pytest.fixture(scope="module")
def seven(mnist):
    (_, _), (x_test, y_test) = mnist
    assert y_test[0] == 7
    return x_test[0]


def stroke_width(ink: np.ndarray) -> float:
    """Typical width: twice the distance to the edge, measured along the centre line."""
    from skimage.morphology import skeletonize

    inside = ink > 0.5
    depth = ndimage.distance_transform_edt(inside)
    return 2 * float(np.median(depth[skeletonize(inside)]))


def test_redraw_uses_a_fixed_pen_whatever_the_size(seven):
    small = synthetic.redraw_digit(seven, 100, 10, 10, pen=18)
    large = synthetic.redraw_digit(seven, 270, 5, 5, pen=18)
    assert small.shape == large.shape == (280, 280)
    assert abs(stroke_width(small) - 18) <= 3 and abs(stroke_width(large) - 18) <= 3
    rows = np.flatnonzero(large.max(axis=1) > 0.5)
    assert 150 < rows[-1] - rows[0] < 230  # ink is about 5/7 of the field


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


def test_rotated_digits_near_the_edge_are_cropped_not_wrapped(seven):
    ink = synthetic.redraw_digit(seven, 200, 0, 0, rotation=15)
    assert ink.shape == (280, 280) and ink[:, -20:].max() == 0


def test_random_placement_stays_on_the_canvas():
    rng = np.random.default_rng(1)
    for _ in range(200):
        height, top, left = synthetic.random_placement(rng)
        assert 100 <= height <= 280
        assert 0 <= top <= 280 - height and 0 <= left <= 280 - height


@pytest.mark.parametrize("convention", synthetic.CONVENTIONS)
def test_render_round_trips_through_extract_ink(seven, convention):
    ink = synthetic.redraw_digit(seven, 200, 40, 40)
    found, name = extract_ink(synthetic.render(ink, convention))
    assert name == convention and np.abs(found - ink).max() < 0.01


def test_render_rejects_unknown_conventions():
    with pytest.raises(ValueError, match="unknown convention"):
        synthetic.render(np.zeros((4, 4)), "green-on-pink")


def loops(mask: np.ndarray, area: float = 1) -> int:
    """How many holes of at least `area` pixels the mask encloses."""
    holes, _ = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    return int(np.sum(np.bincount(holes.ravel())[1:] >= area))


def test_a_loop_filled_at_half_ink_is_kept_open():
    rows, cols = np.mgrid[:60, :60]
    radius = np.hypot(rows - 30, cols - 30)
    ring = np.where(radius < 24, 1.0, 0.0)
    ring[radius < 8] = 0.6  # a thick pen's loop: grey inside, so "ink above half" fills it
    assert loops(ring > 0.5) == 0
    inside = synthetic.inside_strokes(ring, pixel=4)
    assert loops(inside) == 1 and inside[30, 30] == 0
    assert loops(synthetic.centre_line(inside)) == 1  # the centre line goes round the loop

    speck = np.where(radius < 24, 1.0, 0.0)
    speck[30, 30] = 0.6  # one grey pixel: a sixteenth of an MNIST pixel at pixel=4
    assert synthetic.inside_strokes(speck, pixel=4)[30, 30]


def test_mnist_digits_with_filled_loops_are_traced_with_their_loops(mnist):
    (_, _), (x_test, _) = mnist
    scale = 5
    kept = filled = 0
    for digit in x_test[:1000]:
        big = ndimage.zoom(digit / 255.0, scale, order=1)
        wanted = loops(big > 0.8, area=scale * scale / 4)  # loops still open at 80 % ink
        if loops(big > 0.5, area=scale * scale / 4) < wanted:
            filled += 1
            line = synthetic.centre_line(synthetic.inside_strokes(big, scale))
            kept += loops(line, area=20) >= wanted
    assert filled >= 5  # thick 2s, 4s, 6s and 8s among the first 1,000
    assert kept >= filled - 1, f"only {kept} of {filled} filled loops traced"
