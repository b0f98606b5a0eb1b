"""Lesson 02, smoothing: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.ngram.by_hand`; the learner's stubs are in
``lessons/02_smoothing/exercises.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import assume
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


@st.composite
def counts_with_falling_counts_of_counts(draw, up_to: int = 8):
    """N-gram counts whose counts of counts n_1 >= n_2 >= ... >= n_up_to fall: most often by a ratio like
    real ones (n_{r+1} about 0.25 to 0.8 n_r), else at random, now and then with a gap (n_r = 0, after which
    n_{r+1} is 0 or 1); plus a few larger counts."""
    by_ratio = draw(st.integers(0, 3)) > 0
    n = [draw(st.integers(min_value=20, max_value=120) if by_ratio else st.integers(min_value=1, max_value=40))]
    for _ in range(2, up_to + 1):
        if by_ratio:
            n.append(round(n[-1] * draw(st.sampled_from([0.25, 0.35, 0.45, 0.55, 0.65, 0.8]))))
        else:
            n.append(draw(st.integers(min_value=0, max_value=max(n[-1], 1))))
    larger = draw(st.lists(st.integers(min_value=up_to + 1, max_value=30), max_size=4))
    values = [r for r, n_r in enumerate(n, start=1) for _ in range(n_r)] + larger
    return {("w", f"v{i}"): value for i, value in enumerate(values)}


@st.composite
def good_turing_cases(draw):
    counts = draw(counts_with_falling_counts_of_counts())
    return Case((counts, draw(st.sampled_from(sorted(set(counts.values()))))))  # a count r with n_r > 0


def katz_tie(counts, r: int, k: int) -> bool:
    """Whether r*/r = (k+1) n_{k+1} / n_1 exactly (d_r = 0, so 1 is used) for a usable estimate: rounding may
    then put a float computation of d_r on either side of 0. The fixed cases hold ties whose float d_r is
    exactly 0; the generated cases have none."""
    n = by_hand.count_of_counts(counts, up_to=k + 1)
    return (r <= k and n[1] > 0 and n[r] > 0 and (k + 1) * n[k + 1] < n[1]
            and (r + 1) * n[r + 1] * n[1] == r * n[r] * (k + 1) * n[k + 1])


@st.composite
def katz_cases(draw):
    counts = draw(counts_with_falling_counts_of_counts())
    k = draw(st.sampled_from([5, 5, 5, 1, 2, 3, 4, 6]))  # the library's k = 5 most often
    r = draw(st.integers(min_value=1, max_value=k + 2) if draw(st.integers(0, 4)) == 0 else st.integers(1, k))
    assume(not katz_tie(counts, r, k))
    return Case((counts, r, k))


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


def counts_of_counts(*n: int) -> Counter:
    """Bigram counts with n[0] bigrams seen once, n[1] seen twice, ... (the counts of counts n_1, n_2, ...)."""
    values = [r for r, n_r in enumerate(n, start=1) for _ in range(n_r)]
    return Counter({("x", f"v{i}"): value for i, value in enumerate(values)})


KATZ_COUNTS = counts_of_counts(10, 4, 2, 1, 1, 1)  # tests/test_ngram_models.py: d_1..d_3 = 0.5, 0.375, 1/6
BROWN_LIKE = counts_of_counts(100, 40, 20, 12, 8, 6, 5)  # falling like Brown's: every d_r in (0, 1)

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
        name="good_turing_count",
        points=1,
        reference=by_hand.good_turing_count,
        summary="r* = (r + 1) n_{r+1} / n_r, n_r = the number of n-grams seen exactly r times",
        fixed_cases=[
            Case((HAND_COUNTS, 1)),
            Case((HAND_COUNTS, 2)),
            Case((HAND_COUNTS, 4)),  # n_5 = 0: r* = 0
            Case((KATZ_COUNTS, 1)),
            Case((KATZ_COUNTS, 3)),
            Case((TOY_BIGRAMS, 1)),
            Case((TOY_UNIGRAMS, 1)),  # no word seen twice: r* = 0
            Case((Counter({("a",): 3, ("b",): 3, ("c",): 4}), 3)),
        ],
        generated_cases=good_turing_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
    Exercise(
        name="katz_discount",
        points=2,
        reference=by_hand.katz_discount,
        summary="d_r = (r*/r - (k+1) n_{k+1}/n_1) / (1 - (k+1) n_{k+1}/n_1) for r <= k, else 1; 1 if unusable",
        fixed_cases=[
            Case((KATZ_COUNTS, 1, 5)),  # 0.5
            Case((KATZ_COUNTS, 2, 5)),  # 0.375
            Case((KATZ_COUNTS, 3, 5)),  # 1/6
            Case((KATZ_COUNTS, 4, 5)),  # 1.625 > 1: 1
            Case((KATZ_COUNTS, 6, 5)),  # above k: 1
            Case((BROWN_LIKE, 1, 5)),
            Case((BROWN_LIKE, 4, 5)),
            Case((BROWN_LIKE, 6, 5)),  # above k: 1, though the formula would give 0.957
            Case((counts_of_counts(100, 20, 10), 2, 1)),  # above k = 1: 1, though the formula would give 0.583
            Case((BROWN_LIKE, 3, 4)),
            Case((counts_of_counts(10, 4, 0, 1, 1, 1), 3, 5)),  # n_3 = 0: 1
            Case((counts_of_counts(10, 4, 0, 1, 1, 1), 2, 5)),  # n_3 = 0, so r* = 0 and d_2 < 0: 1
            Case((counts_of_counts(10, 6, 5), 1, 2)),  # (k+1) n_{k+1} / n_1 = 1.5 >= 1: 1 (not 0.6)
            Case((counts_of_counts(9, 4, 3), 1, 2)),  # (k+1) n_{k+1} / n_1 = 1 exactly: 1
            Case((counts_of_counts(0, 3, 2, 1), 2, 2)),  # n_1 = 0: 1
            Case((KATZ_COUNTS, 1, 1)),  # k = 1: d_1 = 0 always, so 1
            Case((counts_of_counts(10, 3, 2, 1, 1, 1), 1, 5)),  # r*/r = 6/10 = (k+1) n_6 / n_1: d_1 = 0, so 1
        ],
        generated_cases=katz_cases(),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
        helpers={"good_turing_count": by_hand.good_turing_count},
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
        helpers={"continuation_count": by_hand.continuation_count},
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
        helpers={"continuation_count": by_hand.continuation_count,
                 "continuation_probability": by_hand.continuation_probability},
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
