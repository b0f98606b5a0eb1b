"""The Transformer by hand: the formulas of lesson 04 in plain numpy.

The Transformer of :mod:`lmcourse.neural` is a PyTorch module. The functions here compute its parts the slow,
readable way, one formula per function, with numpy only (no ``torch``: the grader imports this module in a
child process for every exercise, and importing torch takes seconds). They are the reference answers of the
exercises of lesson 04 (``lmcourse grade 04``); ``tests/test_neural_by_hand_attention.py`` checks them against
PyTorch's ``torch.nn.functional.scaled_dot_product_attention`` and ``cross_entropy``, and the filter against
the library's sampler (:func:`lmcourse.lm.filter_top_k_top_p`).

Conventions (they are PyTorch's, and nanoGPT's):

* Arrays are float64, batch first. A sequence of T vectors of D features is ``(B, T, D)``; split into H
  heads of d = D / H features it is ``(B, H, T, d)``, head h holding the features (columns) h*d .. (h+1)*d - 1.
* Queries ``q`` are ``(B, H, T, d)``; keys ``k`` are ``(B, H, S, d)`` and values ``v`` ``(B, H, S, d_v)``: T
  queries attend over S keys (S == T in a decoder, which attends over its own positions).
* Logits are ``(N, V)``: one row of V unnormalized scores per predicted token; log-probabilities are natural
  logs.

References: A. Vaswani et al., "Attention is all you need", NeurIPS 2017 (scaled dot-product attention §3.2.1,
multi-head attention §3.2.2, the causal mask of the decoder §3.2.3, sinusoidal positions §3.5); A. Radford et
al., "Language models are unsupervised multitask learners" (GPT-2, 2019); A. Fan, M. Lewis and Y. Dauphin,
"Hierarchical neural story generation", ACL 2018 (top-k sampling); A. Holtzman et al., "The curious case of
neural text degeneration", ICLR 2020 (nucleus, top-p, sampling); the PyTorch documentation of
``torch.nn.functional.scaled_dot_product_attention``, ``torch.nn.MultiheadAttention`` and
``torch.nn.functional.cross_entropy``.
"""

from __future__ import annotations

import math

import numpy as np

# The base of the wavelengths of the sinusoidal positions (Vaswani et al. 2017, §3.5).
POSITION_BASE = 10000.0


# -- building blocks ---------------------------------------------------------------------------------------
def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(s_j) / sum_j' exp(s_j') along ``axis``, computed as exp(s_j - m) / sum_j' exp(s_j' - m), m = max s.

    Subtracting the maximum changes nothing mathematically (it cancels) and keeps every exp(.) in [0, 1]: no
    overflow for large scores. Entries of -inf get probability 0 (a row needs at least one finite entry).
    """
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x)_j = (x_j - m) - log sum_j' exp(x_j' - m), m = max x: log-sum-exp, stable for any
    finite x (the most probable entry's term is exactly 0 - log(1 + small), never a difference of two huge
    numbers)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def causal_mask(length: int) -> np.ndarray:
    """The (length, length) boolean mask of the future: True at (i, j) when j > i (key j comes after query i).

    Those entries of the attention scores are set to -inf, so query i attends to keys 0 .. i only.
    """
    return np.triu(np.ones((length, length), dtype=bool), k=1)


# -- attention ---------------------------------------------------------------------------------------------
def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """Scaled dot-product attention (Vaswani et al. 2017, §3.2.1), per batch entry and head:

        Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + M) V

    where d is the size of a query (and key) vector and M is 0, or, when ``causal``, -inf at (i, j) for
    j > i (the decoder's mask, §3.2.3: query i sees keys 0 .. i). The softmax runs over the keys (the last
    axis of the (T, S) scores) and is computed stably (:func:`softmax`).

    ``q`` (B, H, T, d), ``k`` (B, H, S, d), ``v`` (B, H, S, d_v); returns (B, H, T, d_v). A causal mask needs
    S == T (a ``ValueError`` otherwise): with a cache of earlier keys the queries would be the last T
    positions, a convention this function leaves out. Equal to
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)``.
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"q, k and v must be (B, H, length, size) arrays, got shapes {q.shape}, {k.shape}, "
                         f"{v.shape}")
    if k.shape[-1] != q.shape[-1] or k.shape[:-1] != v.shape[:-1] or k.shape[:2] != q.shape[:2]:
        raise ValueError(f"q (B, H, T, d), k (B, H, S, d) and v (B, H, S, d_v) do not fit: {q.shape}, "
                         f"{k.shape}, {v.shape}")
    queries, keys, size = q.shape[2], k.shape[2], q.shape[3]
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(size)           # (B, H, T, S)
    if causal:
        if keys != queries:
            raise ValueError(f"a causal mask needs as many keys as queries (got T={queries}, S={keys})")
        scores = np.where(causal_mask(queries), -np.inf, scores)    # the future: -inf, weight 0
    weights = softmax(scores, axis=-1)                               # (B, H, T, S), each row sums to 1
    return weights @ v                                               # (B, H, T, d_v)


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(B, T, D) -> (B, heads, T, D / heads): the D features of each position cut into ``heads`` heads of
    d = D / heads features, head h taking the columns h*d .. (h+1)*d - 1 (Vaswani et al. 2017, §3.2.2).

    That is ``x.reshape(B, T, heads, d).transpose(0, 2, 1, 3)``, the layout of ``torch.nn.MultiheadAttention``
    and nanoGPT. A ``ValueError`` unless ``heads`` divides D.
    """
    x = np.asarray(x)
    batch, length, features = x.shape
    if heads < 1 or features % heads != 0:
        raise ValueError(f"{heads} heads do not divide {features} features")
    size = features // heads
    return x.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)   # (B, heads, T, d)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, d) -> (B, T, H*d), the inverse of :func:`split_heads`: the heads' outputs of each position
    side by side, head h in the columns h*d .. (h+1)*d - 1 ("concatenated", Vaswani et al. 2017, §3.2.2).

    That is ``x.transpose(0, 2, 1, 3).reshape(B, T, H * d)``.
    """
    x = np.asarray(x)
    batch, heads, length, size = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, length, heads * size)  # (B, T, H*d)


# -- positions -----------------------------------------------------------------------------------------------
def sinusoidal_positions(length: int, dim: int) -> np.ndarray:
    """The sinusoidal position encodings (Vaswani et al. 2017, §3.5), a (length, dim) array:

        PE[p, 2i]     = sin(p / 10000^(2i / dim))
        PE[p, 2i + 1] = cos(p / 10000^(2i / dim))          p = 0 .. length-1, i = 0 .. dim/2 - 1

    Each pair of columns (2i, 2i+1) is one frequency, from wavelength 2 pi (i = 0) to almost 10000 * 2 pi; sin
    in the even column, cos in the odd one. A ``ValueError`` for an odd ``dim`` (or a negative size).
    """
    if dim % 2 != 0 or dim < 0 or length < 0:
        raise ValueError(f"the sinusoidal positions need an even dim >= 0 and length >= 0 (got length={length}, "
                         f"dim={dim})")
    positions = np.arange(length, dtype=np.float64)[:, None]                    # (length, 1)
    two_i = np.arange(0, dim, 2, dtype=np.float64)                              # (dim/2,): 0, 2, 4, ...
    angles = positions / POSITION_BASE ** (two_i / dim)                         # (length, dim/2)
    encodings = np.empty((length, dim), dtype=np.float64)
    encodings[:, 0::2] = np.sin(angles)
    encodings[:, 1::2] = np.cos(angles)
    return encodings


# -- the loss and the sampler's filters ----------------------------------------------------------------------
def cross_entropy_from_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """The mean cross-entropy of the targets under the softmax of the logits, in nats, a float:

        loss = (1/N) sum_n -log softmax(logits[n])[targets[n]]
             = (1/N) sum_n ( log sum_j exp(logits[n, j]) - logits[n, targets[n]] )

    computed with log-sum-exp (:func:`log_softmax`), so that logits of 1000 or -1000 give the exact loss where
    exp overflows (or underflows to 0). ``logits`` (N, V) float, ``targets`` (N,) int ids in 0 .. V-1. This
    is ``torch.nn.functional.cross_entropy(logits, targets)`` (its default ``reduction="mean"``).
    """
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    if logits.ndim != 2 or targets.shape != logits.shape[:1] or len(targets) == 0:
        raise ValueError(f"expected logits (N, V) and targets (N,) with N >= 1, got shapes {logits.shape} and "
                         f"{targets.shape}")
    log_p = log_softmax(logits, axis=1)                                   # (N, V)
    return float(-np.mean(log_p[np.arange(len(targets)), targets]))


def top_k_top_p_filter(log_p: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """A distribution cut to its top-k (Fan et al. 2018) and its nucleus (top-p, Holtzman et al. 2020),
    renormalized: a new (V,) array of log-probabilities, -inf outside the kept ids.

    1. Order the ids from the most probable to the least, equal log-probabilities by id (the lower id
       first): ``np.argsort(-log_p, kind="stable")``. Ids of log-probability -inf are never kept.
    2. top-k: keep the first ``top_k`` ids of that order (all of them when ``top_k`` is None).
    3. top-p: renormalize the probabilities of the ids kept so far; walking in the same order, keep an id
       when the mass of the kept ids before it is < ``top_p`` (so the id whose probability makes the mass
       reach or cross p is kept: the smallest set with mass >= p). None: no top-p.
    4. Renormalize: log_p[kept] - log sum exp(log_p[kept]); -inf everywhere else.

    This is :func:`lmcourse.lm.filter_top_k_top_p`, the filter ``generate`` applies, written out; the tests
    check that the two agree. ``top_k`` an int >= 1 or None, ``top_p`` in (0, 1] or None (a ``ValueError``
    otherwise).
    """
    log_p = np.array(log_p, dtype=np.float64)                             # a copy, (V,)
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and top_k >= 1):
        raise ValueError(f"top_k must be an integer >= 1 or None (got {top_k!r})")
    if top_p is not None and not (0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1] or None (got {top_p!r})")
    order = np.argsort(-log_p, kind="stable")                             # most probable first, ties by id
    kept = order if top_k is None else order[:top_k]
    kept = kept[np.isfinite(log_p[kept])]                                 # p = 0 is never kept
    if top_p is not None and len(kept) > 0:
        probabilities = np.exp(log_p[kept] - np.logaddexp.reduce(log_p[kept]))   # renormalized over kept
        mass_before = np.cumsum(probabilities) - probabilities           # the kept ids' mass before each
        kept = kept[mass_before < top_p]
    filtered = np.full_like(log_p, -np.inf)
    if len(kept) > 0:
        filtered[kept] = log_p[kept] - np.logaddexp.reduce(log_p[kept])
    return filtered
