"""Lesson 02, smoothing: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.ngram.by_hand`; the learner's stubs are in
``lessons/02_smoothing/exercises.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st

from lmcourse.grading.case import short_repr
from lmcourse.grading.exercise import Case, Exercise, close
from lmcourse.ngram import by_hand

# -- inputs ------------------------------------------------------------------------------------------------
WORDS = ["san", "francisco", "the", "glasses", "my", "new", "a", "b"]
nonempty_sentences = st.lists(st.lists(st.sampled_from(WORDS), max_size=7), min_size=1, max_size=7)
discounts = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])

# "san francisco" is frequent, but "francisco" follows nothing else; "glasses" follows many words.
TOY = ([["san", "francisco"]] * 4 + [["i", "like", "san", "francisco"]]
       + [["the", "glasses"], ["my", "glasses"], ["new", "glasses"], ["reading", "glasses", "broke"]])
TOY_BIGRAMS = by_hand.count_ngrams(TOY, 2)
TOY_TRIGRAMS = by_hand.count_ngrams(TOY, 3)
TOY_UNIGRAMS = by_hand.count_ngrams(TOY, 1)
TOY_V = len({w for s in TOY for w in s}) + 2  # every word, </s> and <unk>


def vocabulary_size_of(train) -> int:
    return len({w for s in train for w in s}) + 2


@st.composite
def add_k_cases(draw):
    train = draw(nonempty_sentences)
    n = draw(st.integers(min_value=1, max_value=3))
    counts = by_hand.count_ngrams(train, n)
    seen_contexts = sorted({ngram[:-1] for ngram in counts})
    if n == 1 or draw(st.integers(0, 4)) > 0:
        context = draw(st.sampled_from(seen_contexts))
    else:
        context = tuple(draw(st.lists(st.sampled_from(WORDS + ["<s>"]), min_size=n - 1, max_size=n - 1)))
    word = draw(st.sampled_from(WORDS + ["</s>", "<unk>"]))
    k = draw(st.sampled_from([0.01, 0.1, 0.5, 1.0, 2.0]))
    return Case((counts, word, context, k, vocabulary_size_of(train) + draw(st.integers(0, 3))))


@st.composite
def bigram_word_cases(draw):
    train = draw(nonempty_sentences)
    return Case((by_hand.count_ngrams(train, 2), draw(st.sampled_from(WORDS + ["</s>"]))))


@st.composite
def kn_cases(draw):
    train = draw(nonempty_sentences)
    counts = by_hand.count_ngrams(train, 2)
    seen_contexts = sorted({ngram[:-1] for ngram in counts})
    context = draw(st.one_of(st.sampled_from(seen_contexts), st.sampled_from([("<s>",), ("zebra",), ("a",)])))
    return Case((counts, draw(st.sampled_from(WORDS + ["</s>"])), context, draw(discounts)))


@st.composite
def discount_cases(draw):
    """Counts whose counts of counts fall like real ones (n1 > n2 > n3 > n4), plus some larger counts;
    now and then a sparse or odd one (the fallback)."""
    n1 = draw(st.integers(min_value=1, max_value=60))
    n2 = draw(st.integers(min_value=0, max_value=n1))
    n3 = draw(st.integers(min_value=0, max_value=max(n2, 1)))
    n4 = draw(st.integers(min_value=0, max_value=max(n3, 1)))
    larger = draw(st.lists(st.integers(min_value=5, max_value=40), max_size=8))
    values = [1] * n1 + [2] * n2 + [3] * n3 + [4] * n4 + larger
    return Case(({("w", f"v{i}"): value for i, value in enumerate(values)},))


def close_triple(expected: Any, actual: Any) -> str | None:
    """A tuple of three numbers, each equal up to rounding."""
    if not isinstance(actual, tuple) or len(actual) != 3:
        return f"returned {short_repr(actual)}, expected a tuple of 3 numbers close to {expected!r}"
    compare = close(rel_tol=1e-9, abs_tol=1e-12)
    for name, want, got in zip(("D1", "D2", "D3+"), expected, actual):
        mismatch = compare(want, got)
        if mismatch is not None:
            return f"returned {short_repr(actual)}, expected {expected!r} ({name} differs)"
    return None


HAND_COUNTS = Counter({("x", str(i)): c for i, c in enumerate([1, 1, 1, 1, 2, 2, 3, 4])})  # n1..n4 = 4, 2, 1, 1

EXERCISES = [
    Exercise(
        name="add_k_probability",
        points=2,
        reference=by_hand.add_k_probability,
        summary="(c(h, w) + k) / (c(h) + k V)",
        fixed_cases=[
            Case((TOY_BIGRAMS, "francisco", ("san",), 1.0, TOY_V)),
            Case((TOY_BIGRAMS, "glasses", ("san",), 1.0, TOY_V)),
            Case((TOY_BIGRAMS, "glasses", ("my",), 0.1, TOY_V)),
            Case((TOY_BIGRAMS, "the", ("zebra",), 0.5, TOY_V)),
            Case((TOY_BIGRAMS, "</s>", ("glasses",), 0.01, TOY_V)),
            Case((TOY_TRIGRAMS, "glasses", ("<s>", "my"), 1.0, TOY_V)),
            Case((TOY_UNIGRAMS, "san", (), 1.0, TOY_V)),
            Case((TOY_UNIGRAMS, "<unk>", (), 2.0, TOY_V)),
        ],
        generated_cases=add_k_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="continuation_count",
        points=1,
        reference=by_hand.continuation_count,
        summary="N1+(. w): the number of distinct words seen before w",
        fixed_cases=[
            Case((TOY_BIGRAMS, "francisco")),
            Case((TOY_BIGRAMS, "glasses")),
            Case((TOY_BIGRAMS, "san")),
            Case((TOY_BIGRAMS, "</s>")),
            Case((TOY_BIGRAMS, "zebra")),
            Case(({}, "a")),
        ],
        generated_cases=bigram_word_cases(),
        returns=int,
    ),
    Exercise(
        name="continuation_probability",
        points=2,
        reference=by_hand.continuation_probability,
        summary="N1+(. w) / N1+(. .), the Kneser-Ney unigram",
        fixed_cases=[
            Case((TOY_BIGRAMS, "francisco")),
            Case((TOY_BIGRAMS, "glasses")),
            Case((TOY_BIGRAMS, "</s>")),
            Case((TOY_BIGRAMS, "zebra")),
            Case((by_hand.count_ngrams([["a", "a", "a"]], 2), "a")),
            Case(({}, "a")),
        ],
        generated_cases=bigram_word_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="interpolated_kn_probability",
        points=3,
        reference=by_hand.interpolated_kn_probability,
        summary="max(c(v, w) - D, 0) / c(v) + D N1+(v .) / c(v) * p_cont(w)",
        fixed_cases=[
            Case((TOY_BIGRAMS, "francisco", ("san",), 0.75)),
            Case((TOY_BIGRAMS, "glasses", ("san",), 0.75)),
            Case((TOY_BIGRAMS, "glasses", ("like",), 0.75)),
            Case((TOY_BIGRAMS, "francisco", ("like",), 0.75)),
            Case((TOY_BIGRAMS, "san", ("<s>",), 0.5)),
            Case((TOY_BIGRAMS, "glasses", ("zebra",), 0.75)),
            Case((TOY_BIGRAMS, "</s>", ("glasses",), 0.0)),
            Case((TOY_BIGRAMS, "broke", ("glasses",), 1.0)),
        ],
        generated_cases=kn_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="modified_kn_discounts",
        points=2,
        reference=by_hand.modified_kn_discounts,
        summary="(D1, D2, D3+) from the counts of counts n1..n4 (Chen & Goodman); fallback (0.5, 1, 1.5)",
        fixed_cases=[
            Case((HAND_COUNTS,)),
            Case((Counter({("a", str(i)): c for i, c in enumerate([1] * 9 + [2] * 4 + [3] * 2 + [4, 4, 9])}),)),
            Case((TOY_BIGRAMS,)),
            Case((Counter({("a",): 1, ("b",): 2, ("c",): 3}),)),
            Case((Counter({("a", str(i)): c for i, c in enumerate([1, 2, 2, 2, 2, 3, 4])}),)),
            Case((Counter({("a", str(i)): c for i, c in enumerate([1, 2, 3, 3, 3, 3, 3, 4])}),)),  # D2 < 0
            # D2 = 0 exactly, a usable estimate (0 <= D_r <= r): (1/3, 0, 7/3), not the fallback
            Case((Counter({("a", str(i)): c for i, c in enumerate([1, 2, 3, 3, 4])}),)),
            Case(({},)),
        ],
        generated_cases=discount_cases(),
        returns=tuple,
        compare=close_triple,
    ),
]
