"""The by-hand formulas (lmcourse.ngram.by_hand) are right, and agree with the fast library models."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import Corpus
from lmcourse.ngram import Additive, KatzBackoff, KneserNey, MaximumLikelihood, by_hand
from lmcourse.ngram.katz import good_turing_discounts
from lmcourse.ngram.kneser_ney import modified_discounts

WORDS = ["a", "b", "c", "the", "cat"]
sentences_strategy = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=7), min_size=1, max_size=8)


def toy_corpus(train):
    return Corpus.from_sentences("toy", {"train": train, "valid": train[:1], "test": train[:1]})


def all_contexts(train, n):
    """Every context of n-1 tokens seen in train, plus a few never seen."""
    seen = {ngram[:-1] for ngram in by_hand.count_ngrams(train, n)}
    return sorted(seen) + [tuple(["zzz"] * (n - 1))] if n > 1 else [()]


# -- by hand ------------------------------------------------------------------------------------------------
def test_count_ngrams_by_hand():
    assert by_hand.count_ngrams([["the", "cat"]], 2) == Counter(
        {("<s>", "the"): 1, ("the", "cat"): 1, ("cat", "</s>"): 1})
    assert by_hand.count_ngrams([["a"], []], 3) == Counter(
        {("<s>", "<s>", "a"): 1, ("<s>", "a", "</s>"): 1, ("<s>", "<s>", "</s>"): 1})
    assert by_hand.count_ngrams([["a", "a"]], 1) == Counter({("a",): 2, ("</s>",): 1})
    with pytest.raises(ValueError):
        by_hand.count_ngrams([["a"]], 0)


@given(sentences_strategy, st.integers(min_value=1, max_value=4))
def test_one_ngram_per_predicted_token(train, n):
    counts = by_hand.count_ngrams(train, n)
    assert sum(counts.values()) == sum(len(s) + 1 for s in train)
    assert all(len(ngram) == n and ngram[-1] != "<s>" for ngram in counts)


def test_mle_and_sentence_logprob_by_hand():
    train = [["the", "cat"], ["the", "dog"], ["a", "cat"]]
    counts = by_hand.count_ngrams(train, 2)
    assert by_hand.mle_probability(counts, "cat", ("the",)) == 0.5
    assert by_hand.mle_probability(counts, "the", ("<s>",)) == pytest.approx(2 / 3)
    assert by_hand.mle_probability(counts, "x", ("never",)) == 0.0
    # p(the | <s>) p(cat | the) p(</s> | cat) = 2/3 * 1/2 * 1
    assert by_hand.sentence_logprob(counts, ["the", "cat"]) == pytest.approx(math.log(1 / 3))
    assert by_hand.sentence_logprob(counts, ["a", "dog"]) == -math.inf
    unigrams = by_hand.count_ngrams(train, 1)
    assert by_hand.mle_probability(unigrams, "cat", ()) == pytest.approx(2 / 9)


def test_perplexity_from_logprobs_by_hand():
    assert by_hand.perplexity_from_logprobs([math.log(0.25)] * 4) == pytest.approx(4.0)
    assert by_hand.perplexity_from_logprobs([math.log(0.5), math.log(0.125)]) == pytest.approx(4.0)
    assert by_hand.perplexity_from_logprobs([0.0, -math.inf]) == math.inf
    with pytest.raises(ValueError):
        by_hand.perplexity_from_logprobs([])


def test_sample_next_word_inverts_the_cdf():
    counts = by_hand.count_ngrams([["b"], ["a"], ["a"], ["c"]], 2)  # after <s>: a 1/2, b 1/4, c 1/4
    assert [by_hand.sample_next_word(counts, ("<s>",), u) for u in (0.0, 0.49, 0.5, 0.74, 0.75, 0.999)] == \
        ["a", "a", "b", "b", "c", "c"]
    with pytest.raises(ValueError):
        by_hand.sample_next_word(counts, ("zzz",), 0.5)


@given(sentences_strategy, st.integers(min_value=1, max_value=3), st.integers(0, 2**32 - 1))
def test_generated_sentences_use_only_seen_ngrams(train, n, seed):
    counts = by_hand.count_ngrams(train, n)
    sentence = by_hand.generate_sentence(counts, random.Random(seed), max_words=200)
    if len(sentence) < 200:  # finished with </s>: the sentence is possible under the MLE model
        assert by_hand.sentence_logprob(counts, sentence) > -math.inf


def test_continuation_counts_san_francisco():
    train = [["san", "francisco"]] * 5 + [["the", "glasses"], ["my", "glasses"], ["new", "glasses"]]
    counts = by_hand.count_ngrams(train, 2)
    assert by_hand.continuation_count(counts, "francisco") == 1
    assert by_hand.continuation_count(counts, "glasses") == 3
    assert by_hand.continuation_count(counts, "</s>") == 2
    bigram_types = len(counts)
    assert by_hand.continuation_probability(counts, "glasses") == pytest.approx(3 / bigram_types)
    assert by_hand.continuation_probability({}, "a") == 0.0


@given(sentences_strategy, st.floats(min_value=0.0, max_value=1.0))
def test_interpolated_kn_sums_to_one(train, discount):
    counts = by_hand.count_ngrams(train, 2)
    outcomes = sorted({w for s in train for w in s} | {"</s>"})
    for context in all_contexts(train, 2):
        total = sum(by_hand.interpolated_kn_probability(counts, w, context, discount) for w in outcomes)
        assert total == pytest.approx(1.0, abs=1e-9)


@given(sentences_strategy, st.floats(min_value=0.0, max_value=1.0))
def test_kneser_ney_bigram_is_the_textbook_form_when_unigrams_are_not_discounted(train, discount):
    counts = by_hand.count_ngrams(train, 2)
    for context in all_contexts(train, 2):
        for word in WORDS + ["</s>"]:
            assert by_hand.kneser_ney_bigram_probability(counts, word, context, discount, 0.0, 99) == \
                pytest.approx(by_hand.interpolated_kn_probability(counts, word, context, discount), abs=1e-12)


@given(st.lists(st.integers(min_value=1, max_value=6), max_size=40))
def test_modified_discounts_match_the_library(count_values):
    counts = {("w", str(i)): c for i, c in enumerate(count_values)}
    n = np.array(by_hand.count_of_counts(counts, up_to=4))
    assert by_hand.modified_kn_discounts(counts) == pytest.approx(modified_discounts(n), abs=1e-12)


def test_modified_discounts_by_hand():
    # n1..n4 = 4, 2, 1, 1: Y = 4/8; D1 = 1 - 2 * 0.5 * 2/4 = 0.5; D2 = 2 - 3 * 0.5 * 1/2 = 1.25;
    # D3 = 3 - 4 * 0.5 * 1/1 = 1.0
    counts = Counter({("x", str(i)): c for i, c in enumerate([1, 1, 1, 1, 2, 2, 3, 4])})
    assert by_hand.modified_kn_discounts(counts) == pytest.approx((0.5, 1.25, 1.0))
    assert by_hand.modified_kn_discounts(Counter({("a",): 1})) == (0.5, 1.0, 1.5)


# -- agreement with the library ------------------------------------------------------------------------------
AGREE = settings(max_examples=40, deadline=None)


@AGREE
@given(sentences_strategy, st.integers(min_value=1, max_value=4))
def test_mle_matches_the_library(train, n):
    corpus = toy_corpus(train)
    model = MaximumLikelihood(order=n).fit(corpus)
    counts = by_hand.count_ngrams(train, n)
    for context in all_contexts(train, n)[:-1] if n > 1 else [()]:  # seen contexts (the MLE is defined)
        for word in WORDS + ["</s>"]:
            library_context = [w for w in context if w != "<s>"]
            if "<s>" in context:
                library_context = ["<s>"] + library_context
            assert model.score(word, library_context) == pytest.approx(
                by_hand.mle_probability(counts, word, context), abs=1e-9), (context, word)


@AGREE
@given(sentences_strategy, st.integers(min_value=1, max_value=4))
def test_sentence_logprobs_match_the_library(train, n):
    """Every training sentence: the library's per-token log-probabilities sum to by_hand's sentence_logprob."""
    corpus = toy_corpus(train)
    model = MaximumLikelihood(order=n).fit(corpus)
    counts = by_hand.count_ngrams(train, n)
    split = corpus.split("train")
    log_probs = model.log_probs(split)
    starts = split.sentence_starts
    for i, sentence in enumerate(train):
        ours = by_hand.sentence_logprob(counts, sentence)
        assert float(log_probs[starts[i]:starts[i + 1]].sum()) == pytest.approx(ours, abs=1e-9)
    assert by_hand.perplexity_from_logprobs(list(log_probs)) == pytest.approx(model.perplexity(split), rel=1e-9)


@AGREE
@given(sentences_strategy, st.integers(min_value=1, max_value=3), st.sampled_from([0.01, 0.5, 1.0, 2.0]))
def test_add_k_matches_the_library(train, n, k):
    corpus = toy_corpus(train)
    model = Additive(order=n, k=k).fit(corpus)
    counts = by_hand.count_ngrams(train, n)
    outcomes = len(corpus.vocab) - 1  # every id but <s>
    for context in all_contexts(train, n):
        library_context = list(context)
        if "<s>" in context:  # the library reads one <s> and a shorter context
            library_context = ["<s>"] + [w for w in context if w != "<s>"]
        for word in WORDS + ["</s>", "<unk>"]:
            expected = by_hand.add_k_probability(counts, word, context, k, outcomes)
            assert model.score(word, library_context) == pytest.approx(expected, abs=1e-9), (context, word)


@AGREE
@given(sentences_strategy)
def test_kneser_ney_bigram_matches_the_library(train):
    corpus = toy_corpus(train)
    model = KneserNey(order=2).fit(corpus)
    counts = by_hand.count_ngrams(train, 2)
    (unigram_discount,), (bigram_discount,) = model.discounts[1], model.discounts[2]
    for context in all_contexts(train, 2):
        for word in WORDS + ["</s>", "<unk>", "<s>"]:
            expected = by_hand.kneser_ney_bigram_probability(counts, word, context, bigram_discount,
                                                             unigram_discount, len(corpus.vocab) - 1)
            assert model.score(word, list(context)) == pytest.approx(expected, abs=1e-9), (context, word)


def test_a_discount_of_exactly_zero_is_kept():
    """n1..n4 = 48, 6, 5, 1 give Y = 0.8 and D2 = 2 - 3 * 0.8 * 5 / 6 = 0 exactly; in floating point the
    formula gives -4e-16, which must not trigger the fallback."""
    counts = Counter({("x", str(i)): 1 for i in range(48)})
    counts.update({("y", str(i)): 2 for i in range(6)})
    counts.update({("z", str(i)): 3 for i in range(5)})
    counts[("w", "0")] = 4
    expected = (0.8, 0.0, 2.36)
    assert by_hand.modified_kn_discounts(counts) == pytest.approx(expected)
    assert modified_discounts([0, 48, 6, 5, 1]) == pytest.approx(expected)


# -- the total probability of all sentences (lesson 01) ------------------------------------------------------
def test_sentence_probability_mass_by_hand():
    looping = by_hand.count_ngrams([["a", "a"]], 2)  # p(a | <s>) = 1, p(a | a) = p(</s> | a) = 1/2
    assert [by_hand.sentence_probability_mass(looping, m) for m in range(5)] == [0.0, 0.5, 0.75, 0.875, 0.9375]
    unigrams = by_hand.count_ngrams([["a", "b"]], 1)  # p(a) = p(b) = p(</s>) = 1/3
    assert by_hand.sentence_probability_mass(unigrams, 2) == pytest.approx(1 - (2 / 3) ** 3)
    # a model that cannot loop gives its training sentences everything: 1 once max_words reaches the longest
    assert by_hand.sentence_probability_mass(by_hand.count_ngrams([["a", "b"], ["c"]], 2), 2) == 1.0


@given(st.lists(st.lists(st.sampled_from(WORDS[:3]), max_size=4), min_size=1, max_size=5),
       st.integers(min_value=1, max_value=3), st.integers(min_value=0, max_value=3))
def test_sentence_probability_mass_is_the_sum_over_every_sentence(train, n, max_words):
    """The forward computation equals exp(sentence_logprob) summed over every sentence of <= max_words words;
    the total never exceeds 1 and grows with max_words (sentence_logprob agrees with the library below)."""
    import itertools

    counts = by_hand.count_ngrams(train, n)
    words = sorted({ngram[-1] for ngram in counts} - {"</s>"})
    brute_force = math.fsum(math.exp(by_hand.sentence_logprob(counts, list(sentence)))
                            for m in range(max_words + 1) for sentence in itertools.product(words, repeat=m))
    mass = by_hand.sentence_probability_mass(counts, max_words)
    assert mass == pytest.approx(brute_force, rel=1e-12, abs=1e-15)
    assert mass <= 1 + 1e-12
    assert by_hand.sentence_probability_mass(counts, max_words + 1) >= mass


@AGREE
@given(sentences_strategy, st.integers(min_value=1, max_value=3))
def test_sentence_probability_mass_tends_to_one(train, n):
    # what is missing is p(a sentence longer than 100 words): at most (7/8)^100 = 2e-6 with these sentences
    counts = by_hand.count_ngrams(train, n)
    assert by_hand.sentence_probability_mass(counts, 100) == pytest.approx(1.0, abs=1e-5)


# -- Good-Turing and Katz (lesson 02) ------------------------------------------------------------------------
def test_good_turing_count_by_hand():
    counts = Counter({("x", str(i)): c for i, c in enumerate([1, 1, 1, 1, 2, 2, 3, 4])})  # n1..n4 = 4, 2, 1, 1
    assert [by_hand.good_turing_count(counts, r) for r in (1, 2, 3, 4)] == [1.0, 1.5, 4.0, 0.0]
    with pytest.raises(ValueError):
        by_hand.good_turing_count(counts, 5)  # n_5 = 0


def test_katz_discount_by_hand():
    # tests/test_ngram_models.py's counts: n1..n6 = 10, 4, 2, 1, 1, 1, so C = 6 * 1 / 10 = 0.6
    counts = Counter({("x", str(i)): c for i, c in enumerate([1] * 10 + [2] * 4 + [3] * 2 + [4, 5, 6])})
    assert [by_hand.katz_discount(counts, r) for r in range(1, 8)] == pytest.approx(
        [0.5, 0.375, 1 / 6, 1.0, 1.0, 1.0, 1.0])
    # r*/r = 2 * 3 / 10 = C = 6 / 10: d_1 = 0 exactly, unusable, so 1
    tie = Counter({("x", str(i)): c for i, c in enumerate([1] * 10 + [2] * 3 + [3] * 2 + [4, 5, 6])})
    assert by_hand.katz_discount(tie, 1) == 1.0
    assert by_hand.katz_discount(counts, 1, k=1) == 1.0  # k = 1: d_1 = 0 always


@given(st.lists(st.integers(min_value=1, max_value=9), max_size=60), st.integers(min_value=1, max_value=6))
def test_katz_discounts_match_the_library(count_values, k):
    counts = {("w", str(i)): c for i, c in enumerate(count_values)}
    library = good_turing_discounts(np.array(count_values, dtype=np.int64), max_count=k)
    for r in range(1, k + 3):
        assert by_hand.katz_discount(counts, r, k) == library[min(r, k + 1)], (r, k)


@AGREE
@given(sentences_strategy)
def test_katz_discounts_match_the_library_model(train):
    """The discounts KatzBackoff (order 3) fits for its unigrams and bigrams are katz_discount's on count_ngrams
    (its trigram table holds one <s> per sentence, not the two of count_ngrams: its counts of counts differ)."""
    model = KatzBackoff(order=3).fit(toy_corpus(train))
    for order in (1, 2):
        counts = by_hand.count_ngrams(train, order)
        assert model.good_turing[order] == [by_hand.katz_discount(counts, r) for r in range(1, 6)], order


def test_a_katz_discount_of_exactly_zero_is_not_rounded_above_zero():
    """n1..n6 = 7, 1, 14, 9, 1, 1: for r = 3, r*/r = 4 * 9 / 14 / 3 = 6/7 = (k+1) n6 / n1 exactly, so d_3 = 0
    (unusable: 1); computed in floats, d_3 comes out as 7.8e-16, a discount that would leave the trigrams seen
    three times almost no probability."""
    values = [1] * 7 + [2] + [3] * 14 + [4] * 9 + [5, 6]
    counts = {("w", str(i)): c for i, c in enumerate(values)}
    assert by_hand.katz_discount(counts, 3) == 1.0
    assert good_turing_discounts(np.array(values))[3] == 1.0
    n1, n3, n4, n6 = 7, 14, 9, 1
    assert (4 * n4 / n3 / 3 - 6 * n6 / n1) / (1 - 6 * n6 / n1) != 0.0  # what floats alone would decide
