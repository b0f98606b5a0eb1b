"""The lesson 02 notebook runs top to bottom (fast mode) and writes its figure, results and KenLM table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REFERENCE_DIR, requires_corpus, requires_reference
from lesson_checks import (
    check_by_hand_matches_library,
    check_every_cell_ran,
    execute_notebook,
    images,
    notebook_text,
    requires_a_lesson_corpus,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "02_smoothing" / "02_smoothing.ipynb"

pytestmark = [pytest.mark.slow, requires_a_lesson_corpus()]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    results = tmp_path_factory.mktemp("results")
    notebook = execute_notebook(NOTEBOOK, results_dir=results, env={"LMCOURSE_REFERENCE": str(REFERENCE_DIR)})
    return notebook, results / "lesson_02"


def test_notebook_runs_and_writes_its_results(executed):
    notebook, results = executed
    check_every_cell_ran(notebook)
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
    assert "ours (MKN)" in notebook_text(notebook)
    assert len(images(notebook)) == 1


def test_hand_computations_agree_with_the_library(executed):
    notebook, _ = executed
    output = notebook_text(notebook)
    check_by_hand_matches_library(output, expected_lines=4)  # the toy Kneser-Ney bigram probabilities
    by_hand = next(line for line in output.splitlines() if line.startswith("by hand: ["))
    library = next(line for line in output.splitlines() if line.startswith("library: ["))
    assert json.loads(by_hand.split(": ", 1)[1]) == pytest.approx(json.loads(library.split(": ", 1)[1]))
    # Katz's discounts of the bigrams: katz_discount on count_ngrams, and the library's KatzBackoff
    katz = {line.split(":")[0].rsplit(" ", 2)[-1]: json.loads(line.split(": ", 1)[1])
            for line in output.splitlines() if line.startswith("Katz bigram discounts d_1..d_5 ")}
    assert set(katz) == {"hand", "library"} and len(katz["hand"]) == 5
    assert katz["hand"] == pytest.approx(katz["library"], abs=1e-6)


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
