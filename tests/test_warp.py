"""digitrec.warp: one bilinear resampling rotates, zooms and shifts like NumPy does."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from digitrec.warp import warp


def test_warp_rotates_zooms_and_shifts_like_numpy():
    rng = np.random.default_rng(0)
    x = rng.random((3, 28, 28, 1)).astype("float32")
    x[:, :2] = x[:, -2:] = x[:, :, :2] = x[:, :, -2:] = 0  # a blank border, as in MNIST
    zero, one = tf.zeros((3,)), tf.ones((3,))
    same = warp(x, zero, one, tf.zeros((3, 2))).numpy()
    assert np.allclose(same, x, atol=1e-6)
    quarter = warp(x, tf.fill((3,), np.pi / 2), one, tf.zeros((3, 2))).numpy()
    turned = [np.rot90(quarter[:, :, :, 0], k, axes=(1, 2)) for k in (1, 3)]
    assert min(np.abs(t - x[..., 0]).max() for t in turned) < 1e-4  # a quarter turn, exactly
    moved = warp(x, zero, one, tf.constant([[2.0, -3.0]] * 3)).numpy()
    expected = np.zeros_like(x)
    expected[:, 2:, :-3] = x[:, :-2, 3:]  # 2 px down, 3 px left; what enters is blank
    assert np.allclose(moved, expected, atol=1e-6)
    half = warp(x, zero, tf.fill((3,), 0.5), tf.zeros((3, 2))).numpy()
    assert (half[:, :7].max(), half[:, -7:].max()) == (0.0, 0.0)  # shrunk to the middle
    assert half.sum() == pytest.approx(x.sum() / 4, rel=0.1)  # a quarter of the area


def test_a_constant_bending_field_is_a_shift():
    rng = np.random.default_rng(1)
    x = rng.random((2, 28, 28, 1)).astype("float32")
    zero, one = tf.zeros((2,)), tf.ones((2,))
    field = tf.concat([tf.fill((2, 28, 28, 1), 1.5), tf.fill((2, 28, 28, 1), -2.0)], axis=-1)
    bent = warp(x, zero, one, tf.zeros((2, 2)), field).numpy()
    shifted = warp(x, zero, one, tf.constant([[-1.5, 2.0]] * 2)).numpy()
    np.testing.assert_allclose(bent, shifted, atol=1e-6)
    assert not np.allclose(bent, x)
