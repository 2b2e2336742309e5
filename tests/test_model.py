"""digitrec.model: the seed CNN is exactly the one the course teaches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from digitrec.model import (
    ARCHITECTURES,
    DEEP_FILTERS,
    SEED_CNN_PARAMS,
    build_model,
    build_seed_cnn,
)


def test_seed_cnn_layers_and_parameters():
    model = build_seed_cnn()
    assert model.count_params() == SEED_CNN_PARAMS == 93_322
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [
        32,
        64,
        64,
    ]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [64, 10]
    assert dense[-1].activation.__name__ == "softmax"
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    names = [layer.name for layer in model.layers]
    assert names[0] == "conv1" and names[-1] == "probabilities"
    assert [layer.name for layer in build_seed_cnn().layers] == names  # stable across builds


def test_seed_cnn_is_compiled_for_integer_labels():
    model = build_seed_cnn()
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "sparse_categorical_crossentropy"
    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    y = np.arange(16) % 10
    logs = model.train_on_batch(x, y, return_dict=True)
    assert {"loss", "accuracy"} <= set(logs)
    probs = model(x, training=False).numpy()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_improved_cnn_is_small_pooled_and_trains():
    model = build_model("improved")
    assert model.count_params() == 224_858
    convs = [model.get_layer(name).filters for name in ("conv1", "conv2a", "conv2b", "conv3")]
    assert convs == [40, 80, 80, 160]
    first = model.get_layer("conv1")  # strided: no full-resolution feature maps
    assert first.kernel_size == (5, 5) and first.strides == (2, 2)
    assert first.output.shape == (None, 14, 14, 40)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Dropout", "GlobalAveragePooling2D"} <= kinds
    assert "BatchNormalization" not in kinds  # computed op by op in Keras 3: slow on a CPU
    assert model.get_layer("probabilities").dtype_policy.compute_dtype == "float32"
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    keras.utils.set_random_seed(1)
    y = np.arange(32) % 10
    x = np.random.default_rng(1).random((32, 28, 28, 1)).astype("float32") * 0.2
    for i, label in enumerate(y):  # each class a bright band of its own: easy to learn
        x[i, 2 * label + 4 : 2 * label + 8, 4:24] = 1.0
    first = model.train_on_batch(x, y, return_dict=True)["loss"]
    for _ in range(30):
        last = model.train_on_batch(x, y, return_dict=True)["loss"]
    assert last < 0.85 * first  # it learns


def test_wide_cnn_is_the_improved_design_wider():
    wide, improved = build_model("wide"), build_model("improved")
    assert [layer.name for layer in wide.layers] == [layer.name for layer in improved.layers]
    convs = [wide.get_layer(name).filters for name in ("conv1", "conv2a", "conv2b", "conv3")]
    assert convs == [64, 128, 128, 256]
    assert wide.count_params() > 2 * improved.count_params()


def test_lean_cnn_runs_its_second_middle_convolution_after_the_pooling():
    lean, improved = build_model("lean"), build_model("improved")
    assert lean.count_params() == improved.count_params()  # the same weights, placed otherwise
    assert improved.get_layer("conv2b").output.shape[1:3] == (14, 14)
    assert lean.get_layer("conv2b").output.shape[1:3] == (7, 7)
    names = [layer.name for layer in lean.layers]
    assert names.index("pool2") < names.index("conv2b") < names.index("conv3")
    assert lean.output_shape == (None, 10)


def test_deep_cnn_convolves_at_full_resolution_with_batch_norm():
    deep = build_model("deep")
    convs = [layer for layer in deep.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == list(DEEP_FILTERS)
    assert all(c.kernel_size == (5, 5) and c.strides == (1, 1) for c in convs)
    assert not any(isinstance(layer, keras.layers.MaxPooling2D) for layer in deep.layers)
    norms = [layer for layer in deep.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == len(convs) + 1  # after every convolution and the dense layer
    assert convs[-1].output.shape[1:] == (8, 8, DEEP_FILTERS[-1])  # 28 px, 4 px less a layer
    assert deep.count_params() == 1_129_160
    probabilities = deep.predict(np.random.default_rng(0).random((3, 28, 28, 1)), verbose=0)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_architectures_are_chosen_by_name():
    assert {"seed", "improved", "wide", "lean", "deep", "dense"} <= set(ARCHITECTURES)
    assert build_model("seed").count_params() == SEED_CNN_PARAMS
    assert build_model("dense").output_shape == (None, 10)
    with pytest.raises(ValueError, match="unknown architecture 'resnet'.*seed"):
        build_model("resnet")
