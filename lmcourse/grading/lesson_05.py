"""Lesson 05, reading a comparison: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.compare.stats`; the learner's stubs are in
``lessons/05_comparison/exercises.py``. Numbers are compared as in lesson 03 (1e-9 relative, 1e-12 absolute:
float64 sums taken in another order agree far better, a wrong log base or a missing character does not);
arrays with :func:`lmcourse.grading.lesson_03.close_array`; character counts exactly.

The bootstrap is graded by what is deterministic: the learner gets the resampled test sets as an index
matrix (row r names the sentences of resampled set r) and computes each set's difference of perplexities
(``bootstrap_differences``), then the percentile interval of given values (``percentile_interval``). The
random draw itself is the library's :func:`~lmcourse.compare.stats.paired_bootstrap`. The refusals the
library makes (different lengths, NaN) are not graded: a grader case is a call that returns.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lmcourse.compare import stats
from lmcourse.grading.case import Case, short_repr
from lmcourse.grading.exercise import Comparison, Exercise, close, equal
from lmcourse.grading.lesson_03 import ABS_TOL, REL_TOL, close_array

close_number = close(rel_tol=REL_TOL, abs_tol=ABS_TOL)


def close_numbers(names: tuple[str, ...]) -> Comparison:
    """A tuple of ``len(names)`` numbers, each close to the expected one (inf equals inf)."""

    def compare(expected: tuple, actual: Any) -> str | None:
        if not isinstance(actual, tuple) or len(actual) != len(names):
            return f"returned {short_repr(actual)}, expected a tuple ({', '.join(names)}) of numbers"
        for name, want, got in zip(names, expected, actual):
            mismatch = close_number(want, got)
            if mismatch is not None:
                return f"{name} is wrong: {mismatch}"
        return None

    return compare


# -- inputs ------------------------------------------------------------------------------------------------
def log_probs(seed: int, tokens: int, scale: float = 1.0) -> np.ndarray:
    """``tokens`` natural-log probabilities, -Exponential(scale): a perplexity near exp(scale)."""
    return -np.random.default_rng(seed).exponential(scale, size=tokens)


def two_models(seed: int, tokens: int, scale: float = 1.0, paired: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two models' log-probabilities of the same tokens: b close to a (``paired``: as two real models, hard
    tokens hard for both) or independent of it."""
    rng = np.random.default_rng(seed)
    a = -rng.exponential(scale, size=tokens)
    b = a * rng.uniform(0.8, 1.2) - rng.exponential(0.2 * scale, size=tokens) if paired else \
        -rng.exponential(scale, size=tokens)
    return a, np.minimum(b, 0.0)


@st.composite
def perplexity_cases(draw):
    """(log_p_a, log_p_b): 1-30 tokens, perplexities from about 1.5 to 150."""
    return Case(two_models(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 30)),
                           scale=draw(st.sampled_from([0.5, 1.0, 2.0, 5.0])), paired=draw(st.booleans())))


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé'’,.-", min_size=1, max_size=8)
sentences = st.lists(st.lists(words, min_size=1, max_size=6), min_size=1, max_size=6)


@st.composite
def characters_cases(draw):
    """(sentences,): 1-6 sentences of 1-6 words of 1-8 characters (a few not ASCII)."""
    return Case((draw(sentences),))


@st.composite
def bits_cases(draw):
    """(total_nll_nats, characters): a loss of 0-100,000 nats over 1-1,000,000 characters."""
    return Case((draw(st.floats(0.0, 1e5, allow_nan=False)), draw(st.integers(1, 10**6))))


def pairs(seed: int, count: int, step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(good_log_p, bad_log_p) of ``count`` minimal pairs; rounded to multiples of ``step`` (ties) if given."""
    rng = np.random.default_rng(seed)
    good = -rng.uniform(5.0, 30.0, size=count)
    bad = good - rng.normal(0.5, 2.0, size=count)
    if step is not None:
        good, bad = np.round(good / step) * step, np.round(bad / step) * step
    return good, np.minimum(bad, 0.0)


@st.composite
def pair_cases(draw):
    """1-20 pairs, often with ties (rounded log-probabilities)."""
    return Case(pairs(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 20)),
                      step=draw(st.sampled_from([None, 0.5, 1.0, 2.0]))))


@st.composite
def floor_cases(draw):
    """(perplexity, floor_perplexity): a floor of 1.5-300, a perplexity 0.8-20 times it."""
    floor = draw(st.floats(1.5, 300.0))
    return Case((floor * draw(st.floats(0.8, 20.0)), floor))


def bootstrap_arguments(seed: int, sentences: int, resamples: int, longest: int = 6, scale: float = 1.0,
                        paired: bool = True) -> tuple:
    """(log_p_a, log_p_b, sentence_starts, resampled): ``sentences`` sentences of 1 .. ``longest`` tokens,
    ``resamples`` rows of as many sentence ids drawn with replacement."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, longest + 1, size=sentences)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    a, b = two_models(int(rng.integers(2**32)), int(starts[-1]), scale=scale, paired=paired)
    resampled = rng.integers(0, sentences, size=(resamples, sentences))
    return (a, b, starts, resampled)


@st.composite
def bootstrap_cases(draw):
    """1-8 sentences of 1-6 tokens, 1-10 resampled test sets."""
    return Case(bootstrap_arguments(
        seed=draw(st.integers(0, 2**32 - 1)), sentences=draw(st.integers(1, 8)), resamples=draw(st.integers(1, 10)),
        scale=draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])), paired=draw(st.booleans()),
    ))


CONFIDENCES = [0.5, 0.68, 0.8, 0.9, 0.95, 0.99]


@st.composite
def interval_cases(draw):
    """(values, confidence): 1-60 numbers (normal, scaled and shifted; sometimes rounded: ties)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = draw(st.sampled_from([-3.0, 0.0, 10.0])) + draw(st.sampled_from([0.1, 1.0, 5.0])) * rng.normal(
        size=draw(st.integers(1, 60)))
    if draw(st.booleans()):
        values = np.round(values, 1)
    return Case((values, draw(st.sampled_from(CONFIDENCES))))


# The docstrings' examples.
HALF_QUARTER = np.log([0.5, 0.25])
HAND_A = np.log([0.5, 0.5, 0.25])  # two sentences: tokens 0-1 and token 2
HAND_B = np.log([0.25, 0.5, 0.5])
HAND_STARTS = np.array([0, 2, 3])
HAND_RESAMPLED = np.array([[0, 1], [0, 0], [1, 1]])


EXERCISES = [
    Exercise(
        name="perplexity_on_same_tokens",
        points=2,
        reference=stats.perplexity_on_same_tokens,
        summary="(ppl_a, ppl_b), ppl = exp(-mean of the natural-log probabilities of the same tokens)",
        fixed_cases=[
            Case((HALF_QUARTER, np.log([0.25, 0.25]))),  # 2 ** 1.5 and 4
            Case((np.log([0.5]), np.log([0.1]))),  # one token: 1 / p
            Case((np.full(7, math.log(0.1)), np.full(7, math.log(0.2)))),  # uniform over 10 and over 5 words
            Case((np.log([0.5, 0.5, 0.5]), np.array([math.log(0.5), -np.inf, math.log(0.5)]))),  # p = 0: inf
            Case((HAND_A, HAND_A)),  # the same model twice
            Case((np.zeros(3), np.log([0.9, 0.99, 0.999]))),  # certain: 1
            Case(two_models(1, 1000, scale=5.0)),  # about exp(5)
            Case(two_models(2, 50, scale=0.3, paired=False)),
            Case(two_models(3, 12, scale=2.0)),
        ],
        generated_cases=perplexity_cases(),
        returns=tuple,
        compare=close_numbers(("ppl_a", "ppl_b")),
    ),
    Exercise(
        name="characters_of",
        points=1,
        reference=stats.characters_of,
        summary='sum over sentences of len(" ".join(words)) + 1 (the newline of </s>)',
        fixed_cases=[
            Case(([["the", "cat"], ["a", "dog", "ran"]],)),  # 8 + 10
            Case(([["word"]],)),
            Case(([["to", "be", ",", "or", "not", "to", "be"]],)),
            Case(([["a"], ["b"], ["c"], ["d"]],)),  # one-letter sentences: 2 characters each
            Case(([["café", "naïve"], ["’tis"]],)),  # characters, not bytes
            Case(([["first", "citizen", ":"], ["before", "we", "proceed", "any", "further", ",", "hear", "me",
                                                "speak", "."]],)),
            Case(([["<unk>", "is", "five", "characters"]],)),
            Case(([list("abcdefghij")] * 20,)),
        ],
        generated_cases=characters_cases(),
        returns=(int, np.integer),
        compare=equal,
    ),
    Exercise(
        name="bits_per_character",
        points=1,
        reference=stats.bits_per_character,
        summary="total NLL in nats / ln 2 / characters",
        fixed_cases=[
            Case((10 * math.log(2), 10)),  # 1 bit per character
            Case((0.0, 5)),
            Case((1234.5, 678)),
            Case((math.log(2), 1)),
            Case((2.5e5, 300_000)),
            Case((17.25, 3)),
        ],
        generated_cases=bits_cases(),
        returns=float,
        compare=close_number,
    ),
    Exercise(
        name="pair_accuracy",
        points=1,
        reference=stats.pair_accuracy,
        summary="the share of pairs with log p(good) > log p(bad), strictly (a tie is wrong)",
        fixed_cases=[
            Case((np.array([-1.0, -2.0, -3.0]), np.array([-2.0, -1.0, -3.0]))),  # right, wrong, tie: 1/3
            Case((np.array([-5.0, -6.0]), np.array([-7.0, -8.0]))),  # all right
            Case((np.array([-9.0, -9.0]), np.array([-3.0, -4.0]))),  # all wrong
            Case((np.full(4, -10.0), np.full(4, -10.0))),  # all ties: 0
            Case((np.array([-np.inf, -2.0, -1.0]), np.array([-np.inf, -np.inf, -1.0]))),  # -inf tie, right, tie
            Case((np.array([-12.5]), np.array([-12.75]))),
            Case(pairs(4, 200)),
            Case(pairs(5, 200, step=1.0)),  # many ties
            Case(pairs(6, 7, step=0.5)),
        ],
        generated_cases=pair_cases(),
        returns=float,
        compare=close_number,
    ),
    Exercise(
        name="floor_ratio",
        points=1,
        reference=stats.floor_ratio,
        summary="perplexity / floor perplexity = exp(cross-entropy - entropy)",
        fixed_cases=[
            Case((20.0, 10.0)),
            Case((10.0, 10.0)),  # the true model: 1
            Case((9.5, 10.0)),  # below the floor on one test set: noise (or a bug)
            Case((math.exp(3.2), math.exp(2.9))),  # exp(0.3)
            Case((150.0, 35.0)),
            Case((math.inf, 12.0)),
            Case((1.25, 1.2)),
        ],
        generated_cases=floor_cases(),
        returns=float,
        compare=close_number,
    ),
    Exercise(
        name="bootstrap_differences",
        points=3,
        reference=stats.bootstrap_differences,
        summary="ppl_a - ppl_b on each resampled test set (row of sentence ids), both models on the same rows, "
                "each a mean over the resampled tokens",
        fixed_cases=[
            Case((HAND_A, HAND_B, HAND_STARTS, HAND_RESAMPLED)),  # the docstring's: 0, 2 - 2 ** 1.5, 2
            Case((HAND_A, HAND_A, HAND_STARTS, HAND_RESAMPLED)),  # the same model: all 0
            Case((HAND_B, HAND_A, HAND_STARTS, HAND_RESAMPLED[::-1])),
            Case((np.log([0.5, 0.2, 0.1]), np.log([0.4, 0.4, 0.2]), np.array([0, 3]),
                  np.zeros((4, 1), dtype=np.int64))),  # one sentence: every set is the test set
            Case(bootstrap_arguments(7, sentences=5, resamples=1)),
            Case(bootstrap_arguments(8, sentences=30, resamples=50, longest=20, scale=2.0)),
            Case(bootstrap_arguments(9, sentences=12, resamples=25, longest=3, paired=False)),
            Case(bootstrap_arguments(10, sentences=4, resamples=8, longest=40, scale=0.5)),
            Case(bootstrap_arguments(11, sentences=200, resamples=100, longest=25, scale=3.0)),
        ],
        generated_cases=bootstrap_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="percentile_interval",
        points=1,
        reference=stats.percentile_interval,
        summary="(low, high) = the (1 - c)/2 and (1 + c)/2 quantiles, at position q (R - 1), interpolated",
        fixed_cases=[
            Case((np.arange(11.0), 0.8)),  # positions 1 and 9 (up to the rounding of (1 - 0.8) / 2)
            Case((np.array([5.0, 1.0, 3.0, 2.0, 4.0]), 0.5)),  # not sorted: (2, 4)
            Case((np.array([4.0, 0.0, 2.0]), 0.5)),  # the docstring's: positions 0.5 and 1.5, (1, 3)
            Case((np.array([0.25]), 0.95)),  # one value
            Case((np.array([0.0, 1.0]), 0.9)),  # (0.05, 0.95)
            Case((np.arange(20.0) ** 2, 0.99)),
            Case((np.array([3.0, 3.0, 1.0, 1.0, 2.0, 2.0, 2.0]), 0.68)),  # ties
            Case((np.random.default_rng(12).normal(size=1000), 0.95)),
            Case((np.random.default_rng(13).normal(-2.0, 0.5, size=37), 0.9)),
        ],
        generated_cases=interval_cases(),
        returns=tuple,
        compare=close_numbers(("low", "high")),
    ),
]
