"""The lesson 00 notebook runs top to bottom (fast mode), and every lesson notebook is saved without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import requires_corpus
from lesson_checks import check_every_cell_ran, execute_notebook, images, notebook_text

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


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def executed_notebook(results_dir):
    """The notebook executed in a fresh ``python3`` kernel with LMCOURSE_FAST=1 (any error fails here);
    its figures go to a temporary folder, not to the checkout's results/."""
    return execute_notebook(NOTEBOOK, results_dir=results_dir)


@pytest.mark.slow
def test_notebook_runs(executed_notebook):
    check_every_cell_ran(executed_notebook)
    output = notebook_text(executed_notebook)
    assert "'didn', \"'\", 't'" in output  # the simple tokenizer's weakness the text points out


@pytest.mark.slow
@requires_corpus("brown")
def test_notebook_plots_zipf_on_brown(executed_notebook, results_dir):
    output = notebook_text(executed_notebook)
    assert "Brown is not available" not in output
    line = next(line for line in output.splitlines() if line.startswith("Zipf slope, all ranks:"))
    slope_all = float(line.split(":")[1].split(";")[0])
    assert -2.5 < slope_all < -0.5  # a falling power law; Zipf's s is near 1
    assert len(images(executed_notebook)) == 2  # the Zipf plot and the OOV curve
    for name in ("zipf_brown.png", "oov_rate_by_vocabulary_size.png"):
        assert (results_dir / "lesson_00" / name).stat().st_size > 1000, name
    assert "OOV rate on valid" in output
