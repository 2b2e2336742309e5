"""Notebook 03's seed CNN is `digitrec.model.build_seed_cnn()`, and notebook 06's improved CNN
is `digitrec.model.build_improved_cnn()`.

The notebooks write the models out with Keras so a learner reads them; the package builds them
for the training command, the app and the tests. This runs each notebook's tagged cell
(`seed-cnn`, `improved-cnn`) and compares the two networks layer by layer, so neither can
change without the other.
"""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path
from typing import Any

import keras
import nbformat
import pytest

from digitrec.model import build_improved_cnn, build_seed_cnn

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "03_build_and_train_cnn.ipynb"
TAG = "seed-cnn"
IMPROVED_NOTEBOOK = NOTEBOOKS / "06_make_it_robust_and_yours.ipynb"
IMPROVED_TAG = "improved-cnn"
# What makes two layers the same network: their kind, name, size and what they compute.
COMPARED = (
    "filters",
    "units",
    "kernel_size",
    "strides",
    "padding",
    "pool_size",
    "activation",
    "rate",
)


def tagged_source(path: Path = NOTEBOOK, tag: str = TAG) -> str:
    """The source of the one code cell carrying `tag` in its metadata."""
    notebook = nbformat.read(path, as_version=4)
    cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and tag in cell.get("metadata", {}).get("tags", [])
    ]
    assert len(cells) == 1, f"{path.name} should have exactly one code cell tagged {tag!r}"
    return cells[0].source


def model_from_source(source: str, builder: str = "build_model") -> keras.Model:
    """Run a model-building cell as the notebook would (after `import keras`,
    `from keras import layers`) and return the `model` it defines, or `builder()`."""
    namespace: dict[str, Any] = {"keras": keras, "layers": keras.layers}
    exec(compile(source, "<tagged cell>", "exec"), namespace)
    if isinstance(namespace.get("model"), keras.Model):
        return namespace["model"]
    assert callable(namespace.get(builder)), f"the cell defines neither model nor {builder}"
    return namespace[builder]()


def architecture(model: keras.Model) -> list[tuple[str, str, dict[str, Any], int]]:
    """One row per layer: its class, name, the settings in `COMPARED` and its parameters."""
    rows = []
    for layer in model.layers:
        config = layer.get_config()
        settings = {key: config[key] for key in COMPARED if key in config}
        rows.append((type(layer).__name__, layer.name, settings, layer.count_params()))
    return rows


def assert_same_network(ours: keras.Model, reference: keras.Model) -> None:
    """Fail with the first layer that differs, or a differing input, output or total."""
    for index, (mine, theirs) in enumerate(
        zip_longest(architecture(ours), architecture(reference))
    ):
        assert mine == theirs, f"layer {index}: notebook {mine} != digitrec.model {theirs}"
    assert ours.input_shape == reference.input_shape
    assert ours.output_shape == reference.output_shape
    assert ours.count_params() == reference.count_params()


def test_the_notebook_builds_the_package_seed_cnn():
    ours = model_from_source(tagged_source())
    reference = build_seed_cnn()
    assert_same_network(ours, reference)
    assert ours.count_params() == reference.count_params() == 93_322
    kinds = [row[0] for row in architecture(ours)]
    assert kinds.count("Conv2D") == 3 and kinds.count("Dense") == 2


def test_the_cell_builds_a_new_untrained_model_each_time():
    source = tagged_source()
    first, second = model_from_source(source), model_from_source(source)
    assert first is not second
    assert any(
        (a != b).any() for a, b in zip(first.get_weights(), second.get_weights(), strict=True)
    )


@pytest.mark.parametrize(
    ("change", "replacement"),
    [
        ("Conv2D(32,", "Conv2D(16,"),  # fewer filters
        ('"relu", name="conv3"', '"tanh", name="conv3"'),  # same size, other activation
        ('(3, 3), activation="relu", name="conv2"', '(5, 5), activation="relu", name="conv2"'),
        ('activation="softmax"', 'activation="sigmoid"'),  # same parameter count
        ('layers.MaxPooling2D(pool_size=(2, 2), name="pool2"),', ""),  # a layer removed
    ],
)
def test_a_different_model_fails_the_comparison(change, replacement):
    source = tagged_source()
    assert change in source, f"the cell no longer contains {change!r}: update this test"
    different = model_from_source(source.replace(change, replacement, 1))
    with pytest.raises(AssertionError):
        assert_same_network(different, build_seed_cnn())


def test_a_model_defined_directly_is_compared_too():
    source = "model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(), "
    source += "layers.Dense(10, activation='softmax')])"
    model = model_from_source(source)
    with pytest.raises(AssertionError, match="layer 0"):
        assert_same_network(model, build_seed_cnn())


def test_a_notebook_without_the_tag_is_reported(tmp_path):
    path = tmp_path / "untagged.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(AssertionError, match="exactly one code cell tagged"):
        tagged_source(path)


def improved_from_notebook(source: str | None = None) -> keras.Model:
    source = tagged_source(IMPROVED_NOTEBOOK, IMPROVED_TAG) if source is None else source
    return model_from_source(source, builder="build_improved_cnn")


def test_notebook_06_builds_the_package_improved_cnn():
    ours = improved_from_notebook()
    reference = build_improved_cnn()
    assert_same_network(ours, reference)
    assert ours.name == reference.name == "improved_cnn"
    assert ours.layers[-1].dtype_policy.name == "float32"


@pytest.mark.parametrize(
    ("change", "replacement"),
    [
        ("Conv2D(40,", "Conv2D(32,"),  # fewer filters
        ("Dropout(0.3,", "Dropout(0.5,"),  # same parameters, another dropout rate
        ("strides=2,", "strides=1,"),  # same parameters, full resolution
        ('layers.MaxPooling2D(2, name="pool2"),', ""),  # a layer removed
    ],
)
def test_a_different_improved_cnn_fails_the_comparison(change, replacement):
    source = tagged_source(IMPROVED_NOTEBOOK, IMPROVED_TAG)
    assert change in source, f"the cell no longer contains {change!r}: update this test"
    different = improved_from_notebook(source.replace(change, replacement, 1))
    with pytest.raises(AssertionError):
        assert_same_network(different, build_improved_cnn())
