"""Data augmentation that teaches a model the ways drawn digits differ from MNIST's.

After `to_mnist` a drawn digit has MNIST's size and position, but not its pen: a fixed-width
pen on a small digit gives thick strokes, on a large one thin strokes, and a mouse stroke has
an even width where a pen on paper swells and fades; people also tilt and squash their digits.
So the augmentation redraws some digits along their centre lines with an even pen of random
width (the way a canvas draws them), thickens or thins the others (grey-scale dilation and
erosion, blended for any width in between), and then rotates, zooms, shifts and elastically
bends them, all in one bilinear resampling (`warp`) that also frames each digit afresh the
way `to_mnist` frames a drawing (`mnist_framing`): a thicker pen makes a bigger digit, which
the app would shrink back to MNIST's 20 px box. Everything per epoch is a whole-batch
TensorFlow op inside a `tf.data` pipeline: no Python loop per image, and it runs in parallel
with training. Only the centre lines are traced, image by image, once before training starts
(`centre_line_distances`, with `digitrec.strokes`, the pen the drawing pad draws with).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from scipy import ndimage

from digitrec.constants import INK_THRESHOLD, MNIST_BOX, MNIST_CENTRE
from digitrec.strokes import centre_line_distance
from digitrec.warp import warp

# Centre lines are traced at twice MNIST's resolution, so a thin pen still draws smoothly.
CENTRE_LINE_SCALE = 2
# Distances are stored as uint8 in steps of 1/8 px (at that resolution); 255 means "far".
DISTANCE_STEPS = 8


@dataclass(frozen=True)
class Augmentation:
    """How strongly to vary each property; zero turns that change off."""

    stroke: float = 1.0  # thickest stroke change, in units of one 3x3 dilation (+2 px)
    thinning: float = 0.5  # thinnest, as a fraction of one 3x3 erosion (MNIST strokes are thin)
    rotation: float = 0.042  # fraction of a full turn (0.042 = about 15 degrees)
    # Zoom and shift stay small: the framing below (and `to_mnist` in the app) gives every
    # digit MNIST's size and centre, so big moves would only teach what is never seen.
    zoom: float = 0.05  # fraction of the size, up or down
    shift: float = 0.03  # fraction of the image (0.03 = about 0.8 px)
    elastic: float = 2.0  # largest bend of the strokes, in pixels (a sloppy hand)
    redraw: float = 0.5  # fraction of digits redrawn with an even pen (needs centre lines)
    # Fraction of digits (taken from those not redrawn) that keep MNIST's own pen and framing:
    # only turned, zoomed, shifted and bent, so the model also sees MNIST as it is.
    plain: float = 0.0
    pen: tuple[float, float] = (1.0, 6.0)  # that pen's width, in MNIST pixels
    # Frame every digit afresh as `to_mnist` does (20 px box, centre of mass at MNIST's
    # centre) after redrawing or thickening it: a thick pen widens the ink, and the app sees
    # such a digit shrunk back to 20 px, not bigger.
    reframe: bool = True


DEFAULT = Augmentation()


def change_stroke_width(images, amount):
    """Thicken (amount > 0) or thin (amount < 0) each image's strokes; |amount| <= 1.

    images: (B, 28, 28, 1) float tensor; amount: (B,) tensor. 1 blends fully to a 3x3
    grey dilation (about +2 px of width), -1 to a 3x3 erosion (about -2 px).
    """
    thick = tf.nn.max_pool2d(images, ksize=3, strides=1, padding="SAME")
    thin = -tf.nn.max_pool2d(-images, ksize=3, strides=1, padding="SAME")
    amount = tf.reshape(tf.cast(amount, images.dtype), (-1, 1, 1, 1))
    return images + tf.nn.relu(amount) * (thick - images) + tf.nn.relu(-amount) * (thin - images)


def centre_line_distances(images: np.ndarray) -> np.ndarray:
    """How far each pixel is from its digit's centre line: what `redraw_with_pen` draws from.

    images: (N, 28, 28[, 1]) digits, uint8 or floats in [0, 1]. Returns (N, 56, 56, 1) uint8,
    the distance at twice the resolution in 1/8 px, 255 for far away or an empty image.
    Tracing a centre line needs scikit-image's thinning, one image at a time, so this runs
    once before training, not per epoch.
    """
    pixels = np.asarray(images)
    fields = pixels.reshape(len(pixels), *pixels.shape[1:3]).astype(np.float32)
    if pixels.dtype == np.uint8:
        fields /= 255.0
    scale = CENTRE_LINE_SCALE
    zoomed = ndimage.zoom(fields, (1, scale, scale), order=1)
    top = 255 / DISTANCE_STEPS
    out = np.full((*zoomed.shape, 1), 255, np.uint8)
    for i, field in enumerate(zoomed):
        distance = centre_line_distance(field, scale)
        if distance is not None:
            out[i, ..., 0] = np.round(np.minimum(distance, top) * DISTANCE_STEPS)
    return out


def redraw_with_pen(distances, widths):
    """Digits redrawn along their centre lines with an even, round pen `widths` px wide.

    distances: (B, 56, 56, 1) from `centre_line_distances`; widths: (B,) in MNIST pixels.
    Returns (B, 28, 28, 1) float ink in [0, 1], anti-aliased like a browser's stroke.
    """
    distance = tf.cast(distances, tf.float32) / DISTANCE_STEPS
    radius = tf.reshape(tf.cast(widths, tf.float32), (-1, 1, 1, 1)) * CENTRE_LINE_SCALE / 2
    ink = tf.clip_by_value(radius + 0.5 - distance, 0.0, 1.0)
    scale = CENTRE_LINE_SCALE
    return tf.nn.avg_pool2d(ink, ksize=scale, strides=scale, padding="VALID")


def mnist_framing(images):
    """Per image, the zoom and centre of mass that frame it as `to_mnist` does.

    images: (B, H, W, 1). Returns scale (B,), which makes the longer side of the ink's
    bounding box (ink above `INK_THRESHOLD`) `MNIST_BOX` px, and the centre of mass (B, 2)
    (rows, columns) of that ink, which `to_mnist` moves to `MNIST_CENTRE`. An empty image
    gets scale 1 and MNIST's centre.
    """
    inked = images[..., 0] > INK_THRESHOLD
    ink = tf.where(inked, images[..., 0], 0.0)

    def extent(any_ink):  # first to last inked row (or column), in pixels
        count = tf.shape(any_ink)[1]
        flags = tf.cast(any_ink, tf.int32)
        first = tf.argmax(flags, axis=1, output_type=tf.int32)
        last = count - 1 - tf.argmax(flags[:, ::-1], axis=1, output_type=tf.int32)
        return tf.cast(last - first + 1, tf.float32)

    rows_inked, cols_inked = tf.reduce_any(inked, axis=2), tf.reduce_any(inked, axis=1)
    longer = tf.maximum(extent(rows_inked), extent(cols_inked))
    present = tf.reduce_any(rows_inked, axis=1)
    scale = tf.where(present, MNIST_BOX / longer, 1.0)
    total = tf.reduce_sum(ink, axis=(1, 2))
    height, width = tf.shape(ink)[1], tf.shape(ink)[2]
    row_mass = tf.reduce_sum(ink, axis=2) * tf.range(height, dtype=ink.dtype)
    col_mass = tf.reduce_sum(ink, axis=1) * tf.range(width, dtype=ink.dtype)
    mass = tf.stack([tf.reduce_sum(row_mass, 1), tf.reduce_sum(col_mass, 1)], axis=1)
    mass = tf.where(present[:, None], mass / tf.maximum(total, 1e-6)[:, None], MNIST_CENTRE)
    return scale, mass


def bending_field(images, amount, seed_tensor=None):
    """A smooth random displacement field (Simard et al. 2003), at most `amount` px per image.

    images: (B, H, W, 1), for the shape; amount: (B,). Returns (B, H, W, 2) (rows, columns).
    The field is random noise on a 4x4 grid, smoothly resized to the image, so the bends are
    as long as a stroke, not pixel noise.
    """
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    if seed_tensor is None:
        coarse = tf.random.uniform((batch, 4, 4, 2), -1.0, 1.0)
    else:
        coarse = tf.random.stateless_uniform((batch, 4, 4, 2), seed_tensor, -1.0, 1.0)
    field = tf.image.resize(coarse, (height, width), method="bicubic")
    peak = tf.reduce_max(tf.abs(field), axis=(1, 2, 3), keepdims=True)
    return field * tf.reshape(tf.cast(amount, tf.float32), (-1, 1, 1, 1)) / tf.maximum(peak, 1e-6)


def bend_strokes(images, amount, seed_tensor=None):
    """Elastic distortion alone: each image bent by a smooth field of at most `amount` px."""
    batch = tf.shape(images)[0]
    return warp(
        images,
        tf.zeros((batch,)),
        tf.ones((batch,)),
        tf.zeros((batch, 2)),
        bending_field(images, amount, seed_tensor),
    )


def augmenter(config: Augmentation = DEFAULT, seed: int | None = None):
    """A function (images, labels[, distances]) -> (augmented images, labels) for `map`.

    With `distances` (from `centre_line_distances`), `config.redraw` of the digits are
    redrawn with an even pen; without them, no digit is.
    """
    generator = tf.random.Generator.from_seed(seed) if seed is not None else None

    def uniform(shape, low, high):
        if generator is not None:
            return generator.uniform(shape, low, high)
        return tf.random.uniform(shape, low, high)

    def augment(images, labels, distances=None):
        shape = tf.shape(images)[:1]
        redrawn = plain = tf.zeros(shape, tf.bool)
        redrawing = distances is not None and config.redraw > 0
        if redrawing or config.plain:
            # One draw per digit: below `redraw` it is redrawn, in the next `plain` it is kept.
            choice = uniform(shape, 0.0, 1.0)
            share = config.redraw if redrawing else 0.0
            redrawn = choice < share
            plain = (choice >= share) & (choice < share + config.plain)
        if redrawing:
            pen = redraw_with_pen(distances, uniform(shape, *config.pen))
            images = tf.where(tf.reshape(redrawn, (-1, 1, 1, 1)), pen, images)
        if config.stroke:
            amount = uniform(shape, -config.thinning, config.stroke)
            images = change_stroke_width(images, tf.where(redrawn | plain, 0.0, amount))
        if config.reframe or config.rotation or config.zoom or config.shift or config.elastic:
            field = None
            if config.elastic:
                seed_pair = None if generator is None else generator.make_seeds(1)[:, 0]
                field = bending_field(images, uniform(shape, 0.0, config.elastic), seed_pair)
            turn = 2 * np.pi * config.rotation
            size = tf.cast(tf.shape(images)[1], tf.float32)
            zoom = 1.0 + uniform(shape, -config.zoom, config.zoom)
            shift = uniform(tf.concat([shape, [2]], 0), -config.shift, config.shift) * size
            if config.reframe:  # the random changes apply to the digit as to_mnist frames it
                scale, mass = mnist_framing(images)
                scale = tf.where(plain, 1.0, scale)  # a plain digit keeps MNIST's framing
                mass = tf.where(plain[:, None], MNIST_CENTRE, mass)
                middle = (size - 1) / 2
                shift = (shift + MNIST_CENTRE - middle) / scale[:, None] + middle - mass
                field = None if field is None else field / tf.reshape(scale, (-1, 1, 1, 1))
                zoom *= scale
            images = warp(images, uniform(shape, -turn, turn), zoom, shift, field)
        # to_mnist gives every drawing full-strength ink; keep that after thinning/resampling
        peak = tf.reduce_max(images, axis=(1, 2, 3), keepdims=True)
        images = tf.clip_by_value(images / tf.maximum(peak, 1e-6), 0.0, 1.0)
        return images, labels

    return augment


def steps_per_epoch(examples: int, batch_size: int, augmenting: bool) -> int:
    """How many batches `training_dataset` gives per epoch (augmenting drops a partial one)."""
    if augmenting:
        return max(1, examples // batch_size)
    return -(-examples // batch_size)


def training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    config: Augmentation | None = DEFAULT,
    seed: int = 0,
    distances: np.ndarray | None = None,
):
    """Shuffled, batched (and augmented, unless `config` is None) training data.

    Pass `distances` (from `centre_line_distances(x)`) to let the augmentation redraw digits.
    The pipeline shuffles indices and gathers whole batches, so each epoch starts at once;
    `steps_per_epoch` says how many batches it gives.
    """
    arrays = [tf.constant(x), tf.constant(y)]
    if config is not None and distances is not None:
        if len(distances) != len(x):
            raise ValueError(f"{len(distances)} centre-line distances for {len(x)} images")
        arrays.append(tf.constant(distances))
    dataset = tf.data.Dataset.range(len(x))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    # With augmentation, drop the last, partial batch (a different one each epoch): every
    # step then has the same shape, so neither the pipeline nor the model is retraced.
    augmenting = config is not None
    if augmenting:
        batch_size = min(batch_size, len(x))
    dataset = dataset.batch(batch_size, drop_remainder=augmenting)
    dataset = dataset.map(lambda index: tuple(tf.gather(a, index) for a in arrays))
    if config is not None:
        dataset = dataset.map(augmenter(config, seed), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
