"""Sampling filters: top-k and the nucleus (top-p) keep the right words and renormalize."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lmcourse.errors import UserError
from lmcourse.lm import filter_top_k_top_p, sample_from_log_probs

log_probs = arrays(np.float64, st.integers(2, 30), elements=st.floats(-20, 0)).map(
    lambda a: a - np.logaddexp.reduce(a))


@given(log_p=log_probs, k=st.integers(1, 40))
def test_top_k_keeps_the_k_most_probable_and_sums_to_one(log_p, k):
    kept = filter_top_k_top_p(log_p, top_k=k)
    finite = np.isfinite(kept)
    assert finite.sum() == min(k, len(log_p))
    assert np.isclose(np.exp(kept[finite]).sum(), 1)
    assert log_p[finite].min() >= log_p[~finite].max(initial=-np.inf)     # nothing better was dropped


@given(log_p=log_probs, p=st.floats(0.01, 1.0))
def test_the_nucleus_is_the_smallest_top_set_reaching_p(log_p, p):
    kept = filter_top_k_top_p(log_p, top_p=p)
    finite = np.isfinite(kept)
    probs = np.exp(log_p)
    assert probs[finite].sum() >= p - 1e-12                                 # it reaches p ...
    assert probs[finite].sum() - probs[finite].min() < p + 1e-12            # ... and one word fewer does not
    assert probs[finite].min() >= probs[~finite].max(initial=0)
    np.testing.assert_allclose(np.exp(kept[finite]), probs[finite] / probs[finite].sum())


def test_a_worked_example_and_ties_broken_by_id():
    log_p = np.log([0.1, 0.4, 0.2, 0.2, 0.1])
    assert np.isfinite(filter_top_k_top_p(log_p, top_k=2)).tolist() == [False, True, True, False, False]
    assert np.isfinite(filter_top_k_top_p(log_p, top_p=0.5)).tolist() == [False, True, True, False, False]
    assert np.isfinite(filter_top_k_top_p(log_p, top_p=0.4)).tolist() == [False, True, False, False, False]
    both = filter_top_k_top_p(log_p, top_k=3, top_p=0.9)                   # 0.4 0.2 0.2 renormalized: 0.5 0.25
    np.testing.assert_allclose(np.exp(both[[1, 2, 3]]), [0.5, 0.25, 0.25])


def test_top_k_one_is_greedy():
    rng = np.random.default_rng(0)
    log_p = np.array([-np.inf, -np.inf, -np.inf, np.log(0.3), np.log(0.7)])
    assert {sample_from_log_probs(log_p, 1.0, rng, top_k=1) for _ in range(20)} == {4}


@pytest.mark.parametrize("options, message", [({"top_k": 0}, "top-k must be"), ({"top_p": 0.0}, "top-p must be"),
                                              ({"top_p": 1.5}, "top-p must be")])
def test_bad_filters_are_one_line_errors(options, message):
    with pytest.raises(UserError, match=message):
        filter_top_k_top_p(np.log([0.5, 0.5]), **options)
