"""digitrec.augment: stroke width and geometry change, labels and value range do not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from digitrec.augment import (
    CENTRE_LINE_SCALE,
    DISTANCE_STEPS,
    Augmentation,
    augmented_batches,
    augmenter,
    bend_strokes,
    centre_line_distances,
    change_stroke_width,
    mnist_framing,
    redraw_with_pen,
    steps_per_epoch,
    training_dataset,
)
from digitrec.constants import MNIST_CENTRE, MNIST_SIZE
from digitrec.data import scale_images
from digitrec.preprocess import to_mnist


@pytest.fixture(scope="module")
def digits(mnist):
    (x_train, y_train), _ = mnist
    return scale_images(x_train[:64]), y_train[:64]


@pytest.fixture(scope="module")
def distances(digits):
    return centre_line_distances(digits[0])


def ink(images) -> np.ndarray:
    return (np.asarray(images) > 0.5).reshape(len(images), -1).sum(axis=1)


GEOMETRY_OFF = {"rotation": 0.0, "zoom": 0.0, "shift": 0.0, "elastic": 0.0, "reframe": False}


def test_centre_line_distances_trace_each_digit(mnist, digits, distances):
    x, _ = digits
    assert distances.shape == (
        len(x),
        MNIST_SIZE * CENTRE_LINE_SCALE,
        MNIST_SIZE * CENTRE_LINE_SCALE,
        1,
    )
    assert distances.dtype == np.uint8
    assert (distances.min(axis=(1, 2, 3)) == 0).all()  # every digit has a centre line
    line = distances[..., 0] == 0
    # the centre line is thin: far fewer pixels than the strokes it runs along
    strokes = (x[..., 0] > 0.5).sum(axis=(1, 2)) * CENTRE_LINE_SCALE**2
    assert (line.sum(axis=(1, 2)) < strokes / 2).all()
    (x_train, _), _ = mnist
    assert np.array_equal(centre_line_distances(x_train[:64]), distances)  # uint8 == floats
    blank = centre_line_distances(np.zeros((2, MNIST_SIZE, MNIST_SIZE), np.uint8))
    assert (blank == 255).all()


def test_a_share_of_the_centre_lines_is_straightened(digits, distances):
    x, _ = digits
    straight = centre_line_distances(x, angular=0.5, seed=3)
    assert straight.shape == distances.shape and straight.dtype == np.uint8
    changed = (straight != distances).any(axis=(1, 2, 3))
    assert 0.25 < changed.mean() < 0.75  # about half
    # a straightened line still runs along the digit: near where the traced one was
    near = (distances[changed] <= 3 * DISTANCE_STEPS) & (straight[changed] == 0)
    assert near.sum() / (straight[changed] == 0).sum() > 0.8
    assert np.array_equal(centre_line_distances(x, angular=0.5, seed=3), straight)  # by seed
    assert np.array_equal(centre_line_distances(x, angular=0.0, seed=3), distances)


def test_redraw_with_pen_follows_the_width(digits, distances):
    x, _ = digits
    n = len(x)
    widths = [redraw_with_pen(distances, tf.fill((n,), w)).numpy() for w in (1.5, 3.0, 5.0)]
    for image in widths:
        assert image.shape == x.shape and image.min() >= 0.0 and image.max() <= 1.0
    assert (ink(widths[0]) < ink(widths[1])).all() and (ink(widths[1]) < ink(widths[2])).all()
    # an MNIST-like pen redraws the same digit: most strokes land on the original's
    original, redrawn = x[..., 0] > 0.3, widths[1][..., 0] > 0.3
    overlap = (original & redrawn).sum(axis=(1, 2)) / (original | redrawn).sum(axis=(1, 2))
    assert np.median(overlap) > 0.6 and overlap.min() > 0.3


def test_augmenter_redraws_the_chosen_share_of_digits(digits, distances):
    x, y = digits
    n = len(x)
    everything = Augmentation(redraw=1.0, pen=(3.0, 3.0), stroke=0.0, **GEOMETRY_OFF)
    images, labels = augmenter(everything, seed=0)(tf.constant(x), tf.constant(y), distances)
    pen = redraw_with_pen(distances, tf.fill((n,), 3.0)).numpy()
    expected = pen / pen.max(axis=(1, 2, 3), keepdims=True)
    assert np.allclose(images.numpy(), expected, atol=1e-5)
    assert np.array_equal(labels.numpy(), y)
    nothing = Augmentation(redraw=0.0, stroke=0.0, **GEOMETRY_OFF)
    same, _ = augmenter(nothing, seed=0)(tf.constant(x), tf.constant(y), distances)
    assert np.allclose(same.numpy(), x / x.max(axis=(1, 2, 3), keepdims=True), atol=1e-5)
    half = Augmentation(redraw=0.5, pen=(3.0, 3.0), stroke=0.0, **GEOMETRY_OFF)
    mixed, _ = augmenter(half, seed=0)(tf.constant(x), tf.constant(y), distances)
    is_pen = np.isclose(mixed.numpy(), expected, atol=1e-5).all(axis=(1, 2, 3))
    assert 0.25 * n < is_pen.sum() < 0.75 * n


def test_plain_digits_keep_mnist_pen_and_framing(digits, distances):
    x, y = digits
    n = len(x)
    original = x / x.max(axis=(1, 2, 3), keepdims=True)
    # No random turn or bend, but reframing on: only a plain digit comes out as it went in.
    still = {**GEOMETRY_OFF, "reframe": True}
    shares = Augmentation(redraw=0.5, plain=0.5, pen=(3.0, 3.0), **still)
    images, labels = augmenter(shares, seed=0)(tf.constant(x), tf.constant(y), distances)
    images = images.numpy()
    assert np.array_equal(labels.numpy(), y)
    kept = np.isclose(images, original, atol=1e-4).all(axis=(1, 2, 3))
    pen = redraw_with_pen(distances, tf.fill((n,), 3.0)).numpy()
    assert 0.25 * n < kept.sum() < 0.75 * n
    # the others are redrawn (and reframed): none is the original, none is left thickened
    assert not np.isclose(images[~kept], original[~kept], atol=1e-4).all(axis=(1, 2, 3)).any()
    assert (ink(images[~kept]) > 0).all() and ink(pen[~kept]).min() > 0
    every = Augmentation(redraw=0.0, plain=1.0, **still)
    same, _ = augmenter(every, seed=0)(tf.constant(x), tf.constant(y))
    assert np.allclose(same.numpy(), original, atol=1e-4)
    none = Augmentation(redraw=0.0, plain=0.0, **still)
    changed, _ = augmenter(none, seed=0)(tf.constant(x), tf.constant(y))
    assert not np.isclose(changed.numpy(), original, atol=1e-4).all(axis=(1, 2, 3)).any()


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
    # Only the elastic bends (at most `elastic` px) and reframing move ink; no turn or shift.
    assert np.abs(before - after).max() < config.elastic
    assert np.abs(before - after).mean() < 0.5


def test_training_dataset_batches_everything(digits):
    x, y = digits
    batches = list(training_dataset(x, y, batch_size=16, seed=0))
    assert [len(b[1]) for b in batches] == [16, 16, 16, 16]
    seen = np.sort(np.concatenate([b[1].numpy() for b in batches]))
    assert np.array_equal(seen, np.sort(y))
    plain = list(training_dataset(x, y, batch_size=64, config=None, seed=0))
    assert np.allclose(np.sort(plain[0][0].numpy().ravel()), np.sort(x.ravel()))


def test_training_dataset_with_centre_lines(digits, distances):
    x, y = digits
    batches = list(training_dataset(x, y, batch_size=32, seed=1, distances=distances))
    assert [len(b) for b in batches] == [2, 2]  # (images, labels): distances stay inside
    assert all(b[0].shape == (32, MNIST_SIZE, MNIST_SIZE, 1) for b in batches)
    seen = np.sort(np.concatenate([b[1].numpy() for b in batches]))
    assert np.array_equal(seen, np.sort(y))
    with pytest.raises(ValueError, match="63 centre-line distances for 64 images"):
        training_dataset(x, y, batch_size=32, distances=distances[:63])


def test_bend_strokes_moves_ink_by_at_most_the_amount(digits):
    x, _ = digits
    n = len(x)
    still = bend_strokes(tf.constant(x), tf.zeros((n,))).numpy()
    assert np.allclose(still, x, atol=1e-6)
    seed = 42
    bent = bend_strokes(tf.constant(x), tf.fill((n,), 2.0), seed).numpy()
    assert np.array_equal(bent, bend_strokes(tf.constant(x), tf.fill((n,), 2.0), seed).numpy())
    assert bent.shape == x.shape and not np.allclose(bent, x)
    # a bend of 2 px keeps the digit where it was: its ink's centre moves by at most the bend
    # plus a pixel (resampling moves some grey pixels across the 0.5 threshold)
    before = np.array([np.argwhere(i[..., 0] > 0.5).mean(axis=0) for i in x])
    after = np.array([np.argwhere(i[..., 0] > 0.5).mean(axis=0) for i in bent])
    assert np.abs(before - after).max() < 3.0
    # a pure shift (a constant field) would move the whole image; the field is smooth, so
    # nearby pixels move alike: the bent image is still mostly the same digit
    overlap = ((bent > 0.5) & (x > 0.5)).sum() / (x > 0.5).sum()
    assert overlap > 0.4


def test_steps_per_epoch_matches_the_dataset(digits, distances):
    x, y = digits
    for batch, augmenting in [(20, True), (20, False), (128, True)]:
        config = Augmentation() if augmenting else None
        dataset = training_dataset(x, y, batch_size=batch, config=config, distances=distances)
        assert sum(1 for _ in dataset) == steps_per_epoch(len(x), batch, augmenting)
    assert steps_per_epoch(64, 20, True) == 3 and steps_per_epoch(64, 20, False) == 4


def test_reframing_prepares_thick_redraws_as_to_mnist_does(mnist, digits, distances):
    """A 6 px pen widens a digit to about 24 px; the app sees it shrunk back to 20 px."""
    x, y = digits
    thick = redraw_with_pen(distances, tf.fill((len(x),), 6.0)).numpy()
    prepared = np.stack([to_mnist(image[..., 0]) for image in thick])
    only_reframe = Augmentation(redraw=0.0, stroke=0.0, **{**GEOMETRY_OFF, "reframe": True})
    assert Augmentation().reframe  # on by default
    framed, _ = augmenter(only_reframe, seed=0)(tf.constant(thick), tf.constant(y))
    framed = framed.numpy()[..., 0]
    assert np.abs(framed - prepared).mean() < 0.3 * np.abs(thick[..., 0] - prepared).mean()
    centres = np.array([ndimage.center_of_mass(image) for image in framed])
    assert np.abs(centres - MNIST_CENTRE).max() < 0.25
    unframed, _ = augmenter(replace(only_reframe, reframe=False), seed=0)(
        tf.constant(thick), tf.constant(y)
    )
    assert np.allclose(unframed.numpy(), thick, atol=1e-5)  # nothing else was asked for


def test_framing_an_empty_image_changes_nothing():
    scale, mass = mnist_framing(tf.zeros((2, MNIST_SIZE, MNIST_SIZE, 1)))
    assert np.allclose(scale.numpy(), 1.0) and np.allclose(mass.numpy(), MNIST_CENTRE)


def test_augmented_batches_give_every_digit_once_a_pass_augmented(digits):
    """The backend-neutral feed (JAX or PyTorch on an accelerator): full batches of changed
    digits, each under its own label, every digit once per pass, a new order each pass."""
    x, _ = digits
    ids = np.arange(len(x))  # labels that say which digit each image came from
    steps = len(x) // 8
    nothing = Augmentation(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, redraw=0.0, reframe=False)
    batches = augmented_batches(x, ids, batch_size=8, config=nothing, seed=0, chunk=24)
    one_pass = [next(batches) for _ in range(steps)]  # 3 batches a chunk, a partial last
    assert all(tuple(images.shape) == (8, 28, 28, 1) for images, _ in one_pass)
    first = np.concatenate([labels for _, labels in one_pass])
    assert sorted(first) == list(ids)
    images = np.concatenate([np.asarray(images) for images, _ in one_pass])
    full_ink = x[first] / x[first].max(axis=(1, 2, 3), keepdims=True)  # as every digit leaves
    assert np.allclose(images, full_ink, atol=1e-5)  # unchanged, each under its own label
    second = np.concatenate([next(batches)[1] for _ in range(steps)])
    assert sorted(second) == list(ids) and not np.array_equal(first, second)
    changed = augmented_batches(x, ids, batch_size=8, seed=0)
    images, labels = next(changed)
    assert not np.allclose(np.asarray(images), x[labels])


def test_augmented_batches_check_the_centre_lines(digits):
    x, y = digits
    with pytest.raises(ValueError, match="centre-line distances for"):
        next(augmented_batches(x, y, 8, distances=np.zeros((3, 56, 56, 1), np.uint8)))
