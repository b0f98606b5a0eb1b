"""The answer key of lesson 00 (lmcourse.tokens), checked by hand and by properties."""

from __future__ import annotations

import math
import string
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data import Vocabulary
from lmcourse.tokens import build_vocabulary, count_types_and_tokens, oov_rate, tokenize, zipf_slope

ascii_text = st.text(alphabet=string.printable)
words = st.sampled_from(["the", "a", "cat", "The", "dog", "b", "B", "<unk>", "x"])
sentences = st.lists(st.lists(words, max_size=8), max_size=6)


def test_tokenize_by_hand():
    assert tokenize("Don't panic: it's 4 o'clock!") == ["don't", "panic", ":", "it's", "4", "o'clock", "!"]
    assert tokenize("'Tis 3.14, rock'n'roll'") == ["'", "tis", "3", ".", "14", ",", "rock'n'roll", "'"]
    assert tokenize("  \n\t") == []
    assert tokenize("$5--ok") == ["$", "5", "-", "-", "ok"]
    assert tokenize("a1b") == ["a", "1", "b"]


@given(ascii_text)
def test_tokens_cover_the_text_without_white_space(text):
    tokens = tokenize(text)
    assert "".join(tokens) == "".join(text.lower().split())
    assert all(token and not any(ch.isspace() for ch in token) for token in tokens)


def test_count_types_and_tokens_by_hand():
    assert count_types_and_tokens([["the", "cat", "saw", "the", "dog"]]) == (4, 5)
    assert count_types_and_tokens([["The", "the"], [], ["the"]]) == (2, 3)
    assert count_types_and_tokens([]) == (0, 0)


def test_zipf_slope_by_hand():
    assert zipf_slope([60, 30, 20, 15, 12]) == pytest.approx(-1.0)
    assert zipf_slope([12, 20, 60, 15, 30]) == pytest.approx(-1.0)  # order does not matter
    assert zipf_slope([900 / r**2 for r in range(1, 8)]) == pytest.approx(-2.0)
    assert zipf_slope([7, 7, 7, 7]) == pytest.approx(0.0, abs=1e-12)
    # Two points: the slope of the line through them.
    assert zipf_slope([100, 1]) == pytest.approx((math.log(1) - math.log(100)) / math.log(2))
    with pytest.raises(ValueError):
        zipf_slope([5])


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=40))
def test_zipf_slope_is_never_positive(counts):
    # Frequencies sorted in descending order never rise with rank, so the fitted line cannot either.
    assert zipf_slope(counts) <= 1e-9


def test_build_vocabulary_by_hand():
    text = [["b", "a", "c", "a", "b", "a"]]
    assert build_vocabulary(text) == ["a", "b", "c"]
    assert build_vocabulary(text, max_size=2) == ["a", "b"]
    assert build_vocabulary(text, min_count=2) == ["a", "b"]
    assert build_vocabulary(text, max_size=0) == []
    assert build_vocabulary([["dog", "cat", "ant"]]) == ["ant", "cat", "dog"]
    assert build_vocabulary([["b", "B", "a"]]) == ["B", "a", "b"]
    assert build_vocabulary([["<unk>", "a", "<s>", "</s>"]]) == ["a"]


@given(sentences, st.one_of(st.none(), st.integers(0, 10)), st.integers(1, 4))
def test_build_vocabulary_matches_the_vocabulary_class(sents, max_size, min_count):
    counts = Counter(w for s in sents for w in s)
    assert build_vocabulary(sents, max_size, min_count) == Vocabulary.from_counts(counts, max_size, min_count).words
    kept = build_vocabulary(sents, max_size, min_count)
    assert all(counts[w] >= min_count for w in kept)
    assert all(counts[a] >= counts[b] for a, b in zip(kept, kept[1:]))


def test_oov_rate_by_hand():
    assert oov_rate([["a", "b", "c", "a"]], ["a"]) == 0.5
    assert oov_rate([["x", "x", "x", "y"]], {"y"}) == 0.75  # tokens, not types
    assert oov_rate([["a"]], []) == 1.0
    assert oov_rate([], ["a"]) == 0.0


@given(sentences)
def test_the_full_training_vocabulary_has_no_oov_on_training_text(sents):
    vocab = build_vocabulary(sents)
    specials = sum(w in ("<unk>", "<s>", "</s>") for s in sents for w in s)
    n_tokens = sum(len(s) for s in sents)
    assert oov_rate(sents, vocab) == pytest.approx(specials / n_tokens if n_tokens else 0.0)
