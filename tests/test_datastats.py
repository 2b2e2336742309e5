"""digitrec.datastats: ink boxes, centres of mass, mean digits and pixel statistics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec import datastats


def _bar(top=5, left=10, height=12, width=3, size=28, dtype=np.uint8):
    image = np.zeros((size, size), dtype)
    image[top : top + height, left : left + width] = 255 if dtype == np.uint8 else 1.0
    return image


def test_ink_boxes_on_known_shapes():
    images = np.stack([_bar(), _bar(0, 0, 28, 28), np.zeros((28, 28), np.uint8)])
    boxes = datastats.ink_boxes(images)
    np.testing.assert_array_equal(boxes, [[5, 10, 12, 3], [0, 0, 28, 28], [0, 0, 0, 0]])


def test_ink_boxes_accept_float_and_channel_axis():
    image = _bar(dtype=np.float32)[None, :, :, None]
    np.testing.assert_array_equal(datastats.ink_boxes(image), [[5, 10, 12, 3]])


def test_centres_of_mass_match_scipy(mnist):
    (x_train, _), _ = mnist
    ours = datastats.centres_of_mass(x_train[:50])
    theirs = np.array([ndimage.center_of_mass(image.astype(float)) for image in x_train[:50]])
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_centre_of_mass_of_a_blank_image_is_nan():
    assert np.isnan(datastats.centres_of_mass(np.zeros((28, 28)))).all()


def test_mnist_was_prepared_in_a_20_pixel_box_centred_by_mass(mnist):
    (x_train, _), _ = mnist
    sample = x_train[:5000]
    longer = datastats.ink_boxes(sample)[:, 2:].max(axis=1)
    assert np.mean(longer == 20) > 0.99
    assert np.abs(datastats.centres_of_mass(sample) - 14).max() < 1.0


def test_mean_digits_equal_per_class_means(mnist):
    (x_train, y_train), _ = mnist
    x, y = x_train[:2000], y_train[:2000]
    means = datastats.mean_digits(x, y)
    assert means.shape == (10, 28, 28) and means.dtype == np.float32
    for digit in (0, 7):
        np.testing.assert_allclose(means[digit], x[y == digit].mean(axis=0) / 255, atol=1e-5)


def test_mean_digits_zero_for_an_absent_class():
    means = datastats.mean_digits(np.stack([_bar()]), np.array([3]))
    assert means[3].max() == 1.0 and means[[0, 1, 2, 4]].max() == 0.0


def test_class_counts():
    np.testing.assert_array_equal(
        datastats.class_counts(np.array([0, 0, 9])), [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    )


def test_examples_per_class_pick_the_right_digits_and_mark_shortfalls():
    labels = np.array([3, 1, 3, 3, 1, 0])
    index = datastats.examples_per_class(labels, per_class=2, seed=1)
    assert index.shape == (10, 2)
    assert set(labels[index[3]]) == {3} and set(labels[index[1]]) == {1}
    assert index[0, 0] == 5 and index[0, 1] == -1
    assert (index[[2, 4, 5, 6, 7, 8, 9]] == -1).all()
    assert (datastats.examples_per_class(np.array([], int), 3) == -1).all()


def test_pixel_stats_same_for_uint8_and_float(mnist):
    (x_train, _), _ = mnist
    sample = x_train[:500]
    as_bytes = datastats.pixel_stats(sample)
    as_floats = datastats.pixel_stats(sample.astype(np.float32) / 255)
    for key in ("mean", "std", "black", "full_ink"):
        assert as_bytes[key] == pytest.approx(as_floats[key], abs=1e-6)
    scaled = sample / 255.0
    assert as_bytes["mean"] == pytest.approx(scaled.mean())
    assert as_bytes["std"] == pytest.approx(scaled.std())
    assert as_bytes["black"] == pytest.approx(np.mean(sample == 0))


def test_pixel_stats_refuses_no_pixels():
    with pytest.raises(ValueError, match="no pixels"):
        datastats.pixel_stats(np.zeros((0, 28, 28), np.uint8))
