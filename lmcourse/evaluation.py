"""The evaluation convention, written once and used by every model in the course.

A model is scored on a split's token stream (see :class:`lmcourse.data.EncodedSplit`): it gives one
natural-log probability ``log p(token_i | context_i)`` for every *predicted token*, i.e. every word and one
``</s>`` per sentence. ``<s>`` is context only and never predicted; ``<unk>`` is an ordinary token. Then

    total NLL      = - sum_i log p(token_i | context_i)                (nats)
    perplexity     = exp(total NLL / number of predicted tokens)
    cross-entropy  = total NLL / (number of predicted tokens * ln 2)   (bits per token)

On a character corpus every predicted token is one character (``</s>`` stands for the newline), so the
cross-entropy in bits per token *is* bits per character.

Because every model predicts exactly the same tokens, their perplexities are directly comparable.
"""

from __future__ import annotations

import math

import numpy as np


def perplexity_from_nll(total_nll_nats: float, predicted_tokens: int) -> float:
    """exp(total NLL / predicted tokens); ``inf`` where some token had probability 0 (or beyond ~1.8e308)."""
    if predicted_tokens <= 0:
        raise ValueError("perplexity needs at least one predicted token")
    try:
        return math.exp(total_nll_nats / predicted_tokens)
    except OverflowError:  # beyond the largest float
        return math.inf


def evaluate_log_probs(log_probs: np.ndarray, level: str = "word") -> dict:
    """Sum up per-token natural-log probabilities into the course's figures.

    Returns ``nll_nats`` (total), ``predicted_tokens``, ``perplexity`` and ``cross_entropy_bits`` (per
    token); on a character corpus also ``bits_per_character``. A token of probability 0 (log = -inf)
    makes the perplexity ``inf``.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 1 or len(log_probs) == 0:
        raise ValueError("log_probs must be a non-empty 1-D array, one entry per predicted token")
    if np.any(log_probs > 1e-9) or np.any(np.isnan(log_probs)):
        raise ValueError("log_probs must be log-probabilities (<= 0, no NaN)")
    total_nll = float(-log_probs.sum())
    count = len(log_probs)
    result = {
        "nll_nats": total_nll,
        "predicted_tokens": count,
        "perplexity": perplexity_from_nll(total_nll, count),
        "cross_entropy_bits": total_nll / count / math.log(2),
    }
    if level == "char":
        result["bits_per_character"] = result["cross_entropy_bits"]
    return result
