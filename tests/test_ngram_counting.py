"""NgramCounts: all orders at once, checked against plain Python counting."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import BOS_ID, Corpus
from lmcourse.ngram.counting import NOT_IN_MODEL, SENTENCE_TOO_SHORT, NgramCounts, padded_stream

SENTENCES = [["a", "b", "a"], ["b", "a"], ["a"]]


def toy_corpus(sentences=SENTENCES):
    return Corpus.from_sentences("toy", {"train": sentences, "valid": sentences, "test": sentences})


def table_as_dict(counts: NgramCounts, k: int) -> dict[tuple[int, ...], int]:
    """Decode an order's keys back into id tuples (through the context tables)."""
    V = counts.vocab_size
    words = {1: counts.tables[1].keys.reshape(-1, 1)}
    for j in range(2, k + 1):
        t = counts.tables[j]
        words[j] = np.concatenate([words[j - 1][t.keys // V], (t.keys % V).reshape(-1, 1)], axis=1)
    table = counts.tables[k]
    return {tuple(int(x) for x in row): int(c) for row, c in zip(words[k], table.counts) if c > 0}


def decoded_ids(counts: NgramCounts, k: int) -> np.ndarray:
    V = counts.vocab_size
    ids = counts.tables[1].keys.reshape(-1, 1)
    for j in range(2, k + 1):
        t = counts.tables[j]
        ids = np.concatenate([ids[t.keys // V], (t.keys % V).reshape(-1, 1)], axis=1)
    return ids


def python_counts(sentences_ids, k: int) -> Counter:
    """Windows of k ids of each '<s> w1 .. wn </s>' (ids), not ending on <s>: the definition."""
    result: Counter = Counter()
    for ids in sentences_ids:
        padded = [BOS_ID] + list(ids)
        for end in range(1, len(padded)):
            if end - k + 1 >= 0:
                result[tuple(padded[end - k + 1:end + 1])] += 1
    return result


def test_padded_stream_puts_one_bos_before_each_sentence():
    corpus = toy_corpus()
    split = corpus.split("train")
    padded, depth, predicted = padded_stream(split.tokens, split.sentence_starts)
    a, b = corpus.vocab.lookup("a"), corpus.vocab.lookup("b")
    assert padded.tolist() == [1, a, b, a, 2, 1, b, a, 2, 1, a, 2]
    assert depth.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 0, 1, 2]
    assert padded[predicted].tolist() == split.tokens.tolist()


def test_hand_counted_bigrams_and_trigrams():
    corpus = toy_corpus()
    counts = NgramCounts.from_split(corpus.split("train"), 3, len(corpus.vocab))
    a, b, s, e = corpus.vocab.lookup("a"), corpus.vocab.lookup("b"), BOS_ID, 2
    assert table_as_dict(counts, 2) == {(s, a): 2, (a, b): 1, (b, a): 2, (a, e): 3, (s, b): 1}
    assert table_as_dict(counts, 3) == {(s, a, b): 1, (a, b, a): 1, (b, a, e): 2, (s, b, a): 1, (s, a, e): 1}
    assert counts.tables[1].counts[[a, b, e, s]].tolist() == [4, 2, 3, 0]
    assert counts.ngram_counts() == {1: len(corpus.vocab), 2: 5, 3: 5}


def test_continuation_and_kneser_ney_adjusted_counts():
    corpus = toy_corpus()
    counts = NgramCounts.from_split(corpus.split("train"), 3, len(corpus.vocab))
    a, e = corpus.vocab.lookup("a"), 2
    adjusted = counts.kneser_ney_counts()
    # unigram "a": left neighbours in bigrams are <s> and b -> 2; "</s>": a -> 1; <s>: 0 by convention
    assert adjusted[1][a] == 2 and adjusted[1][e] == 1 and adjusted[1][BOS_ID] == 0
    bigrams = table_as_dict(counts, 2)
    keys = list(bigrams)
    # bigrams starting with <s> keep raw counts; "a </s>" has left neighbours b and <s> -> 2
    V = counts.vocab_size
    lookup = {key: row for row, key in enumerate(sorted(keys, key=lambda g: g[0] * V + g[1]))}
    assert adjusted[2][lookup[(BOS_ID, a)]] == 2
    assert adjusted[2][lookup[(a, e)]] == 2
    # the highest order keeps raw counts
    assert adjusted[3].tolist() == counts.tables[3].counts.tolist()


def test_count_of_counts():
    assert NgramCounts.count_of_counts(np.array([1, 1, 2, 5, 9, 0])).tolist() == [1, 2, 1, 0, 0]


def test_lookup_marks_short_contexts_and_unseen_ngrams():
    corpus = toy_corpus()
    counts = NgramCounts.from_split(corpus.split("train"), 3, len(corpus.vocab))
    a, b = corpus.vocab.lookup("a"), corpus.vocab.lookup("b")
    split = Corpus.from_sentences("q", {"train": [["b", "b", "a"]]}, vocab=corpus.vocab).split("train")
    found = counts.lookup(split.tokens, split.sentence_starts)
    # tokens: b b a </s>; trigram contexts: none for the first token ("<s>" only is too short)
    assert found.context[3][0] == SENTENCE_TOO_SHORT
    assert found.ngram[2][1] == NOT_IN_MODEL  # "b b" never seen
    assert found.context[3][2] == NOT_IN_MODEL  # context "b b" never seen
    assert found.ngram[2][0] >= 0  # "<s> b" seen
    assert found.ngram[1].tolist() == [b, b, a, 2]


sentences_strategy = st.lists(st.lists(st.sampled_from(list("abcde")), min_size=0, max_size=7),
                              min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(sentences=sentences_strategy, order=st.integers(1, 4))
def test_counts_equal_python_counting(sentences, order):
    corpus = toy_corpus(sentences)
    split = corpus.split("train")
    counts = NgramCounts.from_split(split, order, len(corpus.vocab))
    for k in range(2, order + 1):
        assert table_as_dict(counts, k) == dict(python_counts(list(split.sentences()), k))
        table = counts.tables[k]
        assert np.all(np.diff(table.keys) > 0)  # sorted and distinct
        # the suffix row holds the same N-gram without its first word
        ids_k, ids_lower = decoded_ids(counts, k), decoded_ids(counts, k - 1)
        assert np.array_equal(ids_k[:, 1:], ids_lower[table.suffix])
    unigrams = Counter(int(t) for t in split.tokens)
    assert {i: int(c) for i, c in enumerate(counts.tables[1].counts) if c} == dict(unigrams)
