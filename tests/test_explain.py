"""digitrec.explain: convolution, filters, feature maps, saliency and occlusion."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import ndimage

from digitrec import explain
from digitrec.model import build_seed_cnn


@pytest.fixture(scope="module")
def untrained():
    keras.utils.set_random_seed(0)
    return build_seed_cnn()


def test_convolve_is_valid_cross_correlation(rng):
    image = rng.random((28, 28)).astype(np.float32)
    kernel = explain.EXAMPLE_FILTERS["vertical edges"]
    out = explain.convolve(image, kernel)
    expected = ndimage.correlate(image, kernel, mode="constant")[1:-1, 1:-1]
    assert out.shape == (26, 26)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_convolve_finds_a_vertical_edge():
    image = np.zeros((28, 28), np.float32)
    image[:, :14] = 1.0  # bright left half, dark right half
    out = explain.convolve(image, explain.EXAMPLE_FILTERS["vertical edges"])
    assert out[:, 12].min() == pytest.approx(4.0)  # the filter straddles the edge
    assert np.abs(out[:, :10]).max() == 0.0 and np.abs(out[:, 15:]).max() == 0.0
    flat = explain.convolve(image, explain.EXAMPLE_FILTERS["horizontal edges"])
    assert np.abs(flat).max() == 0.0


def test_convolve_rejects_a_3d_kernel():
    with pytest.raises(ValueError, match="2-D kernel"):
        explain.convolve(np.zeros((28, 28)), np.zeros((3, 3, 1)))


def test_first_layer_filters_are_the_first_conv_weights(untrained):
    filters = explain.first_layer_filters(untrained)
    kernel = untrained.layers[0].get_weights()[0]
    assert filters.shape == (32, 3, 3)
    np.testing.assert_array_equal(filters[5], kernel[:, :, 0, 5])


def test_models_without_conv_layers_are_refused():
    from digitrec.model import build_dense_baseline

    dense = build_dense_baseline()
    with pytest.raises(ValueError, match="no Conv2D"):
        explain.first_layer_filters(dense)
    with pytest.raises(ValueError, match="no Conv2D"):
        explain.feature_maps(dense, np.zeros((28, 28)))


def test_feature_maps_shapes_and_first_layer_values(untrained, mnist):
    (x_train, _), _ = mnist
    digit = x_train[0] / 255.0
    maps = explain.feature_maps(untrained, digit)
    assert [m.shape for m in maps.values()] == [(26, 26, 32), (11, 11, 64), (3, 3, 64)]
    conv = untrained.layers[0]
    expected = conv(digit[None, :, :, None].astype(np.float32)).numpy()[0]
    np.testing.assert_allclose(next(iter(maps.values())), expected, atol=1e-5)


def test_feature_maps_of_a_loaded_model(trained_model_path):
    model = keras.models.load_model(trained_model_path, compile=False)
    maps = explain.feature_maps(model, np.zeros((28, 28, 1)))
    assert len(maps) == 3


def test_saliency_shape_range_and_plain_gradient(untrained, mnist):
    (x_train, y_train), _ = mnist
    images = x_train[:3] / 255.0
    smooth = explain.saliency(untrained, images, y_train[:3])
    plain = explain.saliency(untrained, images, y_train[:3], samples=1, noise=0.0)
    for result in (smooth, plain):
        assert result.shape == (3, 28, 28) and result.dtype == np.float32
        assert result.min() >= 0.0 and result.max(axis=(1, 2)) == pytest.approx([1, 1, 1])
    predicted_target = explain.saliency(untrained, images, samples=1, noise=0.0)
    assert predicted_target.shape == (3, 28, 28)


def test_saliency_rejects_mismatched_labels(untrained):
    with pytest.raises(ValueError, match="2 labels for 1 images"):
        explain.saliency(untrained, np.zeros((1, 28, 28)), np.array([1, 2]))


def test_saliency_of_a_trained_model_looks_at_the_digit(predictor, mnist):
    _, (x_test, y_test) = mnist
    images = x_test[:8] / 255.0
    maps = explain.saliency(predictor.model, images, y_test[:8])
    centre = maps[:, 6:22, 6:22].mean()
    border = np.concatenate([maps[:, :3].ravel(), maps[:, -3:].ravel()]).mean()
    assert centre > 2 * border


def test_occlusion_with_a_known_model():
    """A 'model' whose belief in class 0 is the ink in the top-left 10x10 square."""

    def predict(images):
        score = images[:, :10, :10].sum(axis=(1, 2)) / 100.0
        return np.stack([score] + [np.zeros_like(score)] * 9, axis=1)

    image = np.ones((28, 28), np.float32)
    heat = explain.occlusion_map(predict, image, label=0, patch=4, stride=2)
    assert heat.shape == (28, 28)
    assert heat[:8, :8].min() > 0  # hiding ink there lowered the score
    assert heat[14:, 14:].max() == 0  # hiding ink elsewhere changed nothing


def test_occlusion_on_a_trained_model_hurts_most_on_the_ink(predictor, mnist):
    _, (x_test, y_test) = mnist
    image = x_test[0] / 255.0
    heat = explain.occlusion_map(predictor.predict_arrays, image, int(y_test[0]), patch=6)
    near_ink = ndimage.binary_dilation(image > 0.5, iterations=2)
    assert heat[near_ink].mean() > heat[~near_ink].mean()
    assert heat.max() > 0.01


def test_occlusion_rejects_bad_patches():
    with pytest.raises(ValueError, match="patch"):
        explain.occlusion_map(lambda x: x, np.zeros((28, 28)), 0, patch=40)
    with pytest.raises(ValueError, match="stride"):
        explain.occlusion_map(lambda x: x, np.zeros((28, 28)), 0, stride=0)


def test_receptive_fields_of_the_seed_cnn(untrained):
    assert explain.receptive_fields(untrained) == {
        "conv1": (3, 3),
        "conv2": (8, 8),
        "conv3": (18, 18),
    }


def test_receptive_field_matches_the_pixels_a_gradient_reaches():
    """One output pixel's gradient is non-zero on exactly its receptive field."""
    import tensorflow as tf

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(1, 3, kernel_initializer="ones", name="a"),
            keras.layers.AveragePooling2D(2),
            keras.layers.Dropout(0.5),
            keras.layers.Conv2D(1, (5, 3), strides=(1, 2), kernel_initializer="ones", name="b"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    fields = explain.receptive_fields(model)
    x = tf.convert_to_tensor(np.random.default_rng(0).random((1, 28, 28, 1), np.float32))
    probe = keras.Model(model.inputs, model.get_layer("b").output)
    with tf.GradientTape() as tape:
        tape.watch(x)
        centre = probe(x)[0, 4, 2, 0]
    reached = np.abs(tape.gradient(centre, x).numpy()[0, :, :, 0]) > 0
    rows, cols = np.flatnonzero(reached.any(axis=1)), np.flatnonzero(reached.any(axis=0))
    assert fields == {"a": (3, 3), "b": (12, 8)}
    assert (len(rows), len(cols)) == fields["b"]


def test_receptive_fields_are_capped_at_the_image():
    model = keras.Sequential(
        [keras.Input((10, 10, 1)), *[keras.layers.Conv2D(1, 3, padding="same") for _ in range(6)]]
    )
    assert list(explain.receptive_fields(model).values())[-1] == (10, 10)
