"""The lesson 04 notebook runs top to bottom (fast mode) and writes its figures and results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
NOTEBOOK = REPO_ROOT / "lessons" / "04_transformer" / "04_transformer.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not corpus_present("synthetic"), reason="the built-in synthetic corpus cannot be made here"),
]

MODELS = {"transformer", "lstm", "kn3", "kn5"}
FIGURES = ["sinusoidal_positions.png", "valid_perplexity_vs_time.png", "attention_map.png"]
SAMPLINGS = {"temperature 0.7", "temperature 1.0", "temperature 1.5", "top-k 5", "top-p 0.9", "LSTM, temperature 1.0"}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    results = tmp_path_factory.mktemp("results")
    return execute_notebook(NOTEBOOK, results_dir=results), results / "lesson_04"


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
    assert {"perplexity", "floor_perplexity", "agreement", "training_curves", "attention", "samples",
            "samples_grammatical", "generation"} <= set(summary)
    assert summary["floor_perplexity"] == pytest.approx(floor_stats()["floor_perplexity"])
    assert set(summary["perplexity"]) == MODELS
    assert set(summary["training_curves"]) == {"transformer", "lstm"}
    for kind, log in summary["training_curves"].items():
        assert [entry["step"] for entry in log] == [10, 20, 30, 40], kind  # fast mode: 40 steps, every 10
        seconds = [entry["seconds"] for entry in log]
        assert seconds == sorted(seconds)


def test_perplexities_are_finite_and_not_below_the_floor(summary):
    check_perplexities_above_the_floor(summary)


def test_agreement_is_recorded(summary):
    check_agreement_recorded(summary, MODELS)


def test_attention_maps_pick_a_head_and_score_it_on_the_pairs(summary):
    attention = summary["attention"]
    layers, heads = summary["model"]["layers"], summary["model"]["heads"]
    assert attention["pairs"] == 200 and len(attention["roles"]) == 7
    selection = np.array(attention["selection_weight_on_subject"])     # (layers, heads), on the other pairs
    assert selection.shape == (layers, heads) and np.all((0 <= selection) & (selection <= 1))
    # the head shown is the one whose attention from the verb of the clause goes most to the subject
    assert selection[attention["layer"] - 1, attention["head"] - 1] == selection.max()
    shares = np.array(attention["strongest_shares"])                   # (layers, heads, 7): shares of the pairs
    mean_weights = np.array(attention["mean_weights"])                 # (layers, heads, 7): mean rows of weights
    assert shares.shape == mean_weights.shape == (layers, heads, 7)
    assert np.allclose(shares.sum(axis=-1), 1) and np.allclose(mean_weights.sum(axis=-1), 1, atol=1e-5)
    example = attention["example"]
    assert (example["query"], example["subject"]) == ("chase", "dog")
    assert np.array(example["weight_on_subject"]).shape == (layers, heads)
    tokens = len(example["sentence"].split()) + 1                      # the sentence-start input first
    example_map = np.array(example["map"])                             # (T, T) of the head shown
    assert example_map.shape == (tokens, tokens)
    assert np.allclose(example_map.sum(axis=-1), 1, atol=1e-5)
    assert np.all(np.triu(example_map, k=1) == 0)                      # causal: nothing above the diagonal


def test_samples_and_generation_are_recorded(summary):
    assert set(summary["samples"]) == set(summary["samples_grammatical"]) == SAMPLINGS
    for name in SAMPLINGS:
        samples, grammatical = summary["samples"][name], summary["samples_grammatical"][name]
        assert len(samples) == len(grammatical) == 20, name
        assert all(sample.startswith(summary["prompt"]) for sample in samples), name
        assert all(isinstance(ok, bool) for ok in grammatical), name
    generation = summary["generation"]
    for mode in ("cached", "uncached"):
        assert generation[mode]["seconds"] > 0 and generation[mode]["tokens"] >= 20, mode
    assert isinstance(generation["same_samples"], bool)
    assert len(generation["one_step"]) == 3
    for step in generation["one_step"]:
        assert step["cached_seconds"] > 0 and step["uncached_seconds"] > 0
        assert step["largest_difference"] < 1e-4  # the cache changes the cost, not the result


def test_hand_computations_agree_with_the_library(executed):
    notebook, _ = executed
    output = notebook_text(notebook)
    # attention written out and fused, causal attention, multi-head self-attention, a sinusoidal position,
    # the parameter count, the cross-entropy of a window, the top-k and the top-p filters
    check_by_hand_matches_library(output, expected_lines=9)
    for line in ["by hand and SelfAttention.split_heads split the heads the same way: True",
                 "merge_heads(split_heads(x)) == x: True",
                 "outputs at positions 0-3 unchanged when the last position changes: True"]:
        assert line in output
    assert output.count("the same words kept: True") == 2
