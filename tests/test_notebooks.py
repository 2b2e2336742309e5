"""Committed notebooks: valid nbformat, named NN_snake_case.ipynb, and stored without outputs.

Outputs in git make diffs unreadable, leak local paths and timings, and let a notebook look
finished when it no longer runs; nbval (`pytest --nbval-lax`) runs them from scratch instead,
in order, beside a recommended model and a quick stand-in that they must leave alone
(`conftest.py` at the top of the project).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
NAME = re.compile(r"^\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
COURSE = [
    "01_explore_data.ipynb",
    "02_how_a_network_learns.ipynb",
    "03_build_and_train_cnn.ipynb",
    "04_draw_and_predict.ipynb",
    "05_inside_the_cnn.ipynb",
    "06_make_it_robust_and_yours.ipynb",
    "07_how_well_does_it_read_us.ipynb",
]


def test_the_course_notebooks_exist():
    names = {path.name for path in NOTEBOOKS}
    missing = [name for name in COURSE if name not in names]
    assert not missing, f"missing notebooks: {missing}"


def test_notebook_numbers_are_unique():
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), f"two notebooks share a number: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_name_is_numbered_snake_case(path):
    assert NAME.match(path.name), f"{path.name} is not named NN_snake_case.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_valid_nbformat_with_a_python_kernel(path):
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)  # raises ValidationError with the offending field
    assert notebook.nbformat == 4
    assert notebook.metadata.get("kernelspec", {}).get("language") == "python"
    assert any(cell.cell_type == "code" for cell in notebook.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    dirty = [
        f"cell {index}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name} has outputs or execution counts in {', '.join(dirty)}; "
        f"clear them: jupyter nbconvert --clear-output --inplace notebooks/{path.name}"
    )


def test_output_check_catches_a_dirty_notebook(tmp_path):
    """The check above must fail on a notebook that was saved after running."""
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    dirty = tmp_path / "99_dirty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), dirty)
    with pytest.raises(AssertionError, match="outputs or execution counts in cell 0"):
        test_committed_without_outputs(dirty)


@pytest.mark.parametrize("name", COURSE)
def test_course_notebooks_use_the_package_and_end_with_exercises(name):
    """The lesson's code is in the notebook, shared code in digitrec: a notebook imports the
    package, holds no classes and no copies of its utilities, and ends with exercises that
    answer back (a check from `digitrec.exercises`, a solution in notebooks/solutions/)."""
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from digitrec import" in source
    assert "settings.fast_mode()" in source
    assert len(re.findall(r"^\s*class ", source, flags=re.MULTILINE)) == 0
    copied = [name for name in SHARED_UTILITIES if re.search(rf"^\s*def {name}\(", source, re.M)]
    assert not copied, f"{name} copies shared utilities instead of importing them: {copied}"
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert any(text.startswith("## Exercises") or "\n## Exercises" in text for text in markdown)
    assert "from digitrec.exercises" in source, "exercises need checks that answer back"
    solutions = NOTEBOOKS_DIR / "solutions" / f"{Path(name).stem}.py"
    assert solutions.is_file(), f"missing {solutions.relative_to(NOTEBOOKS_DIR.parent)}"


@pytest.mark.parametrize("name", COURSE)
def test_course_notebooks_open_with_goals_and_end_with_a_recap(name):
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    opening = notebook.cells[0].source if notebook.cells else ""
    assert "learn" in opening.lower(), "the first cell says what you will learn"
    assert "docs/teaching.md" in opening, "the first cell says where its time is measured"
    assert "{{" not in markdown, "a placeholder was left in the prose"
    assert re.search(r"^#+ *Recap", markdown, flags=re.MULTILINE | re.IGNORECASE)


@pytest.mark.parametrize("name", COURSE)
def test_course_notebooks_import_digitrec_before_tensorflow(name):
    """TensorFlow's start-up notices would show under the first cell as if something failed;
    importing digitrec first starts TensorFlow without them (tests/test_package.py)."""
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    assert _first_import(notebook, "digitrec") < _first_import(notebook, "keras|tensorflow")


def _first_import(notebook: nbformat.NotebookNode, modules: str) -> tuple[int, int]:
    """(cell, line) of the first code line that imports one of `modules` (a regex), or past the
    end if none does."""
    statement = re.compile(rf"^\s*(?:import|from)\s+(?:{modules})\b")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for line, text in enumerate(cell.source.splitlines()):
            if statement.match(text):
                return index, line
    return len(notebook.cells), 0


# Helpers the package provides; a notebook that defines one of these has copied it.
SHARED_UTILITIES = (
    "load_mnist",
    "to_mnist",
    "preprocess_stages",
    "extract_ink",
    "scale_images",
    "confusion_matrix",
    "mean_digits",
    "save_model",
    "ensure_model",
) + tuple(name for name in dir(__import__("digitrec.plots").plots) if name.startswith("plot_"))
