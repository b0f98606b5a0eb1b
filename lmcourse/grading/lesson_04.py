"""Lesson 04, the Transformer: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.neural.by_hand_attention` (plain numpy); the
learner's stubs are in ``lessons/04_transformer/exercises.py``. The answers are numpy arrays and floats,
compared as in lesson 03 (:func:`lmcourse.grading.lesson_03.close_array`: the expected shape, every entry
within 1e-9 relative; -inf must be -inf).

One rule of the cases of ``top_k_top_p_filter``: whether an id is in the nucleus is decided by a comparison,
"the mass before it < p". Where that mass is within rounding of p, two correct ways of summing disagree, so no
case (fixed or generated) comes closer than :data:`NUCLEUS_MARGIN` to that boundary (:func:`nucleus_margin`).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from lmcourse.grading.case import Case
from lmcourse.grading.exercise import Exercise, close
from lmcourse.grading.lesson_03 import ABS_TOL, REL_TOL, close_array, random_arrays
from lmcourse.neural import by_hand_attention as by_hand

# A nucleus case is fair when p is at least this far from the mass before every candidate id.
NUCLEUS_MARGIN = 1e-6


# -- inputs ------------------------------------------------------------------------------------------------
def attention_arguments(seed: int, batch: int, heads: int, queries: int, keys: int, size: int,
                        value_size: int | None = None, causal: bool = False, scale: float = 1.0) -> tuple:
    """(q, k, v, causal): q (B, H, T, d), k (B, H, S, d), v (B, H, S, d_v) of normal numbers times ``scale``."""
    value_size = size if value_size is None else value_size
    q, k, v = random_arrays(seed, scale, (batch, heads, queries, size), (batch, heads, keys, size),
                            (batch, heads, keys, value_size))
    return (q, k, v, causal)


@st.composite
def attention_cases(draw):
    """Attention on small shapes: batch 1-2, 1-3 heads, 1-5 queries (as many keys when causal, else 1-5),
    queries of 1-4 features, values of the same size or of 1-4."""
    causal = draw(st.booleans())
    queries, size = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    return Case(attention_arguments(
        seed=draw(st.integers(0, 2**32 - 1)), batch=draw(st.integers(1, 2)), heads=draw(st.integers(1, 3)),
        queries=queries, keys=queries if causal else draw(st.integers(1, 5)), size=size,
        value_size=size if draw(st.booleans()) else draw(st.integers(1, 4)), causal=causal,
        scale=draw(st.sampled_from([1.0, 0.5, 2.0, 0.1, 4.0])),
    ))


@st.composite
def split_cases(draw):
    """(x, heads): x (B, T, heads * d) of normal numbers, batch 1-3, 1-4 positions, 1-4 heads of 1-4 features."""
    batch, length = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    heads, size = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    [x] = random_arrays(draw(st.integers(0, 2**32 - 1)), 1.0, (batch, length, heads * size))
    return Case((x, heads))


@st.composite
def merge_cases(draw):
    """(x,): x (B, H, T, d) of normal numbers, batch 1-3, 1-4 heads, 1-4 positions, 1-4 features."""
    shape = tuple(draw(st.integers(1, limit)) for limit in (3, 4, 4, 4))
    return Case(tuple(random_arrays(draw(st.integers(0, 2**32 - 1)), 1.0, shape)))


@st.composite
def position_cases(draw):
    """(length, dim): 1-64 positions, an even dim of 2-32."""
    return Case((draw(st.integers(1, 64)), 2 * draw(st.integers(1, 16))))


def logits_arguments(seed: int, rows: int, vocabulary: int, scale: float = 1.0, offset: float = 0.0) -> tuple:
    """(logits, targets): logits (rows, vocabulary) = offset + scale * normal, targets random ids."""
    rng = np.random.default_rng(seed)
    logits = offset + scale * rng.normal(size=(rows, vocabulary))
    return (logits, rng.integers(0, vocabulary, size=rows, dtype=np.int64))


@st.composite
def logits_cases(draw):
    """1-6 rows of 2-8 logits, near 0 or near 1000 or -1000 (where a naive exp overflows or underflows)."""
    return Case(logits_arguments(
        seed=draw(st.integers(0, 2**32 - 1)), rows=draw(st.integers(1, 6)), vocabulary=draw(st.integers(2, 8)),
        scale=draw(st.sampled_from([1.0, 0.1, 3.0])), offset=draw(st.sampled_from([0.0, 0.0, 1000.0, -1000.0])),
    ))


def nucleus_margin(log_p: np.ndarray, top_k: int | None, top_p: float | None) -> float:
    """How far ``top_p`` is from the mass before each id that top-k keeps (inf without top-p): a case closer
    than :data:`NUCLEUS_MARGIN` would be decided by the rounding of a sum."""
    log_p = np.asarray(log_p, dtype=np.float64)
    order = np.argsort(-log_p, kind="stable")
    kept = order if top_k is None else order[:top_k]
    kept = kept[np.isfinite(log_p[kept])]
    if top_p is None or len(kept) == 0:
        return math.inf
    probabilities = np.exp(log_p[kept] - np.logaddexp.reduce(log_p[kept]))
    return float(np.min(np.abs(np.cumsum(probabilities) - probabilities - top_p)))


def log_distribution(*probabilities: float) -> np.ndarray:
    """log of the probabilities given (0 gives -inf), without numpy's warning for log(0)."""
    p = np.array(probabilities, dtype=np.float64)
    return np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)


@st.composite
def filter_cases(draw):
    """(log_p, top_k, top_p): a distribution over 1-12 ids (some ids tied when the logits are rounded, a few
    of probability 0), top_k None or 1 .. V+1, top_p None or one of a few values (None where p would be
    within rounding of the boundary)."""
    size, seed = draw(st.integers(1, 12)), draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    logits = draw(st.sampled_from([0.5, 1.0, 2.0, 4.0])) * rng.normal(size=size)
    if draw(st.booleans()):
        logits = np.round(logits)  # ties
    zeros = min(draw(st.sampled_from([0, 0, 0, 1, 2])), size - 1)
    logits[rng.permutation(size)[:zeros]] = -np.inf
    log_p = logits - np.logaddexp.reduce(logits)
    top_k = draw(st.one_of(st.none(), st.integers(1, size + 1)))
    top_p = draw(st.one_of(st.none(), st.sampled_from([0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97, 1.0])))
    if nucleus_margin(log_p, top_k, top_p) < NUCLEUS_MARGIN:
        top_p = None
    return Case((log_p, top_k, top_p))


def arange(*shape: int) -> np.ndarray:
    """0.0, 1.0, 2.0, ... in an array of ``shape``: every entry says where it came from."""
    return np.arange(math.prod(shape), dtype=np.float64).reshape(shape)


HAND_Q = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])  # the docstring's example: B = H = 1, T = 2, d = 2
HAND_V = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
FOUR = log_distribution(0.5, 0.3, 0.15, 0.05)
TIES = log_distribution(0.1, 0.4, 0.4, 0.1)
FIVE = log_distribution(0.3, 0.25, 0.2, 0.15, 0.1)


def wide_distribution(seed: int, size: int) -> np.ndarray:
    logits = 2.0 * np.random.default_rng(seed).normal(size=size)
    return logits - np.logaddexp.reduce(logits)


EXERCISES = [
    Exercise(
        name="scaled_dot_product_attention",
        points=3,
        reference=by_hand.scaled_dot_product_attention,
        summary="softmax(q k^T / sqrt(d) + causal mask) v over the keys, as F.scaled_dot_product_attention",
        fixed_cases=[
            Case((HAND_Q, HAND_Q, HAND_V, True)),
            Case((HAND_Q, HAND_Q, HAND_V, False)),
            Case(attention_arguments(1, batch=2, heads=2, queries=4, keys=4, size=3, causal=True)),
            Case(attention_arguments(2, batch=1, heads=2, queries=3, keys=5, size=4, value_size=2)),  # S != T
            Case(attention_arguments(3, batch=1, heads=1, queries=1, keys=1, size=2, causal=True)),  # one position
            # scores in the thousands: exp overflows unless each row's maximum is subtracted
            Case(attention_arguments(4, batch=2, heads=1, queries=4, keys=4, size=4, causal=True, scale=40.0)),
            Case(attention_arguments(5, batch=1, heads=3, queries=5, keys=5, size=8, causal=True)),
            Case(attention_arguments(6, batch=2, heads=2, queries=3, keys=3, size=2, value_size=5, causal=True)),
            Case((np.ones((1, 1, 3, 2)), np.zeros((1, 1, 3, 2)), arange(1, 1, 3, 2), True)),  # equal scores: means
        ],
        generated_cases=attention_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="split_heads",
        points=1,
        reference=by_hand.split_heads,
        summary="(B, T, D) -> (B, H, T, D/H), head h the contiguous columns h*d .. (h+1)*d - 1",
        fixed_cases=[
            Case((arange(1, 2, 4), 2)),
            Case((arange(2, 3, 6), 3)),
            Case((arange(2, 3, 6), 2)),
            Case((arange(1, 1, 5), 1)),  # one head: only a new axis
            Case((arange(2, 2, 4), 4)),  # heads of one feature
            Case((random_arrays(7, 1.0, (3, 4, 8))[0], 2)),
        ],
        generated_cases=split_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="merge_heads",
        points=1,
        reference=by_hand.merge_heads,
        summary="(B, H, T, d) -> (B, T, H*d), the inverse of split_heads",
        fixed_cases=[
            Case((arange(1, 2, 2, 2),)),
            Case((arange(2, 3, 2, 2),)),
            Case((arange(1, 1, 3, 4),)),  # one head
            Case((arange(2, 4, 3, 1),)),  # heads of one feature
            Case((random_arrays(8, 1.0, (3, 2, 4, 3))[0],)),
            Case((by_hand.split_heads(arange(2, 3, 6), 3),)),
        ],
        generated_cases=merge_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="sinusoidal_positions",
        points=1,
        reference=by_hand.sinusoidal_positions,
        summary="PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(the same), interleaved",
        fixed_cases=[
            Case((3, 4)),
            Case((1, 2)),
            Case((10, 2)),  # one frequency: sin p, cos p
            Case((7, 6)),
            Case((50, 16)),
            Case((128, 64)),
            Case((4, 512)),
            Case((512, 8)),
        ],
        generated_cases=position_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="cross_entropy_from_logits",
        points=2,
        reference=by_hand.cross_entropy_from_logits,
        summary="mean over rows of log sum exp(logits) - logits[target], stable for logits of +-1000",
        fixed_cases=[
            Case((np.array([[1000.0, 1000.0], [0.0, math.log(3.0)]]), np.array([0, 1]))),
            Case((np.array([[2.0, 0.0, 0.0]]), np.array([0]))),
            Case((np.zeros((3, 5)), np.array([0, 4, 2]))),  # uniform: log 5
            Case((np.array([[1000.0, 0.0], [-1000.0, -1000.0]]), np.array([0, 1]))),
            Case((np.array([[-1000.0, -1001.0, -999.0]]), np.array([2]))),
            Case((np.array([[0.0, 50.0]]), np.array([0]))),  # a target far below the best: loss about 50
            Case((np.array([[3.0]]), np.array([0]))),  # one id: loss 0
            Case(logits_arguments(9, rows=6, vocabulary=10, scale=3.0)),
            Case(logits_arguments(10, rows=4, vocabulary=7, offset=1000.0)),
            Case(logits_arguments(11, rows=5, vocabulary=3, scale=2.0, offset=-1000.0)),
        ],
        generated_cases=logits_cases(),
        returns=float,
        compare=close(rel_tol=REL_TOL, abs_tol=ABS_TOL),
    ),
    Exercise(
        name="top_k_top_p_filter",
        points=2,
        reference=by_hand.top_k_top_p_filter,
        summary="top-k (ties: lower id), then the nucleus of the renormalized rest (the crossing id kept); "
                "renormalized, -inf elsewhere",
        fixed_cases=[
            Case((FOUR, None, 0.7)),
            Case((FOUR, 3, None)),
            Case((FOUR, 3, 0.7)),
            Case((TIES, 1, None)),  # a tie at the k-th place: the lower id
            Case((TIES, 3, None)),
            Case((log_distribution(0.3, 0.2, 0.2, 0.2, 0.1), 2, None)),
            Case((log_distribution(0.4, 0.35, 0.25), None, 0.6)),  # the id that crosses p is kept
            Case((FIVE, 3, 0.6)),  # the nucleus of the renormalized top 3: 2 ids (of the full five: 3)
            Case((FIVE, None, None)),  # no filter
            Case((log_distribution(0.5, 0.0, 0.3, 0.2), 10, None)),  # p = 0 never kept; k > V
            Case((log_distribution(0.5, 0.0, 0.3, 0.2), None, 1.0)),
            Case((FOUR, 1, 0.9)),  # greedy
            Case((FOUR, None, 0.05)),
            Case((wide_distribution(12, 50), 20, 0.9)),
            Case((wide_distribution(13, 30), None, 0.5)),
        ],
        generated_cases=filter_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
]
