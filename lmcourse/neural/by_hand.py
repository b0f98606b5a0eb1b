"""Recurrent networks by hand: the formulas of lesson 03 in plain numpy.

The models of :mod:`lmcourse.neural` are PyTorch modules. The functions here compute the same quantities the
slow, readable way, one formula per function, with numpy only (no ``torch``: the grader imports this module
in a child process for every exercise, and importing torch takes seconds). They are the reference answers of
the exercises of lesson 03 (``lmcourse grade 03``), and ``tests/test_neural_by_hand.py`` checks them against
PyTorch's ``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell`` and ``torch.nn.utils.clip_grad_norm_``.

Conventions (every cell below follows them, and they are exactly PyTorch's):

* Row vectors, batch first: an input ``x`` is ``(B, I)`` (B sequences of the batch, I input features), a
  state ``h`` (or ``c``) is ``(B, H)``.
* ``weight_ih`` is ``(G*H, I)``, ``weight_hh`` is ``(G*H, H)``, ``bias_ih`` and ``bias_hh`` are ``(G*H,)``,
  where G is the number of gates stacked one below the other: G = 1 for the Elman cell, 3 for the GRU
  (r, z, n), 4 for the LSTM (i, f, g, o). A weight matrix maps a row vector by ``x @ weight.T``.
* Every array is float64, so these functions agree with PyTorch in float64 to about 1e-15.

References: J. L. Elman, "Finding structure in time", *Cognitive Science* 14 (1990); S. Hochreiter and
J. Schmidhuber, "Long short-term memory", *Neural Computation* 9 (1997); F. A. Gers, J. Schmidhuber and
F. Cummins, "Learning to forget: continual prediction with LSTM", *Neural Computation* 12 (2000); K. Cho et
al., "Learning phrase representations using RNN encoder-decoder for statistical machine translation" (2014);
R. J. Williams and J. Peng, "An efficient gradient-based algorithm for on-line training of recurrent network
trajectories", *Neural Computation* 2 (1990) (truncated BPTT); R. Pascanu, T. Mikolov and Y. Bengio, "On the
difficulty of training recurrent neural networks" (2013) (gradient clipping); the PyTorch documentation of
``torch.nn.RNNCell``, ``GRUCell``, ``LSTMCell`` and ``torch.nn.utils.clip_grad_norm_``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lmcourse.evaluation import perplexity_from_nll

# PyTorch's clip_grad_norm_ adds this to the norm before dividing (no division by zero for zero gradients).
CLIP_EPSILON = 1e-6


# -- building blocks ---------------------------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function sigma(x) = 1 / (1 + exp(-x)), computed as exp(-log(1 + exp(-x))).

    The second form never overflows (``np.logaddexp(0, -x)`` is log(1 + exp(-x)) for any x).
    """
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


def affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x W^T + b: the row vectors of ``x`` (B, in) mapped by ``weight`` (out, in), plus ``bias`` (out,)."""
    return np.asarray(x, dtype=np.float64) @ np.asarray(weight, dtype=np.float64).T + bias


def split_gates(pre_activations: np.ndarray, n_gates: int) -> list[np.ndarray]:
    """The G blocks of H columns of a (B, G*H) array, in order (PyTorch stacks the gates this way)."""
    if pre_activations.shape[-1] % n_gates != 0:
        raise ValueError(f"expected {n_gates} gates of equal size, got {pre_activations.shape[-1]} rows of weights")
    return np.split(pre_activations, n_gates, axis=-1)


# -- the cells ---------------------------------------------------------------------------------------------
def rnn_cell_step(x: np.ndarray, h: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                  bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
    """One step of the Elman (1990) recurrent cell, as ``torch.nn.RNNCell`` (tanh) computes it:

        h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)

    ``x`` (B, I), ``h`` (B, H), ``weight_ih`` (H, I), ``weight_hh`` (H, H), biases (H,); returns h' (B, H).
    """
    return np.tanh(affine(x, weight_ih, bias_ih) + affine(h, weight_hh, bias_hh))


def gru_cell_step(x: np.ndarray, h: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                  bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
    """One step of the gated recurrent unit (Cho et al. 2014), as ``torch.nn.GRUCell`` computes it:

        r  = sigma(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z  = sigma(W_iz x + b_iz + W_hz h + b_hz)          update gate
        n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))     candidate state
        h' = (1 - z) * n + z * h

    The weights are stacked in the order (r, z, n): ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), biases
    (3H,). Note that r multiplies W_hn h + b_hn, *bias included* (PyTorch's and cuDNN's variant; Cho et al.
    put r before the matrix product). ``x`` (B, I), ``h`` (B, H); returns h' (B, H).
    """
    input_r, input_z, input_n = split_gates(affine(x, weight_ih, bias_ih), 3)
    hidden_r, hidden_z, hidden_n = split_gates(affine(h, weight_hh, bias_hh), 3)
    r = sigmoid(input_r + hidden_r)
    z = sigmoid(input_z + hidden_z)
    n = np.tanh(input_n + r * hidden_n)
    return (1.0 - z) * n + z * h


def lstm_cell_step(x: np.ndarray, h: np.ndarray, c: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                   bias_ih: np.ndarray, bias_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of the LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), as
    ``torch.nn.LSTMCell`` computes it. With a = x W_ih^T + b_ih + h W_hh^T + b_hh, cut into four blocks of H
    columns in the order (i, f, g, o):

        i  = sigma(a_i)          input gate
        f  = sigma(a_f)          forget gate
        g  = tanh(a_g)           candidate cell
        o  = sigma(a_o)          output gate
        c' = f * c + i * g
        h' = o * tanh(c')

    ``x`` (B, I), ``h`` and ``c`` (B, H), ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), biases (4H,);
    returns the tuple (h', c'), each (B, H).
    """
    a_i, a_f, a_g, a_o = split_gates(affine(x, weight_ih, bias_ih) + affine(h, weight_hh, bias_hh), 4)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


def run_cells(step: Callable, inputs: np.ndarray, state: np.ndarray | tuple[np.ndarray, ...],
              *weights: np.ndarray) -> tuple[np.ndarray, np.ndarray | tuple[np.ndarray, ...]]:
    """Unroll a cell over time: ``state = step(x_t, *state, *weights)`` for t = 1 .. T.

    ``step`` is one of the cells above; ``inputs`` is (T, B, I) (time first, as ``torch.nn.RNN``); ``state``
    is h (B, H) for the Elman cell and the GRU, the tuple (h, c) for the LSTM; ``weights`` are the cell's
    ``weight_ih, weight_hh, bias_ih, bias_hh``. Returns (outputs, final state), where outputs (T, B, H) are the
    hidden states h_1 .. h_T, as a one-layer ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` returns them.
    """
    outputs = []
    for x in inputs:
        state = step(x, *(state if isinstance(state, tuple) else (state,)), *weights)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return np.stack(outputs), state


# -- training: batches for truncated BPTT, gradient clipping, perplexity -------------------------------------
def batchify_stream(tokens: np.ndarray, batch: int, bptt: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (inputs, targets) windows of truncated backpropagation through time (Williams & Peng 1990).

    The convention, exactly (``lmcourse.neural.batches`` follows it, and is tested against this function):

    1. ``tokens`` is the training split as one 1-D stream of int ids (it starts with the ``<s>`` id). Cut it
       into ``batch`` contiguous columns of length L = len(tokens) // batch, dropping the remainder at the
       end: ``columns = tokens[:batch * L].reshape(batch, L)``, so column b is tokens[b*L : (b+1)*L].
    2. Read the columns in windows starting at t = 0, bptt, 2*bptt, ... while t < L - 1. Window t has
       ``n = min(bptt, L - 1 - t)`` steps: inputs ``columns[:, t : t+n]`` and targets
       ``columns[:, t+1 : t+1+n]``, both (batch, n). Every target is the token that follows its input in the
       stream; the last window may be shorter than bptt; a window has at least one target.

    So each column's tokens 0 .. L-2 are inputs exactly once, in order, and tokens 1 .. L-1 targets exactly
    once; the hidden state of row b carries over from one window to the next. A stream with L < 2 gives no
    windows (``[]``). Returns a list of (inputs, targets) tuples of arrays of the stream's dtype.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ValueError(f"tokens must be a 1-D stream of ids, got shape {tokens.shape}")
    if batch < 1 or bptt < 1:
        raise ValueError(f"batch and bptt must be at least 1 (got batch={batch}, bptt={bptt})")
    length = len(tokens) // batch
    columns = tokens[:batch * length].reshape(batch, length)
    windows = []
    for t in range(0, length - 1, bptt):
        n = min(bptt, length - 1 - t)
        windows.append((columns[:, t:t + n].copy(), columns[:, t + 1:t + 1 + n].copy()))
    return windows


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """The L2 norm of all the arrays together, as if concatenated into one vector: sqrt(sum of all g^2)."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))


def clip_grad_norm(grads: Sequence[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Clip gradients by their global norm (Pascanu et al. 2013), as ``torch.nn.utils.clip_grad_norm_``:

        total = sqrt(sum over every array g, every entry of g^2)          (the global L2 norm)
        scale = min(1, max_norm / (total + 1e-6))
        g'    = scale * g                                                 (every array, the same scale)

    Only a norm above max_norm shrinks the gradients (their direction is kept); the 1e-6 avoids 0 / 0 for
    zero gradients. Exactly as PyTorch, the scale is already just below 1 when total > max_norm - 1e-6, so
    a norm exactly equal to max_norm is multiplied by max_norm / (max_norm + 1e-6). Returns (the clipped
    arrays, as new arrays in a list, and total: the norm *before* clipping, a float). ``grads`` is unchanged.
    """
    total = global_norm(grads)
    scale = min(1.0, max_norm / (total + CLIP_EPSILON))
    return [np.asarray(g, dtype=np.float64) * scale for g in grads], total


def perplexity_from_loss(summed_loss_nats: float, token_count: int) -> float:
    """Perplexity from a summed cross-entropy loss: exp(summed_loss_nats / token_count).

    ``summed_loss_nats`` is the sum over the predicted tokens of -log p(token | context) (natural log, as
    ``F.cross_entropy(..., reduction="sum")`` gives it); ``token_count`` is how many tokens were predicted
    (the course's convention, :mod:`lmcourse.evaluation`). A ``ValueError`` if token_count <= 0; ``inf``
    beyond the largest float.
    """
    if token_count <= 0:
        raise ValueError(f"token_count must be at least 1 (got {token_count}): perplexity is a mean over the "
                         "predicted tokens")
    return perplexity_from_nll(float(summed_loss_nats), token_count)
