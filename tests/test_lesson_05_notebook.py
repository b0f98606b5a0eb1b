"""The lesson 05 notebook runs top to bottom (fast mode) and writes its figures and results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_present
from lesson_checks import (
    check_by_hand_matches_library,
    check_every_cell_ran,
    check_perplexities_above_the_floor,
    execute_notebook,
    images,
    notebook_text,
)

from lmcourse.compare.budgets import NGRAM_ORDERS, NGRAM_SMOOTHINGS
from lmcourse.data import load_corpus
from lmcourse.synthetic import check_not_below_floor, floor_stats
from lmcourse.synthetic.pairs import DEFAULT_PAIRS

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "lessons" / "05_comparison" / "05_comparison.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not corpus_present("synthetic"), reason="the built-in synthetic corpus cannot be made here"),
]

FIGURES = ["same_tokens.png", "floor_ratio.png", "agreement_by_distance.png", "perplexity_vs_training_tokens.png",
           "paired_bootstrap.png"]
NETWORKS = ["rnn", "lstm", "transformer"]
AGREEMENT_MODELS = ["mkn-2", "mkn-3", "mkn-5", *NETWORKS]
SCALED = ["mkn-5", "lstm", "transformer"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the notebook executed in a fresh python3 kernel with LMCOURSE_FAST=1, its results folder)."""
    results = tmp_path_factory.mktemp("results")
    return execute_notebook(NOTEBOOK, results_dir=results), results / "lesson_05"


@pytest.fixture(scope="module")
def summary(executed):
    return json.loads((executed[1] / "results.json").read_text())


@pytest.fixture(scope="module")
def test_split():
    return load_corpus("synthetic").split("test")


def test_notebook_runs_and_writes_its_results(executed, summary):
    notebook, results = executed
    check_every_cell_ran(notebook)
    assert summary["figures"] == FIGURES
    for figure in FIGURES:
        assert (results / figure).stat().st_size > 1000, figure
    assert len(images(notebook)) == len(FIGURES)
    assert summary["fast_mode"] is True
    assert summary["corpus"] == "synthetic"
    assert summary["budget"] == "tiny"
    assert summary["floor_perplexity"] == pytest.approx(floor_stats()["floor_perplexity"])
    # the comparison run left its results and per-token log-probabilities where the notebook read them
    assert json.loads((results / "comparison" / "results.json").read_text())["finished"]
    assert len(list((results / "comparison" / "log_probs").glob("*.npy"))) == 33 + 6   # the table, the scaling rows
    assert (results / "comparison" / "pairs.tsv").is_file()
    assert "](perplexity_vs_size.png)" in (results / "comparison" / "results.md").read_text()  # .report()
    assert (results / "comparison" / "perplexity_vs_size.png").is_file()


def test_every_row_is_on_the_same_tokens_and_above_the_floor(summary):
    check_perplexities_above_the_floor(summary, baseline="mkn-3")
    every_row = {f"{smoothing}-{order}" for smoothing in NGRAM_SMOOTHINGS for order in NGRAM_ORDERS} | set(NETWORKS)
    every_row |= {f"{name}{share}" for name in SCALED for share in ("@10%", "@30%")}
    # unsmoothed MLE of order >= 2 gives some test N-gram probability 0: the only rows without a perplexity
    assert summary["infinite_test_perplexity"] == [f"mle-{order}" for order in range(2, 6)]
    assert set(summary["perplexity"]) == every_row - set(summary["infinite_test_perplexity"])


def test_a_coarser_vocabulary_gives_a_lower_perplexity_that_means_nothing(summary, test_split):
    demo = summary["same_tokens"]
    fine, coarse, spread = demo["fine"], demo["coarse"], demo["coarse_spread"]
    assert demo["tokens"] == coarse["tokens"] == test_split.num_predicted       # as many tokens: not the same ones
    assert fine["unk_rate"] == 0 and coarse["unk_rate"] > 0.2
    assert coarse["words"] < fine["words"] and spread["unk_words"] == fine["words"] - coarse["words"]
    assert fine["perplexity"] == pytest.approx(summary["perplexity"]["mkn-3"]["test"])
    # reported on its own tokens, the coarse model looks far better, even below the floor of the language ...
    assert coarse["perplexity"] < 0.5 * fine["perplexity"]
    assert coarse["below_floor"] and coarse["perplexity"] < summary["floor_perplexity"]
    # ... and scored on the same words (p(<unk>) spread over the words it stands for), it is worse
    assert spread["perplexity"] > fine["perplexity"]
    check_not_below_floor(spread["perplexity"], demo["tokens"])
    # </s> left out: other tokens, another number, and perplexity_on_same_tokens refuses the pair
    without = demo["without_eos"]
    assert without["tokens"] == test_split.num_words
    assert without["perplexity"] != pytest.approx(fine["perplexity"], rel=0.05)
    assert "same predicted tokens" in demo["refusal"] and f"{without['tokens']:,}" in demo["refusal"]


def test_bits_per_token_and_per_character(summary, test_split):
    vocab = load_corpus("synthetic").vocab
    characters = sum(len(" ".join(vocab.decode(ids[:-1]))) + 1 for ids in test_split.sentences())
    assert summary["characters"] == characters
    tokens = test_split.num_predicted
    assert set(summary["bits"]) == set(summary["headline"]) and set(NETWORKS) <= set(summary["bits"])
    for name, row in summary["bits"].items():
        # one total loss, spread over the tokens or over the characters; the table's figure (float64 log-probs)
        assert row["bits_per_character"] * characters == pytest.approx(row["bits_per_token"] * tokens, rel=1e-12)
        assert row["bits_per_token"] == pytest.approx(row["table_bits_per_token"], abs=1e-5), name
        assert 2 ** row["bits_per_token"] == pytest.approx(row["perplexity"], rel=1e-5), name
        assert row["bits_per_character"] > summary["floor_bits_per_character"], name
    assert summary["floor_bits_per_character"] == pytest.approx(summary["entropy_bits_per_token"] * tokens / characters)
    coarse = summary["coarse_bits_per_character"]
    assert coarse["as reported"] < coarse["<unk> spread"]


@pytest.mark.skipif(not (corpus_present("tinyshakespeare") and corpus_present("tinyshakespeare-char")),
                    reason="tinyshakespeare is not here: the notebook skips its word-against-character comparison")
def test_word_and_character_models_on_one_text(summary):
    shakespeare = summary["shakespeare"]
    char_test = load_corpus("tinyshakespeare-char").split("test")
    assert shakespeare["characters"] == char_test.num_predicted and shakespeare["lines"] == char_test.num_sentences
    # a character model's bits per token are its bits per character
    assert shakespeare["char"]["bits_per_token"] == pytest.approx(shakespeare["char"]["bits_per_character"])
    word = shakespeare["word"]
    assert word["bits_per_character"] * shakespeare["characters"] == pytest.approx(
        word["bits_per_token"] * shakespeare["word_tokens"])
    assert 0 < word["bits_per_character"] < word["bits_per_token"]


def test_ratios_to_the_floor(summary):
    floor = summary["floor_perplexity"]
    assert list(summary["floor_ratio"]) == summary["headline"]
    for name, row in summary["floor_ratio"].items():
        assert row["test_perplexity"] == summary["perplexity"][name]["test"]
        assert row["ratio"] == pytest.approx(row["test_perplexity"] / floor)
        assert row["ratio"] > 1 and row["z"] > -4, name
    # counting does not depend on the mode: the best N-gram models stop at about twice the floor
    best = min(row["ratio"] for row in summary["floor_ratio"].values() if row["family"] == "ngram")
    assert 1.7 < best < 2.2


def test_minimal_pairs_are_scored_for_every_model(summary):
    assert summary["pairs"]["count"] == DEFAULT_PAIRS
    assert set(summary["agreement"]) == set(AGREEMENT_MODELS)
    for name, row in summary["agreement"].items():
        assert row["pairs"] == DEFAULT_PAIRS and row["unk_words"] == 0, name
        assert sum(cell["pairs"] for cell in row["by_distance"].values()) == DEFAULT_PAIRS, name
        assert sum(cell["pairs"] for cell in row["by_attractors"].values()) == DEFAULT_PAIRS, name
        assert row["correct"] == round(row["accuracy"] * DEFAULT_PAIRS)
        beyond = summary["agreement_beyond_window"][name]
        assert 0 <= beyond["accuracy"] <= 1 and 0 < beyond["pairs"] < DEFAULT_PAIRS
    # the N-gram models (the same in both modes): with an attractor in between, a guess or worse; where the
    # subject-verb bigram was never counted, the bigram too is about a guess, and right where it was
    for name in ("mkn-2", "mkn-3", "mkn-5"):
        with_attractors = [cell for key, cell in summary["ngram_agreement_groups"][name].items()
                           if key.endswith("attractor")]
        pairs = sum(cell["pairs"] for cell in with_attractors)
        accuracy = sum(cell["accuracy"] * cell["pairs"] for cell in with_attractors) / pairs
        assert pairs > 300 and 0.35 < accuracy < 0.55, name
    bigram = summary["bigram_check"]
    assert bigram["counted"]["pairs"] + bigram["not_counted"]["pairs"] == summary["agreement"]["mkn-2"][
        "by_distance"]["1"]["pairs"]
    assert bigram["counted"]["accuracy"] > 0.85 and 0.35 < bigram["not_counted"]["accuracy"] < 0.65


def test_data_scaling(summary):
    assert list(summary["scaling"]) == SCALED
    for name, points in summary["scaling"].items():
        assert [p["fraction"] for p in points] == [0.1, 0.3, 1.0], name
        tokens = [p["train_tokens"] for p in points]
        assert tokens == sorted(tokens) and len(set(tokens)) == 3, name
        for point in points:
            suffix = "" if point["fraction"] == 1.0 else f"@{point['fraction']:.0%}"
            assert point["test_perplexity"] == summary["perplexity"][name + suffix]["test"]
    # counting more text always helps KN5 here, whatever the mode
    kn5 = [p["test_perplexity"] for p in summary["scaling"]["mkn-5"]]
    assert kn5 == sorted(kn5, reverse=True)


def test_paired_bootstrap(executed, summary):
    notebook, _ = executed
    check_by_hand_matches_library(notebook_text(notebook), expected_lines=2)   # the interval's two ends
    boot = summary["bootstrap"]
    assert (boot["a"], boot["b"], boot["resamples"], boot["confidence"]) == ("transformer", "lstm", 1000, 0.95)
    assert boot["difference"] == pytest.approx(summary["perplexity"]["transformer"]["test"]
                                               - summary["perplexity"]["lstm"]["test"], abs=1e-3)
    assert boot["low"] <= boot["difference"] <= boot["high"]
    assert (boot["by_hand"]["low"], boot["by_hand"]["high"]) == (boot["low"], boot["high"])
    assert boot["contains_zero"] == (boot["low"] <= 0 <= boot["high"])
    # pairing removes what the two models share: the unpaired interval is wider
    assert boot["unpaired"]["high"] - boot["unpaired"]["low"] > boot["high"] - boot["low"]
    sizes = boot["by_size"]
    assert [s["sentences"] for s in sizes] == [100, 300, 1000, summary["test_sentences"]]
    assert sizes[-1]["tokens"] == summary["test_predicted_tokens"]
    assert (sizes[-1]["low"], sizes[-1]["high"]) == (boot["low"], boot["high"])
    assert sizes[0]["high"] - sizes[0]["low"] > sizes[-1]["high"] - sizes[-1]["low"]   # more sentences, narrower
    for item in sizes:
        assert item["low"] <= item["difference"] <= item["high"]
    # two N-gram models a few hundredths apart (the same in both modes): this test set cannot order them
    close = boot["close_pair"]
    assert (close["a"], close["b"]) == ("kn-4", "kn-5")
    assert abs(close["difference"]) < 0.1 and close["low"] < 0 < close["high"]
    # the comparison's own table of differences, made by the same function
    [row] = [d for d in summary["differences"] if (d["a"], d["b"]) == ("transformer", "lstm")]
    assert (row["low"], row["high"]) == pytest.approx((boot["low"], boot["high"]))
    assert math.isfinite(row["difference"]) and np.sign(row["difference"]) == np.sign(boot["difference"])
