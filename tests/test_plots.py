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


# ------------------------------------------------- how a network learns (notebook 02)
def test_plot_loss_per_step_one_line_per_run_and_epoch_marks():
    curves = {"rate 0.1": [2.3, 1.5, 1.0, 0.8, 0.7], "rate 10": [2.3, 40.0, 12.0]}
    fig = plots.plot_loss_per_step(curves, steps_per_epoch=2, log=True)
    (ax,) = fig.axes
    lines = [line for line in ax.get_lines() if line.get_label() in curves]
    assert [len(line.get_xdata()) for line in lines] == [5, 3]
    assert ax.get_yscale() == "log"
    epoch_marks = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(epoch_marks) == 2  # after steps 2 and 4 of the longest run
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    _render(fig)


def test_plot_loss_per_step_single_run_has_no_legend():
    fig = plots.plot_loss_per_step({"loss": np.linspace(2.3, 0.3, 50)})
    (ax,) = fig.axes
    assert ax.get_legend() is None and ax.get_yscale() == "linear"
    _render(fig)


def test_plot_class_weights_one_panel_per_digit():
    weights = np.random.default_rng(0).normal(size=(784, 10))
    fig = plots.plot_class_weights(weights, bias=np.arange(10) / 10)
    panels = _image_axes(fig)
    assert len(panels) == 10
    assert panels[0].images[0].get_array().shape == (28, 28)
    assert panels[3].get_title() == "3 (b=+0.30)"
    limits = {panel.images[0].get_clim() for panel in panels}
    assert len(limits) == 1  # one shared colour scale
    _render(fig)


def test_plot_class_weights_rejects_wrong_shape():
    for wrong in [np.zeros((10, 784)), np.zeros((780, 10)), np.zeros(784)]:
        with pytest.raises(ValueError, match=r"such as \(784, 10\); got"):
            plots.plot_class_weights(wrong)


# ------------------------------------------------------------------ deskewing (notebook 05)
def test_plot_robustness_names_three_curves(small, predictor):
    _, _, x_test, y_test = small
    x, y = x_test[:100], y_test[:100]
    curves = [
        {"rotate": robustness.sweep(predictor.predict_arrays, x, y, "rotate", [-30, 0, 30], **o)}
        for o in ({}, {"prepared": True}, {"prepared": True, "deskewed": True})
    ]
    fig = plots.plot_robustness(*curves, labels=("raw", "prepared", "deskewed"))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["raw", "prepared", "deskewed"]
    assert len({line.get_color() for line in ax.get_lines()[:3]}) == 3
    np.testing.assert_array_equal(ax.get_lines()[2].get_ydata(), curves[2]["rotate"].accuracy)
    with pytest.raises(ValueError, match="3 sets of sweeps need 3 labels"):
        plots.plot_robustness(*curves)
    _render(fig)


def test_plot_deskew_shows_each_digit_before_and_after(small):
    x, _, _, _ = small
    fig = plots.plot_deskew(x[:4], titles=["a", "b", "c", "d"])
    assert len(_image_axes(fig)) == 8
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["as given", "deskewed"]
    titles = _titles(fig)
    assert titles[0].startswith("a\nleans ")
    assert titles[4] in ("leans +0°", "leans +1°", "leans -1°")  # deskewed: upright
    _render(fig)


# ------------------------------------------------------------------ overfitting (notebook 03)
def test_plot_overfitting_marks_the_lowest_validation_loss():
    history = {"loss": [1.0, 0.5, 0.3, 0.2, 0.1, 0.05], "val_loss": [1.1, 0.6, 0.4, 0.45, 0.5, 0.6]}
    fig = plots.plot_overfitting(history)
    both, alone = fig.axes
    assert len(both.lines) == 3 and len(alone.lines) == 2  # curves plus the marker line
    np.testing.assert_array_equal(both.lines[0].get_ydata(), history["loss"])
    np.testing.assert_array_equal(alone.lines[0].get_ydata(), history["val_loss"])
    assert list(alone.lines[1].get_xdata()) == [3, 3]  # epochs count from 1
    assert "lowest at epoch 3 of 6" in alone.get_title()
    low, high = alone.get_ylim()
    assert low < 0.4 and 0.6 < high < 1.1  # zoomed in on the lowest point and after it
    labels = [t.get_text() for t in both.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "lowest validation loss (epoch 3)"]
    _render(fig)


def test_plot_overfitting_needs_validation_loss():
    with pytest.raises(ValueError, match="no 'val_loss'"):
        plots.plot_overfitting({"loss": [1.0, 0.5]})


# ------------------------------------------------ make it robust and make it yours (notebook 06)
def test_plot_augmentations_shows_one_row_per_change(small):
    x, _, _, _ = small
    rows = {"original": x[:5], "thicker": robustness.thicken(x[:5]), "turned": x[:5, ::-1]}
    fig = plots.plot_augmentations(rows)
    assert len(_image_axes(fig)) == 15
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == list(rows)
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), rows["thicker"][0], atol=1e-6)
    _render(fig)
    with pytest.raises(ValueError, match="same number of digits"):
        plots.plot_augmentations({"a": x[:5], "b": x[:4]})
    with pytest.raises(ValueError, match="no rows"):
        plots.plot_augmentations({})


def test_plot_learning_rate_marks_the_peak_after_warm_up():
    warm_up = np.linspace(0.1, 1.0, 5)
    rates = np.concatenate([warm_up, 0.5 * (1 + np.cos(np.linspace(0, np.pi, 45)))])
    fig = plots.plot_learning_rate(rates * 3e-3, steps_per_epoch=10, zoom_epochs=1)
    whole, start = fig.axes
    np.testing.assert_allclose(whole.lines[0].get_xdata(), np.arange(50) / 10)
    assert len(start.lines[0].get_ydata()) == 10
    assert "5 epochs" in whole.get_title() and "first 10 steps" in start.get_title()
    assert start.get_legend().get_texts()[0].get_text() == "peak 0.003 at step 4"
    assert list(start.lines[1].get_xdata()) == [4, 4]
    _render(fig)
    with pytest.raises(ValueError, match="one learning rate per step"):
        plots.plot_learning_rate([], steps_per_epoch=10)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        plots.plot_learning_rate([0.1, 0.2], steps_per_epoch=0)


def test_plot_fine_tuning_compares_models_on_both_sets():
    results = {
        "before": {"yours": 0.8, "mnist": 0.991},
        "after": {"yours": 0.96, "mnist": 0.990},
    }
    fig = plots.plot_fine_tuning(results)
    yours, mnist = fig.axes
    assert [p.get_height() for p in yours.patches] == [0.8, 0.96]
    assert [p.get_height() for p in mnist.patches] == [0.991, 0.990]
    assert [t.get_text() for t in mnist.get_xticklabels()] == ["before", "after"]
    assert mnist.get_ylim()[0] > 0.9  # zoomed in, so a drop of 0.1 points shows
    assert [t.get_text() for t in yours.texts] == ["80.0%", "96.0%"]
    assert [t.get_text() for t in mnist.texts] == ["99.10%", "99.00%"]  # tenths of a point
    _render(fig)
    with pytest.raises(ValueError, match="no results"):
        plots.plot_fine_tuning({})


def test_plot_reliability_draws_each_curve_against_the_diagonal(rng):
    from digitrec import calibration

    confidence = rng.uniform(0.3, 1.0, 2_000)
    p = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    p[:, 0] = confidence
    right = np.where(rng.random(2_000) < confidence, 0, 1)
    wrong = np.where(rng.random(2_000) < 0.5, 0, 1)
    curves = {
        "calibrated": calibration.reliability(p, right),
        "overconfident": calibration.reliability(p, wrong),
    }
    fig = plots.plot_reliability(curves)
    left, counts = fig.axes
    assert len(left.lines) == 3  # the diagonal, then one line per curve
    filled = curves["calibrated"].counts > 0
    np.testing.assert_allclose(left.lines[1].get_ydata(), curves["calibrated"].accuracy[filled])
    legend = [t.get_text() for t in left.get_legend().get_texts()]
    assert legend[1].startswith("calibrated (calibration error ")
    assert len(counts.patches) == 20 and counts.get_yscale() == "log"
    _render(fig)
    with pytest.raises(ValueError, match="no reliability curves"):
        plots.plot_reliability({})


def test_plot_coverage_marks_the_chosen_and_the_hand_set_threshold():
    from digitrec import calibration

    confidence = np.linspace(0.19, 1.0, 10)
    p = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    p[:, 0] = confidence
    labels = np.where(confidence > 0.4, 0, 1)
    curve = calibration.coverage_curve(p, labels)
    chosen = calibration.choose_threshold(p, labels, 0.99)
    fig = plots.plot_coverage({"drawn": curve}, chosen=chosen, by_hand=0.6)
    covered, right = fig.axes
    np.testing.assert_allclose(right.lines[0].get_ydata(), curve.accuracy)
    legend = [t.get_text() for t in right.get_legend().get_texts()]
    assert legend == ["drawn", "target 99.0%", "chosen: 0.46", "by hand: 0.60"]
    assert [line.get_xdata()[0] for line in covered.lines[1:]] == pytest.approx([0.46, 0.6])
    _render(fig)
    with pytest.raises(ValueError, match="no coverage curves"):
        plots.plot_coverage({})


def test_plot_segmentation_shows_pieces_cuts_specks_and_each_digits_reading():
    from digitrec import numbers
    from digitrec.predict import Prediction
    from digitrec.strokes import example_strokes, rasterise

    strokes = [
        *example_strokes(2, height=150, top=100, left=40, size=640),
        *example_strokes(0, height=150, top=100, left=240, size=640),
        [(420.0, 240.0)],  # a full stop
    ]
    seg = numbers.segment(rasterise(strokes, size=640)[:360])
    assert len(seg.pieces) == 2 and len(seg.specks) == 1
    cuts = sum(len(piece.cuts) for piece in seg.pieces)

    alone = plots.plot_segmentation(seg)
    assert len(alone.axes) == 2
    assert alone.axes[0].get_title() == "1. the drawing as ink, 360x640 px"
    assert alone.axes[1].get_title().startswith("2. 2 pieces of ink (boxes) and 1 speck set")
    assert f"\n{cuts} places where a piece could be cut" in alone.axes[1].get_title()
    assert len(alone.axes[1].patches) == 3  # two pieces and the speck
    assert len(alone.axes[1].lines) == cuts
    _render(alone)

    zeros = [example_strokes(0, height=150, top=100, left=40 + k * 91, size=640) for k in (0, 1)]
    touching = numbers.segment(rasterise([*zeros[0], *zeros[1]], size=640)[:360])
    partings = [parting.centre for piece in touching.pieces for parting in piece.partings]
    assert partings  # two 0s written into each other can be parted where they meet
    parted = plots.plot_segmentation(touching)
    assert f"{len(partings)} where it could be parted (purple)" in parted.axes[1].get_title()
    (crosses,) = parted.axes[1].collections
    np.testing.assert_allclose(crosses.get_offsets(), np.array(partings)[:, ::-1])
    _render(parted)

    images = np.random.default_rng(0).random((2, 28, 28)).astype(np.float32)
    reading = numbers.NumberReading(
        digits=(
            Prediction(2, np.eye(10, dtype=np.float32)[2], 0.97, images[0]),
            Prediction(0, np.eye(10, dtype=np.float32)[0], 0.51, images[1]),
        ),
        boxes=tuple(seg.boxes),
        not_a_digit=(False, True),
        not_digit_scores=(0.01, 0.93),
        specks=seg.specks,
    )
    fig = plots.plot_segmentation(seg, reading)
    wide, small = fig.axes[:3], fig.axes[3:]
    assert wide[2].get_title() == "3. the digits read, left to right: 2?"
    assert [t.get_text() for t in wide[2].texts] == ["2", "?"]
    assert [ax.get_title() for ax in small] == ["2 (97%)", "not a digit\n(score 0.93)"]
    np.testing.assert_allclose(small[1].images[0].get_array(), images[1])
    _render(fig)
