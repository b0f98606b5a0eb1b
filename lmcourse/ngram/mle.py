"""Maximum likelihood: relative frequencies, no smoothing.

    p(w | h) = c(h, w) / sum_v c(h, v)

An unseen word after a seen context gets probability 0, so a test set with one unseen N-gram has infinite
perplexity: that is the problem smoothing solves. A context that was never seen at all has no estimate;
then (as every model here) we use the longest seen suffix of the context, so every distribution still sums
to 1. The unigrams are p(w) = c(w) / (number of predicted training tokens).
"""

from __future__ import annotations

import numpy as np

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.ngram.base import BackoffModel, BackoffTables, safe_log
from lmcourse.ngram.counting import NgramCounts


def relative_frequencies(counts: NgramCounts, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(c(h, w) / c(h) for every stored k-gram, c(h) for every context row) from raw counts."""
    table = counts.tables[k]
    totals = counts.context_totals(k)
    raw = table.counts.astype(np.float64)
    if k == 1:
        raw = raw.copy()
        raw[BOS_ID] = 0.0
        totals = np.array([raw.sum()])
    return raw / np.where(totals > 0, totals, 1.0)[table.contexts], totals


class MaximumLikelihood(BackoffModel):
    """Unsmoothed relative frequencies (the MLE); seen contexts give unseen words probability 0."""

    smoothing = "mle"

    def _estimate(self, counts: NgramCounts) -> BackoffTables:
        log_prob, log_backoff = {}, {}
        for k in range(1, self.order + 1):
            prob, totals = relative_frequencies(counts, k)
            log_prob[k] = safe_log(prob)
            if k > 1:
                # a seen context has no mass left for the lower order (b = 0); an unseen one passes through
                log_backoff[k - 1] = np.where(totals > 0, -np.inf, 0.0)
        return BackoffTables(dict(counts.tables), log_prob, log_backoff, counts.vocab_size)
