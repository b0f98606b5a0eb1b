"""Absolute discounting and the Kneser-Ney family, in one implementation with three switches.

All four models subtract a discount D from every seen count and give the freed mass to a lower order:

    p(w | h) = max(a(h, w) - D(a(h, w)), 0) / sum_v a(h, v)  +  gamma(h) * p(w | h')        (interpolated)
    gamma(h) = sum_{r=1,2,3+} D_r * N_r(h) / sum_v a(h, v)      N_r(h) = #words w with a(h, w) = r (3+: >= 3)

and the unigrams interpolate with the uniform distribution over the predictable ids (all but <s>):
p(w) = max(a(w) - D, 0) / sum_v a(v) + gamma * 1 / (V - 1). The switches:

* ``counts``: "raw" uses the counts c at every order (absolute discounting, Ney, Essen & Kneser 1994);
  "continuation" uses Kneser-Ney's adjusted counts a at the lower orders (the number of distinct words
  seen before the N-gram; N-grams that start with <s> keep raw counts; see ``NgramCounts.kneser_ney_counts``)
  (Kneser & Ney 1995).
* ``discounts``: "one" is one D per order, D = n1 / (n1 + 2 n2) (Ney et al. 1994); "three" is modified
  Kneser-Ney's D1, D2, D3+ per order (Chen & Goodman 1998, eq. 26):

      Y = n1 / (n1 + 2 n2),   D_r = r - (r + 1) * Y * n_{r+1} / n_r      (r = 1, 2, 3)

  where n_r counts the N-grams of that order with (adjusted) count r. Where a count-of-counts is 0 or a
  discount falls outside [0, r], KenLM's ``--discount_fallback`` values are used (0.5, 1, 1.5).
* ``interpolate``: True mixes every seen N-gram with the lower order (above). False is *backoff* KN: a seen
  N-gram gets only its discounted estimate, and the lower order is used (scaled) only for unseen words:

      p(w | h) = (a(h, w) - D) / sum_v a(h, v)               if a(h, w) > 0
               = beta(h) * p(w | h')                          otherwise
      beta(h)  = (1 - sum_{w seen} (a(h, w) - D) / sum_v a(h, v)) / (1 - sum_{w seen} p(w | h'))
                                                                     (``base.backoff_weights``)

Interpolated modified Kneser-Ney with KenLM's conventions (one <s>, adjusted counts, uniform base over the
vocabulary without <s>) reproduces ``lmplz``'s estimates (Heafield et al. 2013, "Scalable Modified
Kneser-Ney Language Model Estimation").

One known difference from lmplz, in the discounts only: lmplz (lm/builder/adjust_counts.cc, the loop after
"This outputs the last n-grams") adds the *last* N-gram of each lower order, in its suffix-sorted order, to
the count-of-counts with its raw count instead of its adjusted count. For the unigrams that is the word that
first appears latest in the training text (lmplz numbers words by first appearance). On Brown it is
"gorboduc", raw count 7, adjusted count 1, so lmplz's unigram n1 is 68 where Chen & Goodman's definition,
used here, gives 69: lmplz's unigram discounts are 0.219355, 0.798081, 1.39206 and ours 0.221865, 0.784327,
1.37366. At orders 2..N-1 the same substitution concerns one N-gram among hundreds of thousands: there our
discounts agree with lmplz's (printed to 6 digits) within 1e-5, relative. tests/test_ngram_kenlm.py
reproduces lmplz's unigram discounts by making that substitution; the library keeps the textbook
definition, which does not depend on the order of the words in the corpus.
"""

from __future__ import annotations

import numpy as np

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.ngram.base import BackoffModel, BackoffTables, backoff_weights, lower_order_probs, safe_log
from lmcourse.ngram.counting import NgramCounts

FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback default


def modified_discounts(count_of_counts: np.ndarray) -> tuple[float, float, float]:
    """(D1, D2, D3+) from n_1..n_4 (Chen & Goodman 1998, eq. 26); the fallback where undefined."""
    n = [int(count) for count in count_of_counts[:5]]
    if any(count == 0 for count in n[1:5]):
        return FALLBACK_DISCOUNTS
    # D_r <= r always holds; D_r >= 0 exactly when r n_r (n1 + 2 n2) >= (r + 1) n1 n_{r+1}, decided in
    # whole numbers so that a D_r of exactly 0 is not lost to rounding.
    if any(r * n[r] * (n[1] + 2 * n[2]) < (r + 1) * n[1] * n[r + 1] for r in (1, 2, 3)):
        return FALLBACK_DISCOUNTS
    y = n[1] / (n[1] + 2 * n[2])
    return tuple(max(r - (r + 1) * y * n[r + 1] / n[r], 0.0) for r in (1, 2, 3))


def single_discount(count_of_counts: np.ndarray) -> float:
    """D = n1 / (n1 + 2 n2) (Ney, Essen & Kneser 1994); 0.5 where there are no singletons/doubletons."""
    n1, n2 = float(count_of_counts[1]), float(count_of_counts[2])
    if n1 == 0 or n2 == 0:
        return 0.5
    return n1 / (n1 + 2 * n2)


def sum_per_context(contexts: np.ndarray, values: np.ndarray, num_contexts: int) -> np.ndarray:
    """sum of ``values`` over the N-grams of each context: result[h] = sum_{g with context h} values[g]."""
    return np.bincount(contexts, weights=values, minlength=num_contexts)


class DiscountingModel(BackoffModel):
    """The shared implementation (see the module docstring); use the four named subclasses."""

    counts_kind = "continuation"
    discounts_kind = "three"
    interpolate = True

    def __init__(self, order: int):
        super().__init__(order)
        self.discounts: dict[int, tuple[float, ...]] = {}
        #: per order: True where the counts-of-counts do not define the discounts and the fallback is used
        self.discount_fallback: dict[int, bool] = {}

    def _adjusted_counts(self, counts: NgramCounts) -> dict[int, np.ndarray]:
        if self.counts_kind == "continuation":
            return counts.kneser_ney_counts()
        raw = {k: t.counts.copy() for k, t in counts.tables.items()}
        raw[1][BOS_ID] = 0
        return raw

    def _discount_per_ngram(self, k: int, adjusted: np.ndarray) -> np.ndarray:
        """D(a) for every N-gram of order k: D_1, D_2, D_3+ by count (0 for a = 0)."""
        table = np.zeros(4)
        table[1:] = self.discounts[k] if len(self.discounts[k]) == 3 else self.discounts[k] * 3
        return table[np.minimum(adjusted, 3)]

    def _estimate(self, counts: NgramCounts) -> BackoffTables:
        adjusted = self._adjusted_counts(counts)
        V = counts.vocab_size
        for k in range(1, self.order + 1):
            n = NgramCounts.count_of_counts(adjusted[k])
            self.discounts[k] = (modified_discounts(n) if self.discounts_kind == "three"
                                 else (single_discount(n),))
            self.discount_fallback[k] = (self.discounts[k] is FALLBACK_DISCOUNTS if self.discounts_kind == "three"
                                         else n[1] == 0 or n[2] == 0)
        log_prob: dict[int, np.ndarray] = {}
        log_backoff: dict[int, np.ndarray] = {}
        prob_lower = None
        for k in range(1, self.order + 1):
            table = counts.tables[k]
            adjusted_k = adjusted.pop(k)  # each order's adjusted counts are needed once: free them as we go
            a = adjusted_k.astype(np.float64)
            discount = self._discount_per_ngram(k, adjusted_k)  # 0 where a = 0
            del adjusted_k
            num_contexts = 1 if k == 1 else len(counts.tables[k - 1])
            contexts = table.contexts
            totals = sum_per_context(contexts, a, num_contexts)
            freed = sum_per_context(contexts, discount, num_contexts)
            has_data = totals > 0
            safe_totals = np.where(has_data, totals, 1.0)
            gamma = np.where(has_data, freed / safe_totals, 1.0)
            seen = None if self.interpolate or k == 1 else a > 0
            a -= discount  # a is now the discounted count a(h, w) - D(a(h, w)) >= 0 (D_r <= r)
            del discount
            np.maximum(a, 0.0, out=a)
            a /= safe_totals[contexts]
            discounted = a
            lower = lower_order_probs(table, prob_lower)
            if k == 1 and not has_data[0]:
                gamma[:] = 1.0  # nothing counted at all: the uniform distribution
            if self.interpolate or k == 1:
                lower *= gamma[contexts]
                prob = np.add(discounted, lower, out=discounted)
                del lower
                backoff = gamma
            else:
                # backoff KN: seen N-grams keep their discounted estimate; beta(h) rescales p(. | h')
                backoff, every_word_seen = backoff_weights(contexts, gamma, np.where(seen, lower, 0.0),
                                                           num_contexts)
                # if every word was seen after h there is nothing to back off to: interpolate instead
                full = every_word_seen[contexts]
                prob = discounted + np.where(full, gamma[contexts] * lower, 0.0)
                prob = np.where(seen | full, prob, 0.0)
            del contexts
            if k == 1:
                prob[BOS_ID] = 0.0
            log_prob[k] = safe_log(prob)
            if k > 1:
                # the backoff weight belongs to the context (an N-gram of order k-1)
                log_backoff[k - 1] = np.where(has_data, safe_log(backoff), 0.0)
            prob_lower = prob
        return BackoffTables(dict(counts.tables), log_prob, log_backoff, V)

    def describe(self) -> dict:
        result = super().describe()
        result["discounts"] = {str(k): list(d) for k, d in self.discounts.items()}
        result["discount_fallback"] = {str(k): bool(f) for k, f in self.discount_fallback.items()}
        return result


class AbsoluteDiscounting(DiscountingModel):
    """Interpolated absolute discounting: raw counts, one discount per order (Ney et al. 1994)."""

    smoothing = "absdisc"
    counts_kind, discounts_kind, interpolate = "raw", "one", True


class KneserNey(DiscountingModel):
    """Interpolated Kneser-Ney with one discount per order (Kneser & Ney 1995; Chen & Goodman 1998)."""

    smoothing = "kn"
    counts_kind, discounts_kind, interpolate = "continuation", "one", True


class ModifiedKneserNey(DiscountingModel):
    """Interpolated modified Kneser-Ney: D1, D2, D3+ per order (Chen & Goodman 1998); KenLM's lmplz."""

    smoothing = "mkn"
    counts_kind, discounts_kind, interpolate = "continuation", "three", True


class BackoffKneserNey(DiscountingModel):
    """Backoff (non-interpolated) Kneser-Ney, one discount per order (Kneser & Ney 1995's original form)."""

    smoothing = "kn-backoff"
    counts_kind, discounts_kind, interpolate = "continuation", "one", False
