"""digitrec.augment: stroke width and geometry change, labels and value range do not."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from digitrec.augment import Augmentation, augmenter, change_stroke_width, training_dataset
from digitrec.data import scale_images


@pytest.fixture(scope="module")
def digits(mnist):
    (x_train, y_train), _ = mnist
    return scale_images(x_train[:64]), y_train[:64]


def ink(images) -> np.ndarray:
    return (np.asarray(images) > 0.5).reshape(len(images), -1).sum(axis=1)


def test_thicker_and_thinner_strokes(digits):
    x, _ = digits
    n = len(x)
    thick = change_stroke_width(tf.constant(x), tf.fill((n,), 1.0)).numpy()
    thin = change_stroke_width(tf.constant(x), tf.fill((n,), -1.0)).numpy()
    same = change_stroke_width(tf.constant(x), tf.zeros((n,))).numpy()
    assert np.allclose(same, x)
    assert (ink(thick) > ink(x)).all()
    assert (ink(thin) < ink(x)).all()
    half = change_stroke_width(tf.constant(x), tf.fill((n,), 0.5)).numpy()
    assert (ink(x) <= ink(half)).all() and (ink(half) <= ink(thick)).all()


def test_augmenter_keeps_labels_shape_and_range(digits):
    x, y = digits
    images, labels = augmenter(seed=3)(tf.constant(x), tf.constant(y))
    images = images.numpy()
    assert images.shape == x.shape and np.array_equal(labels.numpy(), y)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert np.allclose(images.max(axis=(1, 2, 3)), 1.0, atol=1e-3)  # full-strength ink
    assert not np.allclose(images, x)  # something changed


def test_stroke_only_augmentation_keeps_the_digit_in_place(digits):
    x, y = digits
    config = Augmentation(rotation=0.0, zoom=0.0, shift=0.0)
    images, _ = augmenter(config, seed=1)(tf.constant(x), tf.constant(y))
    before = np.array([np.argwhere(i[..., 0] > 0.5).mean(axis=0) for i in x])
    after = np.array([np.argwhere(i[..., 0] > 0.5).mean(axis=0) for i in images.numpy()])
    assert np.abs(before - after).max() < 1.5


def test_training_dataset_batches_everything(digits):
    x, y = digits
    batches = list(training_dataset(x, y, batch_size=16, seed=0))
    assert [len(b[1]) for b in batches] == [16, 16, 16, 16]
    seen = np.sort(np.concatenate([b[1].numpy() for b in batches]))
    assert np.array_equal(seen, np.sort(y))
    plain = list(training_dataset(x, y, batch_size=64, config=None, seed=0))
    assert np.allclose(np.sort(plain[0][0].numpy().ravel()), np.sort(x.ravel()))
