"""The course's pictures: each function draws one figure and returns it.

Every function builds its own `matplotlib.figure.Figure` (never pyplot's global current
figure), so nothing leaks between calls, figures are garbage-collected like any object, and
the functions work the same in a notebook (the Figure displays itself) and in tests with the
Agg backend. The numbers come from `digitrec.datastats`, `evaluation`, `explain` and
`robustness`; this module only draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from digitrec import datastats, evaluation
from digitrec.data import NUM_CLASSES
from digitrec.preprocess import MNIST_BOX, MNIST_CENTRE, Stages

DIGITS = np.arange(NUM_CLASSES)
TRAIN_COLOUR = "tab:blue"
VALIDATION_COLOUR = "tab:orange"
HIGHLIGHT = "tab:red"


# --------------------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _image(image: Any) -> np.ndarray:
    """Any one digit (28x28 uint8, float, or (28, 28, 1)) -> float (H, W) in [0, 1]."""
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    x = x.astype(np.float32)
    if np.asarray(image).dtype == np.uint8 or x.max(initial=0.0) > 1.0:
        x = x / 255.0
    return x


def _show(ax: Any, image: Any, title: str | None = None) -> Any:
    """A digit as the model sees it: white ink on black, no ticks."""
    shown = ax.imshow(_image(image), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=9)
    return shown


def _message(fig: Figure, text: str, title: str) -> Figure:
    """A one-axes figure that says why there is nothing to draw (e.g. no mistakes)."""
    ax = fig.subplots()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, transform=ax.transAxes)
    ax.set_axis_off()
    ax.set_title(title)
    return fig


def _percent(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.1%}"


# --------------------------------------------------------------------------- 01: the data
def plot_samples(
    images: np.ndarray, labels: np.ndarray, per_class: int = 10, seed: int = 0
) -> Figure:
    """A grid of random examples: one row per digit 0-9, `per_class` columns."""
    index = datastats.examples_per_class(labels, per_class, seed=seed)
    fig = _figure(0.75 * per_class + 0.6, 0.75 * NUM_CLASSES + 0.6)
    axes = fig.subplots(NUM_CLASSES, per_class, squeeze=False)
    for digit, row in enumerate(axes):
        for column, ax in enumerate(row):
            i = index[digit, column]
            if i >= 0:
                _show(ax, images[i])
            else:
                ax.set_axis_off()
        row[0].set_axis_on()
        row[0].set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=12, va="center")
    fig.suptitle(f"{per_class} random examples of each digit")
    return fig


def plot_class_balance(train_labels: np.ndarray, test_labels: np.ndarray | None = None) -> Figure:
    """How many examples of each digit the training (and test) set holds."""
    fig = _figure(7, 3.6)
    ax = fig.subplots()
    train = datastats.class_counts(train_labels)
    width = 0.4 if test_labels is not None else 0.8
    offset = -width / 2 if test_labels is not None else 0.0
    bars = ax.bar(DIGITS + offset, train, width, label="train", color=TRAIN_COLOUR)
    ax.bar_label(bars, fontsize=7, padding=1)
    if test_labels is not None:
        test = datastats.class_counts(test_labels)
        bars = ax.bar(DIGITS + width / 2, test, width, label="test", color=VALIDATION_COLOUR)
        ax.bar_label(bars, fontsize=7, padding=1)
        ax.legend(loc="upper center", ncols=2)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of examples")
    ax.set_title("Class balance: roughly the same number of each digit")
    ax.margins(y=0.25 if test_labels is not None else 0.12)
    return fig


def plot_pixel_histogram(images: np.ndarray, bins: int = 32) -> Figure:
    """Histogram of all pixel values (log scale): mostly black, some white, few greys."""
    pixels = np.asarray(images).ravel()
    top = 255 if pixels.dtype == np.uint8 or pixels.max(initial=0) > 1 else 1.0
    fig = _figure(7, 3.6)
    ax = fig.subplots()
    ax.hist(pixels, bins=bins, range=(0, top), color=TRAIN_COLOUR, log=True)
    zero = float(np.mean(pixels == 0))
    ax.set_xlabel(f"pixel value (0 = black background, {top} = full ink)")
    ax.set_ylabel("number of pixels (log scale)")
    ax.set_title(f"Pixel intensities: {zero:.0%} of pixels are exactly 0")
    return fig


def plot_mean_digits(images: np.ndarray, labels: np.ndarray) -> Figure:
    """The average image of each digit: the 'typical' 0-9 the data teaches."""
    means = datastats.mean_digits(images, labels)
    counts = datastats.class_counts(labels)
    fig = _figure(10, 1.9)
    axes = fig.subplots(1, NUM_CLASSES)
    for digit, ax in enumerate(axes):
        _show(
            ax, means[digit] / max(float(means[digit].max()), 1e-6), f"{digit} (n={counts[digit]})"
        )
    fig.suptitle("Mean digit of each class (each scaled to its own brightest pixel)")
    return fig


def plot_mnist_framing(images: np.ndarray, labels: np.ndarray | None = None, n: int = 8) -> Figure:
    """Real digits with their ink box (dashed) and centre of mass (x) against the centre (+)."""
    images = np.asarray(images)[:n]
    boxes = datastats.ink_boxes(images)
    centres = datastats.centres_of_mass(images)
    fig = _figure(1.5 * len(images) + 0.4, 2.3)
    axes = np.atleast_1d(fig.subplots(1, max(len(images), 1)))
    for i, ax in enumerate(axes[: len(images)]):
        top, left, height, width = boxes[i]
        title = f"{height} tall, {width} wide"
        if labels is not None:
            title = f"'{int(labels[i])}': {title}"
        _show(ax, images[i], title)
        ax.add_patch(
            Rectangle((left - 0.5, top - 0.5), width, height, fill=False, ec="tab:cyan", ls="--")
        )
        ax.plot(MNIST_CENTRE[1], MNIST_CENTRE[0], "+", color="tab:green", ms=12, mew=2)
        ax.plot(centres[i, 1], centres[i, 0], "x", color=HIGHLIGHT, ms=8, mew=2)
    fig.suptitle(
        f"How MNIST was prepared: ink scaled to fit {MNIST_BOX}x{MNIST_BOX} (dashed), "
        "centre of mass (red x) moved to the middle (green +)",
        fontsize=10,
    )
    return fig


def plot_framing_stats(images: np.ndarray) -> Figure:
    """Over many digits: the longer side of the ink box, and where the centre of mass lands."""
    boxes = datastats.ink_boxes(images)
    centres = datastats.centres_of_mass(images)
    longer = boxes[:, 2:].max(axis=1)
    fig = _figure(10, 3.8)
    left, right = fig.subplots(1, 2)
    low, high = (int(longer.min()), int(longer.max())) if len(longer) else (0, 28)
    edges = np.arange(max(0, low - 3), min(28, high + 3) + 2) - 0.5
    left.hist(longer, bins=edges, color=TRAIN_COLOUR, log=True)
    left.set_xlabel("longer side of the ink box (pixels)")
    left.set_ylabel("number of digits (log scale)")
    left.set_title(f"{np.mean(longer == MNIST_BOX):.2%} of digits are exactly {MNIST_BOX} px")
    ok = ~np.isnan(centres).any(axis=1)
    hist = right.hist2d(
        centres[ok, 1], centres[ok, 0], bins=32, range=[[12, 16], [12, 16]], cmin=1, cmap="Blues"
    )
    fig.colorbar(hist[3], ax=right, label="number of digits")
    right.plot(MNIST_CENTRE[1], MNIST_CENTRE[0], "+", color="tab:green", ms=14, mew=2)
    right.set_xlim(12, 16)
    right.set_ylim(16, 12)  # rows grow downwards, as in the images
    right.set_aspect("equal")
    right.set_xlabel("centre of mass: column")
    right.set_ylabel("centre of mass: row")
    spread = float(np.abs(centres[ok] - np.array(MNIST_CENTRE)).max(initial=0.0))
    right.set_title(f"Centres of mass: all within {spread:.1f} px of the middle (+)")
    return fig


def plot_preprocessing(stages: Stages, naive: np.ndarray | None = None) -> Figure:
    """Each step of `to_mnist` for one drawing; `naive` adds the squeezed canvas for contrast."""
    panels = [
        (stages.ink, f"1. drawing as ink\n{stages.ink.shape[0]}x{stages.ink.shape[1]}"),
        (stages.crop, f"2. cropped to the ink\n{stages.crop.shape[0]}x{stages.crop.shape[1]}"),
        (stages.box, f"3. longer side {MNIST_BOX} px\n{stages.box.shape[0]}x{stages.box.shape[1]}"),
        (stages.centred, "4. centre of mass\nto the middle, 28x28"),
    ]
    if naive is not None:
        panels.append((naive, "the wrong way: whole\ncanvas squeezed to 28x28"))
    fig = _figure(2.3 * len(panels), 2.9)
    axes = fig.subplots(1, len(panels))
    for ax, (image, title) in zip(axes, panels, strict=True):
        _show(ax, image, title)
    com = datastats.centres_of_mass(stages.centred)[0]
    axes[3].plot(MNIST_CENTRE[1], MNIST_CENTRE[0], "+", color="tab:green", ms=12, mew=2)
    axes[3].plot(com[1], com[0], "x", color=HIGHLIGHT, ms=8, mew=2)
    fig.suptitle(f"Preparing a drawing the way MNIST was prepared ({stages.convention})")
    return fig


# --------------------------------------------------------------------------- 02: build and train
def plot_convolution(
    image: np.ndarray, kernel: np.ndarray, output: np.ndarray, name: str = ""
) -> Figure:
    """One filter slid over one digit: input, the 3x3 weights, and the feature map it makes."""
    kernel = np.asarray(kernel, dtype=np.float32)
    fig = _figure(9, 3.2)
    axes = fig.subplots(1, 3, width_ratios=[1, 0.8, 1])
    _show(axes[0], image, f"input {np.shape(_image(image))[0]}x{np.shape(_image(image))[1]}")
    limit = float(np.abs(kernel).max()) or 1.0
    axes[1].imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
    for (r, c), value in np.ndenumerate(kernel):
        axes[1].text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=10)
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    axes[1].set_title(
        f"{kernel.shape[0]}x{kernel.shape[1]} filter" + (f": {name}" if name else ""), fontsize=9
    )
    out = np.asarray(output, dtype=np.float32)
    limit = float(np.abs(out).max()) or 1.0
    shown = axes[2].imshow(out, cmap="coolwarm", vmin=-limit, vmax=limit, interpolation="nearest")
    axes[2].set_xticks([])
    axes[2].set_yticks([])
    axes[2].set_title(f"feature map {out.shape[0]}x{out.shape[1]}", fontsize=9)
    fig.colorbar(shown, ax=axes[2], shrink=0.8, label="response")
    fig.suptitle("A convolution: the filter's weighted sum at every position")
    return fig


def plot_training_curves(history: Mapping[str, Sequence[float]]) -> Figure:
    """Loss and accuracy per epoch, training vs validation (when there is validation)."""
    fig = _figure(10, 3.8)
    axes = fig.subplots(1, 2)
    for ax, metric, title in (
        (axes[0], "loss", "Loss (lower is better)"),
        (axes[1], "accuracy", "Accuracy (higher is better)"),
    ):
        values = list(history.get(metric, []))
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, "o-", color=TRAIN_COLOUR, label=f"training {metric}")
        validation = list(history.get(f"val_{metric}", []))
        if validation:
            ax.plot(
                np.arange(1, len(validation) + 1),
                validation,
                "s--",
                color=VALIDATION_COLOUR,
                label=f"validation {metric}",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(title)
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: max(1, len(epochs) // 10)])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Training curves")
    return fig


def plot_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> Figure:
    """Counts of (true digit, predicted digit); off-diagonal cells are the mistakes."""
    matrix = evaluation.confusion_matrix(y_true, y_pred)
    fig = _figure(7.2, 6.2)
    ax = fig.subplots()
    shown = np.ma.masked_equal(matrix, 0)
    top = max(int(matrix.max(initial=0)), 2)
    image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=top))
    for (r, c), count in np.ndenumerate(matrix):
        if count:
            dark = np.log(count) > 0.6 * np.log(top)
            ax.text(
                c, r, str(count), ha="center", va="center", fontsize=8,
                color="white" if dark else "black",
            )  # fmt: skip
    ax.set_xticks(DIGITS)
    ax.set_yticks(DIGITS)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    errors = int(matrix.sum() - np.trace(matrix))
    ax.set_title(f"Confusion matrix: {errors} mistakes in {int(matrix.sum())} digits")
    fig.colorbar(image, ax=ax, shrink=0.8, label="count (log scale)")
    return fig


def plot_per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> Figure:
    """Accuracy on each digit separately: which ones the model finds hardest."""
    matrix = evaluation.confusion_matrix(y_true, y_pred)
    accuracy = evaluation.per_class_accuracy(matrix)
    fig = _figure(7, 3.6)
    ax = fig.subplots()
    heights = np.nan_to_num(accuracy, nan=0.0)
    worst = int(np.nanargmin(accuracy)) if np.isfinite(accuracy).any() else -1
    colours = [HIGHLIGHT if d == worst else TRAIN_COLOUR for d in DIGITS]
    bars = ax.bar(DIGITS, heights, color=colours)
    ax.bar_label(bars, labels=[_percent(a) for a in accuracy], fontsize=7, padding=1)
    floor = np.nanmin(accuracy) if np.isfinite(accuracy).any() else 0.0
    ax.set_ylim(max(0.0, floor - 0.05), 1.0 + (1.0 - max(0.0, floor - 0.05)) * 0.12)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy")
    ax.set_title(
        "Per-class accuracy" + (f" (hardest: {worst})" if worst >= 0 else " (no examples)")
    )
    return fig


def plot_most_confused(
    images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, k: int = 5, examples: int = 6
) -> Figure:
    """The `k` most frequent mix-ups, each with a few of the digits involved."""
    y_true = np.asarray(y_true).astype(np.int64)
    predicted = np.asarray(y_pred)
    predicted = predicted.argmax(axis=1) if predicted.ndim == 2 else predicted.astype(np.int64)
    pairs = evaluation.most_confused_pairs(evaluation.confusion_matrix(y_true, predicted), k)
    if not pairs:
        return _message(_figure(5, 2), "No mistakes: nothing was confused.", "Most confused pairs")
    fig = _figure(1.3 * examples + 1.5, 1.45 * len(pairs) + 0.5)
    axes = fig.subplots(len(pairs), examples, squeeze=False)
    for row, pair in zip(axes, pairs, strict=True):
        index = np.flatnonzero((y_true == pair.true) & (predicted == pair.predicted))
        for column, ax in enumerate(row):
            if column < len(index):
                _show(ax, images[index[column]])
            else:
                ax.set_axis_off()
        row[0].set_axis_on()
        row[0].set_ylabel(
            f"{pair.true} read as {pair.predicted}\n({pair.count}x)",
            rotation=0, ha="right", va="center", fontsize=9,
        )  # fmt: skip
    fig.suptitle("Most confused pairs (true digit read as another)")
    return fig


def plot_misclassified(
    images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, n: int = 12, columns: int = 6
) -> Figure:
    """The model's most confident mistakes: true label, its guess and how sure it was."""
    probabilities = np.asarray(probabilities)
    wrong = evaluation.misclassified(y_true, probabilities)[:n]
    if len(wrong) == 0:
        return _message(_figure(5, 2), "No misclassified digits.", "Misclassified examples")
    columns = min(columns, len(wrong))
    rows = -(-len(wrong) // columns)
    fig = _figure(1.55 * columns, 1.85 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(wrong) :]:
        ax.set_axis_off()
    for ax, i in zip(axes, wrong, strict=False):
        guess = int(probabilities[i].argmax())
        _show(
            ax,
            images[i],
            f"true {int(y_true[i])}, read {guess}\n{probabilities[i, guess]:.1%} sure",
        )
    fig.suptitle(f"Misclassified digits, most confident first ({len(wrong)} shown)")
    return fig


def plot_probabilities(
    probabilities: np.ndarray, image: np.ndarray | None = None, true_label: int | None = None
) -> Figure:
    """The model's ten probabilities for one digit, the winner highlighted."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    guess = int(probabilities.argmax())
    fig = _figure(7.5 if image is not None else 5.5, 2.9)
    if image is not None:
        left, ax = fig.subplots(1, 2, width_ratios=[1, 2.4])
        _show(left, image, "model input" if true_label is None else f"true label {true_label}")
    else:
        ax = fig.subplots()
    colours = [HIGHLIGHT if d == guess else "tab:gray" for d in DIGITS]
    bars = ax.bar(DIGITS, probabilities, color=colours)
    ax.bar_label(bars, labels=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities], fontsize=7)
    ax.set_ylim(0, 1.12)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    ax.set_title(f"Read as {guess} ({probabilities[guess]:.1%} sure)")
    return fig


def plot_model_comparison(results: Mapping[str, Mapping[str, float]]) -> Figure:
    """Test accuracy and parameter count side by side: {name: {"accuracy": a, "params": p}}."""
    names = list(results)
    accuracy = np.array([results[n]["accuracy"] for n in names], dtype=np.float64)
    params = np.array([results[n]["params"] for n in names], dtype=np.float64)
    fig = _figure(9, 3.4)
    left, right = fig.subplots(1, 2)
    bars = left.bar(names, accuracy, color=TRAIN_COLOUR)
    left.bar_label(bars, labels=[f"{a:.2%}" for a in accuracy], fontsize=8)
    left.set_ylim(max(0.0, float(accuracy.min(initial=1.0)) - 0.05), 1.005)
    left.set_ylabel("test accuracy")
    left.set_title("Test accuracy")
    bars = right.bar(names, params, color=VALIDATION_COLOUR)
    right.bar_label(bars, labels=[f"{int(p):,}" for p in params], fontsize=8)
    right.set_ylabel("trainable parameters")
    right.set_title("Size")
    right.margins(y=0.15)
    return fig


# --------------------------------------------------------------------------- 04: inside the CNN
def plot_filters(filters: np.ndarray, columns: int = 8) -> Figure:
    """First-layer filters (F, h, w) on one shared colour scale: red = +, blue = -."""
    filters = np.asarray(filters, dtype=np.float32)
    count = len(filters)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    fig = _figure(1.1 * columns + 1.0, 1.15 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False))
    limit = float(np.abs(filters).max(initial=0.0)) or 1.0
    shown = None
    for i, ax in enumerate(axes.ravel()):
        if i < count:
            shown = ax.imshow(filters[i], cmap="coolwarm", vmin=-limit, vmax=limit)
            ax.set_title(f"#{i}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= count:
            ax.set_axis_off()
    if shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(
        f"The first conv layer's {count} learned {filters.shape[1]}x{filters.shape[2]} filters"
    )
    return fig


def plot_feature_maps(
    maps: Mapping[str, np.ndarray], image: np.ndarray | None = None, channels: int = 8
) -> Figure:
    """The first `channels` feature maps of each conv layer for one digit, one row per layer."""
    names = list(maps)
    extra = 1 if image is not None else 0
    fig = _figure(1.3 * (channels + extra) + 1.2, 1.5 * len(names) + 0.6)
    axes = fig.subplots(len(names), channels + extra, squeeze=False)
    for r, (row, name) in enumerate(zip(axes, names, strict=True)):
        activation = np.asarray(maps[name])
        if extra:
            if r == 0:
                _show(row[0], image, "input digit")
            else:
                row[0].set_axis_off()
        for c, ax in enumerate(row[extra:]):
            if c < activation.shape[-1]:
                ax.imshow(activation[..., c], cmap="viridis", interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                ax.set_axis_off()
        label_ax = row[extra]
        label_ax.set_ylabel(
            f"conv layer {r + 1}\n" + "x".join(str(n) for n in activation.shape),
            fontsize=9,
        )
    fig.suptitle(
        f"Feature maps (first {channels} channels per conv layer; bright = strong response)"
    )
    return fig


def plot_saliency(
    images: np.ndarray,
    maps: np.ndarray,
    titles: Sequence[str] | None = None,
    kind: str = "saliency",
) -> Figure:
    """For each digit: the digit, its saliency/occlusion map, and the map over the digit."""
    images = np.asarray(images)
    maps = np.asarray(maps, dtype=np.float32)
    if images.ndim == 2:
        images, maps = images[None], maps[None]
    fig = _figure(7, 2.2 * len(images) + 0.5)
    axes = fig.subplots(len(images), 3, squeeze=False)
    diverging = maps.min(initial=0.0) < 0
    for i, (row, image, heat) in enumerate(zip(axes, images, maps, strict=True)):
        label = titles[i] if titles is not None else f"digit {i}"
        _show(row[0], image, label)
        if diverging:
            limit = float(np.abs(heat).max()) or 1.0
            options = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
        else:
            options = {"cmap": "inferno", "vmin": 0.0, "vmax": float(heat.max()) or 1.0}
        shown = row[1].imshow(heat, interpolation="nearest", **options)
        row[1].set_xticks([])
        row[1].set_yticks([])
        row[1].set_title(f"{kind} map", fontsize=9)
        label = "drop in p(label)" if diverging else "importance"
        fig.colorbar(shown, ax=row[1], shrink=0.8, label=label)
        _show(row[2], image, "map over the digit")
        strength = np.abs(heat) / (float(np.abs(heat).max()) or 1.0)
        row[2].imshow(heat, alpha=0.85 * strength, interpolation="nearest", **options)
    fig.suptitle(f"Which pixels matter ({kind})")
    return fig


def plot_transform_examples(image: np.ndarray, names: Sequence[str] | None = None) -> Figure:
    """One digit under every strength of each robustness transform, one row per transform."""
    from digitrec import robustness

    names = list(names or robustness.TRANSFORMS)
    columns = max(len(robustness.TRANSFORMS[n][1]) for n in names)
    fig = _figure(1.05 * columns + 1.2, 1.3 * len(names) + 0.5)
    axes = fig.subplots(len(names), columns, squeeze=False)
    for row, name in zip(axes, names, strict=True):
        transform, values, _unit = robustness.TRANSFORMS[name]
        for ax, value in zip(row, list(values) + [None] * (columns - len(values)), strict=True):
            if value is None:
                ax.set_axis_off()
                continue
            changed = transform(_image(image)[None], float(value))[0]
            _show(ax, changed, f"{value:g}")
        row[0].set_ylabel(name, fontsize=10)
    fig.suptitle("One digit, shifted, scaled, rotated and with thinner or thicker strokes")
    return fig


def plot_robustness(
    sweeps: Mapping[str, Any],
    *others: Mapping[str, Any],
    labels: Sequence[str] = ("as transformed", "re-prepared by to_mnist"),
) -> Figure:
    """Accuracy against transform strength, one panel per transform (`robustness.Sweep`s).

    Each mapping in `others` adds one more curve to every panel it has a sweep for (by
    default the second is the same digits re-prepared by `to_mnist`). `labels` names the
    curves in order, in the legend, so the text can point at a curve by its name.
    """
    curves = [sweeps, *others]
    if len(labels) < len(curves):
        raise ValueError(f"{len(curves)} sets of sweeps need {len(curves)} labels, got {labels}")
    styles = [
        (TRAIN_COLOUR, "o-"),
        (VALIDATION_COLOUR, "s--"),
        ("tab:green", "^-."),
        ("tab:purple", "d:"),
    ]
    names = list(sweeps)
    fig = _figure(3.3 * len(names), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    for ax, name in zip(axes, names, strict=True):
        for i, (curve, label) in enumerate(zip(curves, labels, strict=False)):
            if name in curve:
                colour, style = styles[i % len(styles)]
                result = curve[name]
                ax.plot(result.values, result.accuracy, style, color=colour, label=label)
        ax.axhline(0.9, color="tab:gray", lw=0.8, ls=":")
        ax.set_title(name)
        ax.set_xlabel(sweeps[name].unit)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle("Where the model breaks: accuracy as digits move away from MNIST's style")
    return fig


# ------------------------------------------------------------- 02: how a network learns
def plot_loss_per_step(
    curves: Mapping[str, Sequence[float]],
    steps_per_epoch: int | None = None,
    log: bool = False,
    title: str = "Training loss after each gradient step",
) -> Figure:
    """The loss of each mini-batch step, one line per run (say, per learning rate).

    `steps_per_epoch` marks where each epoch ends; `log` plots the loss on a log scale, for
    runs whose losses differ by orders of magnitude.
    """
    fig = _figure(7.5, 3.8)
    ax = fig.subplots()
    longest = 0
    for name, losses in curves.items():
        losses = np.asarray(losses, dtype=np.float64)
        longest = max(longest, len(losses))
        ax.plot(np.arange(1, len(losses) + 1), losses, lw=0.9, alpha=0.85, label=name)
    if steps_per_epoch:
        for end in range(steps_per_epoch, longest, steps_per_epoch):
            ax.axvline(end + 0.5, color="tab:gray", lw=0.8, ls=":")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("gradient step" + (f" ({steps_per_epoch} per epoch)" if steps_per_epoch else ""))
    ax.set_ylabel("loss on the batch (cross-entropy)")
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=9)
    ax.set_title(title)
    return fig


def plot_class_weights(weights: np.ndarray, bias: np.ndarray | None = None) -> Figure:
    """A linear classifier's weights (pixels, 10) as one image per digit.

    Red pixels raise that digit's score when they hold ink, blue ones lower it; every panel
    shares one colour scale so the digits compare fairly, set by the 99th percentile of the
    weights' sizes so that a few extreme pixels do not wash out the rest.
    """
    weights = np.asarray(weights, dtype=np.float32)
    side = int(round(np.sqrt(weights.shape[0]))) if weights.ndim == 2 else 0
    if weights.ndim != 2 or weights.shape[1] != NUM_CLASSES or side * side != weights.shape[0]:
        raise ValueError(
            f"expected weights of shape (pixels, 10) for square images, such as (784, 10); "
            f"got {weights.shape}"
        )
    limit = float(np.percentile(np.abs(weights), 99)) or float(np.abs(weights).max()) or 1.0
    fig = _figure(10, 2.1)
    axes = fig.subplots(1, NUM_CLASSES)
    for digit, ax in enumerate(axes):
        shown = ax.imshow(
            weights[:, digit].reshape(side, side), cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        ax.set_xticks([])
        ax.set_yticks([])
        label = str(digit) if bias is None else f"{digit} (b={float(bias[digit]):+.2f})"
        ax.set_title(label, fontsize=9)
    fig.colorbar(shown, ax=list(axes), shrink=0.8, label="weight")
    fig.suptitle("Each digit's weights: red where ink raises its score, blue where it lowers it")
    return fig


# --------------------------------------------------------------------------- 05: deskewing
def plot_deskew(images: np.ndarray, titles: Sequence[str] | None = None) -> Figure:
    """Digits above, the same digits deskewed below, each titled with its slant in degrees."""
    from digitrec import robustness

    before = np.asarray([_image(image) for image in np.asarray(images)])
    after = robustness.deskew(before)
    fig = _figure(1.45 * len(before) + 0.9, 3.6)
    axes = fig.subplots(2, len(before), squeeze=False)
    for row, batch, name in ((axes[0], before, "as given"), (axes[1], after, "deskewed")):
        leans = np.degrees(np.arctan(np.atleast_1d(robustness.slant(batch))))
        for i, (ax, image, lean) in enumerate(zip(row, batch, leans, strict=True)):
            prefix = f"{titles[i]}\n" if titles is not None and name == "as given" else ""
            _show(ax, image, f"{prefix}leans {int(round(lean)):+d}°")  # never "-0°"
        row[0].set_ylabel(name, fontsize=10)
    fig.suptitle("Deskewing: each row of pixels slides sideways until the digit stands upright")
    return fig


# --------------------------------------------------------------------------- 03: overfitting
def plot_overfitting(history: Mapping[str, Sequence[float]]) -> Figure:
    """Training and validation loss per epoch, the epoch with the lowest validation loss marked.

    Left, both losses on one scale: where training loss keeps falling while validation loss
    turns up, the model is memorising its training digits. Right, validation loss alone,
    zoomed in on its lowest point and what follows, so a small turn upwards is visible.
    """
    training = np.asarray(history.get("loss", []), dtype=np.float64)
    validation = np.asarray(history.get("val_loss", []), dtype=np.float64)
    if len(validation) == 0:
        raise ValueError("the history has no 'val_loss': train with validation data to plot it")
    best = int(np.argmin(validation)) + 1
    fig = _figure(10, 3.8)
    both, alone = fig.subplots(1, 2)
    epochs = np.arange(1, len(validation) + 1)
    both.plot(np.arange(1, len(training) + 1), training, color=TRAIN_COLOUR, label="training loss")
    for ax in (both, alone):
        ax.plot(epochs, validation, color=VALIDATION_COLOUR, label="validation loss")
        ax.axvline(best, color=HIGHLIGHT, ls=":", label=f"lowest validation loss (epoch {best})")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("loss (cross-entropy)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    # Zoom in on the lowest point and what follows it; the first epochs' high losses drop out.
    bottom = float(validation.min())
    top = max(float(validation[best - 1 :].max()), float(np.median(validation)))
    margin = 0.1 * (top - bottom) or 0.01 * abs(bottom) or 0.01
    alone.set_ylim(bottom - margin, top + margin)
    both.set_title("Training and validation loss")
    alone.set_title(f"Validation loss, zoomed in: lowest at epoch {best} of {len(validation)}")
    fig.suptitle("Overfitting: the training loss keeps falling; does the validation loss?")
    return fig


# ------------------------------------------------------ 06: make it robust and make it yours
def plot_augmentations(rows: Mapping[str, np.ndarray]) -> Figure:
    """The same digits under each augmentation: one row per name, one column per digit.

    rows: {name: (N, 28, 28[, 1]) images}, every entry with the same N (say "original"
    first, then one row per change).
    """
    if not rows:
        raise ValueError("no rows to show: pass {name: images}")
    batches = {name: np.asarray(images) for name, images in rows.items()}
    sizes = {len(images) for images in batches.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"every row needs the same number of digits (at least 1), got {sizes}")
    columns = sizes.pop()
    fig = _figure(1.05 * columns + 1.6, 1.1 * len(batches) + 0.5)
    axes = fig.subplots(len(batches), columns, squeeze=False)
    for row, (name, images) in zip(axes, batches.items(), strict=True):
        for ax, image in zip(row, images, strict=True):
            _show(ax, image)
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("The same digits under each change the augmentation makes")
    return fig


def plot_learning_rate(
    rates: Sequence[float], steps_per_epoch: int, zoom_epochs: float = 2
) -> Figure:
    """A learning-rate schedule, one value per training step: the whole run (by epoch), and
    its first `zoom_epochs` epochs step by step, where a short warm-up shows."""
    rates = np.asarray(rates, dtype=np.float64)
    if rates.ndim != 1 or not len(rates):
        raise ValueError(f"expected one learning rate per step, got shape {rates.shape}")
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be at least 1, got {steps_per_epoch}")
    steps = np.arange(len(rates))
    peak = int(rates.argmax())
    fig = _figure(10, 3.4)
    whole, start = fig.subplots(1, 2)
    whole.plot(steps / steps_per_epoch, rates, color=TRAIN_COLOUR)
    whole.set_xlabel("epoch")
    whole.set_title(f"The whole run: {len(rates) / steps_per_epoch:g} epochs")
    shown = min(len(rates), max(1, round(zoom_epochs * steps_per_epoch)))
    start.plot(steps[:shown], rates[:shown], color=TRAIN_COLOUR)
    start.set_xlabel(f"step ({steps_per_epoch} per epoch)")
    start.set_title(f"The first {shown} steps")
    for ax, at, corner in (
        (whole, peak / steps_per_epoch, "upper right"),
        (start, peak, "lower right"),
    ):
        ax.axvline(at, color=HIGHLIGHT, ls=":", label=f"peak {rates[peak]:.2g} at step {peak}")
        ax.set_ylabel("learning rate")
        ax.set_ylim(0, rates.max() * 1.08)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc=corner)
    fig.suptitle("Learning-rate schedule: warm up to the peak, then a cosine down to zero")
    return fig


def plot_fine_tuning(results: Mapping[str, Mapping[str, float]]) -> Figure:
    """Accuracy of each model on your held-out drawings and on MNIST's test digits.

    results: {model name: {"yours": accuracy, "mnist": accuracy}}, e.g. before and after
    fine-tuning. The MNIST panel is zoomed in: forgetting shows as a drop of a few tenths
    of a percent there.
    """
    import textwrap

    names = list(results)
    if not names:
        raise ValueError("no results to show: pass {model name: {'yours': a, 'mnist': a}}")
    colours = [TRAIN_COLOUR, VALIDATION_COLOUR, "tab:green", "tab:purple"]
    fig = _figure(3 + 1.6 * len(names), 3.6)
    axes = fig.subplots(1, 2)
    panels = (("yours", "Your held-out drawings"), ("mnist", "MNIST test digits"))
    for ax, (key, title) in zip(axes, panels, strict=True):
        values = np.array([results[name][key] for name in names], dtype=np.float64)
        places = np.arange(len(names))
        bars = ax.bar(places, values, color=[colours[i % len(colours)] for i in places])
        ax.set_xticks(places, [textwrap.fill(name, 16) for name in names])
        shown = [_percent(v) if key == "yours" else f"{v:.2%}" for v in values]
        ax.bar_label(bars, labels=shown, fontsize=8)
        low = 0.0 if key == "yours" else max(0.0, float(np.nanmin(values)) - 0.02)
        ax.set_ylim(low, 1.0 + (1.0 - low) * 0.08)
        ax.set_ylabel("accuracy")
        ax.set_title(title)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("Fine-tuning: better on your handwriting, and still on MNIST?")
    return fig


def plot_reliability(curves: Mapping[str, Any]) -> Figure:
    """Reliability diagram: accuracy against confidence per bin (`calibration.Reliability`).

    One line per set of readings in `curves` ({name: Reliability}); on the diagonal the
    model is as often right as it is sure, below it overconfident. Right: how many readings
    fall in each bin (log scale): most are very sure.
    """
    if not curves:
        raise ValueError("no reliability curves to show: pass {name: Reliability}")
    colours = [TRAIN_COLOUR, VALIDATION_COLOUR, "tab:green", "tab:purple"]
    fig = _figure(10, 3.8)
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [0, 1], color="tab:gray", ls=":", lw=1, label="perfectly calibrated")
    for i, (name, curve) in enumerate(curves.items()):
        colour = colours[i % len(colours)]
        filled = curve.counts > 0
        error = curve.expected_calibration_error
        left.plot(
            curve.confidence[filled],
            curve.accuracy[filled],
            "o-",
            color=colour,
            label=f"{name} (calibration error {error:.1%})",
        )
        width = np.diff(curve.edges) / (len(curves) + 0.5)
        right.bar(
            curve.edges[:-1] + width * (i + 0.75), curve.counts, width, color=colour, label=name
        )
    left.set_xlabel("confidence (mean in each bin)")
    left.set_ylabel("accuracy in the bin")
    left.set_xlim(0, 1.02)
    left.set_ylim(0, 1.02)
    left.grid(alpha=0.3)
    left.legend(fontsize=8, loc="upper left")
    left.set_title("Is it right as often as it is sure?")
    right.set_yscale("log")
    right.set_xlim(0, 1)
    right.set_xlabel("confidence")
    right.set_ylabel("readings (log scale)")
    right.set_title("How many readings have each confidence")
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle("Reliability diagram")
    return fig


def plot_coverage(
    curves: Mapping[str, Any], chosen: Any | None = None, by_hand: float | None = None
) -> Figure:
    """Coverage and accuracy of the answered readings against the "unsure" threshold.

    curves: {name: calibration.CoverageCurve}; `chosen` (a `calibration.ThresholdChoice`)
    marks the threshold chosen for a target accuracy, `by_hand` a threshold set by hand.
    """
    if not curves:
        raise ValueError("no coverage curves to show: pass {name: CoverageCurve}")
    colours = [TRAIN_COLOUR, VALIDATION_COLOUR, "tab:green", "tab:purple"]
    fig = _figure(10, 3.8)
    covered, right = fig.subplots(1, 2, sharex=True)
    for i, (name, curve) in enumerate(curves.items()):
        colour = colours[i % len(colours)]
        covered.step(curve.thresholds, curve.coverage, where="post", color=colour, label=name)
        right.step(curve.thresholds, curve.accuracy, where="post", color=colour, label=name)
    marks = []
    if chosen is not None:
        marks.append((chosen.unsure_below, HIGHLIGHT, "-", f"chosen: {chosen.unsure_below:.2f}"))
        right.axhline(
            chosen.target_accuracy,
            color=HIGHLIGHT,
            ls=":",
            lw=1,
            label=f"target {chosen.target_accuracy:.1%}",
        )
    if by_hand is not None:
        marks.append((by_hand, "tab:gray", "--", f"by hand: {by_hand:.2f}"))
    for value, colour, style, label in marks:
        for ax in (covered, right):
            ax.axvline(value, color=colour, ls=style, lw=1, label=label)
    covered.set_ylabel("coverage (fraction answered)")
    covered.set_ylim(0, 1.02)
    covered.set_title("How many readings are answered")
    lowest = min(float(np.nanmin(c.accuracy)) for c in curves.values())
    right.set_ylim(max(0.0, lowest - 0.01), 1.002)
    right.set_ylabel("accuracy of the answered readings")
    right.set_title("How many of the answers are right")
    for ax in (covered, right):
        ax.set_xlabel('threshold: below it the answer is "unsure"')
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("Choosing the threshold: fewer answers, but more of them right")
    return fig


# --------------------------------------------------------------------------- 04: whole numbers
def _mark_box(ax: Any, box: Sequence[int], colour: str, label: str = "", **style: Any) -> None:
    """A (top, left, bottom, right) box drawn over an image, with a label above it."""
    top, left, bottom, right = box
    ax.add_patch(
        Rectangle(
            (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, ec=colour, **style
        )
    )
    if label:
        ax.text(left, top - 4, label, color=colour, fontsize=11, fontweight="bold", va="bottom")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def plot_segmentation(segmentation: Any, reading: Any | None = None) -> Figure:
    """How a drawing of a number is read, step by step.

    `segmentation` is `digitrec.numbers.segment`'s result: 1. the ink; 2. its pieces (boxes),
    the candidate cuts through pieces wide enough to be touching digits (orange paths), the
    places where digits that lean into each other could be parted (purple crosses) and the
    specks set aside (dashed). `reading`, `read_number`'s result for the same drawing,
    adds 3. the digits chosen, each with its reading, and under it each digit's 28x28 image
    as `to_mnist` prepared it for the model, with its reading ("not a digit" when refused).
    """
    ink = np.asarray(segmentation.ink)
    pieces, specks = segmentation.pieces, segmentation.specks
    height, width = ink.shape
    wide = float(np.clip(10.0 * height / width, 1.5, 4.0))
    count = len(reading) if reading is not None else 0
    columns = max(count, 8)
    rows = 2 + (2 if reading is not None else 0)
    ratios = [wide, wide] + ([wide, 1.4] if reading is not None else [])
    fig = _figure(10, sum(ratios) + 0.5 * rows)
    grid = fig.add_gridspec(rows, columns, height_ratios=ratios)
    step_axes = [fig.add_subplot(grid[row, :]) for row in range(2 + (reading is not None))]
    for ax in step_axes:
        _show(ax, ink)
    step_axes[0].set_title(f"1. the drawing as ink, {height}x{width} px", fontsize=10)

    cuts = sum(len(piece.cuts) for piece in pieces)
    partings = [parting.centre for piece in pieces for parting in piece.partings]
    step_axes[1].set_title(
        f"2. {_count(len(pieces), 'piece')} of ink (boxes) and {_count(len(specks), 'speck')} "
        f"set aside (dashed);\n{_count(cuts, 'place')} where a piece could be cut, should it "
        f"hold touching digits (orange), {len(partings)} where it could be parted (purple)",
        fontsize=10,
    )
    for k, piece in enumerate(pieces):
        _mark_box(step_axes[1], piece.box, "tab:cyan", str(k + 1), lw=1.5)
        top, _, bottom, _ = piece.box
        for cut in piece.cuts:
            step_axes[1].plot(cut.columns, np.arange(top, bottom), color="tab:orange", lw=1.2)
    if partings:
        rows, columns = np.array(partings).T
        step_axes[1].scatter(columns, rows, s=90, marker="x", color="tab:purple", linewidths=2.5)
    for box in specks:
        _mark_box(step_axes[1], box, "tab:gray", lw=1.5, ls="--")

    if reading is not None:
        step_axes[2].set_title(f"3. the digits read, left to right: {reading.text}", fontsize=10)
        for k, (box, digit, refused) in enumerate(
            zip(reading.boxes, reading.digits, reading.not_a_digit, strict=True)
        ):
            colour = HIGHLIGHT if refused else "tab:green"
            _mark_box(step_axes[2], box, colour, "?" if refused else str(digit.digit), lw=2)
            ax = fig.add_subplot(grid[3, k])
            caption = (
                f"not a digit\n(score {reading.not_digit_scores[k]:.2f})"
                if refused
                else f"{digit.digit} ({digit.confidence:.0%})"
            )
            _show(ax, digit.image if digit.image is not None else np.zeros((28, 28)), caption)
            if refused:
                ax.title.set_color(HIGHLIGHT)
        fig.supxlabel("4. each digit as the model saw it (to_mnist, 28x28)", fontsize=10)
    fig.suptitle("Reading a number: find the pieces of ink, cut, set specks aside, read")
    return fig
