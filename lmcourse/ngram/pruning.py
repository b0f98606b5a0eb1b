"""Count-threshold pruning of a backoff model, like ``lmplz --prune``, with renormalized backoff weights.

``thresholds[k-1] = t`` removes the N-grams of order k seen t times or fewer in training (the unigrams are
never pruned: t must be 0 for order 1, as in lmplz). An N-gram is kept anyway when a kept longer N-gram needs
it as its context (its first k-1 words) or as its suffix (its last k-1 words), so the tables stay a valid
backoff model (and a valid ARPA file). The kept N-grams keep their probabilities p*(h, w); each context's
backoff weight is then recomputed so that its distribution sums to 1 again:

    b(h) = (1 - sum_{w kept after h} p*(h, w)) / (1 - sum_{w kept after h} p(w | h'))     (``base.backoff_weights``)

(the classic renormalization after count cutoffs, as in SRILM; Stolcke 1998 discusses better criteria than
counts). lmplz differs in one detail: it folds the pruned N-grams' mass into the interpolation weights while
estimating, so its pruned probabilities are close to, not equal to, these. Pruning with all thresholds 0
changes nothing, which the tests check.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from lmcourse.errors import UserError
from lmcourse.ngram.base import BackoffModel, BackoffTables, backoff_weights, safe_log
from lmcourse.ngram.counting import OrderTable


def parse_thresholds(thresholds: Sequence[int] | str, order: int) -> list[int]:
    """``"0 0 1"`` or ``[0, 0, 1]`` -> one threshold per order; the last one repeats (as lmplz does).

    More thresholds than orders is an error (lmplz: "You specified pruning thresholds for orders 1 through
    N but the model only has order M"), as are negative, decreasing or non-integer thresholds, and a nonzero
    one for the unigrams.
    """
    if isinstance(thresholds, str):
        if not thresholds.replace(",", " ").split():
            raise UserError("--prune needs one count per order, e.g. '0 0 1' (an empty value prunes nothing: "
                            "leave --prune out)")
        try:
            thresholds = [int(x) for x in thresholds.replace(",", " ").split()]
        except ValueError:
            raise UserError(f"--prune takes integer counts per order, e.g. '0 0 1' (got {thresholds!r})") from None
    values = [int(t) for t in thresholds]
    if not values:
        return [0] * order
    if any(t < 0 for t in values):
        raise UserError(f"pruning thresholds must be >= 0 (got {values})")
    if values[0] != 0:
        raise UserError("unigrams cannot be pruned: the first threshold (order 1) must be 0, e.g. '0 0 1'")
    if any(b < a for a, b in zip(values, values[1:])):
        raise UserError(f"pruning thresholds must not decrease with the order (got {values}), as in lmplz")
    if len(values) > order:
        raise UserError(f"{len(values)} pruning thresholds (orders 1 through {len(values)}) but the model has "
                        f"order {order}: give at most {order}")
    return values + [values[-1]] * (order - len(values))


def prune(model: BackoffModel, thresholds: Sequence[int] | str) -> BackoffModel:
    """A copy of a fitted, normalized backoff model with rare N-grams removed (see the module docstring)."""
    if not isinstance(model, BackoffModel) or model.backoff is None or model.counts is None:
        raise UserError(f"pruning needs a fitted backoff model with counts (not {type(model).__name__})")
    if not model.normalized:
        raise UserError(f"{type(model).__name__} is unnormalized; pruning renormalizes, so it does not apply")
    order = model.order
    limits = parse_thresholds(thresholds, order)
    old = model.backoff
    raw_counts = {k: model.counts.tables[k].counts for k in range(1, order + 1)}
    keep = {order: raw_counts[order] > limits[order - 1]}
    for k in range(order - 1, 0, -1):
        needed = np.zeros(len(old.tables[k]), dtype=bool)
        higher = old.tables[k + 1]
        needed[higher.contexts[keep[k + 1]]] = True
        needed[higher.suffix[keep[k + 1]]] = True
        keep[k] = needed | (raw_counts[k] > limits[k - 1]) if k > 1 else np.ones(len(needed), dtype=bool)
    V = old.vocab_size
    new_row = {k: np.cumsum(keep[k]) - 1 for k in keep}
    tables: dict[int, OrderTable] = {1: old.tables[1]}
    log_prob = {1: old.log_prob[1]}
    for k in range(2, order + 1):
        t = old.tables[k]
        kept = keep[k]
        keys = new_row[k - 1][t.contexts[kept]] * V + t.words[kept]
        tables[k] = OrderTable(k, keys, t.counts[kept], new_row[k - 1][t.suffix[kept]],
                               t.starts_with_bos[kept], V)
        log_prob[k] = old.log_prob[k][kept]
    log_backoff: dict[int, np.ndarray] = {}
    for k in range(2, order + 1):
        t = tables[k]
        num_contexts = len(tables[k - 1])
        with np.errstate(under="ignore"):
            kept_mass = np.bincount(t.contexts, weights=np.exp(log_prob[k]), minlength=num_contexts)
            if k == 2:
                lower = np.exp(log_prob[1][t.words])
            else:
                lower = np.exp(log_prob[k - 1][t.suffix])
        backoff, _ = backoff_weights(t.contexts, 1.0 - kept_mass, lower, num_contexts)
        has_extensions = np.bincount(t.contexts, minlength=num_contexts) > 0
        log_backoff[k - 1] = np.where(has_extensions, safe_log(backoff), 0.0)
    pruned = copy.copy(model)
    pruned.backoff = BackoffTables(tables, log_prob, log_backoff, V, old.unseen_context_log_backoff)
    pruned.pruning_thresholds = limits
    return pruned
