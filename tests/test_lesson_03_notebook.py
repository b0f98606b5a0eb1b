"""The lesson 03 notebook runs top to bottom (fast mode) and writes its figures and results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import corpus_present
from lesson_checks import (
    check_agreement_recorded,
    check_by_hand_matches_library,
    check_every_cell_ran,
    check_perplexities_above_the_floor,
    execute_notebook,
    images,
    notebook_text,
)

from lmcourse.synthetic import floor_stats

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "03_rnn_lstm" / "03_rnn_lstm.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not corpus_present("synthetic"), reason="the built-in synthetic corpus cannot be made here"),
]

MODELS = {"rnn", "gru", "lstm", "kn3", "kn5"}
FIGURES = ["gradient_by_distance.png", "valid_perplexity_vs_time.png"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    results = tmp_path_factory.mktemp("results")
    return execute_notebook(NOTEBOOK, results_dir=results), results / "lesson_03"


@pytest.fixture(scope="module")
def summary(executed):
    return json.loads((executed[1] / "results.json").read_text())


def test_notebook_runs_and_writes_its_results(executed, summary):
    notebook, results = executed
    check_every_cell_ran(notebook)
    for figure in FIGURES:
        assert (results / figure).stat().st_size > 1000, figure
    assert len(images(notebook)) == len(FIGURES)
    assert summary["fast_mode"] is True
    assert summary["corpus"] == "synthetic"
    assert {"perplexity", "floor_perplexity", "agreement", "training_curves", "gradient_by_distance",
            "samples"} <= set(summary)
    assert summary["floor_perplexity"] == pytest.approx(floor_stats()["floor_perplexity"])
    assert set(summary["perplexity"]) == MODELS
    assert set(summary["training_curves"]) == {"rnn", "gru", "lstm"}
    for kind, log in summary["training_curves"].items():
        assert [entry["step"] for entry in log] == [10, 20, 30, 40], kind  # fast mode: 40 steps, every 10
        seconds = [entry["seconds"] for entry in log]
        assert seconds == sorted(seconds)


def test_perplexities_are_finite_and_not_below_the_floor(summary):
    check_perplexities_above_the_floor(summary)


def test_agreement_and_gradients_are_recorded(summary):
    check_agreement_recorded(summary, MODELS)
    for when, by_kind in summary["gradient_by_distance"].items():
        assert set(by_kind) == {"rnn", "lstm"}, when
        for norms in by_kind.values():
            assert len(norms) == 40 and all(math.isfinite(g) and g >= 0 for g in norms)
    for name in ("lstm", "kn3"):
        assert len(summary["samples"][name]) == len(summary["samples_grammatical"][name]) == 20, name


def test_hand_computations_agree_with_the_library(executed):
    notebook, _ = executed
    output = notebook_text(notebook)
    # Elman h', LSTM h' and c', GRU h', the global gradient norm before and after clipping, the LSTM's test
    # perplexity
    check_by_hand_matches_library(output, expected_lines=7)
    assert "by hand and lmcourse.neural.batches give the same windows: True" in output
