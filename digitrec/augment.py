"""Data augmentation that teaches a model the ways drawn digits differ from MNIST's.

After `to_mnist` a drawn digit has MNIST's size and position, but not its pen: a fixed-width
pen on a small digit gives thick strokes, on a large one thin strokes; people also tilt and
squash their digits. So the augmentation changes stroke width (grey-scale dilation and
erosion, blended for any width in between), and applies small rotations, zooms, shifts and
shears, all as whole-batch TensorFlow ops inside a `tf.data` pipeline: no Python loop per
image, and it runs in parallel with training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """How strongly to vary each property; zero turns that change off."""

    stroke: float = 1.0  # thickest stroke change, in units of one 3x3 dilation (+2 px)
    thinning: float = 0.5  # thinnest, as a fraction of one 3x3 erosion (MNIST strokes are thin)
    rotation: float = 0.03  # fraction of a full turn (0.03 = about 11 degrees)
    zoom: float = 0.10  # fraction of the size, up or down
    shift: float = 0.08  # fraction of the image (0.08 = about 2 px)


DEFAULT = Augmentation()


def change_stroke_width(images, amount):
    """Thicken (amount > 0) or thin (amount < 0) each image's strokes; |amount| <= 1.

    images: (B, 28, 28, 1) float tensor; amount: (B,) tensor. 1 blends fully to a 3x3
    grey dilation (about +2 px of width), -1 to a 3x3 erosion (about -2 px).
    """
    import tensorflow as tf

    thick = tf.nn.max_pool2d(images, ksize=3, strides=1, padding="SAME")
    thin = -tf.nn.max_pool2d(-images, ksize=3, strides=1, padding="SAME")
    amount = tf.reshape(tf.cast(amount, images.dtype), (-1, 1, 1, 1))
    return images + tf.nn.relu(amount) * (thick - images) + tf.nn.relu(-amount) * (thin - images)


def augmenter(config: Augmentation = DEFAULT, seed: int | None = None):
    """A function (images, labels) -> (augmented images, labels) for `tf.data.Dataset.map`."""
    import keras
    import tensorflow as tf

    layers = []
    if config.rotation:
        layers.append(keras.layers.RandomRotation(config.rotation, fill_mode="constant", seed=seed))
    if config.zoom:
        layers.append(keras.layers.RandomZoom(config.zoom, fill_mode="constant", seed=seed))
    if config.shift:
        layers.append(
            keras.layers.RandomTranslation(
                config.shift, config.shift, fill_mode="constant", seed=seed
            )
        )
    geometry = keras.Sequential(layers) if layers else None
    generator = tf.random.Generator.from_seed(seed) if seed is not None else None

    def augment(images, labels):
        if config.stroke:
            shape = tf.shape(images)[:1]
            low = -config.thinning
            if generator is not None:
                amount = generator.uniform(shape, low, config.stroke)
            else:
                amount = tf.random.uniform(shape, low, config.stroke)
            images = change_stroke_width(images, amount)
        if geometry is not None:
            images = geometry(images, training=True)
        # to_mnist gives every drawing full-strength ink; keep that after thinning/resampling
        peak = tf.reduce_max(images, axis=(1, 2, 3), keepdims=True)
        images = tf.clip_by_value(images / tf.maximum(peak, 1e-6), 0.0, 1.0)
        return images, labels

    return augment


def training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    config: Augmentation | None = DEFAULT,
    seed: int = 0,
):
    """Shuffled, batched (and augmented, unless `config` is None) training data."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if config is not None:
        dataset = dataset.map(augmenter(config, seed), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
