"""Lesson 01, N-gram counting: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.ngram.by_hand`; the learner's stubs are in
``lessons/01_ngram_counting/exercises.py``.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from lmcourse.grading.exercise import Case, Exercise, arguments, close
from lmcourse.ngram import by_hand

# -- inputs ------------------------------------------------------------------------------------------------
WORDS = ["the", "cat", "dog", "saw", "a", "b", "."]
sentences = st.lists(st.lists(st.sampled_from(WORDS), max_size=7), max_size=6)
nonempty_sentences = st.lists(st.lists(st.sampled_from(WORDS), max_size=7), min_size=1, max_size=6)
orders = st.integers(min_value=1, max_value=4)

# Uniform numbers u = (i + 1/2) / 997 (i != 498): never exactly on a cumulative probability c / total of a
# corpus with fewer than 997 tokens, so rounding cannot decide which word is drawn.
uniform_numbers = st.integers(min_value=0, max_value=996).filter(lambda i: i != 498).map(lambda i: (i + 0.5) / 997)

# A small training text with its counts, shared by every case below.
TOY = [["the", "cat", "saw", "the", "dog"], ["the", "dog", "saw", "a", "cat"], ["a", "cat", "."]]
TOY_BIGRAMS = by_hand.count_ngrams(TOY, 2)
TOY_TRIGRAMS = by_hand.count_ngrams(TOY, 3)
TOY_UNIGRAMS = by_hand.count_ngrams(TOY, 1)


@st.composite
def counts_with_contexts(draw, min_order: int = 1, seen_only: bool = False):
    """(counts of order n of random sentences, a context of n-1 words: usually seen, sometimes not)."""
    train = draw(nonempty_sentences)
    n = draw(st.integers(min_value=min_order, max_value=3))
    counts = by_hand.count_ngrams(train, n)
    seen_contexts = sorted({ngram[:-1] for ngram in counts})
    if seen_only or draw(st.integers(0, 4)) > 0:
        context = draw(st.sampled_from(seen_contexts))
    else:
        context = tuple(draw(st.lists(st.sampled_from(WORDS + ["<s>"]), min_size=n - 1, max_size=n - 1)))
    return counts, context


@st.composite
def mle_cases(draw):
    counts, context = draw(counts_with_contexts())
    word = draw(st.sampled_from(WORDS + ["</s>"]))
    return Case((counts, word, context))


@st.composite
def sentence_logprob_cases(draw):
    train = draw(nonempty_sentences)
    n = draw(st.integers(min_value=1, max_value=4))
    # Half of the time a training sentence (a finite log-probability), else any sentence (often -inf).
    sentence = draw(st.one_of(st.sampled_from(train), st.lists(st.sampled_from(WORDS), max_size=5)))
    return Case((by_hand.count_ngrams(train, n), list(sentence)))


@st.composite
def mass_cases(draw):
    """Counts of order 1 to 3 of a few short sentences of at most 4 different words, and max_words 0 to 3:
    at most 4^0 + ... + 4^3 = 85 sentences to add up, so that summing over every sentence is fast enough."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True))
    train = draw(st.lists(st.lists(st.sampled_from(words), max_size=5), min_size=1, max_size=5))
    n = draw(st.integers(min_value=1, max_value=3))
    return Case((by_hand.count_ngrams(train, n), draw(st.integers(min_value=0, max_value=3))))


@st.composite
def sample_cases(draw):
    counts, context = draw(counts_with_contexts(seen_only=True))
    return Case((counts, context, draw(uniform_numbers)))


@st.composite
def log_probabilities(draw):
    """Natural-log probabilities, one per token; now and then one token of probability 0 (-inf)."""
    values = draw(st.lists(st.floats(min_value=-30.0, max_value=0.0), min_size=1, max_size=30))
    if draw(st.integers(0, 5)) == 0:
        values.insert(draw(st.integers(0, len(values))), -math.inf)
    return Case((values,))


EXERCISES = [
    Exercise(
        name="count_ngrams",
        points=2,
        reference=by_hand.count_ngrams,
        summary="a Counter of n-gram tuples, each sentence padded with n-1 <s> and one </s>",
        fixed_cases=[
            Case(([["the", "cat"]], 2)),
            Case(([["the", "cat", "saw", "the", "cat"]], 2)),
            Case(([["a"], []], 3)),
            Case(([["a", "a"]], 1)),
            Case(([["a", "b", "c", "d"]], 4)),
            Case(([], 2)),
            Case((TOY, 3)),
        ],
        generated_cases=arguments(sentences, orders),
        returns=dict,
    ),
    Exercise(
        name="mle_probability",
        points=2,
        reference=by_hand.mle_probability,
        summary="c(h, w) / c(h) with c(h) = sum of c(h, v); 0.0 for an unseen context",
        fixed_cases=[
            Case((TOY_BIGRAMS, "cat", ("the",))),
            Case((TOY_BIGRAMS, "the", ("<s>",))),
            Case((TOY_BIGRAMS, "</s>", ("dog",))),
            Case((TOY_BIGRAMS, "saw", ("cat",))),
            Case((TOY_BIGRAMS, "cat", ("zebra",))),
            Case((TOY_TRIGRAMS, "cat", ("<s>", "a"))),
            Case((TOY_TRIGRAMS, "the", ("<s>", "<s>"))),
            Case((TOY_UNIGRAMS, "cat", ())),
            Case((TOY_UNIGRAMS, "</s>", ())),
        ],
        generated_cases=mle_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="sentence_logprob",
        points=3,
        reference=by_hand.sentence_logprob,
        summary="sum of log p_MLE over the words and </s> of the padded sentence; -inf if one is 0",
        fixed_cases=[
            Case((TOY_BIGRAMS, ["the", "cat", "saw", "the", "dog"])),
            Case((TOY_BIGRAMS, ["a", "cat"])),
            Case((TOY_BIGRAMS, ["the", "cat", "."])),
            Case((TOY_BIGRAMS, ["zebra"])),
            Case((TOY_BIGRAMS, [])),
            Case((TOY_TRIGRAMS, ["a", "cat", "."])),
            Case((TOY_TRIGRAMS, ["the", "dog", "saw", "the", "dog"])),
            Case((TOY_UNIGRAMS, ["cat", "cat"])),
        ],
        generated_cases=sentence_logprob_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-9),
        helpers={"mle_probability": by_hand.mle_probability},
    ),
    Exercise(
        name="sentence_probability_mass",
        points=2,
        reference=by_hand.sentence_probability_mass,
        summary="sum of p(w1 .. wm </s>) over every sentence of at most max_words words: at most 1",
        fixed_cases=[
            Case((TOY_BIGRAMS, 0)),  # no empty sentence in TOY: 0.0
            Case((TOY_BIGRAMS, 3)),
            Case((by_hand.count_ngrams([["a"], []], 2), 0)),  # the empty sentence: p(</s> | <s>) = 1/2
            Case((by_hand.count_ngrams([["a", "a"]], 2), 4)),  # 1 - (1/2)^4: the model loops on "a"
            Case((by_hand.count_ngrams([["a", "b"]], 1), 2)),  # unigrams: 1 - (2/3)^3
            Case((by_hand.count_ngrams([["a", "b"], ["b"]], 1), 3)),
            Case((TOY_TRIGRAMS, 3)),
            Case((by_hand.count_ngrams([["a", "b", "a"], ["b", "b"]], 3), 3)),
        ],
        generated_cases=mass_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
        helpers={"mle_probability": by_hand.mle_probability, "sentence_logprob": by_hand.sentence_logprob},
    ),
    Exercise(
        name="perplexity_from_logprobs",
        points=1,
        reference=by_hand.perplexity_from_logprobs,
        summary="exp(-mean of the natural-log probabilities); inf if one is -inf",
        fixed_cases=[
            Case(([math.log(0.25)] * 4,)),
            Case(([math.log(0.5), math.log(0.125)],)),
            Case(([0.0],)),
            Case(([-1.0, -2.0, -3.0],)),
            Case(([-0.5, -math.inf, -1.0],)),
        ],
        generated_cases=log_probabilities(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="sample_next_word",
        points=2,
        reference=by_hand.sample_next_word,
        summary="the first word, alphabetically, whose cumulative probability after the context exceeds u",
        fixed_cases=[
            Case((TOY_BIGRAMS, ("<s>",), 0.1)),
            Case((TOY_BIGRAMS, ("<s>",), 0.9)),
            Case((by_hand.count_ngrams([["b"], ["a"], ["a"], ["c"]], 2), ("<s>",), 0.5)),
            Case((by_hand.count_ngrams([["b"], ["a"], ["a"], ["c"]], 2), ("<s>",), 0.25)),
            Case((by_hand.count_ngrams([["b"], ["a"], ["a"], ["c"]], 2), ("<s>",), 0.0)),
            Case((TOY_BIGRAMS, ("cat",), 0.6)),
            Case((TOY_TRIGRAMS, ("the", "dog"), 0.3)),
            Case((TOY_UNIGRAMS, (), 0.55)),
            # u just below 1: ten words of p = 0.1, whose float sum is 0.9999999999999999, not above u
            Case((by_hand.count_ngrams([[w] for w in "abcdefghij"], 2), ("<s>",), 1 - 2**-53)),
        ],
        generated_cases=sample_cases(),
        returns=str,
    ),
]
