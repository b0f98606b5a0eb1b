"""Counting within a memory budget (lmcourse.ngram.chunked_counting) gives the in-memory tables bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from cli_checks import refused, run_json
from conftest import requires_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import Corpus
from lmcourse.errors import UserError
from lmcourse.ngram import ModifiedKneserNey, NgramCounts
from lmcourse.ngram.chunked_counting import (
    RunMerger,
    count_in_chunks,
    merge_runs,
    parse_memory,
    sentence_chunks,
)
from lmcourse.ngram.counting import sort_with_order, sorted_unique

FIELDS = ("keys", "counts", "suffix", "starts_with_bos")


def assert_same_tables(expected: dict, got: dict) -> None:
    assert sorted(expected) == sorted(got)
    for k in expected:
        for field in FIELDS:
            a, b = getattr(expected[k], field), getattr(got[k], field)
            assert a.dtype == b.dtype, (k, field)
            np.testing.assert_array_equal(a, b, err_msg=f"order {k}, {field}")


def stream(sentences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A flat stream: each sentence's ids (3..), then </s> (2)."""
    tokens = np.array([t for s in sentences for t in [*s, 2]], dtype=np.int32)
    starts = np.concatenate([[0], np.cumsum([len(s) + 1 for s in sentences])]).astype(np.int64)
    return tokens, starts


corpora = st.lists(st.lists(st.integers(3, 9), max_size=12), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(sentences=corpora, order=st.integers(1, 5), memory=st.integers(16, 20_000))
def test_chunked_counting_equals_counting_in_memory(sentences, order, memory, tmp_path_factory):
    tokens, starts = stream(sentences)
    folder = tmp_path_factory.mktemp("counts")
    expected = NgramCounts.from_stream(tokens, starts, order, 10).tables
    assert_same_tables(expected, count_in_chunks(tokens, starts, order, 10, memory, folder=folder))
    assert list(folder.iterdir()) == []  # the temporary files are gone


def sorted_run(keys: np.ndarray):
    """A run as the counting makes one; each key's 'suffix' is a function of the key, as an N-gram's is."""
    distinct, counts = np.unique(np.asarray(keys, dtype=np.int64), return_counts=True)
    return distinct, counts, distinct * 7 % 13


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.integers(0, 2**62), max_size=200), small=st.booleans())
def test_sort_with_order_sorts_and_gives_the_permutation(keys, small):
    keys = np.array(keys, dtype=np.int64) >> (40 if small else 0)  # small keys: packed with their positions
    ordered, order = sort_with_order(keys)
    np.testing.assert_array_equal(ordered, np.sort(keys))
    np.testing.assert_array_equal(keys[order], ordered)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(keys)))


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.integers(0, 2**62), max_size=200), small=st.booleans())
def test_sorted_unique_is_numpys_unique(keys, small):
    keys = np.array(keys, dtype=np.int64) >> (40 if small else 0)
    distinct, inverse, counts = sorted_unique(keys)
    want = np.unique(keys, return_inverse=True, return_counts=True)
    for got, expected in zip((distinct, inverse, counts), want):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(distinct[inverse], keys)


@settings(max_examples=100, deadline=None)
@given(runs=st.lists(st.lists(st.integers(0, 50), max_size=30), max_size=6))
def test_merging_runs_sums_equal_keys(runs):
    keys, counts, suffix = merge_runs([sorted_run(run) for run in runs])
    everything = np.array([key for run in runs for key in run], dtype=np.int64)
    want_keys, want_counts = np.unique(everything, return_counts=True)
    np.testing.assert_array_equal(keys, want_keys)
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_array_equal(suffix, want_keys * 7 % 13)  # each key keeps its own suffix


def test_runs_spill_to_disk_and_merge_back(tmp_path):
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 5_000, size=2_000) for _ in range(12)]
    merger = RunMerger(tmp_path, budget=24 * 3_000, name="test")
    for batch in batches:
        merger.add(sorted_run(batch))
    assert len(merger.spilled) >= 4  # the budget held fewer runs than were added
    keys, counts, suffix = merger.table()
    want_keys, want_counts = np.unique(np.concatenate(batches), return_counts=True)
    np.testing.assert_array_equal(keys, want_keys)
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_array_equal(suffix, want_keys * 7 % 13)


@settings(max_examples=100, deadline=None)
@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=50), chunk=st.integers(1, 60))
def test_chunks_are_whole_consecutive_sentences(lengths, chunk):
    starts = np.concatenate([[0], np.cumsum(lengths)])
    chunks = sentence_chunks(starts, chunk)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(lengths)
    assert all(a < b for a, b in chunks) and all(b == c for (_, b), (c, _) in zip(chunks, chunks[1:]))
    for a, b in chunks:  # about `chunk` tokens: at most one sentence more
        assert starts[b] - starts[a] <= chunk + max(lengths[a:b])


@requires_corpus("brown")
def test_brown_counted_in_chunks_gives_the_same_model():
    from lmcourse.data import load_corpus

    brown = load_corpus("brown")
    train = brown.split("train")
    in_memory = NgramCounts.from_split(train, 5, len(brown.vocab))
    chunked = NgramCounts.from_split(train, 5, len(brown.vocab), memory=8 * 2**20)
    assert chunked.counted_in_chunks and not in_memory.counted_in_chunks
    assert_same_tables(in_memory.tables, chunked.tables)
    test = brown.split("test")
    expected = ModifiedKneserNey(5).fit(brown).perplexity(test)
    assert ModifiedKneserNey(5).fit(brown, memory=8 * 2**20).perplexity(test) == expected


@pytest.mark.parametrize("text, size", [("2G", 2 * 2**30), ("512M", 512 * 2**20), ("1.5g", 3 * 2**29),
                                        ("64MiB", 64 * 2**20), ("1048576", 2**20)])
def test_memory_sizes(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["lots", "-1G", "2X", "", "10K"])
def test_bad_memory_sizes_are_one_line_errors(text):
    with pytest.raises(UserError, match="--memory"):
        parse_memory(text)


def test_cli_ngram_memory(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    sentences = [" ".join(f"w{(i * 7 + j * 3) % 23}" for j in range(i % 9 + 1)) for i in range(400)]
    for name in ("train", "valid", "test"):
        (folder / f"{name}.txt").write_text("\n".join(sentences) + "\n")
    argv = ["ngram", "--corpus", str(folder), "--order", "4", "--smoothing", "mkn", "--json"]
    default = run_json(capsys, argv)
    budgeted = run_json(capsys, [*argv, "--memory", "1M"])
    assert not default["counting"]["in_chunks"] and budgeted["counting"]["in_chunks"] is False  # small corpus
    assert budgeted["counting"]["memory_budget_bytes"] == 2**20
    assert budgeted["test_perplexity"] == default["test_perplexity"]
    message = refused(capsys, [*argv, "--memory", "plenty"])
    assert "--memory" in message and "2G" in message


def test_corpus_fit_with_memory_budget_counts_in_chunks():
    sentences = [[f"w{(i * 5 + j) % 31}" for j in range(i % 11 + 1)] for i in range(3_000)]
    corpus = Corpus.from_sentences("toy", {"train": sentences, "valid": sentences[:50], "test": sentences[:50]})
    model = ModifiedKneserNey(4).fit(corpus, memory=2**20)
    assert model.counts.counted_in_chunks
    assert model.perplexity(corpus.split("test")) == ModifiedKneserNey(4).fit(corpus).perplexity(
        corpus.split("test"))
