"""Lesson 04 exercises: attention, heads, positions, the loss, and the sampler's filters.

Write the six functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 04                       # a score table: points and a reason for each failure
    pytest lessons/04_transformer           # the same checks, as pytest tests

Each function is checked against the library's answer on fixed cases and on a few dozen generated inputs.
numpy only (no torch: these are the formulas PyTorch computes for you); read the notebook of this lesson first.

Conventions used by every function (they are PyTorch's and nanoGPT's):

- Arrays are float64 numpy arrays, batch first. A sequence of T vectors of D features each is an array of
  shape (B, T, D) -- B sequences side by side. Split into H heads of d = D / H features, it has shape
  (B, H, T, d), and head h holds the features (columns) h*d, ..., (h+1)*d - 1 of each position.
- Queries ``q`` have shape (B, H, T, d), keys ``k`` (B, H, S, d), values ``v`` (B, H, S, d_v): T queries
  attend over S keys. In a decoder S == T (the positions attend over the positions), and d_v is usually d,
  but not always: d is the size of a query, d_v the size of a value.
- Logits are an (N, V) array, one row of V unnormalized scores per predicted token; ``targets`` an (N,)
  array of int ids. Logs are natural logs; a log-probability of -inf means probability 0.
- Answers are compared with a tolerance of 1e-9 (relative), so a float64 answer computed in another order
  is right; a missing factor, a mask one position off, or a wrong axis is not.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """Scaled dot-product attention (Vaswani et al. 2017, section 3.2.1): an array of shape (B, H, T, d_v)
    (3 points).

    For every batch entry b and head h, with Q = q[b, h] (T, d), K = k[b, h] (S, d), V = v[b, h] (S, d_v):

        scores  = Q K^T / sqrt(d)                  (T, S): scores[i, j] = (query i) . (key j) / sqrt(d)
        scores[i, j] = -inf where j > i            only when ``causal``: query i sees keys 0 .. i
        weights = softmax of each row of scores    over the keys j (the last axis); each row sums to 1
        output  = weights V                        (T, d_v)

    d is ``q.shape[-1]`` (the size of a query, not of a value). When ``causal`` is True, S == T (you need
    not handle S != T then). Compute the softmax stably: subtract each row's maximum before ``np.exp``
    (the scores of the graded cases can be in the thousands). Return the outputs of every batch entry and
    head as one array of shape (B, H, T, d_v). (This is ``torch.nn.functional.scaled_dot_product_attention(
    q, k, v, is_causal=causal)``.) ``@`` and ``np.matmul`` work on the last two axes of 4-D arrays.

    >>> q = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])            # B = H = 1, T = 2, d = 2
    >>> v = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> scaled_dot_product_attention(q, q, v, causal=True)     # query 0 sees only key 0
    array([[[[1.       , 2.       ],
             [2.3395231, 3.3395231]]]])
    """
    raise NotImplementedError("write scaled_dot_product_attention")


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """Cut the features of every position into ``heads`` heads: an array of shape (B, heads, T, d) (1 point).

    ``x`` has shape (B, T, D) and ``heads`` divides D; d = D // heads. Head h takes the *contiguous*
    columns h*d, ..., (h+1)*d - 1 of each position: ``out[b, h, t, :] == x[b, t, h*d:(h+1)*d]``. (This is
    the layout of ``torch.nn.MultiheadAttention`` and nanoGPT. One reshape and one transpose do it.)

    >>> split_heads(np.arange(8.0).reshape(1, 2, 4), 2)     # T = 2 positions of D = 4 features, 2 heads
    array([[[[0., 1.],
             [4., 5.]],
    <BLANKLINE>
            [[2., 3.],
             [6., 7.]]]])
    """
    raise NotImplementedError("write split_heads")


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Put the heads back side by side: an array of shape (B, T, H*d) (1 point).

    ``x`` has shape (B, H, T, d). The inverse of ``split_heads``: ``out[b, t, h*d:(h+1)*d] == x[b, h, t, :]``,
    so ``merge_heads(split_heads(x, heads))`` equals ``x``. (This is the "concatenation" of the heads'
    outputs in multi-head attention, Vaswani et al. 2017, section 3.2.2.)

    >>> merge_heads(np.array([[[[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0], [6.0, 7.0]]]]))   # (1, 2, 2, 2)
    array([[[0., 1., 2., 3.],
            [4., 5., 6., 7.]]])
    """
    raise NotImplementedError("write merge_heads")


def sinusoidal_positions(length: int, dim: int) -> np.ndarray:
    """The sinusoidal position encodings of Vaswani et al. 2017 (section 3.5): an array of shape
    (length, dim) (1 point).

        PE[p, 2i]     = sin(p / 10000 ** (2i / dim))
        PE[p, 2i + 1] = cos(p / 10000 ** (2i / dim))        p = 0, ..., length - 1;  i = 0, ..., dim/2 - 1

    Row p encodes position p (the first position is 0). Columns 2i and 2i+1 share one frequency: sin in
    the even column, cos in the odd one right after it (interleaved, not all the sines first). ``length``
    >= 1 and ``dim`` >= 2 are ints, ``dim`` even.

    >>> sinusoidal_positions(3, 4)
    array([[ 0.        ,  1.        ,  0.        ,  1.        ],
           [ 0.84147098,  0.54030231,  0.00999983,  0.99995   ],
           [ 0.90929743, -0.41614684,  0.01999867,  0.99980001]])
    """
    raise NotImplementedError("write sinusoidal_positions")


def cross_entropy_from_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """The mean cross-entropy, in nats, of the targets under the softmax of the logits: a ``float``
    (2 points).

        loss = (1/N) * sum over n of  -log softmax(logits[n])[targets[n]]
        -log softmax(x)[t] = log(sum over j of exp(x[j])) - x[t]

    ``logits`` has shape (N, V), ``targets`` shape (N,) (int ids in 0 .. V-1, one per row). Compute it with
    log-sum-exp: log(sum_j exp(x[j])) = m + log(sum_j exp(x[j] - m)) with m = max_j x[j]. The graded logits
    include values like 1000 and -1000, where ``np.exp(x)`` overflows to inf (or underflows to 0) and the
    naive formula gives nan or inf; the answer there is an ordinary number. Return the *mean* over the N
    rows, as a float. (This is ``torch.nn.functional.cross_entropy(logits, targets)``.)

    >>> round(cross_entropy_from_logits(np.array([[1000.0, 1000.0], [0.0, math.log(3.0)]]),
    ...                                 np.array([0, 1])), 6)      # (log 2 + log(4/3)) / 2
    0.490415
    """
    raise NotImplementedError("write cross_entropy_from_logits")


def top_k_top_p_filter(log_p: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """Keep the top-k ids (Fan et al. 2018), then the nucleus (top-p, Holtzman et al. 2020) of what is left,
    renormalized: a new array of shape (V,) of log-probabilities, -inf outside the kept ids (2 points).

    ``log_p`` has shape (V,): the log-probabilities of the next token (some may be -inf). Exactly:

    1. Order the ids from the most probable to the least; ids with equal log-probabilities by id, the lower
       id first (``np.argsort(-log_p, kind="stable")`` gives this order). An id of log-probability -inf is
       never kept.
    2. top-k: keep the first ``top_k`` ids of that order (all ids when ``top_k`` is None). So a tie at the
       k-th place keeps the lower id.
    3. top-p: renormalize the probabilities of the ids kept so far, so that they sum to 1. Walking in the
       same order, keep an id when the total probability of the kept ids *before* it is < ``top_p``. So the
       id whose probability makes the total reach or pass p is kept: the nucleus is the smallest set of
       most probable ids with total >= p. (Nothing to do when ``top_p`` is None.)
    4. Return log_p renormalized over the kept ids, log_p[j] - log(sum over kept j' of exp(log_p[j'])) for a
       kept id j, and -inf for every other id. Do not change the array ``log_p``.

    ``top_k`` is an int >= 1 or None; ``top_p`` a float in (0, 1] or None.

    >>> np.exp(top_k_top_p_filter(np.log(np.array([0.5, 0.3, 0.15, 0.05])), None, 0.7))   # 0.5 < 0.7: keep 2
    array([0.625, 0.375, 0.   , 0.   ])
    """
    raise NotImplementedError("write top_k_top_p_filter")
