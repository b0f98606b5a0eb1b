"""Lesson 03 exercises: recurrent cells, batches for truncated BPTT, gradient clipping, perplexity.

Write the five functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 03                       # a score table: points and a reason for each failure
    pytest lessons/03_rnn_lstm              # the same checks, as pytest tests

Each function is checked against the library's answer on fixed cases and on a few dozen generated inputs.
numpy only (no torch: these are the formulas PyTorch computes for you); read the notebook of this lesson first.

Conventions used by every function (they are exactly PyTorch's ``nn.RNNCell`` / ``nn.LSTMCell``):

- Arrays are float64 numpy arrays, batch first: an input ``x`` has shape (B, I) -- B sequences side by
  side, I input features each -- and a state ``h`` or ``c`` has shape (B, H), H hidden units.
- A weight matrix maps row vectors as ``x @ weight.T``: ``weight_ih`` has shape (G*H, I), ``weight_hh``
  (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), where G is the number of gates stacked one below the other
  (G = 1 for the plain RNN, 4 for the LSTM).
- sigma is the logistic function, sigma(a) = 1 / (1 + exp(-a)); tanh is ``np.tanh``.
- Answers are compared with a tolerance of 1e-9 (relative), so a float64 answer computed in another order
  is right; a wrong gate or a missing term is not.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np


def rnn_cell_step(x: np.ndarray, h: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                  bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
    """One step of the Elman (1990) recurrent cell: the next hidden state, an array (2 points).

        h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)

    ``x`` (B, I), ``h`` (B, H), ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih`` and ``bias_hh``
    (H,). Return h' as a numpy array of shape (B, H). (This is ``torch.nn.RNNCell`` with its default tanh.)

    >>> rnn_cell_step(np.array([[1.0]]), np.array([[0.2]]), np.array([[0.5]]), np.array([[-1.0]]),
    ...               np.array([0.1]), np.array([0.3]))                  # tanh(0.5 + 0.1 - 0.2 + 0.3)
    array([[0.60436778]])
    """
    raise NotImplementedError("write rnn_cell_step")


def lstm_cell_step(x: np.ndarray, h: np.ndarray, c: np.ndarray, weight_ih: np.ndarray, weight_hh: np.ndarray,
                   bias_ih: np.ndarray, bias_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of the LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
    the tuple (h', c') (3 points).

    First a = x W_ih^T + b_ih + h W_hh^T + b_hh, shape (B, 4H). Cut it into four blocks of H columns, in
    this order (PyTorch's): a_i = a[:, 0:H], a_f = a[:, H:2H], a_g = a[:, 2H:3H], a_o = a[:, 3H:4H]. Then

        i  = sigma(a_i)          input gate:  how much of the candidate to write
        f  = sigma(a_f)          forget gate: how much of the old cell to keep
        g  = tanh(a_g)           the candidate cell
        o  = sigma(a_o)          output gate
        c' = f * c + i * g       (elementwise products)
        h' = o * tanh(c')

    ``x`` (B, I), ``h`` and ``c`` (B, H), ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` and
    ``bias_hh`` (4H,). Return the *tuple* ``(h_next, c_next)``, two arrays of shape (B, H). (This is
    ``torch.nn.LSTMCell``.)
    """
    raise NotImplementedError("write lstm_cell_step")


def batchify_stream(tokens: np.ndarray, batch: int, bptt: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (inputs, targets) windows of truncated backpropagation through time, a list (2 points).

    ``tokens`` is the training split as one 1-D numpy array of int token ids (it starts with the ``<s>``
    id); ``batch`` >= 1 and ``bptt`` >= 1 are ints. Exactly:

    1. Cut the stream into ``batch`` *contiguous* columns of length L = len(tokens) // batch, dropping the
       remainder at the end: ``columns = tokens[:batch * L].reshape(batch, L)``, so row b of ``columns``
       holds tokens[b*L : (b+1)*L]. (Row b is one long piece of text; the model reads the B rows side by
       side, carrying each row's hidden state from one window to the next.)
    2. Read the columns in windows starting at t = 0, bptt, 2*bptt, ... while t < L - 1. Window t has
       n = min(bptt, L - 1 - t) steps: inputs ``columns[:, t:t+n]`` and targets ``columns[:, t+1:t+1+n]``,
       both of shape (batch, n). So every target is the token that follows its input; the last window may
       be shorter than ``bptt``; there is never a window without targets.

    Return a ``list`` of ``(inputs, targets)`` tuples of integer numpy arrays, in order (``[]`` when L < 2:
    a column of one token has nothing to predict).

    >>> [(i.tolist(), t.tolist()) for i, t in batchify_stream(np.arange(11), 2, 3)]    # L = 5, 10 dropped
    [([[0, 1, 2], [5, 6, 7]], [[1, 2, 3], [6, 7, 8]]), ([[3], [8]], [[4], [9]])]
    """
    raise NotImplementedError("write batchify_stream")


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Clip gradients by their global norm (Pascanu et al. 2013), as ``torch.nn.utils.clip_grad_norm_``
    does: the tuple (clipped gradients, total norm) (2 points).

        total = sqrt(sum over every array g in grads, over every entry of g, of g^2)
        scale = min(1, max_norm / (total + 1e-6))
        each clipped array = scale * g                     (the same scale for every array)

    ``total`` is the norm of all the arrays *together*, as if they were one long vector, not of each one;
    the 1e-6 is PyTorch's (it avoids 0 / 0 when every gradient is 0). Note that the scale is then already
    a little below 1 when total equals max_norm: use the formula as it is. Return the tuple
    ``(clipped, total)``: ``clipped`` a ``list`` of new arrays (same shapes, same order as ``grads``),
    ``total`` a float, the norm *before* clipping. Do not change the arrays of ``grads``.

    >>> clip_grad_norm([np.array([3.0]), np.array([4.0])], 10.0)      # total 5 <= 10: unchanged
    ([array([3.]), array([4.])], 5.0)
    """
    raise NotImplementedError("write clip_grad_norm")


def perplexity_from_loss(summed_loss_nats: float, token_count: int) -> float:
    """The perplexity from a summed cross-entropy loss, a ``float`` (1 point).

        perplexity = exp(summed_loss_nats / token_count)

    ``summed_loss_nats`` is the sum over the predicted tokens of -log p(token | context), natural logs (what
    ``F.cross_entropy(logits, targets, reduction="sum")`` gives); ``token_count`` >= 1 is how many tokens
    were predicted (every word and one ``</s>`` per sentence, never ``<s>``).

    >>> round(perplexity_from_loss(4 * math.log(7.0), 4), 6)         # each token had probability 1/7
    7.0
    """
    raise NotImplementedError("write perplexity_from_loss")
