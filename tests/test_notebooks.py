"""Committed notebooks: valid nbformat, named NN_snake_case.ipynb, and stored without outputs.

Outputs in git make diffs unreadable, leak local paths and timings, and let a notebook look
finished when it no longer runs; nbval (`pytest --nbval-lax`) runs them from scratch instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
NAME = re.compile(r"^\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
COURSE = ["01_explore_data.ipynb", "02_build_and_train_cnn.ipynb", "04_inside_the_cnn.ipynb"]


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
    """Notebooks narrate and digitrec computes: they import it and define no functions of
    their own beyond tiny helpers, and each ends with exercises for the learner."""
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from digitrec import" in source
    assert "settings.fast_mode()" in source
    assert len(re.findall(r"^\s*def ", source, flags=re.MULTILINE)) <= 1
    assert len(re.findall(r"^\s*class ", source, flags=re.MULTILINE)) == 0
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert any(text.startswith("## Exercises") or "\n## Exercises" in text for text in markdown)
    assert any("<details>" in text for text in markdown), "exercises need hidden solutions"
