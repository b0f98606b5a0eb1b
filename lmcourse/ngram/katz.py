"""Katz backoff with Good-Turing discounting (Katz 1987; Good 1953; Chen & Goodman 1998, sec. 2.4).

Good-Turing says an N-gram seen r times "really" occurs r* = (r + 1) n_{r+1} / n_r times, where n_r is the
number of N-grams (of that order) seen r times. Katz trusts large counts (r > K = 5) and discounts small ones:

    d_r = (r*/r - (K+1) n_{K+1} / n_1) / (1 - (K+1) n_{K+1} / n_1)        for 1 <= r <= K,   d_r = 1 above

(a d_r outside (0, 1] -- sparse count-of-counts -- is replaced by 1). Then

    p(w | h) = d_{c(h,w)} * c(h, w) / c(h)                    if c(h, w) > 0
             = alpha(h) * p(w | h')                           otherwise
    alpha(h) = (1 - sum_{w seen after h} p(w | h)) / (1 - sum_{w seen after h} p(w | h'))
                                                          (``base.backoff_weights``)

so every distribution sums to 1. The unigrams are discounted the same way and the freed mass is spread
uniformly over the predictable ids (so words never seen in training get a small probability). If every
predictable word was seen after h there is nothing to back off to; the freed mass is then added in
proportion to p(w | h') (interpolation) for that context. And if every count after h is above K, Good-Turing
frees no mass at all and unseen words would get probability 0; for such a context we reserve Witten-Bell's
share T(h) / (c(h) + T(h)) (T(h) = number of distinct words seen after h) by scaling its seen estimates
by 1 - T(h) / (c(h) + T(h)) (Witten & Bell 1991), so that no probability is 0.
"""

from __future__ import annotations

import numpy as np

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.ngram.base import BackoffModel, BackoffTables, backoff_weights, lower_order_probs, safe_log
from lmcourse.ngram.counting import NgramCounts
from lmcourse.ngram.mle import relative_frequencies

KATZ_MAX_DISCOUNTED_COUNT = 5


def good_turing_discounts(counts: np.ndarray, max_count: int = KATZ_MAX_DISCOUNTED_COUNT) -> np.ndarray:
    """d_r for r = 0..max_count+1 (d_0 unused, d_r = 1 for r > max_count), Katz's formula above.

    d_r = 1 where the formula cannot be used: n_1 = 0, n_r = 0, (K+1) n_{K+1} >= n_1, or d_r outside (0, 1].
    Whether 0 < d_r <= 1 is decided in whole numbers (``by_hand.katz_discount`` writes it out), so that a d_r
    of exactly 0 does not come out of rounding as a tiny positive discount.
    """
    n = [int(x) for x in NgramCounts.count_of_counts(counts, up_to=max_count + 1)]  # Python ints: no overflow
    d = np.ones(max_count + 2)
    k = max_count
    if n[1] == 0 or (k + 1) * n[k + 1] >= n[1]:
        return d
    common = (k + 1) * n[k + 1] / n[1]
    for r in range(1, k + 1):
        positive = (r + 1) * n[r + 1] * n[1] > r * n[r] * (k + 1) * n[k + 1]  # r*/r > common
        at_most_one = (r + 1) * n[r + 1] <= r * n[r]  # r* <= r
        if n[r] == 0 or not (positive and at_most_one):
            continue
        r_star = (r + 1) * n[r + 1] / n[r]
        d[r] = (r_star / r - common) / (1 - common)
    return d


class KatzBackoff(BackoffModel):
    """Katz backoff: Good-Turing discounted relative frequencies, backing off with normalizing alphas."""

    smoothing = "katz"

    def __init__(self, order: int):
        super().__init__(order)
        self.good_turing: dict[int, list[float]] = {}

    def _estimate(self, counts: NgramCounts) -> BackoffTables:
        V = counts.vocab_size
        log_prob, log_backoff = {}, {}
        prob_lower = None
        for k in range(1, self.order + 1):
            table = counts.tables[k]
            raw = table.counts.copy()
            if k == 1:
                raw[BOS_ID] = 0
            d = good_turing_discounts(raw)
            self.good_turing[k] = [float(x) for x in d[1:KATZ_MAX_DISCOUNTED_COUNT + 1]]
            relative, totals = relative_frequencies(counts, k)
            discounted = d[np.minimum(raw, len(d) - 1)] * relative
            contexts = table.contexts
            num_contexts = len(totals)
            seen = raw > 0
            lower = lower_order_probs(table, prob_lower)
            left = 1.0 - np.bincount(contexts, weights=discounted, minlength=num_contexts)
            types = np.bincount(contexts, weights=seen.astype(np.float64), minlength=num_contexts)
            no_mass = (left <= 1e-12) & (totals > 0)
            if no_mass.any():  # Witten-Bell reserve where Good-Turing discounted nothing (see docstring)
                reserve = np.where(no_mass, types / np.maximum(totals + types, 1.0), 0.0)
                discounted = discounted * (1.0 - reserve[contexts])
                left = np.where(no_mass, reserve, left)
            alpha, every_word_seen = backoff_weights(contexts, left, np.where(seen, lower, 0.0), num_contexts)
            # the unigrams interpolate with the uniform distribution; so does a context after which every
            # word was seen (nothing to back off to)
            interpolate = np.ones(1, dtype=bool) if k == 1 else every_word_seen
            prob = discounted + np.where(interpolate[contexts], np.maximum(left, 0.0)[contexts] * lower, 0.0)
            if k == 1:
                prob[BOS_ID] = 0.0
            else:
                log_backoff[k - 1] = np.where(totals > 0, safe_log(alpha), 0.0)
            log_prob[k] = safe_log(prob)
            prob_lower = prob
        return BackoffTables(dict(counts.tables), log_prob, log_backoff, V)

    def describe(self) -> dict:
        return {**super().describe(), "good_turing_discounts": {str(k): v for k, v in self.good_turing.items()}}
