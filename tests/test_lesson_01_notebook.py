"""The lesson 01 notebook runs top to bottom (fast mode) and writes its figure and results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import requires_corpus
from lesson_checks import (
    check_by_hand_matches_library,
    check_every_cell_ran,
    execute_notebook,
    images,
    notebook_text,
    requires_a_lesson_corpus,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "01_ngram_counting" / "01_ngram_counting.ipynb"

pytestmark = [pytest.mark.slow, requires_a_lesson_corpus()]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    results = tmp_path_factory.mktemp("results")
    return execute_notebook(NOTEBOOK, results_dir=results), results / "lesson_01"


def test_notebook_runs_and_writes_its_results(executed):
    notebook, results = executed
    check_every_cell_ran(notebook)
    assert "perplexity: inf" in notebook_text(notebook)  # the toy sentence with an unseen bigram
    assert (results / "mle_perplexity_by_order.png").stat().st_size > 1000
    summary = json.loads((results / "results.json").read_text())
    assert summary["fast_mode"] is True
    rows = summary["mle_by_order"]
    assert [row["order"] for row in rows] == [1, 2, 3]
    train_perplexities = [row["train_perplexity"] for row in rows]
    assert train_perplexities == sorted(train_perplexities, reverse=True)  # higher orders fit train better
    zero_shares = [row["test_zero_probability_share"] for row in rows]
    assert zero_shares == sorted(zero_shares) and zero_shares[-1] > 0  # ... and fail on more test tokens
    assert len(images(notebook)) == 1


@requires_corpus("brown")
def test_notebook_uses_brown(executed):
    notebook, results = executed
    output = notebook_text(notebook)
    assert "Brown is not available" not in output
    summary = json.loads((results / "results.json").read_text())
    assert summary["corpus"] == "brown"
    unigram, bigram, trigram = summary["mle_by_order"]
    assert unigram["test_perplexity"] is not None  # <unk> keeps the unigram model finite
    assert bigram["test_perplexity"] is None and trigram["test_perplexity"] is None  # infinite
    # the hand-made counts and the library agree on the MLE bigram probabilities shown
    check_by_hand_matches_library(output, expected_lines=5)
