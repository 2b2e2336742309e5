"""The CNNs of the course, each built by a function and chosen by name.

The seed CNN is the one notebook 02 teaches, layer by layer; other architectures register
beside it in `ARCHITECTURES` so the training command can pick one with `--arch NAME`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
SEED_CNN_PARAMS = 93_322
# Filters of the improved CNN's first convolution, its two at 14 px, and its last at 7 px.
IMPROVED_FILTERS = (40, 80, 160)
# The same for the wide CNN.
WIDE_FILTERS = (64, 128, 256)
# The deep CNN's five 5x5 convolutions, all at full resolution: the `best` recipe's net.
DEEP_FILTERS = (32, 64, 96, 128, 160)


def compile_model(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
) -> keras.Model:
    """Adam + sparse categorical cross-entropy: labels stay plain integers 0-9."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_seed_cnn() -> keras.Model:
    """Conv32-Pool-Conv64-Pool-Conv64-Flatten-Dense64-Dense10: 93,322 parameters, compiled.

    Layers have fixed names (conv1 ... probabilities) so notebooks can point at them.
    """
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv1"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool1"),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu", name="conv2"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool2"),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu", name="conv3"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="seed_cnn",
    )
    return compile_model(model)


def build_dense_baseline() -> keras.Model:
    """A small fully connected network: the non-convolutional baseline notebook 02 compares."""
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="dense_baseline",
    )
    return compile_model(model)


def build_improved_cnn() -> keras.Model:
    """A deeper, wider CNN for drawn digits: global pooling, dropout; no batch norm.

    Four convolutions see longer stretches of stroke than the seed CNN's three, with a
    quarter more filters at each stage than a 32-64-128 net (`IMPROVED_FILTERS`): the extra
    width is what raised its MNIST accuracy. The first is a 5x5 convolution with stride 2:
    its windows overlap, so it reads every pixel, but it writes 14x14 maps; a convolution
    and pooling at full resolution would spend much of each training step moving memory,
    for no measurable accuracy. Global average pooling in place of Flatten keeps it small
    and cares less where the strokes sit; dropout and augmentation keep it from memorising
    MNIST's pens. It has no batch normalisation: Keras 3 computes that op by op, slow on a
    CPU (`bench/train_step.py`), while warm-up and a cosine schedule train this net just as
    well without it. The last layer stays float32 under mixed precision.
    """
    return _pooled_cnn(IMPROVED_FILTERS, "improved_cnn")


def build_wide_cnn() -> keras.Model:
    """The improved CNN's design with 1.6 times the filters (`WIDE_FILTERS`).

    For the `best` recipe: more capacity for the longest training, whatever it costs.
    """
    return _pooled_cnn(WIDE_FILTERS, "wide_cnn")


def build_lean_cnn() -> keras.Model:
    """The improved CNN with its second middle convolution moved after the pooling.

    For CPUs without bfloat16 units (the `lean` recipe): in float32 the two convolutions at
    14x14 take most of the improved CNN's training step (`bench/train_step.py --layers`
    measures each layer); run at 7x7, the second costs a quarter as much, having a quarter of
    the positions.
    """
    return _pooled_cnn(IMPROVED_FILTERS, "lean_cnn", pool_before_second=True)


def _pooled_cnn(
    filters: tuple[int, int, int], name: str, pool_before_second: bool = False
) -> keras.Model:
    """The improved CNN's layers with the given `(first, middle, last)` filter counts; the
    second middle convolution runs after the pooling if `pool_before_second`."""
    first, middle, last = filters
    second = layers.Conv2D(middle, 3, padding="same", activation="relu", name="conv2b")
    pooling = [layers.MaxPooling2D(2, name="pool2"), layers.Dropout(0.1, name="pool2_dropout")]
    middle_layers = [*pooling, second] if pool_before_second else [second, *pooling]
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(first, 5, strides=2, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(middle, 3, padding="same", activation="relu", name="conv2a"),
            *middle_layers,
            layers.Conv2D(last, 3, padding="same", activation="relu", name="conv3"),
            layers.GlobalAveragePooling2D(name="global_pool"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.3, name="dense_dropout"),
            layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probabilities"),
        ],
        name=name,
    )
    return compile_model(model)


def build_deep_cnn() -> keras.Model:
    """Five unpadded 5x5 convolutions with batch norm and no pooling, then one dense layer.

    The `best` recipe's net, after the "M5" model of An et al. (2020, "An Ensemble of Simple
    Convolutional Neural Network Models for MNIST Digit Recognition"), whose single models
    read MNIST at 99.7-99.8 %: every convolution works at full resolution (28 px down to
    8 px, 4 px a layer), so no detail of a stroke is pooled away, and batch normalisation
    after each layer lets so deep a net train fast (`DEEP_FILTERS`). It costs many times the
    improved CNN's arithmetic per digit: hours of training on a CPU, minutes on a GPU.
    """
    blocks = []
    for number, filters in enumerate(DEEP_FILTERS, start=1):
        blocks += [
            layers.Conv2D(filters, 5, use_bias=False, name=f"conv{number}"),
            layers.BatchNormalization(name=f"conv{number}_norm"),
            layers.ReLU(name=f"conv{number}_relu"),
        ]
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            *blocks,
            layers.Flatten(name="flatten"),
            layers.Dense(NUM_CLASSES, use_bias=False, name="dense"),
            layers.BatchNormalization(name="dense_norm"),
            layers.Activation("softmax", dtype="float32", name="probabilities"),
        ],
        name="deep_cnn",
    )
    return compile_model(model)


ARCHITECTURES: dict[str, Callable[[], keras.Model]] = {
    "seed": build_seed_cnn,
    "improved": build_improved_cnn,
    "wide": build_wide_cnn,
    "lean": build_lean_cnn,
    "deep": build_deep_cnn,
    "dense": build_dense_baseline,
}


def build_model(arch: str = "seed") -> keras.Model:
    """Build a compiled model by name; the names are the keys of `ARCHITECTURES`."""
    try:
        builder = ARCHITECTURES[arch]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; choose one of: {known}") from None
    return builder()
