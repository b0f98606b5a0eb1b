"""Additive (Lidstone) smoothing; add-one is Laplace.

    p(w | h) = (c(h, w) + k) / (c(h) + k * |V'|)

where h is the full context (the last N-1 tokens, fewer at a sentence start), c(h) = sum_v c(h, v), and V'
the predictable ids (every word, <unk> and </s>; not <s>). An unseen context gives the uniform 1 / |V'|.
No lower orders are consulted: this is the simplest smoothing, and a weak one because it moves far too much
mass to unseen events when |V'| is large (Chen & Goodman 1998, sec. 2.1; Jurafsky & Martin, ch. 3).
"""

from __future__ import annotations

import math

import numpy as np

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.errors import UserError
from lmcourse.ngram.base import NgramModel
from lmcourse.ngram.counting import NOT_IN_MODEL, NgramCounts, lookup_context, lookup_stream


class Additive(NgramModel):
    """Add-k (Lidstone) smoothing of the order-N relative frequencies; ``k=1`` is Laplace."""

    smoothing = "addk"

    def __init__(self, order: int, k: float = 1.0):
        super().__init__(order)
        if not (math.isfinite(k) and k > 0):
            raise UserError(f"add-k smoothing needs a finite k > 0 (got {k}); k = 0 is the MLE (--smoothing mle)")
        self.k = float(k)
        #: c(h) for every context row of each order (order 1: one row, the number of predicted tokens)
        self.totals: dict[int, np.ndarray] = {}
        #: |V'|, the number of predictable ids (every id but <s>)
        self.outcomes = 0

    def _fit_counts(self, counts: NgramCounts) -> None:
        self.totals = {j: counts.context_totals(j) for j in range(1, self.order + 1)}
        self.totals[1] = np.array([counts.tables[1].counts.sum()], dtype=np.float64)
        self.outcomes = counts.vocab_size - 1

    def log_probs(self, split) -> np.ndarray:
        self._require_fitted()
        tables = self.counts.tables
        lookup = lookup_stream(tables, self.vocab_size, split.tokens, split.sentence_starts)
        ids = lookup.ngram[1]
        count = tables[1].counts[ids].astype(np.float64)
        total = np.full(len(ids), self.totals[1][0])
        for j in range(2, self.order + 1):
            ngram, context = lookup.ngram[j], lookup.context[j]
            longer = context != -1  # this order's context exists in the text (seen in training or not)
            seen_context = context >= 0
            seen = ngram >= 0
            count = np.where(longer, 0.0, count)
            total = np.where(longer, 0.0, total)
            count[seen] = tables[j].counts[ngram[seen]]
            total[seen_context] = self.totals[j][context[seen_context]]
        return np.log((count + self.k) / (total + self.k * self.outcomes))

    def log_distribution(self, context=None) -> np.ndarray:
        self._require_fitted()
        V = self.vocab_size
        tables = self.counts.tables
        context_ids = self._context_ids(context)
        rows = lookup_context(tables, V, context_ids)
        counts = tables[1].counts.astype(np.float64).copy()
        counts[BOS_ID] = 0.0
        total = self.totals[1][0]
        if rows:
            j = max(rows)
            row = rows[j]
            counts = np.zeros(V)
            total = 0.0
            if row != NOT_IN_MODEL:
                keys = tables[j].keys
                lo, hi = np.searchsorted(keys, [row * V, (row + 1) * V])
                counts[keys[lo:hi] - row * V] = tables[j].counts[lo:hi]
                total = self.totals[j][row]
        with np.errstate(divide="ignore"):
            log_p = np.log((counts + self.k) / (total + self.k * self.outcomes))
        log_p[BOS_ID] = -np.inf
        return log_p

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k}
