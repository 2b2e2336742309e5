"""Look inside a trained CNN: its filters, what each conv layer sees, and which pixels matter.

Notebooks 03 and 05 call these to turn "the network learned something" into pictures:
one filter applied to a digit, the first layer's filters, the feature maps of each conv
layer and how much of the digit each of their pixels sees, a gradient saliency map, and an
occlusion map (how much the right answer's probability drops when a patch of the digit is
hidden).

`predict` arguments are any function from images (N, 28, 28) in [0, 1] to probabilities
(N, 10), such as `digitrec.predict.Predictor.predict_arrays`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PredictFn = Callable[[np.ndarray], np.ndarray]

# Hand-made 3x3 filters for showing what a convolution does before any training.
EXAMPLE_FILTERS: dict[str, np.ndarray] = {
    "vertical edges": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    "horizontal edges": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32),
    "blur": np.full((3, 3), 1 / 9, np.float32),
}


def _batch(images: np.ndarray) -> np.ndarray:
    """(28, 28), (N, 28, 28) or (N, 28, 28, 1) -> float32 (N, 28, 28, 1)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] == 1):  # one image, with or without channel
        x = x[np.newaxis]
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"expected images of shape (N, H, W) or (N, H, W, 1), got {x.shape}")
    return x


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide one 2-D `kernel` over one image exactly as a Conv2D layer does ('valid', no bias)."""
    from keras import ops

    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2:
        raise ValueError(f"expected a 2-D kernel, got shape {kernel.shape}")
    out = ops.conv(_batch(image)[:1], kernel[:, :, None, None], strides=1, padding="valid")
    return np.asarray(ops.convert_to_numpy(out))[0, :, :, 0]


def conv_layers(model: Any) -> list[Any]:
    """The model's Conv2D layers, in order."""
    from keras import layers

    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def first_layer_filters(model: Any) -> np.ndarray:
    """The first conv layer's kernels as (filters, height, width), for single-channel input."""
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer")
    kernel = np.asarray(convs[0].get_weights()[0])  # (kh, kw, in_channels, filters)
    return np.transpose(kernel[:, :, 0, :], (2, 0, 1))


def feature_maps(model: Any, image: np.ndarray) -> dict[str, np.ndarray]:
    """What every conv layer outputs for one digit: {layer name: (height, width, channels)}."""
    import keras

    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs=inputs, outputs=[layer.output for layer in convs])
    outputs = probe(_batch(image)[:1], training=False)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return {
        layer.name: np.asarray(keras.ops.convert_to_numpy(out))[0]
        for layer, out in zip(convs, outputs, strict=True)
    }


def receptive_fields(model: Any) -> dict[str, tuple[int, int]]:
    """How many input pixels (rows, columns) one pixel of each conv layer's output depends on.

    Each convolution widens the field by (kernel - 1) steps of its input's pixel spacing,
    and each strided convolution or pooling layer multiplies that spacing. Other layers
    (dropout, augmentation) leave it alone; counting stops at the first layer that is not
    spatial (Flatten, Dense, global pooling). Fields are capped at the input's size.
    """
    from keras import layers

    field, spacing = np.ones(2, np.int64), np.ones(2, np.int64)
    limit = np.asarray(model.input_shape[1:3], np.int64)
    fields: dict[str, tuple[int, int]] = {}
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            field += (np.asarray(layer.kernel_size) - 1) * np.asarray(layer.dilation_rate) * spacing
            spacing *= np.asarray(layer.strides)
            fields[layer.name] = tuple(int(n) for n in np.minimum(field, limit))
        elif isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
            field += (np.asarray(layer.pool_size) - 1) * spacing
            spacing *= np.asarray(layer.strides)
        elif len(layer.output.shape) != 4:  # no longer an image: Flatten, Dense, global pool
            break
    return fields


def saliency(
    model: Any,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    samples: int = 24,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """|d log p(label) / d pixel| for each image, scaled to [0, 1]: (N, 28, 28) float32.

    Bright pixels are those whose change would most change the model's belief in `labels`
    (default: its own prediction). Raw gradients are speckled, so by default they are
    averaged over `samples` noisy copies of each digit (SmoothGrad); `samples=1, noise=0`
    gives the plain gradient. Uses TensorFlow's GradientTape (the course's backend).
    """
    import tensorflow as tf

    x = _batch(images)
    count = len(x)
    if labels is None:
        target = np.asarray(model(x, training=False)).argmax(axis=1)
    else:
        target = np.asarray(labels, dtype=np.int64).reshape(-1)
    if target.shape != (count,):
        raise ValueError(f"got {target.size} labels for {count} images")
    samples = max(1, int(samples))
    noisy = np.repeat(x, samples, axis=0)
    if noise > 0:
        noisy = noisy + np.random.default_rng(seed).normal(0, noise, noisy.shape)
    noisy = tf.convert_to_tensor(noisy.astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(noisy)
        probabilities = model(noisy, training=False)
        chosen = tf.gather(probabilities, np.repeat(target, samples), axis=1, batch_dims=1)
        score = tf.math.log(chosen + 1e-12)
    grads = np.abs(tape.gradient(score, noisy).numpy()[..., 0])
    grads = grads.reshape(count, samples, *grads.shape[1:]).mean(axis=1)
    peak = grads.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, grads / np.where(peak > 0, peak, 1), 0).astype(np.float32)


def occlusion_map(
    predict: PredictFn, image: np.ndarray, label: int, patch: int = 6, stride: int = 2
) -> np.ndarray:
    """How much p(label) drops when a `patch` x `patch` square is blacked out, per pixel.

    All occluded copies go through the model in one batch; each pixel gets the mean drop of
    the patches covering it. Positive = that region supported the answer; (28, 28) float32.
    """
    x = _batch(image)[0, :, :, 0]
    height, width = x.shape
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise ValueError(f"need 1 <= patch <= {min(height, width)} and stride >= 1")
    tops = np.arange(0, height - patch + 1, stride)
    lefts = np.arange(0, width - patch + 1, stride)
    top, left = (g.ravel() for g in np.meshgrid(tops, lefts, indexing="ij"))
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    masks = (
        (rows >= top[:, None, None])
        & (rows < top[:, None, None] + patch)
        & (cols >= left[:, None, None])
        & (cols < left[:, None, None] + patch)
    )  # (positions, H, W)
    batch = np.concatenate([x[None], np.where(masks, 0.0, x[None])]).astype(np.float32)
    probabilities = np.asarray(predict(batch))[:, label]
    drop = probabilities[0] - probabilities[1:]
    total = np.tensordot(drop, masks.astype(np.float32), axes=(0, 0))
    covered = masks.sum(axis=0)
    return (total / np.maximum(covered, 1)).astype(np.float32)
