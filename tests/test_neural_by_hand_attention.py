"""The by-hand Transformer formulas (lmcourse.neural.by_hand_attention) agree with PyTorch, with the formulas at
hand-computed points, and with the library's sampler filter."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.lm import filter_top_k_top_p
from lmcourse.neural import by_hand_attention as by_hand

TOLERANCE = 1e-10


# -- attention against PyTorch ---------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5),
       st.integers(1, 5), st.booleans(), st.sampled_from([0.1, 1.0, 3.0, 30.0]), st.integers(0, 2**16))
def test_attention_matches_torch(batch, heads, queries, keys, size, value_size, causal, scale, seed):
    keys = queries if causal else keys
    rng = np.random.default_rng(seed)
    q = scale * rng.normal(size=(batch, heads, queries, size))
    k = scale * rng.normal(size=(batch, heads, keys, size))
    v = rng.normal(size=(batch, heads, keys, value_size))
    expected = F.scaled_dot_product_attention(torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v),
                                              is_causal=causal).numpy()
    got = by_hand.scaled_dot_product_attention(q, k, v, causal)
    assert got.shape == (batch, heads, queries, value_size)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_attention_by_hand():
    q = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    v = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = 1.0 / (1.0 + math.exp(-1.0 / math.sqrt(2.0)))  # query 1's weight on key 1: e^(1/sqrt 2) / (1 + e^(1/sqrt 2))
    expected = np.array([[[[1.0, 2.0], [(1 - w) * 1 + w * 3, (1 - w) * 2 + w * 4]]]])
    np.testing.assert_allclose(by_hand.scaled_dot_product_attention(q, q, v, causal=True), expected, rtol=1e-14)
    # equal scores: each query averages the values it may see
    out = by_hand.scaled_dot_product_attention(np.ones((1, 1, 3, 2)), np.zeros((1, 1, 3, 2)),
                                               np.arange(6.0).reshape(1, 1, 3, 2), causal=True)
    np.testing.assert_allclose(out[0, 0], [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], rtol=1e-14)


def test_attention_refuses_a_causal_mask_over_more_keys_than_queries():
    with pytest.raises(ValueError, match="as many keys as queries"):
        by_hand.scaled_dot_product_attention(np.zeros((1, 1, 2, 3)), np.zeros((1, 1, 4, 3)),
                                             np.zeros((1, 1, 4, 3)), causal=True)


def test_softmax_does_not_overflow():
    assert by_hand.softmax(np.array([1000.0, 1000.0, -np.inf])).tolist() == [0.5, 0.5, 0.0]


# -- heads ---------------------------------------------------------------------------------------------------
def test_split_heads_is_multihead_attentions_layout():
    """Head h of split_heads is what nn.MultiheadAttention's head h sees: the columns h*d .. (h+1)*d - 1."""
    x = np.random.default_rng(0).normal(size=(2, 5, 12))
    split = by_hand.split_heads(x, 3)
    assert split.shape == (2, 3, 5, 4)
    for h in range(3):
        np.testing.assert_array_equal(split[:, h], x[:, :, 4 * h:4 * (h + 1)])
    np.testing.assert_array_equal(by_hand.merge_heads(split), x)
    torch_split = torch.from_numpy(x).view(2, 5, 3, 4).transpose(1, 2)  # nanoGPT's
    np.testing.assert_array_equal(split, torch_split.numpy())
    with pytest.raises(ValueError, match="do not divide"):
        by_hand.split_heads(x, 5)


def test_multi_head_attention_matches_torch():
    """split, attend, merge (no projections) is nn.MultiheadAttention with identity projections."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 6))
    layer = torch.nn.MultiheadAttention(6, 3, bias=False, batch_first=True).double()
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.cat([torch.eye(6)] * 3))
        layer.out_proj.weight.copy_(torch.eye(6))
    mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
    expected, _ = layer(*[torch.from_numpy(x)] * 3, attn_mask=mask, need_weights=False)
    heads = by_hand.split_heads(x, 3)
    got = by_hand.merge_heads(by_hand.scaled_dot_product_attention(heads, heads, heads, causal=True))
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=0, atol=TOLERANCE)


# -- positions -------------------------------------------------------------------------------------------------
def test_sinusoidal_positions_at_hand_computed_points():
    pe = by_hand.sinusoidal_positions(100, 8)
    assert pe.shape == (100, 8)
    assert pe[0].tolist() == [0.0, 1.0] * 4  # position 0: sin 0, cos 0
    assert pe[1, 0] == pytest.approx(math.sin(1.0), rel=1e-15)  # i = 0: wavelength 2 pi
    assert pe[1, 1] == pytest.approx(math.cos(1.0), rel=1e-15)
    assert pe[5, 2] == pytest.approx(math.sin(5 / 10.0), rel=1e-14)  # i = 1: 10000^(2/8) = 10
    assert pe[5, 3] == pytest.approx(math.cos(5 / 10.0), rel=1e-14)
    assert pe[7, 4] == pytest.approx(math.sin(7 / 100.0), rel=1e-14)  # i = 2: 10000^(4/8) = 100
    assert pe[99, 7] == pytest.approx(math.cos(99 / 1000.0), rel=1e-14)  # i = 3: 10000^(6/8) = 1000
    # every row has unit norm in each (sin, cos) pair
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, rtol=1e-14)
    with pytest.raises(ValueError, match="even dim"):
        by_hand.sinusoidal_positions(4, 5)


# -- the loss --------------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.sampled_from([0.0, 1000.0, -1000.0]),
       st.sampled_from([0.1, 1.0, 5.0]), st.integers(0, 2**16))
def test_cross_entropy_matches_torch(rows, vocabulary, offset, scale, seed):
    rng = np.random.default_rng(seed)
    logits = offset + scale * rng.normal(size=(rows, vocabulary))
    targets = rng.integers(0, vocabulary, size=rows)
    expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(targets)).item()
    assert by_hand.cross_entropy_from_logits(logits, targets) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_cross_entropy_by_hand():
    assert by_hand.cross_entropy_from_logits(np.zeros((3, 5)), np.array([0, 1, 4])) == pytest.approx(math.log(5))
    assert by_hand.cross_entropy_from_logits(np.array([[1000.0, 1000.0]]), np.array([1])) == pytest.approx(
        math.log(2), rel=1e-15)
    assert by_hand.cross_entropy_from_logits(np.array([[-1000.0, 0.0]]), np.array([0])) == pytest.approx(1000.0)


# -- the sampler's filters -------------------------------------------------------------------------------------
@st.composite
def distributions(draw):
    size = draw(st.integers(1, 15))
    logits = draw(st.sampled_from([0.5, 1.0, 3.0])) * np.random.default_rng(draw(st.integers(0, 2**16))).normal(
        size=size)
    if draw(st.booleans()):
        logits = np.round(logits)  # ties
    for index in draw(st.lists(st.integers(0, size - 1), max_size=size - 1, unique=True)):
        logits[index] = -np.inf
    return logits - np.logaddexp.reduce(logits)


@settings(max_examples=200, deadline=None)
@given(distributions(), st.one_of(st.none(), st.integers(1, 16)),
       st.one_of(st.none(), st.floats(0.01, 1.0)))
def test_top_k_top_p_filter_is_the_librarys(log_p, top_k, top_p):
    ours = by_hand.top_k_top_p_filter(log_p, top_k, top_p)
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(filter_top_k_top_p(log_p, top_k, top_p)))
    np.testing.assert_allclose(ours, filter_top_k_top_p(log_p, top_k, top_p), rtol=1e-12, atol=1e-12)
    assert np.isfinite(ours).sum() >= 1  # something is always kept
    assert np.exp(np.logaddexp.reduce(ours)) == pytest.approx(1.0, rel=1e-12)


def test_top_k_top_p_filter_by_hand():
    log_p = np.log([0.5, 0.3, 0.15, 0.05])
    assert np.exp(by_hand.top_k_top_p_filter(log_p, None, 0.7)) == pytest.approx([0.625, 0.375, 0, 0])
    assert np.exp(by_hand.top_k_top_p_filter(log_p, 2, None)) == pytest.approx([0.625, 0.375, 0, 0])
    assert np.exp(by_hand.top_k_top_p_filter(log_p, 1, None)) == pytest.approx([1, 0, 0, 0])
    ties = np.log([0.1, 0.4, 0.4, 0.1])
    assert np.exp(by_hand.top_k_top_p_filter(ties, 1, None)).tolist() == [0, 1, 0, 0]  # the lower id
    assert np.exp(by_hand.top_k_top_p_filter(ties, 3, None)) == pytest.approx([1 / 9, 4 / 9, 4 / 9, 0])
    assert by_hand.top_k_top_p_filter(log_p, None, None) == pytest.approx(log_p)
    before = log_p.copy()
    by_hand.top_k_top_p_filter(log_p, 2, 0.5)
    assert (log_p == before).all()  # a new array
    with pytest.raises(ValueError):
        by_hand.top_k_top_p_filter(log_p, 0, None)
    with pytest.raises(ValueError):
        by_hand.top_k_top_p_filter(log_p, None, 0.0)


def test_by_hand_attention_does_not_import_torch():
    """The grader's child process imports this module for every exercise: it must not pull in torch."""
    code = "import sys, lmcourse.neural.by_hand_attention; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
