"""digitrec.robustness: the transforms do what they say, and the sweep measures them."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import datastats, robustness
from digitrec.data import as_float_images
from digitrec.preprocess import to_mnist


@pytest.fixture(scope="module")
def digits(mnist):
    _, (x_test, y_test) = mnist
    return x_test[:300], y_test[:300]


def test_shift_moves_the_centre_of_mass(digits):
    x, _ = digits
    boxes = datastats.ink_boxes(x)
    x = x[boxes[:, 1] + boxes[:, 3] <= 25][:20]  # room to move 3 px right without losing ink
    before = datastats.centres_of_mass(x)
    after = datastats.centres_of_mass(robustness.shift(x, 3))
    np.testing.assert_allclose(after[:, 1] - before[:, 1], 3, atol=0.05)
    np.testing.assert_allclose(after[:, 0], before[:, 0], atol=1e-6)


def test_zero_strength_is_the_identity(digits):
    x, _ = digits
    scaled = x[:10] / 255.0
    for name in ("shift", "rotate", "stroke"):
        transform = robustness.TRANSFORMS[name][0]
        np.testing.assert_allclose(transform(x[:10], 0), scaled, atol=1e-6)
    np.testing.assert_allclose(robustness.scale(x[:10], 1.0), scaled, atol=1e-6)


def test_scale_halves_the_ink_box(digits):
    x, _ = digits
    before = datastats.ink_boxes(x[:20])[:, 2:].max(axis=1)
    after = datastats.ink_boxes(robustness.scale(x[:20], 0.5))[:, 2:].max(axis=1)
    assert np.all(np.abs(after - before / 2) <= 2)
    with pytest.raises(ValueError, match="positive"):
        robustness.scale(x[:1], 0)


def test_rotate_quarter_turn_is_anticlockwise():
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 4:12, 13:15] = 1.0  # a vertical bar above the centre
    turned = robustness.rotate(bar, 90)
    row, col = datastats.centres_of_mass(turned)[0]
    assert col < 12 and abs(row - 13.5) < 1  # now a horizontal bar left of the centre
    np.testing.assert_allclose(robustness.rotate(bar, 360), bar, atol=1e-4)


def test_stroke_thickens_and_thins(digits):
    x, _ = digits
    ink = (x[:20] / 255.0).sum()
    assert robustness.thicken(x[:20], 1).sum() > 1.5 * ink
    assert robustness.thin(x[:20], 1).sum() < 0.6 * ink
    half = robustness.stroke(x[:20], 0.5).sum()
    assert ink < half < robustness.stroke(x[:20], 1).sum()
    np.testing.assert_allclose(robustness.stroke(x[:20], -1), robustness.thin(x[:20], 1))


def test_transforms_keep_values_in_range(digits):
    x, _ = digits
    for name, (transform, values, _) in robustness.TRANSFORMS.items():
        for value in values:
            out = transform(x[:5], value)
            assert out.shape == (5, 28, 28), name
            assert out.min() >= 0.0 and out.max() <= 1.0, (name, value)


def test_prepare_undoes_a_shift_and_keeps_blank_digits_blank(digits):
    x, _ = digits
    shifted = robustness.shift(x[:5], 6)
    prepared = robustness.prepare(shifted)
    expected = np.stack([to_mnist(image) for image in x[:5] / 255.0])
    assert np.abs(prepared - expected).mean() < 0.05
    blank = robustness.prepare(np.zeros((2, 28, 28)))
    assert blank.max() == 0.0


def test_sweep_on_a_trained_model(digits, predictor):
    x, y = digits
    plain = float(np.mean(predictor.predict_arrays(x / 255.0).argmax(axis=1) == y))
    result = robustness.sweep(predictor.predict_arrays, x, y, "shift", [0, 8])
    assert result.name == "shift" and result.unit.startswith("shift")
    assert result.accuracy[0] == pytest.approx(plain)
    assert result.accuracy[1] < plain - 0.3
    repaired = robustness.sweep(predictor.predict_arrays, x, y, "shift", [8], prepared=True)
    assert repaired.prepared and repaired.accuracy[0] > result.accuracy[1] + 0.3


def test_sweep_all_covers_every_transform(digits, predictor):
    x, y = digits
    results = robustness.sweep_all(predictor.predict_arrays, x[:50], y[:50])
    assert list(results) == list(robustness.TRANSFORMS)
    # Every transform's strengths include doing nothing, where it reads as the digits do.
    plain = np.mean(
        predictor.predict_arrays(as_float_images(x[:50])).argmax(axis=1) == np.asarray(y[:50])
    )
    identity = {"shift": 0, "scale": 1.0, "rotate": 0, "stroke": 0}
    for name, result in results.items():
        assert len(result.accuracy) == len(robustness.TRANSFORMS[name][1])
        at_rest = result.accuracy[list(result.values).index(identity[name])]
        assert at_rest == pytest.approx(plain, abs=0.02), name  # one digit of 50 at most


def test_sweep_rejects_an_unknown_transform(digits):
    x, y = digits
    with pytest.raises(ValueError, match="unknown transform 'blur'"):
        robustness.sweep(lambda images: np.zeros((len(images), 10)), x, y, "blur")


def made_up_sweeps(accuracy) -> dict[str, robustness.Sweep]:
    """A `sweep_all` result whose accuracy at each strength is `accuracy(name, value)`."""
    return {
        name: robustness.Sweep(
            name,
            np.array(values, float),
            np.array([accuracy(name, v) for v in values]),
            unit,
        )
        for name, (_, values, unit) in robustness.TRANSFORMS.items()
    }


def test_a_sweep_is_read_at_a_strength_it_tried():
    sweeps = made_up_sweeps(lambda name, value: 0.5 + value / 100)
    assert sweeps["rotate"].at(30) == pytest.approx(0.8)
    assert sweeps["scale"].at(0.7) == pytest.approx(0.507)
    with pytest.raises(ValueError, match="rotate was not tried at 20"):
        sweeps["rotate"].at(20)


def test_what_the_sweeps_say_is_computed_from_them():
    """Each line's numbers come from the three curves: re-preparing brings a far shift from 10 %
    back to 90 %, and deskewing gains most at the angle where the two rotate curves part most."""
    as_transformed = made_up_sweeps(lambda name, value: 0.1 if name == "shift" and value else 0.9)
    re_prepared = made_up_sweeps(lambda name, value: 0.9 if name != "rotate" else 0.6)
    deskewed = made_up_sweeps(lambda name, value: 0.6 + (0.25 if value == 30 else 0.0))
    lines = robustness.what_the_sweeps_say(as_transformed, re_prepared, deskewed)
    assert lines[0] == "moved 8 px: 10.0% as transformed, 90.0% re-prepared by to_mnist"
    assert lines[1] == "shrunk to 0.5x: 90.0% as transformed, 90.0% re-prepared by to_mnist"
    assert lines[2].startswith("shift : to_mnist changes accuracy by +0.0 points (at 0) to +80.0")
    assert "+30°: +25.0" in lines[7] and "-30°: +0.0" in lines[7]
    assert lines[8] == "  mean over anticlockwise turns +6.2, over clockwise turns +0.0"
    assert lines[9] == "  at +30°: 60.0% without, 85.0% deskewed"


def test_what_a_pixel_of_stroke_is_measures_the_ink(digits):
    x, _ = digits
    stroked = made_up_sweeps(lambda name, value: 0.9 - abs(value) / 10)["stroke"]
    lines = robustness.what_a_pixel_of_stroke_is(x, stroked, pen=18)
    width = np.nanmedian(datastats.stroke_widths(as_float_images(x)))
    assert lines[0].startswith(f"MNIST's strokes are {width:.1f} px wide (median of these 300")
    assert "pen is 18 px" in lines[0]
    assert lines[2] == "accuracy: thinner by 1 px 80.0%, unchanged 90.0%, thicker by 1 px 80.0%"


def _leaning_bar(lean: float) -> np.ndarray:
    """A two-pixel-wide bar from row 4 to 23 whose top is `lean` columns per row to the right."""
    bar = np.zeros((28, 28), np.float32)
    for row in range(4, 24):
        col = round(14 + lean * (14 - row))
        bar[row, col - 1 : col + 1] = 1.0
    return bar


def test_slant_measures_the_lean_and_its_direction():
    assert robustness.slant(_leaning_bar(0.5)) == pytest.approx(0.5, abs=0.03)
    assert robustness.slant(_leaning_bar(-0.3)) == pytest.approx(-0.3, abs=0.03)
    assert robustness.slant(_leaning_bar(0.0)) == pytest.approx(0.0, abs=1e-9)
    batch = robustness.slant(np.stack([_leaning_bar(0.5), np.zeros((28, 28))]))
    assert batch.shape == (2,) and batch[1] == 0.0  # no ink: no slant


def test_deskew_stands_a_leaning_bar_upright_about_its_centre_of_mass():
    bar = _leaning_bar(0.5)
    upright = robustness.deskew(bar)
    assert upright.shape == (28, 28) and upright.dtype == np.float32
    assert abs(robustness.slant(upright)) < 0.01
    columns = np.flatnonzero((upright > 0.5).any(axis=0))
    assert columns.max() - columns.min() <= 2  # one straight column, not a diagonal
    np.testing.assert_allclose(
        datastats.centres_of_mass(upright), datastats.centres_of_mass(bar), atol=0.05
    )


def test_deskew_straightens_real_digits_and_keeps_blank_ones_blank(digits):
    x, _ = digits
    before = np.abs(robustness.slant(x[:50]))
    after = np.abs(robustness.slant(robustness.deskew(x[:50])))
    assert before.mean() > 0.1 and after.max() < 0.05
    assert robustness.deskew(np.zeros((3, 28, 28))).max() == 0.0
    # A digit rotated anticlockwise leans left; deskewing takes most of that back.
    turned = robustness.rotate(x[:50], 30)
    assert np.abs(robustness.slant(robustness.deskew(turned))).max() < 0.05
    with pytest.raises(ValueError, match="shape"):
        robustness.deskew(np.zeros(28))


def test_sweep_can_deskew_before_preparing(digits, predictor):
    x, y = digits
    plain = robustness.sweep(predictor.predict_arrays, x, y, "rotate", [45], prepared=True)
    straightened = robustness.sweep(
        predictor.predict_arrays, x, y, "rotate", [45], prepared=True, deskewed=True
    )
    assert straightened.deskewed and straightened.prepared and not plain.deskewed
    expected = np.mean(
        predictor.predict_arrays(
            robustness.prepare(robustness.deskew(robustness.rotate(x, 45)))
        ).argmax(axis=1)
        == y
    )
    assert straightened.accuracy[0] == pytest.approx(expected)
    assert straightened.accuracy[0] > plain.accuracy[0]
