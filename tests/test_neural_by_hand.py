"""The by-hand recurrent formulas (lmcourse.neural.by_hand) agree with PyTorch, and the batching convention holds."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.neural import by_hand

TOLERANCE = 1e-10


def random_cell(cell_class, input_size: int, hidden_size: int, seed: int):
    """A float64 PyTorch cell with random weights, and the same weights as numpy arrays."""
    torch.manual_seed(seed)
    cell = cell_class(input_size, hidden_size).double()
    weights = [p.detach().numpy().copy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    return cell, weights


def random_inputs(batch: int, input_size: int, hidden_size: int, seed: int, zero_state: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, input_size))
    h = np.zeros((batch, hidden_size)) if zero_state else rng.normal(size=(batch, hidden_size))
    c = np.zeros((batch, hidden_size)) if zero_state else rng.normal(size=(batch, hidden_size))
    return x, h, c


sizes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16), st.booleans())


# -- the cells against PyTorch ---------------------------------------------------------------------------------
@settings(max_examples=25)
@given(sizes)
def test_rnn_cell_step_matches_torch(drawn):
    batch, input_size, hidden_size, seed, zero_state = drawn
    cell, weights = random_cell(torch.nn.RNNCell, input_size, hidden_size, seed)
    x, h, _ = random_inputs(batch, input_size, hidden_size, seed, zero_state)
    expected = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    np.testing.assert_allclose(by_hand.rnn_cell_step(x, h, *weights), expected, rtol=0, atol=TOLERANCE)


@settings(max_examples=25)
@given(sizes)
def test_gru_cell_step_matches_torch(drawn):
    batch, input_size, hidden_size, seed, zero_state = drawn
    cell, weights = random_cell(torch.nn.GRUCell, input_size, hidden_size, seed)
    x, h, _ = random_inputs(batch, input_size, hidden_size, seed, zero_state)
    expected = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    np.testing.assert_allclose(by_hand.gru_cell_step(x, h, *weights), expected, rtol=0, atol=TOLERANCE)


@settings(max_examples=25)
@given(sizes)
def test_lstm_cell_step_matches_torch(drawn):
    batch, input_size, hidden_size, seed, zero_state = drawn
    cell, weights = random_cell(torch.nn.LSTMCell, input_size, hidden_size, seed)
    x, h, c = random_inputs(batch, input_size, hidden_size, seed, zero_state)
    want_h, want_c = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    got_h, got_c = by_hand.lstm_cell_step(x, h, c, *weights)
    np.testing.assert_allclose(got_h, want_h.detach().numpy(), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got_c, want_c.detach().numpy(), rtol=0, atol=TOLERANCE)


def test_large_pre_activations_do_not_overflow():
    """A saturated cell gives 0 or 1 gates, without overflow warnings or NaN."""
    cell, weights = random_cell(torch.nn.LSTMCell, 2, 3, seed=0)
    x = np.array([[800.0, -900.0]])
    with np.errstate(over="raise", invalid="raise"):
        h, c = by_hand.lstm_cell_step(x, np.zeros((1, 3)), np.zeros((1, 3)), *weights)
    want_h, want_c = cell(torch.from_numpy(x))
    np.testing.assert_allclose(h, want_h.detach().numpy(), atol=TOLERANCE)
    np.testing.assert_allclose(c, want_c.detach().numpy(), atol=TOLERANCE)
    assert by_hand.sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("name, step", [("RNN", by_hand.rnn_cell_step), ("GRU", by_hand.gru_cell_step),
                                        ("LSTM", by_hand.lstm_cell_step)])
def test_run_cells_matches_a_torch_layer(name, step):
    """Unrolled over 5 steps, the cells give what one-layer nn.RNN / nn.GRU / nn.LSTM give (time first)."""
    torch.manual_seed(3)
    layer = getattr(torch.nn, name)(3, 4).double()
    weights = [p.detach().numpy().copy() for p in
               (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)]
    rng = np.random.default_rng(3)
    inputs, h0, c0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    if name == "LSTM":
        state = (torch.from_numpy(h0[None]), torch.from_numpy(c0[None]))
        want, (want_h, want_c) = layer(torch.from_numpy(inputs), state)
        outputs, (h, c) = by_hand.run_cells(step, inputs, (h0, c0), *weights)
        np.testing.assert_allclose(c, want_c[0].detach().numpy(), atol=TOLERANCE)
    else:
        want, want_h = layer(torch.from_numpy(inputs), torch.from_numpy(h0[None]))
        outputs, h = by_hand.run_cells(step, inputs, h0, *weights)
    np.testing.assert_allclose(outputs, want.detach().numpy(), atol=TOLERANCE)
    np.testing.assert_allclose(h, want_h[0].detach().numpy(), atol=TOLERANCE)


def test_rnn_cell_step_by_hand():
    """One hand-computed step: h' = tanh(1*0.5 + 0.1 + 0.2*(-1) + 0.3) = tanh(0.7)."""
    h = by_hand.rnn_cell_step(np.array([[1.0]]), np.array([[0.2]]), np.array([[0.5]]), np.array([[-1.0]]),
                              np.array([0.1]), np.array([0.3]))
    assert h.shape == (1, 1) and h[0, 0] == pytest.approx(math.tanh(0.7), abs=1e-15)


# -- batching for truncated BPTT -------------------------------------------------------------------------------
streams = st.lists(st.integers(0, 50), max_size=60).map(lambda ids: np.array([0, *ids], dtype=np.int64))


@given(streams, st.integers(1, 5), st.integers(1, 7))
def test_batchify_stream_windows(tokens, batch, bptt):
    windows = by_hand.batchify_stream(tokens, batch, bptt)
    length = len(tokens) // batch
    assert len(windows) == max(0, math.ceil((length - 1) / bptt))
    for k, (inputs, targets) in enumerate(windows):
        n = min(bptt, length - 1 - k * bptt)
        assert inputs.shape == targets.shape == (batch, n) and n >= 1
        assert inputs.dtype == targets.dtype == tokens.dtype
    if not windows:
        return
    inputs = np.concatenate([i for i, _ in windows], axis=1)
    targets = np.concatenate([t for _, t in windows], axis=1)
    # Read in order, the windows cover each column once: tokens 0 .. L-2 as inputs, 1 .. L-1 as targets.
    columns = tokens[:batch * length].reshape(batch, length)
    np.testing.assert_array_equal(inputs, columns[:, :-1])
    np.testing.assert_array_equal(targets, columns[:, 1:])
    # Every target is the next token of the stream after its input.
    for b in range(batch):
        for s in range(length - 1):
            position = b * length + s
            assert (inputs[b, s], targets[b, s]) == (tokens[position], tokens[position + 1])


def test_batchify_stream_by_hand():
    tokens = np.arange(11)  # batch 2: L = 5, the last token (10) dropped
    windows = by_hand.batchify_stream(tokens, 2, 3)
    assert [(i.tolist(), t.tolist()) for i, t in windows] == [
        ([[0, 1, 2], [5, 6, 7]], [[1, 2, 3], [6, 7, 8]]),
        ([[3], [8]], [[4], [9]]),
    ]
    assert [(i.tolist(), t.tolist()) for i, t in by_hand.batchify_stream(np.arange(4), 1, 10)] == [
        ([[0, 1, 2]], [[1, 2, 3]])]  # shorter than one window: one short window
    assert by_hand.batchify_stream(np.arange(3), 2, 4) == []  # L = 1: nothing to predict
    with pytest.raises(ValueError):
        by_hand.batchify_stream(np.arange(10), 0, 3)
    with pytest.raises(ValueError):
        by_hand.batchify_stream(np.arange(10).reshape(2, 5), 1, 3)


# -- clipping and perplexity -----------------------------------------------------------------------------------
gradient_lists = st.tuples(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4),
                           st.integers(0, 2**16), st.sampled_from([0.0, 1e-3, 0.1, 1.0, 10.0]),
                           st.sampled_from([0.01, 0.5, 1.0, 2.0, 100.0]))


def torch_clip(grads, max_norm):
    parameters = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for parameter, g in zip(parameters, grads):
        parameter.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    return [p.grad.numpy() for p in parameters], float(total)


@settings(max_examples=40)
@given(gradient_lists)
def test_clip_grad_norm_matches_torch(drawn):
    shapes, seed, scale, max_norm = drawn
    rng = np.random.default_rng(seed)
    grads = [scale * rng.normal(size=shape) for shape in shapes]
    before = [g.copy() for g in grads]
    clipped, total = by_hand.clip_grad_norm(grads, max_norm)
    want_clipped, want_total = torch_clip(grads, max_norm)
    assert total == pytest.approx(want_total, rel=TOLERANCE, abs=TOLERANCE)
    for got, want in zip(clipped, want_clipped):
        np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE)
    assert all(np.array_equal(g, b) for g, b in zip(grads, before))  # the input is not changed


def test_clip_grad_norm_edges():
    grads = [np.array([3.0]), np.array([[4.0]])]  # global norm 5
    clipped, total = by_hand.clip_grad_norm(grads, 10.0)
    assert total == 5.0 and [g.tolist() for g in clipped] == [[3.0], [[4.0]]]  # below max_norm: unchanged
    clipped, total = by_hand.clip_grad_norm(grads, 1.0)
    assert clipped[0][0] == pytest.approx(3 / (5 + 1e-6), rel=1e-14)
    # Exactly at the norm: PyTorch's min(1, max_norm / (total + 1e-6)) is just below 1.
    clipped, _ = by_hand.clip_grad_norm(grads, 5.0)
    want, _ = torch_clip(grads, 5.0)
    assert clipped[0][0] == pytest.approx(want[0][0], rel=1e-15) == pytest.approx(3 * 5 / (5 + 1e-6), rel=1e-15)
    clipped, total = by_hand.clip_grad_norm([np.zeros(3)], 1.0)
    assert total == 0.0 and clipped[0].tolist() == [0.0, 0.0, 0.0]


def test_perplexity_from_loss():
    assert by_hand.perplexity_from_loss(4 * math.log(7.0), 4) == pytest.approx(7.0, rel=1e-14)
    assert by_hand.perplexity_from_loss(0.0, 3) == 1.0
    assert by_hand.perplexity_from_loss(1e6, 1) == math.inf
    for count in (0, -2):
        with pytest.raises(ValueError, match="token_count must be at least 1"):
            by_hand.perplexity_from_loss(1.0, count)


def test_by_hand_does_not_import_torch():
    """The grader's child process imports this module for every exercise: it must not pull in torch."""
    code = "import sys, lmcourse.neural.by_hand; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, (
        "importing lmcourse.neural.by_hand imported torch: lmcourse/neural/__init__.py must import its torch "
        "modules lazily (as lmcourse/grading/__init__.py does), since the grader imports by_hand in a fresh "
        "child process for every exercise")
