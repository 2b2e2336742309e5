"""digitrec.plots: each function returns a Figure with the expected axes, labels and images."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from digitrec import datastats, explain, plots, robustness  # noqa: E402
from digitrec.model import build_seed_cnn  # noqa: E402
from digitrec.preprocess import naive_resize, preprocess_stages  # noqa: E402
from digitrec.synthetic import redraw_digit, render  # noqa: E402


def _render(fig: Figure) -> None:
    """Draw the figure for real (catches layout and colour-mapping errors)."""
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def _image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """The plotting functions must never create figures in pyplot's global state."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []


@pytest.fixture(scope="module")
def small(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    return x_train[:600], y_train[:600], x_test[:300], y_test[:300]


@pytest.fixture(scope="module")
def probabilities(small, predictor):
    _, _, x_test, _ = small
    return predictor.predict_arrays(x_test / 255.0)


# ------------------------------------------------------------------ the data (notebook 01)
def test_plot_samples_one_row_per_digit(small):
    x, y, _, _ = small
    fig = plots.plot_samples(x, y, per_class=4)
    assert len(fig.axes) == 40 and len(_image_axes(fig)) == 40
    assert [fig.axes[4 * d].get_ylabel() for d in range(10)] == [str(d) for d in range(10)]
    assert "4 random examples" in fig.get_suptitle()
    _render(fig)


def test_plot_samples_with_a_missing_class(small):
    x, y, _, _ = small
    keep = y != 5
    fig = plots.plot_samples(x[keep], y[keep], per_class=3)
    assert len(_image_axes(fig)) == 27  # row 5 is empty
    _render(fig)


def test_plot_class_balance(small):
    _, y, _, y_test = small
    fig = plots.plot_class_balance(y, y_test)
    (ax,) = fig.axes
    assert len(ax.patches) == 20
    assert ax.get_xlabel() == "digit" and ax.get_ylabel() == "number of examples"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    heights = [p.get_height() for p in ax.patches[:10]]
    assert heights == np.bincount(y, minlength=10).tolist()
    only_train = plots.plot_class_balance(y)
    assert len(only_train.axes[0].patches) == 10
    _render(fig)


def test_plot_pixel_histogram(small):
    x, _, _, _ = small
    fig = plots.plot_pixel_histogram(x)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and "pixel value" in ax.get_xlabel()
    assert f"{np.mean(x == 0):.0%}" in ax.get_title()
    _render(fig)


def test_plot_mean_digits(small):
    x, y, _, _ = small
    fig = plots.plot_mean_digits(x, y)
    assert len(_image_axes(fig)) == 10
    assert _titles(fig)[3].startswith("3 (n=")
    _render(fig)


def test_plot_mnist_framing_marks_box_and_centres(small):
    x, y, _, _ = small
    fig = plots.plot_mnist_framing(x[:5], y[:5], n=5)
    assert len(_image_axes(fig)) == 5
    for ax in fig.axes:
        assert len(ax.patches) == 1  # the ink box
        assert len(ax.lines) == 2  # centre of mass and the middle
    top, left, height, width = datastats.ink_boxes(x[:1])[0]
    assert _titles(fig)[0] == f"'{y[0]}': {height} tall, {width} wide"
    _render(fig)


def test_plot_framing_stats(small):
    x, _, _, _ = small
    fig = plots.plot_framing_stats(x)
    hist, scatter = fig.axes[:2]
    assert "ink box" in hist.get_xlabel() and "% of digits are exactly 20 px" in hist.get_title()
    assert "row" in scatter.get_ylabel() and "column" in scatter.get_xlabel()
    _render(fig)


def test_plot_preprocessing_stages(small):
    x, _, _, _ = small
    drawing = render(redraw_digit(x[0], 150, 40, 60), "ink-in-alpha")
    stages = preprocess_stages(drawing)
    fig = plots.plot_preprocessing(stages)
    assert len(_image_axes(fig)) == 4
    assert _titles(fig)[0].startswith("1. drawing") and "280x280" in _titles(fig)[0]
    assert "ink-in-alpha" in fig.get_suptitle()
    with_naive = plots.plot_preprocessing(stages, naive=naive_resize(drawing))
    assert len(_image_axes(with_naive)) == 5 and "wrong way" in _titles(with_naive)[4]
    _render(with_naive)


# ------------------------------------------------------------------ training (notebook 02)
def test_plot_convolution(small):
    x, _, _, _ = small
    kernel = explain.EXAMPLE_FILTERS["vertical edges"]
    fig = plots.plot_convolution(x[0], kernel, explain.convolve(x[0] / 255.0, kernel), "edges")
    titles = _titles(fig)
    assert titles[:3] == ["input 28x28", "3x3 filter: edges", "feature map 26x26"]
    assert len(fig.axes[1].texts) == 9  # the nine weights written on the filter
    _render(fig)


def test_plot_training_curves_with_and_without_validation():
    history = {"loss": [0.3, 0.1], "accuracy": [0.9, 0.97], "val_loss": [0.2, 0.15]}
    history["val_accuracy"] = [0.93, 0.96]
    fig = plots.plot_training_curves(history)
    loss, accuracy = fig.axes
    assert loss.get_xlabel() == "epoch" and loss.get_ylabel() == "loss"
    assert accuracy.get_ylabel() == "accuracy"
    assert len(loss.lines) == 2 and len(accuracy.lines) == 2
    labels = [t.get_text() for t in accuracy.get_legend().get_texts()]
    assert labels == ["training accuracy", "validation accuracy"]
    one_epoch = plots.plot_training_curves({"loss": [0.5], "accuracy": [0.8]})
    assert len(one_epoch.axes[0].lines) == 1
    _render(one_epoch)


def test_plot_confusion_matrix_writes_the_counts():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 2])
    fig = plots.plot_confusion_matrix(y_true, y_pred)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "3"]
    assert "1 mistakes in 6 digits" in ax.get_title()
    _render(fig)


def test_plot_confusion_matrix_perfect_and_real(small, probabilities):
    labels = np.arange(10)
    _render(plots.plot_confusion_matrix(labels, labels))
    _, _, _, y_test = small
    fig = plots.plot_confusion_matrix(y_test, probabilities)
    total = sum(int(t.get_text()) for t in fig.axes[0].texts)
    assert total == len(y_test)


def test_plot_per_class_accuracy_marks_the_hardest_and_missing_classes():
    y_true = np.array([0, 0, 1, 1, 3])
    y_pred = np.array([0, 0, 1, 7, 3])
    fig = plots.plot_per_class_accuracy(y_true, y_pred)
    ax = fig.axes[0]
    assert len(ax.patches) == 10 and "hardest: 1" in ax.get_title()
    labels = [t.get_text() for t in ax.texts]
    assert labels[1] == "50.0%" and labels[2] == "n/a"
    _render(fig)


def test_plot_most_confused(small, probabilities):
    _, _, x_test, y_test = small
    fig = plots.plot_most_confused(x_test, y_test, probabilities, k=3, examples=4)
    assert len(fig.axes) <= 12 and len(_image_axes(fig)) >= 1
    assert "read as" in fig.axes[0].get_ylabel()
    _render(fig)


def test_plot_most_confused_without_mistakes(small):
    _, _, x_test, y_test = small
    fig = plots.plot_most_confused(x_test, y_test, y_test)
    assert "No mistakes" in fig.axes[0].texts[0].get_text()
    _render(fig)


def test_plot_misclassified_titles_show_truth_guess_and_confidence(small):
    _, _, x_test, y_test = small
    probabilities = np.eye(10)[y_test] * 0.1 + 0.01
    probabilities[:3] = np.eye(10)[(y_test[:3] + 1) % 10] * 0.8 + 0.02
    fig = plots.plot_misclassified(x_test, y_test, probabilities, n=12, columns=6)
    assert len(_image_axes(fig)) == 3
    assert _titles(fig)[0] == f"true {y_test[0]}, read {(y_test[0] + 1) % 10}\n82.0% sure"
    _render(fig)


def test_plot_misclassified_without_mistakes(small):
    _, _, x_test, y_test = small
    fig = plots.plot_misclassified(x_test, y_test, np.eye(10)[y_test])
    assert "No misclassified" in fig.axes[0].texts[0].get_text()
    _render(fig)


def test_plot_probabilities(small):
    _, _, x_test, y_test = small
    p = np.full(10, 0.02)
    p[4] = 0.82
    fig = plots.plot_probabilities(p, x_test[0], true_label=int(y_test[0]))
    image_ax, bars = fig.axes
    assert image_ax.images and image_ax.get_title() == f"true label {y_test[0]}"
    assert len(bars.patches) == 10 and bars.get_title() == "Read as 4 (82.0% sure)"
    assert bars.get_ylabel() == "probability"
    alone = plots.plot_probabilities(p)
    assert len(alone.axes) == 1
    _render(fig)


def test_plot_model_comparison():
    fig = plots.plot_model_comparison(
        {"cnn": {"accuracy": 0.99, "params": 93_322}, "dense": {"accuracy": 0.97, "params": 1e5}}
    )
    accuracy, size = fig.axes
    assert [t.get_text() for t in accuracy.texts] == ["99.00%", "97.00%"]
    assert [t.get_text() for t in size.texts] == ["93,322", "100,000"]
    _render(fig)


# ------------------------------------------------------------------ inside (notebook 04)
def test_plot_filters_of_a_real_model():
    filters = explain.first_layer_filters(build_seed_cnn())
    fig = plots.plot_filters(filters)
    assert len(_image_axes(fig)) == 32
    assert "32 learned 3x3 filters" in fig.get_suptitle()
    _render(fig)


def test_plot_filters_with_a_partial_last_row():
    fig = plots.plot_filters(np.random.default_rng(0).normal(size=(5, 3, 3)), columns=4)
    assert len(_image_axes(fig)) == 5
    _render(fig)


def test_plot_feature_maps(small):
    x, _, _, _ = small
    maps = explain.feature_maps(build_seed_cnn(), x[0] / 255.0)
    fig = plots.plot_feature_maps(maps, image=x[0], channels=4)
    assert len(_image_axes(fig)) == 1 + 3 * 4
    assert _titles(fig)[0] == "input digit"
    ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert ylabels[0].endswith("26x26x32") and ylabels[2].endswith("3x3x64")
    without_input = plots.plot_feature_maps(maps, channels=2)
    assert len(_image_axes(without_input)) == 6
    _render(fig)


def test_plot_saliency_and_occlusion(small, predictor):
    _, _, x_test, y_test = small
    images = x_test[:2] / 255.0
    maps = explain.saliency(predictor.model, images, y_test[:2], samples=2)
    fig = plots.plot_saliency(images, maps, ["a", "b"])
    image_axes = _image_axes(fig)
    assert len(image_axes) == 6  # digit, map, overlay per row
    assert _titles(fig)[:3] == ["a", "saliency map", "map over the digit"]
    _render(fig)
    heat = explain.occlusion_map(predictor.predict_arrays, images[0], int(y_test[0]))
    single = plots.plot_saliency(images[0], heat, kind="occlusion")
    assert "occlusion map" in _titles(single)
    _render(single)


def test_plot_transform_examples(small):
    x, _, _, _ = small
    fig = plots.plot_transform_examples(x[0])
    expected = sum(len(values) for _, values, _ in robustness.TRANSFORMS.values())
    assert len(_image_axes(fig)) == expected
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == list(robustness.TRANSFORMS)
    _render(fig)


def test_plot_robustness(small, predictor):
    _, _, x_test, y_test = small
    sweeps = {"shift": robustness.sweep(predictor.predict_arrays, x_test, y_test, "shift", [0, 4])}
    again = {"shift": robustness.sweep(predictor.predict_arrays, x_test, y_test, "shift", [0, 4])}
    fig = plots.plot_robustness(sweeps, again, labels=("one", "two"))
    (ax,) = fig.axes
    assert ax.get_title() == "shift" and ax.get_ylabel() == "test accuracy"
    assert ax.get_xlabel() == robustness.TRANSFORMS["shift"][2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "two"]
    _render(fig)
