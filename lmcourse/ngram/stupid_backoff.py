"""Stupid backoff (Brants et al. 2007, "Large Language Models in Machine Translation").

    S(w | h) = c(h, w) / c(h)            if c(h, w) > 0
             = alpha * S(w | h')         otherwise          (alpha = 0.4)
    S(w)     = c(w) / (number of predicted training tokens)

UNNORMALIZED: these are *scores*, not probabilities. They do not sum to 1 over the vocabulary (usually more),
so a "perplexity" from them means nothing and is never reported; the model is meant for ranking and for very
large corpora where normalizing is too costly. Words never seen in training score 0.
"""

from __future__ import annotations

import math

import numpy as np

from lmcourse.errors import UserError
from lmcourse.ngram.base import BackoffModel, BackoffTables, safe_log
from lmcourse.ngram.counting import NgramCounts
from lmcourse.ngram.mle import relative_frequencies


class StupidBackoff(BackoffModel):
    """Relative frequency of the longest seen N-gram, times alpha per backoff step. Not a probability."""

    smoothing = "stupid"
    normalized = False

    def __init__(self, order: int, alpha: float = 0.4):
        super().__init__(order)
        if not 0 < alpha <= 1:
            raise UserError(f"stupid backoff needs 0 < alpha <= 1 (got {alpha}); Brants et al. use 0.4")
        self.alpha = float(alpha)

    def _estimate(self, counts: NgramCounts) -> BackoffTables:
        log_prob, log_backoff = {}, {}
        for k in range(1, self.order + 1):
            prob, _ = relative_frequencies(counts, k)
            log_prob[k] = safe_log(prob)
            if k > 1:
                log_backoff[k - 1] = np.full(len(counts.tables[k - 1]), math.log(self.alpha))
        return BackoffTables(dict(counts.tables), log_prob, log_backoff, counts.vocab_size,
                             unseen_context_log_backoff=math.log(self.alpha))

    def describe(self) -> dict:
        return {**super().describe(), "alpha": self.alpha}
