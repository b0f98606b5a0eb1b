"""Lesson 03, recurrent networks: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.neural.by_hand` (plain numpy); the learner's stubs
are in ``lessons/03_rnn_lstm/exercises.py``. The answers are numpy arrays, so this lesson brings its own
comparisons: float64 arrays equal up to rounding (:func:`close_array`), token arrays exactly equal
(:func:`equal_windows`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lmcourse.grading.case import Case, short_repr
from lmcourse.grading.exercise import Exercise, close
from lmcourse.neural import by_hand

# float64 answers computed in a different order differ by about 1e-15; the mistakes graded here (a gate
# in the wrong place, a missing 1e-6, ...) change them by 1e-7 or more.
REL_TOL = 1e-9
ABS_TOL = 1e-12


# -- comparisons ---------------------------------------------------------------------------------------------
def array_mismatch(expected: np.ndarray, actual: Any, exact: bool = False) -> str | None:
    """Why ``actual`` is not ``expected`` (same shape; values within REL_TOL/ABS_TOL, or equal ints when
    ``exact``), or None when it is."""
    if not isinstance(actual, np.ndarray):
        return f"returned {short_repr(actual)}, expected a numpy array of shape {expected.shape}"
    if actual.shape != expected.shape:
        return f"returned an array of shape {actual.shape}, expected shape {expected.shape}"
    if exact:
        if actual.dtype.kind not in "iu":
            return f"returned an array of dtype {actual.dtype}, expected integer token ids"
        wrong = actual != expected
    else:
        if actual.dtype.kind not in "fiu":
            return f"returned an array of dtype {actual.dtype}, expected float64 numbers"
        wrong = ~np.isclose(actual.astype(np.float64), expected, rtol=REL_TOL, atol=ABS_TOL)
    if not wrong.any():
        return None
    where = tuple(int(i) for i in np.argwhere(wrong)[0])
    tolerance = "" if exact else f" (tolerance {REL_TOL:g} relative)"
    return f"at index {where}: {actual[where].item()!r} instead of {expected[where].item()!r}{tolerance}"


def close_array(expected: np.ndarray, actual: Any) -> str | None:
    """An array of the expected shape, every entry equal up to rounding."""
    return array_mismatch(expected, actual)


def close_state_pair(expected: tuple, actual: Any) -> str | None:
    """The tuple (h', c'): two arrays, each close to the expected one."""
    if not isinstance(actual, tuple) or len(actual) != 2:
        return f"returned {short_repr(actual)}, expected a tuple (h_next, c_next) of two arrays"
    for name, want, got in zip(("h_next", "c_next"), expected, actual):
        mismatch = array_mismatch(want, got)
        if mismatch is not None:
            return f"{name} is wrong: {mismatch}"
    return None


def equal_windows(expected: list, actual: Any) -> str | None:
    """A list of (inputs, targets) pairs of integer arrays, exactly the expected ones, in order."""
    if not isinstance(actual, list):
        return f"returned {short_repr(actual)}, expected a list of (inputs, targets) tuples"
    if len(actual) != len(expected):
        return f"returned {len(actual)} windows, expected {len(expected)}"
    for index, (want, got) in enumerate(zip(expected, actual)):
        if not isinstance(got, tuple) or len(got) != 2:
            return f"window {index} is {short_repr(got, 40)}, expected a tuple (inputs, targets)"
        for name, want_part, got_part in zip(("inputs", "targets"), want, got):
            mismatch = array_mismatch(want_part, got_part, exact=True)
            if mismatch is not None:
                return f"window {index}, {name}: {mismatch}"
    return None


def close_clipped(expected: tuple, actual: Any) -> str | None:
    """The tuple (clipped gradients, total norm): a list of arrays close to the expected ones, and a number."""
    if not isinstance(actual, tuple) or len(actual) != 2 or not isinstance(actual[0], list):
        return f"returned {short_repr(actual)}, expected a tuple (list of clipped arrays, total norm)"
    want_grads, want_norm = expected
    if len(actual[0]) != len(want_grads):
        return f"returned {len(actual[0])} arrays, expected {len(want_grads)} (one per gradient)"
    for index, (want, got) in enumerate(zip(want_grads, actual[0])):
        mismatch = array_mismatch(want, got)
        if mismatch is not None:
            return f"clipped array {index} is wrong: {mismatch}"
    mismatch = close(rel_tol=REL_TOL, abs_tol=ABS_TOL)(want_norm, actual[1])
    return None if mismatch is None else f"the total norm is wrong: {mismatch}"


# -- inputs ------------------------------------------------------------------------------------------------
def random_arrays(seed: int, scale: float, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of normal float64 numbers times ``scale``, one per shape, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [scale * rng.normal(size=shape) for shape in shapes]


def cell_arguments(seed: int, batch: int, inputs: int, hidden: int, gates: int, states: int, scale: float = 1.0,
                   zero_state: bool = False) -> tuple:
    """(x, then ``states`` states, weight_ih, weight_hh, bias_ih, bias_hh) of a cell with ``gates`` gates."""
    x, *rest = random_arrays(seed, scale, (batch, inputs), *[(batch, hidden)] * states, (gates * hidden, inputs),
                             (gates * hidden, hidden), (gates * hidden,), (gates * hidden,))
    if zero_state:
        rest[:states] = [np.zeros((batch, hidden)) for _ in range(states)]
    return (x, *rest)


@st.composite
def cell_cases(draw, gates: int, states: int):
    """A cell step on small shapes: batch 1-3, 1-4 inputs, 1-4 hidden units; now and then a zero state."""
    return Case(cell_arguments(
        seed=draw(st.integers(0, 2**32 - 1)), batch=draw(st.integers(1, 3)), inputs=draw(st.integers(1, 4)),
        hidden=draw(st.integers(1, 4)), gates=gates, states=states,
        scale=draw(st.sampled_from([1.0, 0.5, 2.0, 0.1])), zero_state=draw(st.sampled_from([False] * 4 + [True])),
    ))


@st.composite
def stream_cases(draw):
    """A stream of 1-60 ids below 30 that starts with the <s> id 0; batch 1-5, bptt 1-8."""
    length, seed = draw(st.integers(1, 60)), draw(st.integers(0, 2**32 - 1))
    stream = np.random.default_rng(seed).integers(0, 30, size=length, dtype=np.int64)
    stream[0] = 0
    return Case((stream, draw(st.integers(1, 5)), draw(st.integers(1, 8))))


@st.composite
def gradient_cases(draw):
    """1-4 gradient arrays of shape (n,) or (n, m), scaled so that the norm is below or above max_norm."""
    shapes = draw(st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple), min_size=1, max_size=4))
    scale = draw(st.sampled_from([1.0, 0.1, 10.0, 0.01, 0.0]))
    grads = random_arrays(draw(st.integers(0, 2**32 - 1)), scale, *shapes)
    return Case((grads, draw(st.sampled_from([1.0, 0.5, 2.0, 5.0, 0.01, 100.0]))))


@st.composite
def loss_cases(draw):
    """A summed loss of token_count tokens, a mean loss of 0 to 12 nats each (perplexity up to e^12)."""
    count, seed = draw(st.integers(1, 10**6)), draw(st.integers(0, 2**32 - 1))
    return Case((float(np.random.default_rng(seed).uniform(0.0, 12.0)) * count, count))


def tokens(*ids: int) -> np.ndarray:
    return np.array(ids, dtype=np.int64)


RNN_HAND = tuple(np.array(v) for v in ([[1.0]], [[0.2]], [[0.5]], [[-1.0]], [0.1], [0.3]))  # tanh(0.7)
ZERO_WEIGHTS_LSTM = (np.ones((2, 3)), np.zeros((2, 2)), np.array([[1.0, -2.0], [0.5, 3.0]]),
                     np.zeros((8, 3)), np.zeros((8, 2)), np.zeros(8), np.zeros(8))  # every gate 0.5, g = 0
GATE_BIASES = np.array([2.0, -1.0, 0.5, 1.5])  # i, f, g, o of a cell with one hidden unit
ONE_UNIT_LSTM = (np.array([[0.0]]), np.array([[0.0]]), np.array([[1.0]]), np.zeros((4, 1)), np.zeros((4, 1)),
                 GATE_BIASES, np.zeros(4))
GRADS_3_4 = [np.array([3.0]), np.array([[4.0]])]  # global norm exactly 5

EXERCISES = [
    Exercise(
        name="rnn_cell_step",
        points=2,
        reference=by_hand.rnn_cell_step,
        summary="h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), PyTorch's nn.RNNCell",
        fixed_cases=[
            Case(RNN_HAND),
            Case(cell_arguments(1, batch=2, inputs=3, hidden=2, gates=1, states=1, zero_state=True)),
            Case(cell_arguments(2, batch=1, inputs=1, hidden=3, gates=1, states=1)),
            Case(cell_arguments(3, batch=3, inputs=4, hidden=5, gates=1, states=1)),
            Case(cell_arguments(4, batch=2, inputs=2, hidden=2, gates=1, states=1, scale=5.0)),  # saturated
            Case((np.ones((2, 3)), np.ones((2, 2)), np.zeros((2, 3)), np.zeros((2, 2)), np.array([0.5, -1.0]),
                  np.array([0.25, 0.0]))),  # zero weights: tanh of the biases
        ],
        generated_cases=cell_cases(gates=1, states=1),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="lstm_cell_step",
        points=3,
        reference=by_hand.lstm_cell_step,
        summary="gates (i, f, g, o); c' = f * c + i * g, h' = o * tanh(c'), PyTorch's nn.LSTMCell",
        fixed_cases=[
            Case(ONE_UNIT_LSTM),
            Case(ZERO_WEIGHTS_LSTM),
            Case(cell_arguments(5, batch=2, inputs=3, hidden=2, gates=4, states=2, zero_state=True)),
            Case(cell_arguments(6, batch=1, inputs=2, hidden=1, gates=4, states=2)),
            Case(cell_arguments(7, batch=3, inputs=2, hidden=4, gates=4, states=2)),
            Case(cell_arguments(8, batch=2, inputs=4, hidden=3, gates=4, states=2, scale=0.5)),
        ],
        generated_cases=cell_cases(gates=4, states=2),
        returns=tuple,
        compare=close_state_pair,
    ),
    Exercise(
        name="batchify_stream",
        points=2,
        reference=by_hand.batchify_stream,
        summary="batch contiguous columns of len // batch tokens, windows of bptt inputs and next-token targets",
        fixed_cases=[
            Case((tokens(*range(11)), 2, 3)),  # remainder dropped, the last window shorter
            Case((tokens(*range(12)), 3, 2)),
            Case((tokens(*range(5)), 1, 10)),  # a stream shorter than one window
            Case((tokens(*range(6)), 1, 1)),  # batch 1, windows of one step
            Case((tokens(*range(8)), 2, 3)),  # L - 1 == bptt: exactly one window
            Case((tokens(*range(14)), 2, 3)),  # (L - 1) % bptt == 0: no empty window at the end
            Case((tokens(0, 5, 3, 3, 9, 1, 4, 0, 2, 7, 7, 8, 6), 3, 2)),
            Case((tokens(0, 4, 4), 2, 2)),  # L = 1: nothing to predict
            Case((tokens(0, 1, 2), 5, 2)),  # more columns than tokens
        ],
        generated_cases=stream_cases(),
        returns=list,
        compare=equal_windows,
    ),
    Exercise(
        name="clip_grad_norm",
        points=2,
        reference=by_hand.clip_grad_norm,
        summary="global L2 norm of all arrays; scale by min(1, max_norm / (norm + 1e-6)); (clipped, norm)",
        fixed_cases=[
            Case((GRADS_3_4, 10.0)),  # below max_norm: unchanged
            Case((GRADS_3_4, 1.0)),  # above: both arrays scaled by 1 / (5 + 1e-6)
            Case((GRADS_3_4, 5.0)),  # exactly at the norm: scale 5 / (5 + 1e-6)
            Case(([np.zeros(3), np.zeros((2, 2))], 1.0)),  # zero gradients
            Case(([np.array([0.3, -0.4])], 2.0)),
            Case((random_arrays(9, 10.0, (2, 3), (3,), (1, 1)), 1.0)),
            Case(([np.array([[3.0, 4.0]]), np.array([0.1])], 1.0)),
            Case((random_arrays(10, 0.1, (4,), (2, 2)), 0.05)),
        ],
        generated_cases=gradient_cases(),
        returns=tuple,
        compare=close_clipped,
    ),
    Exercise(
        name="perplexity_from_loss",
        points=1,
        reference=by_hand.perplexity_from_loss,
        summary="exp(summed loss in nats / number of predicted tokens)",
        fixed_cases=[
            Case((4 * math.log(7.0), 4)),
            Case((0.0, 1)),
            Case((2.5, 1)),
            Case((1000 * math.log(150.0), 1000)),
            Case((3.0, 7)),
            Case((123456.789, 50000)),
        ],
        generated_cases=loss_cases(),
        returns=float,
        compare=close(rel_tol=REL_TOL, abs_tol=ABS_TOL),
    ),
]
