"""One bilinear resampling of a batch of images: rotate, zoom, shift and bend at once.

Shared by the training augmentation (`digitrec.augment`) and the test-time turns of
`digitrec.predict.Predictor`, so reading a drawing never imports training code. One
resampling instead of one per change keeps strokes sharper and costs less. Written in
`keras.ops`, so it runs on whichever backend Keras uses (TensorFlow here; JAX on a GPU).
"""

from __future__ import annotations

from typing import Any

from keras import ops

Tensor = Any  # what `keras.ops` takes and gives: a backend tensor, or a NumPy array going in


def warp(
    images: Tensor, angle: Tensor, scale: Tensor, shift: Tensor, field: Tensor | None = None
) -> Tensor:
    """Rotate, zoom, shift and bend each image in one bilinear resampling (ink outside is 0).

    images: (B, H, W, 1); angle: (B,) radians; scale: (B,) (>1 enlarges); shift: (B, 2) px
    (rows, columns); field: optional (B, H, W, 2) extra displacement from `bending_field`.
    One resampling instead of one per change keeps strokes sharper and costs less time.
    """
    images = ops.convert_to_tensor(images, "float32")
    height, width = ops.shape(images)[1], ops.shape(images)[2]
    rows, cols = ops.meshgrid(
        ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij"
    )
    centre_row = (ops.cast(height, "float32") - 1) / 2
    centre_col = (ops.cast(width, "float32") - 1) / 2
    y, x = rows - centre_row, cols - centre_col

    def per_image(values):
        return ops.reshape(ops.cast(values, "float32"), (-1, 1, 1))

    cos = per_image(ops.cos(angle)) / per_image(scale)
    sin = per_image(ops.sin(angle)) / per_image(scale)
    shift = ops.cast(shift, "float32")
    source_rows = centre_row + cos * y - sin * x - per_image(shift[:, 0])
    source_cols = centre_col + sin * y + cos * x - per_image(shift[:, 1])
    if field is not None:
        source_rows += field[..., 0]
        source_cols += field[..., 1]
    return _sample_bilinear(images, source_rows, source_cols)


def _sample_bilinear(images: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """images (B, H, W, 1) read at fractional (B, H, W) positions; zero outside the image."""
    shape = ops.shape(images)
    batch, height, width = shape[0], shape[1] + 2, shape[2] + 2
    flat = ops.reshape(ops.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]]), (-1,))
    # A one-pixel border of zeros: positions beyond it are clamped onto it.
    rows = ops.clip(rows + 1, 0.0, ops.cast(height - 1, "float32"))
    cols = ops.clip(cols + 1, 0.0, ops.cast(width - 1, "float32"))
    top, left = ops.floor(rows), ops.floor(cols)
    down, right = rows - top, cols - left
    top, left = ops.cast(top, "int32"), ops.cast(left, "int32")
    bottom, rightmost = ops.minimum(top + 1, height - 1), ops.minimum(left + 1, width - 1)
    base = ops.reshape(ops.arange(batch, dtype="int32") * height * width, (-1, 1, 1))

    def at(r, c):
        return ops.take(flat, base + r * width + c)

    upper = (1 - right) * at(top, left) + right * at(top, rightmost)
    lower = (1 - right) * at(bottom, left) + right * at(bottom, rightmost)
    return ((1 - down) * upper + down * lower)[..., None]
