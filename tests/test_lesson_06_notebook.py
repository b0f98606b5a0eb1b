"""The lesson 06 notebook runs top to bottom (fast mode) within its time limit and writes its figures and
results: each figure titled, its axes labelled, with a legend; every by-hand formula equal to the library's."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from conftest import corpus_present
from lesson_checks import (
    check_by_hand_matches_library,
    check_every_cell_ran,
    execute_notebook,
    images,
    notebook_text,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "06_pretrain_finetune" / "06_pretrain_finetune.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not corpus_present("movie_reviews"),
                       reason="corpus 'movie_reviews' not found (the notebook reads it): set NLTK_DATA (see README) "
                              "or `lmcourse data fetch movie_reviews`"),
]

FIGURES = ["pseudo_likelihood_is_not_a_distribution.png", "head_only_or_everything.png",
           "accuracy_vs_labelled_examples.png"]
FAST_SIZES = [20, 80]
LINES = ["causal", "masked", "from scratch", "Naive Bayes"]
# What CI gives the notebook in fast mode (the README's "under 2 minutes"): the kernel's own clock, from its
# first cell to its last, and the whole execution (kernel start included) with a margin for a busy machine.
FAST_LIMIT_S = 120
EXECUTION_LIMIT_S = 180


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder, seconds)."""
    results = tmp_path_factory.mktemp("results")
    started = time.perf_counter()
    notebook = execute_notebook(NOTEBOOK, results_dir=results,
                                env={"LMCOURSE_PRETRAINED_CAUSAL": "", "LMCOURSE_PRETRAINED_MLM": ""})
    return notebook, results / "lesson_06", time.perf_counter() - started


@pytest.fixture(scope="module")
def summary(executed):
    return json.loads((executed[1] / "results.json").read_text())


def test_notebook_runs_within_its_time_limit_and_writes_its_results(executed, summary):
    notebook, results, seconds = executed
    check_every_cell_ran(notebook)
    assert summary["fast_mode"] is True and summary["corpus"] == summary["task"] == "movie_reviews"
    assert summary["split_sizes"] == {"train": 1600, "valid": 200, "test": 200}
    assert summary["figures"] == FIGURES
    for figure in FIGURES:
        assert (results / figure).stat().st_size > 1000, figure
    assert len(images(notebook)) == len(FIGURES)
    assert summary["notebook_seconds"] < FAST_LIMIT_S
    assert seconds < EXECUTION_LIMIT_S


def test_every_figure_has_a_title_labelled_axes_and_a_legend(summary):
    assert set(summary["figure_facts"]) == set(FIGURES)
    for name, facts in summary["figure_facts"].items():
        assert facts["title"] or all(axis["title"] for axis in facts["axes"]), name
        for axis in facts["axes"]:
            assert axis["xlabel"] and axis["ylabel"], name
            assert axis["legend"] and all(axis["legend"]), name
        # the quantities plotted say what they are measured in
        assert any("(" in axis["ylabel"] for axis in facts["axes"]), name


def test_fast_mode_pretrains_tiny_networks_in_the_notebook(summary):
    for name, kind in (("causal", "transformer"), ("mlm", "mlm")):
        row = summary["pretraining"][name]
        assert row["kind"] == kind and row["source"] == "trained in this notebook", name
        assert row["corpus"] == "movie_reviews" and row["steps"] == 40, name
        assert row["config"]["d_model"] == 16 and row["config"]["layers"] == 1, name
    assert summary["pretraining"]["mlm"]["config"]["causal"] is False


def test_bert_masking_on_a_real_sentence(summary):
    masking = summary["masking"]
    assert masking["same_as_library"] is True
    assert all(count >= 1 for count in masking["kinds"].values())             # <mask>, random word, unchanged
    sentence, inputs, labels = masking["sentence"], masking["inputs"], masking["labels"]
    assert len(inputs) == len(labels) == len(sentence) + 2                     # <s> ... </s>
    assert inputs[0] == "<s>" and labels[0] is None                            # <s> is never chosen
    assert sum(label is not None for label in labels) == sum(masking["kinds"].values())
    assert inputs.count("<mask>") == masking["kinds"]["<mask>"]
    shares = summary["mlm_loss"]["shares"]
    assert 0.05 < shares["chosen"] < 0.3 and 0.6 < shares["<mask> (of the chosen)"] < 0.95
    loss = summary["mlm_loss"]
    assert loss["by_hand"] == pytest.approx(loss["library"], rel=1e-5)         # the module's loss is float32
    assert 0 < loss["by_hand"] < math.log(10_003) + 2                          # about a guess over the vocabulary


def test_pseudo_likelihood_is_not_a_distribution(summary):
    toy = summary["pseudo_likelihood_toy"]
    assert toy["causal_sum"] == pytest.approx(1.0, abs=1e-12)
    assert abs(toy["pseudo_sum"] - 1.0) > 0.05
    assert toy["renormalized_gap"] > 0.01
    assert toy["true_pseudo_perplexity"] < toy["true_perplexity"]             # below the floor: not a perplexity
    real = summary["real_models"]
    assert real["pseudo_perplexity_tokens"] == real["tokens"] == 200
    assert math.isfinite(real["pseudo_perplexity"]) and math.isfinite(real["causal_perplexity_first"])
    assert 0 <= real["masked_accuracy"] <= 1


def test_the_by_hand_formulas_match_the_library(executed, summary):
    notebook, _, _ = executed
    # pooling (1 line), the Naive Bayes log-count ratios (2), the accuracy and its interval (3)
    check_by_hand_matches_library(notebook_text(notebook), expected_lines=6)
    assert summary["pooling"]["by_hand_norm"] == pytest.approx(summary["pooling"]["library_norm"], rel=1e-12)
    assert summary["pooling"]["float32_gap"] < 1e-4
    assert summary["log_count_ratios"]["largest_gap"] < 1e-9


def test_head_only_and_everything(summary):
    rows = summary["head_or_all"]
    assert list(rows) == ["causal, head only", "causal, everything", "masked, head only", "masked, everything",
                          "from scratch"]
    width = summary["model"]["d_model"]
    for label, row in rows.items():
        low, high = row["interval_95"]
        assert 0 <= low <= row["accuracy"] <= high <= 1, label
        expected = 2 * (width + 1) if label.endswith("head only") else None
        if expected is not None:
            assert row["trained_parameters"] == expected, label
        else:
            assert row["trained_parameters"] > 100 * 2 * (width + 1), label
    # the runs at the largest size are the curves' points (one fine-tuning each)
    assert rows["causal, everything"]["accuracy"] == summary["curves"]["causal"][-1]["accuracy"]
    assert rows["from scratch"]["accuracy"] == summary["curves"]["from scratch"][-1]["accuracy"]


def test_accuracy_against_labelled_examples(summary):
    assert summary["sizes"] == FAST_SIZES
    assert list(summary["curves"]) == LINES
    for name, curve in summary["curves"].items():
        assert [point["train_size"] for point in curve] == FAST_SIZES, name
        for point in curve:
            low, high = point["interval_95"]
            assert 0 <= low <= point["accuracy"] <= high <= 1, name
            # 200 test reviews: an interval of a few points each side, never a point
            assert 0.02 < high - low < 0.3, name
    # counting needs no pre-training: Naive Bayes on 80 reviews is well above chance, whatever the mode
    assert summary["curves"]["Naive Bayes"][-1]["accuracy"] > 0.6
    check = summary["interval_check"]
    nb = summary["curves"]["Naive Bayes"][-1]
    assert (check["accuracy"], check["low"], check["high"]) == pytest.approx(
        (nb["accuracy"], *nb["interval_95"]), abs=1e-12)
    for pair, rows in summary["differences"].items():
        a, b = pair.split(" - ")
        for row, point_a, point_b in zip(rows, summary["curves"][a], summary["curves"][b]):
            assert row["difference"] == pytest.approx(point_a["accuracy"] - point_b["accuracy"], abs=1e-12)
            assert -1 <= row["low"] <= row["high"] <= 1, pair
    assert set(summary["pre_training_paid"]) == {str(size) for size in FAST_SIZES}

