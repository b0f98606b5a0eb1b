"""The lesson 01 notebook runs top to bottom (fast mode) and writes its figure and results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import corpus_present, requires_corpus

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "01_ngram_counting" / "01_ngram_counting.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (corpus_present("brown") or corpus_present("synthetic")),
                       reason="neither the brown nor the synthetic corpus can be loaded here"),
]


def cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    import nbformat
    from nbclient import NotebookClient

    results = tmp_path_factory.mktemp("results")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMCOURSE_FAST", "1")
        patch.setenv("LMCOURSE_RESULTS", str(results))
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return notebook, results / "lesson_01"


def test_notebook_runs_and_writes_its_results(executed):
    notebook, results = executed
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    assert all(o["output_type"] != "error" for c in code_cells for o in c.outputs)
    output = "\n".join(cell_text(c) for c in code_cells)
    assert "perplexity: inf" in output  # the toy sentence with an unseen bigram
    assert (results / "mle_perplexity_by_order.png").stat().st_size > 1000
    summary = json.loads((results / "results.json").read_text())
    assert summary["fast_mode"] is True
    rows = summary["mle_by_order"]
    assert [row["order"] for row in rows] == [1, 2, 3]
    train_perplexities = [row["train_perplexity"] for row in rows]
    assert train_perplexities == sorted(train_perplexities, reverse=True)  # higher orders fit train better
    zero_shares = [row["test_zero_probability_share"] for row in rows]
    assert zero_shares == sorted(zero_shares) and zero_shares[-1] > 0  # ... and fail on more test tokens
    images = [o for c in code_cells for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1


@requires_corpus("brown")
def test_notebook_uses_brown(executed):
    notebook, results = executed
    output = "\n".join(cell_text(c) for c in notebook.cells if c.cell_type == "code")
    assert "Brown is not available" not in output
    summary = json.loads((results / "results.json").read_text())
    assert summary["corpus"] == "brown"
    unigram, bigram, trigram = summary["mle_by_order"]
    assert unigram["test_perplexity"] is not None  # <unk> keeps the unigram model finite
    assert bigram["test_perplexity"] is None and trigram["test_perplexity"] is None  # infinite
    # the hand-made counts and the library agree on the MLE bigram probabilities shown
    lines = [line for line in output.splitlines() if ": by hand " in line]
    assert len(lines) == 5
    for line in lines:
        ours, library = line.split(": by hand ")[1].split(", library ")
        assert float(ours) == pytest.approx(float(library), abs=1e-6)
