"""The lesson 02 notebook runs top to bottom (fast mode) and writes its figure, results and KenLM table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR, corpus_present, requires_corpus, requires_reference

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "02_smoothing" / "02_smoothing.ipynb"

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
        patch.setenv("LMCOURSE_REFERENCE", str(REFERENCE_DIR))
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return notebook, results / "lesson_02"


def output_of(notebook) -> str:
    return "\n".join(cell_text(c) for c in notebook.cells if c.cell_type == "code")


def test_notebook_runs_and_writes_its_results(executed):
    notebook, results = executed
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    assert all(o["output_type"] != "error" for c in code_cells for o in c.outputs)
    assert (results / "smoothing_perplexity_by_order.png").stat().st_size > 1000
    summary = json.loads((results / "results.json").read_text())
    assert summary["fast_mode"] is True
    methods = summary["test_perplexity"]
    assert set(methods) == {"add-k", "Jelinek-Mercer", "Katz", "absolute discounting", "Kneser-Ney (backoff)",
                            "Kneser-Ney", "modified Kneser-Ney"}
    for by_order in methods.values():
        assert list(by_order) == ["1", "2", "3"]
        assert all(1 < pp < float("inf") for pp in by_order.values())
    # the KenLM table is shown in fast mode too (orders 2 and 3), with or without the reference
    assert [row["order"] for row in summary["kenlm_comparison"]] == [2, 3]
    assert "ours (MKN)" in output_of(notebook)
    images = [o for c in code_cells for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1


def test_hand_computations_agree_with_the_library(executed):
    notebook, _ = executed
    output = output_of(notebook)
    lines = [line for line in output.splitlines() if ": by hand " in line]
    assert len(lines) == 4  # the toy Kneser-Ney bigram probabilities
    for line in lines:
        ours, library = line.split(": by hand ")[1].split(", library ")
        assert float(ours) == pytest.approx(float(library), abs=1e-6)
    by_hand = next(line for line in output.splitlines() if line.startswith("by hand: ["))
    library = next(line for line in output.splitlines() if line.startswith("library: ["))
    assert json.loads(by_hand.split(": ", 1)[1]) == pytest.approx(json.loads(library.split(": ", 1)[1]))


@requires_corpus("brown")
def test_kneser_ney_beats_the_simple_methods_on_brown(executed):
    _, results = executed
    summary = json.loads((results / "results.json").read_text())
    assert summary["corpus"] == "brown"
    trigram = {name: by_order["3"] for name, by_order in summary["test_perplexity"].items()}
    assert trigram["modified Kneser-Ney"] == min(trigram.values())
    assert trigram["Kneser-Ney"] < trigram["absolute discounting"] < trigram["add-k"]
    assert summary["add_k_best_k"] < 1  # add-one is far from the best k


@requires_corpus("brown")
@requires_reference("kenlm_brown.json")
def test_kenlm_table_on_brown(executed):
    _, results = executed
    reference = json.loads((REFERENCE_DIR / "kenlm_brown.json").read_text())
    table = json.loads((results / "results.json").read_text())["kenlm_comparison"]
    for row in table:
        assert row["kenlm"] == reference["orders"][str(row["order"])]["test_perplexity"]
        assert abs(row["relative_difference"]) < 1e-3, row  # the same estimator as lmplz
