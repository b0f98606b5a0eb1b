"""The lesson 00 notebook runs top to bottom (fast mode), and every lesson notebook is saved without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import requires_corpus

REPO_ROOT = Path(__file__).resolve().parents[1]
LESSONS = REPO_ROOT / "lessons"
NOTEBOOK = LESSONS / "00_tokens_and_vocabularies" / "00_tokens_and_vocabularies.ipynb"


def lesson_notebooks() -> list[Path]:
    return sorted(p for p in LESSONS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_every_lesson_notebook_is_saved_without_outputs():
    notebooks = lesson_notebooks()
    assert NOTEBOOK in notebooks
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                where = f"{path.relative_to(REPO_ROOT)}, cell {index}"
                assert cell.get("outputs") == [], f"{where} has outputs: clear them before committing"
                assert cell.get("execution_count") is None, f"{where} has an execution count: clear outputs"


def cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed_notebook():
    """The notebook executed in a fresh ``python3`` kernel with LMCOURSE_FAST=1 (any error fails here)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMCOURSE_FAST", "1")
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return notebook


@pytest.mark.slow
def test_notebook_runs(executed_notebook):
    code_cells = [c for c in executed_notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    assert all(o["output_type"] != "error" for c in code_cells for o in c.outputs)
    output = "\n".join(cell_text(c) for c in code_cells)
    assert "'didn', \"'\", 't'" in output  # the simple tokenizer's weakness the text points out


@pytest.mark.slow
@requires_corpus("brown")
def test_notebook_plots_zipf_on_brown(executed_notebook):
    output = "\n".join(cell_text(c) for c in executed_notebook.cells if c.cell_type == "code")
    assert "Brown is not available" not in output
    line = next(line for line in output.splitlines() if line.startswith("Zipf slope, all ranks:"))
    slope_all = float(line.split(":")[1].split(";")[0])
    assert -2.5 < slope_all < -0.5  # a falling power law; Zipf's s is near 1
    images = [o for c in executed_notebook.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the Zipf plot and the OOV curve
    assert "OOV rate on valid" in output
