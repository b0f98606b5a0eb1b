"""The seeded, cached synthetic corpus files, and the below-the-floor check."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from lmcourse.errors import UserError
from lmcourse.synthetic import (
    DEFAULT_WORDS,
    check_not_below_floor,
    ensure_synthetic_corpus,
    floor_stats,
    floor_verdict,
    grammar_path,
    load_grammar,
    sample_sentences,
)

SPLITS = ("train", "valid", "test")
SMALL = {"train": 3000, "valid": 500, "test": 500}


def read_splits(directory):
    return {split: (directory / f"{split}.txt").read_bytes() for split in SPLITS}


@pytest.fixture(scope="module")
def default_corpus(tmp_path_factory):
    return ensure_synthetic_corpus(tmp_path_factory.mktemp("synthetic") / "english", seed=0)


def test_same_seed_gives_byte_identical_files_and_another_seed_different_ones(default_corpus, tmp_path):
    again = ensure_synthetic_corpus(tmp_path / "again", seed=0)
    assert read_splits(again) == read_splits(default_corpus)
    other = ensure_synthetic_corpus(tmp_path / "other", seed=1)
    for split in SPLITS:
        assert read_splits(other)[split] != read_splits(default_corpus)[split]


def test_default_sizes_format_and_meta(default_corpus):
    grammar = load_grammar("english")
    vocabulary = set(grammar.terminals)
    meta = json.loads((default_corpus / "meta.json").read_text())
    for split in SPLITS:
        text = (default_corpus / f"{split}.txt").read_text(encoding="utf-8")
        assert text.endswith("\n") and "\n\n" not in text and "  " not in text
        lines = text.splitlines()
        words = [line.split(" ") for line in lines]
        n_words = sum(len(w) for w in words)
        # whole sentences until the target is reached: over it by less than one sentence
        assert DEFAULT_WORDS[split] <= n_words < DEFAULT_WORDS[split] + max(len(w) for w in words)
        assert set(word for sentence in words for word in sentence) <= vocabulary
        assert meta["splits"][split]["words"] == n_words
        assert meta["splits"][split]["sentences"] == len(lines)
    assert meta["settings"]["seed"] == 0
    assert meta["settings"]["target_words"] == DEFAULT_WORDS
    assert meta["settings"]["grammar_sha256"] == grammar.sha256
    assert meta["grammar_path"] == str(grammar_path("english"))
    # the true model's loss on each split is near the floor (within 4 standard errors)
    stats = floor_stats("english")
    sigma = stats["grammar_stats"]["loss_std_nats_per_sqrt_token"]
    for split in SPLITS:
        row = meta["splits"][split]
        error = row["true_model_nats_per_token"] - stats["entropy_nats_per_token"]
        assert abs(error) < 4 * sigma / math.sqrt(row["predicted_tokens"])


def test_cache_is_reused_and_remade_when_settings_or_grammar_change(tmp_path):
    directory = tmp_path / "corpus"
    ensure_synthetic_corpus(directory, seed=3, grammar="simple", words=SMALL)
    first = read_splits(directory)
    stamps = {split: (directory / f"{split}.txt").stat().st_mtime_ns for split in SPLITS}
    ensure_synthetic_corpus(directory, seed=3, grammar="simple", words=SMALL)
    assert {split: (directory / f"{split}.txt").stat().st_mtime_ns for split in SPLITS} == stamps

    ensure_synthetic_corpus(directory, seed=4, grammar="simple", words=SMALL)
    assert read_splits(directory) != first
    assert json.loads((directory / "meta.json").read_text())["settings"]["seed"] == 4

    # the same settings with a changed grammar file (two probabilities swapped) are sampled again
    changed = tmp_path / "changed.pcfg"
    text = grammar_path("simple").read_text()
    changed.write_text(text.replace("N_SG -> 'dog' [0.4]", "N_SG -> 'dog' [0.1]")
                           .replace("N_SG -> 'fox' [0.1]", "N_SG -> 'fox' [0.4]"))
    ensure_synthetic_corpus(directory, seed=4, grammar=changed, words=SMALL)
    meta = json.loads((directory / "meta.json").read_text())
    assert meta["settings"]["grammar_sha256"] != load_grammar("simple").sha256
    assert meta["grammar_path"] == str(changed.resolve())

    (directory / "meta.json").unlink()  # a run cut short: no meta.json, so everything is remade
    ensure_synthetic_corpus(directory, seed=3, grammar="simple", words=SMALL)
    assert read_splits(directory) == first


def test_changing_one_split_size_keeps_the_other_splits(tmp_path):
    ensure_synthetic_corpus(tmp_path / "a", seed=5, grammar="simple", words=SMALL)
    ensure_synthetic_corpus(tmp_path / "b", seed=5, grammar="simple", words={**SMALL, "train": 4000})
    a, b = read_splits(tmp_path / "a"), read_splits(tmp_path / "b")
    assert a["valid"] == b["valid"] and a["test"] == b["test"] and a["train"] != b["train"]
    assert b["train"].startswith(a["train"])


def test_bad_settings_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="seed"):
        ensure_synthetic_corpus(tmp_path, seed=-1, grammar="simple")
    with pytest.raises(UserError, match="split"):
        ensure_synthetic_corpus(tmp_path, grammar="simple", words={"training": 10})
    with pytest.raises(UserError, match="does not exist"):
        ensure_synthetic_corpus(tmp_path, grammar=tmp_path / "missing.pcfg")


def test_registered_corpus_loads_with_every_training_word_in_the_vocabulary(isolated_data_home):
    from lmcourse.data import load_corpus

    corpus = load_corpus("synthetic-simple")
    assert (isolated_data_home / "synthetic-simple" / "meta.json").is_file()
    train_words = {w for line in (isolated_data_home / "synthetic-simple" / "train.txt").read_text().splitlines()
                   for w in line.split()}
    assert set(corpus.vocab.words) >= train_words
    assert len(corpus.vocab) == len(train_words) + 3  # + <unk>, <s>, </s>
    assert corpus.split("test").num_words >= DEFAULT_WORDS["test"]


# -- the floor check ---------------------------------------------------------------------------------------
def test_floor_stats_keys_and_units():
    stats = floor_stats("english")
    assert stats["entropy_bits_per_token"] == pytest.approx(stats["entropy_nats_per_token"] / math.log(2))
    assert stats["floor_perplexity"] == pytest.approx(math.exp(stats["entropy_nats_per_token"]))
    assert stats["grammar"] == str(grammar_path("english"))
    assert stats["grammar_stats"]["vocabulary_size"] == len(load_grammar("english").terminals)
    json.dumps(stats)  # plain JSON types only


def test_floor_check_flags_only_values_well_below_the_floor():
    floor = floor_stats("english")["floor_perplexity"]
    tokens = 22_000
    check_not_below_floor(floor, tokens)  # the floor itself
    check_not_below_floor(floor * 1.5, tokens)  # a real model is above it
    within_noise = floor_verdict(floor, tokens)["lowest_plausible_perplexity"] * 1.001
    check_not_below_floor(within_noise, tokens)
    with pytest.raises(AssertionError, match="below the floor"):
        check_not_below_floor(floor * 0.9, tokens)
    verdict = floor_verdict(floor * 0.9, tokens)
    assert verdict["below_floor"] and verdict["z_score"] < -4
    # the same shortfall is only noise on a tiny test set
    assert not floor_verdict(floor * 0.9, 20)["below_floor"]
    with pytest.raises(UserError):
        floor_verdict(0.0, tokens)


def test_floor_check_noise_matches_the_spread_of_the_true_model_over_many_test_sets():
    """The true model's loss per token over 300 independent test sets of ~2,000 tokens each spreads with the
    standard error the check assumes, and none of them is flagged."""
    grammar = load_grammar("simple")
    stats = floor_stats("simple")
    per_set = 350
    sample = sample_sentences(grammar, 300 * per_set, np.random.default_rng(99))
    losses = -sample.log_prob.reshape(300, per_set).sum(axis=1)
    tokens = (sample.lengths + 1).reshape(300, per_set).sum(axis=1)
    per_token = losses / tokens
    expected_spread = stats["grammar_stats"]["loss_std_nats_per_sqrt_token"] / math.sqrt(tokens.mean())
    assert per_token.std() == pytest.approx(expected_spread, rel=0.15)
    for loss, count in zip(per_token, tokens):
        assert not floor_verdict(math.exp(loss), int(count), grammar="simple")["below_floor"]


def test_synthetic_corpus_default_folder_is_in_the_data_home(isolated_data_home):
    directory = ensure_synthetic_corpus(grammar="simple", words=SMALL)
    assert directory == isolated_data_home / "synthetic-simple"
    shutil.rmtree(directory)
