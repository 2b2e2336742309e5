"""Data augmentation that teaches a model the ways drawn digits differ from MNIST's.

After `to_mnist` a drawn digit has MNIST's size and position, but not its pen: a fixed-width
pen on a small digit gives thick strokes, on a large one thin strokes, and a mouse stroke has
an even width where a pen on paper swells and fades; people also tilt and squash their digits.
So the augmentation redraws some digits along their centre lines with an even pen of random
width (the way a canvas draws them), thickens or thins the others (grey-scale dilation and
erosion, blended for any width in between), and then rotates, zooms, shifts and elastically
bends them, all in one bilinear resampling (`warp`) that also frames each digit afresh the
way `to_mnist` frames a drawing (`mnist_framing`): a thicker pen makes a bigger digit, which
the app would shrink back to MNIST's 20 px box. Everything per epoch is a whole-batch op in
`keras.ops`: no Python loop per image. With TensorFlow it runs inside a `tf.data` pipeline,
in parallel with training; with JAX on a GPU, chunks of an epoch are augmented at once on the
device (`augmented_batches`). Only the centre lines are traced, image by image, once before
training starts (`centre_line_distances`, with `digitrec.strokes`, the pen the drawing pad
draws with).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np
from keras import ops
from scipy import ndimage

from digitrec.constants import INK_THRESHOLD, MNIST_BOX, MNIST_CENTRE
from digitrec.strokes import centre_line_distance, straight_style
from digitrec.warp import Tensor, warp

if TYPE_CHECKING:  # a tf.data pipeline needs TensorFlow; the rest runs on any backend
    import tensorflow as tf

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


def change_stroke_width(images: Tensor, amount: Tensor) -> Tensor:
    """Thicken (amount > 0) or thin (amount < 0) each image's strokes; |amount| <= 1.

    images: (B, 28, 28, 1) float tensor; amount: (B,) tensor. 1 blends fully to a 3x3
    grey dilation (about +2 px of width), -1 to a 3x3 erosion (about -2 px).
    """
    thick = ops.max_pool(images, pool_size=3, strides=1, padding="same")
    thin = -ops.max_pool(-images, pool_size=3, strides=1, padding="same")
    amount = ops.reshape(ops.cast(amount, images.dtype), (-1, 1, 1, 1))
    return images + ops.relu(amount) * (thick - images) + ops.relu(-amount) * (thin - images)


def centre_line_distances(images: np.ndarray, angular: float = 0.0, seed: int = 0) -> np.ndarray:
    """How far each pixel is from its digit's centre line: what `redraw_with_pen` draws from.

    images: (N, 28, 28[, 1]) digits, uint8 or floats in [0, 1]. Returns (N, 56, 56, 1) uint8,
    the distance at twice the resolution in 1/8 px, 255 for far away or an empty image.
    Tracing a centre line needs scikit-image's thinning, one image at a time, so this runs
    once before training, not per epoch. A share `angular` of the digits (drawn from `seed`)
    get their line straightened (`strokes.STRAIGHTEN`, some with square corners), so they are
    redrawn as digits drawn with a mouse from point to point, or boxy as on a digital clock.
    """
    pixels = np.asarray(images)
    fields = pixels.reshape(len(pixels), *pixels.shape[1:3]).astype(np.float32)
    if pixels.dtype == np.uint8:
        fields /= 255.0
    scale = CENTRE_LINE_SCALE
    zoomed = ndimage.zoom(fields, (1, scale, scale), order=1)
    top = 255 / DISTANCE_STEPS
    out = np.full((*zoomed.shape, 1), 255, np.uint8)
    rng = np.random.default_rng(seed)
    straight = rng.random(len(zoomed)) < angular
    for i, field in enumerate(zoomed):
        straighten, square = 0.0, False
        if straight[i]:
            straighten, square = straight_style(rng)
            straighten *= field.shape[0]
        distance = centre_line_distance(field, scale, straighten=straighten, square=square, rng=rng)
        if distance is not None:
            out[i, ..., 0] = np.round(np.minimum(distance, top) * DISTANCE_STEPS)
    return out


def redraw_with_pen(distances: Tensor, widths: Tensor) -> Tensor:
    """Digits redrawn along their centre lines with an even, round pen `widths` px wide.

    distances: (B, 56, 56, 1) from `centre_line_distances`; widths: (B,) in MNIST pixels.
    Returns (B, 28, 28, 1) float ink in [0, 1], anti-aliased like a browser's stroke.
    """
    distance = ops.cast(distances, "float32") / DISTANCE_STEPS
    radius = ops.reshape(ops.cast(widths, "float32"), (-1, 1, 1, 1)) * CENTRE_LINE_SCALE / 2
    ink = ops.clip(radius + 0.5 - distance, 0.0, 1.0)
    scale = CENTRE_LINE_SCALE
    return ops.average_pool(ink, pool_size=scale, strides=scale, padding="valid")


def mnist_framing(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per image, the zoom and centre of mass that frame it as `to_mnist` does.

    images: (B, H, W, 1). Returns scale (B,), which makes the longer side of the ink's
    bounding box (ink above `INK_THRESHOLD`) `MNIST_BOX` px, and the centre of mass (B, 2)
    (rows, columns) of that ink, which `to_mnist` moves to `MNIST_CENTRE`. An empty image
    gets scale 1 and MNIST's centre. Unlike `to_mnist`, it keeps stray specks
    (`preprocess.strays`): finding them is no batch op, and about one MNIST digit in seventy
    has one.
    """
    inked = images[..., 0] > INK_THRESHOLD
    ink = ops.where(inked, images[..., 0], 0.0)

    def extent(any_ink):  # first to last inked row (or column), in pixels
        count = ops.shape(any_ink)[1]
        flags = ops.cast(any_ink, "int32")
        first = ops.cast(ops.argmax(flags, axis=1), "int32")
        last = count - 1 - ops.cast(ops.argmax(ops.flip(flags, axis=1), axis=1), "int32")
        return ops.cast(last - first + 1, "float32")

    rows_inked, cols_inked = ops.any(inked, axis=2), ops.any(inked, axis=1)
    longer = ops.maximum(extent(rows_inked), extent(cols_inked))
    present = ops.any(rows_inked, axis=1)
    scale = ops.where(present, MNIST_BOX / longer, 1.0)
    total = ops.sum(ink, axis=(1, 2))
    height, width = ops.shape(ink)[1], ops.shape(ink)[2]
    row_mass = ops.sum(ink, axis=2) * ops.arange(height, dtype=ink.dtype)
    col_mass = ops.sum(ink, axis=1) * ops.arange(width, dtype=ink.dtype)
    mass = ops.stack([ops.sum(row_mass, 1), ops.sum(col_mass, 1)], axis=1)
    centre = ops.convert_to_tensor(MNIST_CENTRE, "float32")
    mass = ops.where(present[:, None], mass / ops.maximum(total, 1e-6)[:, None], centre)
    return scale, mass


# A source of uniform random numbers: (shape, low, high) -> float32 tensor.
Uniform = Callable[..., object]


def bending_field(images: Tensor, amount: Tensor, uniform: Uniform | None = None) -> Tensor:
    """A smooth random displacement field (Simard et al. 2003), at most `amount` px per image.

    images: (B, H, W, 1), for the shape; amount: (B,). Returns (B, H, W, 2) (rows, columns).
    The field is random noise on a 4x4 grid, smoothly resized to the image, so the bends are
    as long as a stroke, not pixel noise. `uniform` draws the noise (default: unseeded).
    """
    batch, height, width = ops.shape(images)[0], ops.shape(images)[1], ops.shape(images)[2]
    uniform = uniform or _unseeded
    coarse = uniform((batch, 4, 4, 2), -1.0, 1.0)
    field = ops.image.resize(coarse, (height, width), interpolation="bicubic")
    peak = ops.max(ops.abs(field), axis=(1, 2, 3), keepdims=True)
    return field * ops.reshape(ops.cast(amount, "float32"), (-1, 1, 1, 1)) / ops.maximum(peak, 1e-6)


def bend_strokes(images: Tensor, amount: Tensor, seed: int | None = None) -> Tensor:
    """Elastic distortion alone: each image bent by a smooth field of at most `amount` px;
    the same `seed` bends the same way."""
    batch = ops.shape(images)[0]
    return warp(
        images,
        ops.zeros((batch,)),
        ops.ones((batch,)),
        ops.zeros((batch, 2)),
        bending_field(images, amount, random_source(seed)),
    )


def _unseeded(shape: tuple[int, ...], low: float, high: float) -> Tensor:
    return keras.random.uniform(shape, low, high)


def random_source(seed: int | None = None) -> Uniform:
    """`uniform(shape, low, high)`: seeded random numbers that work where `augmenter` runs.

    With TensorFlow a `tf.random.Generator`, which a `tf.data` pipeline may call in its
    parallel workers; on other backends a Keras `SeedGenerator`. None: unseeded.
    """
    if seed is None:
        return _unseeded
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        generator = tf.random.Generator.from_seed(seed)
        return generator.uniform
    seeds = keras.random.SeedGenerator(seed)
    return lambda shape, low, high: keras.random.uniform(shape, low, high, seed=seeds)


def augmenter(
    config: Augmentation = DEFAULT, seed: int | None = None
) -> Callable[..., tuple[Tensor, Tensor]]:
    """A function (images, labels[, distances]) -> (augmented images, labels) for `map`.

    With `distances` (from `centre_line_distances`), `config.redraw` of the digits are
    redrawn with an even pen; without them, no digit is.
    """
    uniform = random_source(seed)

    def augment(
        images: Tensor, labels: Tensor, distances: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        images = ops.convert_to_tensor(images, "float32")
        shape = (ops.shape(images)[0],)
        redrawn = plain = ops.zeros(shape, "bool")
        redrawing = distances is not None and config.redraw > 0
        if redrawing or config.plain:
            # One draw per digit: below `redraw` it is redrawn, in the next `plain` it is kept.
            choice = uniform(shape, 0.0, 1.0)
            share = config.redraw if redrawing else 0.0
            redrawn = choice < share
            plain = (choice >= share) & (choice < share + config.plain)
        if redrawing:
            pen = redraw_with_pen(distances, uniform(shape, *config.pen))
            images = ops.where(ops.reshape(redrawn, (-1, 1, 1, 1)), pen, images)
        if config.stroke:
            amount = uniform(shape, -config.thinning, config.stroke)
            images = change_stroke_width(images, ops.where(redrawn | plain, 0.0, amount))
        if config.reframe or config.rotation or config.zoom or config.shift or config.elastic:
            field = None
            if config.elastic:
                field = bending_field(images, uniform(shape, 0.0, config.elastic), uniform)
            turn = 2 * np.pi * config.rotation
            size = float(images.shape[1])
            zoom = 1.0 + uniform(shape, -config.zoom, config.zoom)
            shift = uniform((*shape, 2), -config.shift, config.shift) * size
            if config.reframe:  # the random changes apply to the digit as to_mnist frames it
                scale, mass = mnist_framing(images)
                scale = ops.where(plain, 1.0, scale)  # a plain digit keeps MNIST's framing
                centre = ops.convert_to_tensor(MNIST_CENTRE, "float32")
                mass = ops.where(plain[:, None], centre, mass)
                middle = (size - 1) / 2
                shift = (shift + centre - middle) / scale[:, None] + middle - mass
                field = None if field is None else field / ops.reshape(scale, (-1, 1, 1, 1))
                zoom *= scale
            images = warp(images, uniform(shape, -turn, turn), zoom, shift, field)
        # to_mnist gives every drawing full-strength ink; keep that after thinning/resampling
        peak = ops.max(images, axis=(1, 2, 3), keepdims=True)
        images = ops.clip(images / ops.maximum(peak, 1e-6), 0.0, 1.0)
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
) -> tf.data.Dataset:
    """Shuffled, batched (and augmented, unless `config` is None) training data: a `tf.data`
    pipeline, so this needs TensorFlow (`augmented_batches` is the same for any backend).

    Pass `distances` (from `centre_line_distances(x)`) to let the augmentation redraw digits.
    The pipeline shuffles indices and gathers whole batches, so each epoch starts at once;
    `steps_per_epoch` says how many batches it gives.
    """
    import tensorflow as tf

    arrays = [tf.constant(x), tf.constant(y)]
    if config is not None and distances is not None:
        _check_distances(distances, x)
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


def _check_distances(distances: np.ndarray, x: np.ndarray) -> None:
    if len(distances) != len(x):
        raise ValueError(f"{len(distances)} centre-line distances for {len(x)} images")


# Digits augmented at once by `augmented_batches`: big enough that an accelerator's time goes
# into the arithmetic rather than into starting each op.
CHUNK = 8_192


def augmented_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    config: Augmentation = DEFAULT,
    seed: int = 0,
    distances: np.ndarray | None = None,
    chunk: int = CHUNK,
) -> Iterator[tuple[object, np.ndarray]]:
    """Endless shuffled batches of augmented digits, for any Keras backend.

    The same digits as `training_dataset` gives (full batches only, reshuffled every pass),
    but augmented a chunk of many batches at a time on the backend's device, outside any
    `tf.data` pipeline: for JAX on a GPU, where TensorFlow may be absent.
    """
    if distances is not None:
        _check_distances(distances, x)
    batch_size = min(batch_size, len(x))
    per_chunk = max(1, chunk // batch_size) * batch_size
    augment = augmenter(config, seed)
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(x))
        order = order[: len(order) - len(order) % batch_size]
        for begin in range(0, len(order), per_chunk):
            index = order[begin : begin + per_chunk]
            extra = () if distances is None else (distances[index],)
            images, labels = augment(x[index], y[index], *extra)
            for at in range(0, len(index), batch_size):
                yield images[at : at + batch_size], labels[at : at + batch_size]
