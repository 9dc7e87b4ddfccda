"""The notebooks are stored clean: no outputs, no execution counts, one parameters cell on top."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("01_retrain.ipynb", "02_evaluate.ipynb", "03_training_effect.ipynb")
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebooks_all_present() -> None:
    """The three notebooks are in notebooks/."""
    assert {path.name for path in NOTEBOOKS} >= set(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_has_no_outputs(path: Path) -> None:
    """No code cell carries outputs or an execution count, so diffs show only code and prose."""
    dirty = [
        index
        for index, cell in enumerate(_code_cells(path))
        if cell.get("outputs") or cell.get("execution_count") is not None
    ]

    assert dirty == [], f"{path.name}: clear the outputs of code cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_parameters_cell_first(path: Path) -> None:
    """Exactly one cell, the first code cell, is tagged parameters (papermill's convention)."""
    cells = _code_cells(path)
    tagged = [
        index for index, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])
    ]

    assert tagged == [0], f"{path.name}: parameters cells at code cell positions {tagged}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_valid(path: Path) -> None:
    """The file validates against the nbformat schema and names the python3 kernel."""
    notebook = nbformat.read(path, as_version=4)

    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
