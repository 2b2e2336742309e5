"""Checks for notebook 03's exercises: pooling by hand, counting parameters, early stopping.

Each check computes the right answer with Keras itself (a real pooling layer, a real model
built from `digitrec.model.build_seed_cnn`, a real `EarlyStopping` callback), so the
expected values are never typed in by hand and cannot drift from what Keras does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from digitrec.exercises import unanswered, verdict


def check_max_pooling(answer: Any, feature_map: np.ndarray) -> bool:
    """Exercise 1: `answer` should be 2x2 max pooling of the 2-D `feature_map`."""
    import keras

    feature_map = np.asarray(feature_map, dtype=np.float32)
    if feature_map.ndim != 2:
        raise ValueError(f"feature_map must be one 2-D map, got shape {feature_map.shape}")
    batch = feature_map[np.newaxis, :, :, np.newaxis]
    expected, average = (
        keras.ops.convert_to_numpy(pooling(pool_size=2)(batch))[0, ..., 0]
        for pooling in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    )
    hint = "cut the map into 2x2 blocks with `.reshape(rows, 2, columns, 2)` and take `.max` "
    hint += "over axes 1 and 3."
    if unanswered(answer):
        return verdict(
            False, right="", wrong="no answer yet: replace `...` with your map.", hint=hint
        )
    got = _array(answer)
    if got is None:
        return verdict(False, right="", wrong="the answer should be a 2-D NumPy array.", hint=hint)
    if got.shape != expected.shape:
        return verdict(
            False,
            right="",
            wrong=f"your map has shape {got.shape}; 2x2 pooling of a {feature_map.shape} map "
            f"gives {expected.shape} (a last odd row or column is dropped).",
            hint=hint,
        )
    if np.allclose(got, average, atol=1e-5) and not np.allclose(got, expected, atol=1e-5):
        return verdict(
            False,
            right="",
            wrong="that is the *average* of each 2x2 block; max pooling keeps the largest value.",
            hint=hint,
        )
    return verdict(
        np.allclose(got, expected, atol=1e-5),
        right=f"your {got.shape[0]}x{got.shape[1]} map equals Keras's MaxPooling2D(2).",
        wrong="the shape is right but some values differ from Keras's MaxPooling2D(2).",
        hint=hint,
    )


def seed_cnn_with_first_filters(filters: int) -> Any:
    """The package's seed CNN with `filters` filters in its first conv layer (untrained)."""
    import keras

    from digitrec.model import build_seed_cnn

    reference = build_seed_cnn()
    first_conv = next(layer for layer in reference.layers if isinstance(layer, keras.layers.Conv2D))
    copies = []
    for layer in reference.layers:
        config = layer.get_config()
        if layer is first_conv:
            config["filters"] = filters
        copies.append(type(layer).from_config(config))
    return keras.Sequential([keras.Input(shape=reference.input_shape[1:]), *copies])


def check_parameter_count(answer: Any, first_filters: int = 16) -> bool:
    """Exercise 2: the seed CNN's parameter count with `first_filters` filters in conv1."""
    import keras

    from digitrec.model import build_seed_cnn

    seed, variant = build_seed_cnn(), seed_cnn_with_first_filters(first_filters)
    expected = variant.count_params()
    seed_convs, variant_convs = (
        [layer.count_params() for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        for model in (seed, variant)
    )
    only_first = seed.count_params() - seed_convs[0] + variant_convs[0]
    hint = "a conv layer has (k*k*c_in + 1)*c_out parameters; count layer by layer."
    number = _read_number(answer, hint)
    if number is None:
        return False
    if number == seed.count_params() != expected:
        return verdict(
            False,
            right="",
            wrong=f"that is the seed CNN's own count, with {seed.layers[0].filters} filters "
            "in conv1.",
            hint=hint,
        )
    if number == only_first != expected:
        return verdict(
            False,
            right="",
            wrong=f"you changed conv1 only. Conv2's filters have one 3x3 slice per input "
            f"channel, so with {first_filters} channels coming in they shrink too "
            f"(conv2 holds {variant_convs[1]:,} parameters now).",
            hint=hint,
        )
    return verdict(
        number == expected,
        right=f"{expected:,} parameters: conv1 and conv2 change, the rest stays the same.",
        wrong=f"{number:,} is not it.",
        hint=hint,
    )


def early_stopping_epochs(val_loss: Sequence[float], patience: int) -> int:
    """How many epochs `keras.callbacks.EarlyStopping(patience=...)` lets a run train whose
    validation losses are `val_loss` (all of them if it never stops)."""
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", patience=patience)
    model.stop_training = False  # what `fit` sets before its first epoch
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, loss in enumerate(val_loss):
        callback.on_epoch_end(epoch, {"val_loss": float(loss)})
        if model.stop_training:
            return epoch + 1
    return len(val_loss)


def check_early_stopping(answer: Any, val_loss: Sequence[float], patience: int = 2) -> bool:
    """Exercise 3: after how many epochs EarlyStopping(patience) stops a run with `val_loss`."""
    val_loss = [float(v) for v in val_loss]
    expected = early_stopping_epochs(val_loss, patience)
    best = int(np.argmin(val_loss)) + 1 if val_loss else 0
    hint = (
        f"walk through the losses: the count of epochs without a new lowest loss starts at "
        f"0 after each new lowest, and training stops when it reaches {patience}."
    )
    number = _read_number(answer, hint)
    if number is None:
        return False
    if number == best != expected:
        return verdict(
            False,
            right="",
            wrong=f"epoch {best} has the lowest validation loss, but the callback only knows "
            "that after seeing the epochs that follow it.",
            hint=hint,
        )
    if number == len(val_loss) > expected:
        return verdict(False, right="", wrong="it stops before the last epoch.", hint=hint)
    return verdict(
        number == expected,
        right=f"it trains {expected} epochs"
        + (" (it never stops early)." if expected == len(val_loss) else ", then stops.")
        + " With restore_best_weights=True it then goes back to the weights of the epoch"
        + " with the lowest validation loss.",
        wrong=f"{number} epochs is not it.",
        hint=hint,
    )


def _array(answer: Any) -> np.ndarray | None:
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return got if got.ndim == 2 else None


def _read_number(answer: Any, hint: str) -> int | None:
    """`answer` as an int if it is a whole number (7, 7.0, np.int64(7)); else None, after
    printing why it is not one yet."""
    if unanswered(answer):
        verdict(False, right="", wrong="no answer yet: replace `...` with a number.", hint=hint)
        return None
    if not isinstance(answer, (bool, np.bool_)) and isinstance(answer, (int, float, np.number)):
        value = float(answer)
        if value.is_integer():
            return int(value)
    verdict(
        False, right="", wrong=f"the answer should be a whole number, got {answer!r}.", hint=hint
    )
    return None
