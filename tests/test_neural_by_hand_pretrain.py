"""The by-hand formulas of lesson 06 (lmcourse.neural.by_hand_pretrain) agree with the library's versions:
BERT's corruption (masked.corrupt), the masked LM's loss (MaskedTransformer.loss: cross-entropy with
ignore_index), pooling with a padding mask (classify.masked_mean), the accuracy's bootstrap interval
(tasks.metrics) and Naive Bayes's log-count ratios (tasks.baselines.NaiveBayes)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import vocabulary
from lmcourse.neural import by_hand_pretrain as by_hand
from lmcourse.neural import masked
from lmcourse.neural.classify import masked_mean
from lmcourse.neural.masked import MaskedLMConfig, MaskedTransformer, corrupt, mask_tokens
from lmcourse.tasks import metrics
from lmcourse.tasks.baselines import NaiveBayes, NgramFeatures

TOLERANCE = 1e-10
seeds = st.integers(0, 2**32 - 1)


def test_the_conventions_are_the_librarys():
    assert (by_hand.UNK_ID, by_hand.BOS_ID, by_hand.EOS_ID) == (vocabulary.UNK_ID, vocabulary.BOS_ID,
                                                                vocabulary.EOS_ID)
    assert by_hand.IGNORE == masked.IGNORE == -100


def test_no_torch_is_imported():
    code = "import sys, lmcourse.neural.by_hand_pretrain; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- masking ---------------------------------------------------------------------------------------------------
RATES = st.sampled_from([(0.15, 0.8, 0.1), (0.5, 0.8, 0.1), (1.0, 0.5, 0.25), (0.3, 0.0, 1.0), (0.4, 1.0, 0.0)])


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 4), st.integers(1, 20), st.integers(1, 30), RATES)
def test_bert_mask_is_the_librarys_corruption(seed, batch, length, words, rates):
    rng = np.random.default_rng(seed)
    vocab = 3 + words
    ids = rng.integers(0, vocab, size=(batch, length))
    ids[:, 0] = vocabulary.BOS_ID
    chosen_draw, how_draw = rng.random((batch, length)), rng.random((batch, length))
    random_words = rng.integers(3, vocab, size=(batch, length))
    inputs, labels = by_hand.bert_mask(ids, chosen_draw, how_draw, random_words, vocab, *rates)
    expected = corrupt(*(torch.from_numpy(a) for a in (ids, chosen_draw, how_draw, random_words)), vocab, *rates)
    assert inputs.dtype == labels.dtype == np.int64
    np.testing.assert_array_equal(inputs, expected[0].numpy())
    np.testing.assert_array_equal(labels, expected[1].numpy())


def test_bert_mask_by_hand():
    inputs, labels = by_hand.bert_mask(np.array([[1, 5, 6, 7, 8]]), np.array([[0.01, 0.1, 0.5, 0.05, 0.12]]),
                                       np.array([[0.3, 0.2, 0.9, 0.85, 0.95]]), np.array([[4, 4, 4, 3, 4]]), 9)
    assert inputs.tolist() == [[1, 9, 6, 3, 8]]          # <s> kept, 5 masked, 6 not chosen, 7 random, 8 unchanged
    assert labels.tolist() == [[-100, 5, -100, 7, 8]]


def test_bert_mask_shares_on_many_positions():
    """With the library's own draws (mask_tokens), about 15% chosen; of those 80% / 10% / 10%."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, 50, (64, 512), generator=generator)
    inputs, labels = mask_tokens(ids, 50, generator=generator)
    chosen = labels != -100
    assert chosen.float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert (inputs[chosen] == 50).float().mean().item() == pytest.approx(0.8, abs=0.01)
    assert (inputs[chosen] == ids[chosen]).float().mean().item() == pytest.approx(0.1 + 0.1 / 47, abs=0.01)


# -- the loss --------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 3), st.integers(1, 10), st.integers(4, 15), st.sampled_from([0.0, 0.2, 0.6, 1.0]))
def test_masked_lm_loss_is_cross_entropy_with_ignore_index(seed, batch, length, vocab, share):
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.normal(size=(batch, length, vocab))
    logits[..., vocabulary.BOS_ID] = -np.inf                            # never predicted, as the library's head
    labels = np.where(rng.random((batch, length)) < share, rng.choice([0, 2, *range(3, vocab)], (batch, length)),
                      -100)
    log_probs = torch.log_softmax(torch.from_numpy(logits), dim=-1).numpy()
    got = by_hand.masked_lm_loss(log_probs, labels)
    chosen = int((labels != -100).sum())
    total = F.cross_entropy(torch.from_numpy(logits).reshape(-1, vocab), torch.from_numpy(labels).reshape(-1),
                            ignore_index=-100, reduction="sum").item()
    assert isinstance(got, float)
    assert got == pytest.approx(total / max(chosen, 1), rel=TOLERANCE, abs=TOLERANCE)
    if chosen:
        mean = F.cross_entropy(torch.from_numpy(logits).reshape(-1, vocab), torch.from_numpy(labels).reshape(-1),
                               ignore_index=-100).item()
        assert got == pytest.approx(mean, rel=TOLERANCE)


def test_masked_lm_loss_is_the_masked_transformers_loss():
    """The module's loss on a corrupted batch, from its own log-probabilities (float64 weights)."""
    torch.manual_seed(0)
    config = MaskedLMConfig(vocab_size=21, layers=1, heads=2, d_model=16, context=12, dropout=0.0)
    module = MaskedTransformer(config).double().eval()
    ids = torch.randint(3, 20, (3, 12))
    ids[:, 0] = vocabulary.BOS_ID
    inputs, labels = mask_tokens(ids, config.mask_id, select=0.4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = module.loss(inputs, labels).item()
        log_probs = torch.log_softmax(module.logits(module.hidden_states(inputs)), dim=-1).numpy()
    assert np.isneginf(log_probs[..., config.mask_id]).all()           # the -inf columns do not get in the way
    # the module takes its cross-entropy in float32 (.float()): agreement to float32 rounding
    assert by_hand.masked_lm_loss(log_probs, labels.numpy()) == pytest.approx(expected, rel=1e-6)


def test_masked_lm_loss_with_nothing_chosen_is_zero():
    assert by_hand.masked_lm_loss(np.log(np.full((2, 3, 4), 0.25)), np.full((2, 3), -100)) == 0.0


# -- pooling ---------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 5), st.integers(1, 7), st.integers(1, 6), st.booleans())
def test_masked_mean_pool_is_the_librarys(seed, batch, most, width, prefix):
    rng = np.random.default_rng(seed)
    hidden = rng.normal(size=(batch, most, width)) * 3
    if prefix:
        mask = (np.arange(most)[None] < rng.integers(0, most + 1, size=batch)[:, None]).astype(np.int64)
    else:
        mask = rng.integers(0, 2, size=(batch, most))
    expected = masked_mean(torch.from_numpy(hidden), torch.from_numpy(mask)).numpy()
    np.testing.assert_allclose(by_hand.masked_mean_pool(hidden, mask), expected, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_allclose(by_hand.masked_mean_pool(hidden, mask.astype(float)), expected, rtol=TOLERANCE,
                               atol=TOLERANCE)


def test_masked_mean_pool_by_hand():
    hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [99.0, -99.0]], [[5.0, 5.0], [7.0, 7.0], [7.0, 7.0]]])
    pooled = by_hand.masked_mean_pool(hidden, np.array([[1, 1, 0], [0, 0, 0]]))
    assert pooled.tolist() == [[2.0, 3.0], [0.0, 0.0]]


# -- the interval ----------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 80), st.integers(1, 300), st.sampled_from([0.0, 0.5, 0.8, 1.0]), st.integers(0, 99))
def test_accuracy_with_interval_is_the_librarys_bootstrap(seed, documents, resamples, accuracy, boot_seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=documents)
    predictions = np.where(rng.random(documents) < accuracy, labels, 1 - labels)
    drawn = np.random.default_rng(boot_seed).integers(0, documents, size=(resamples, documents))  # the library's
    got = by_hand.accuracy_with_interval(labels, predictions, drawn)
    correct = (predictions == labels).astype(np.int64)
    low, high = metrics.bootstrap_interval(correct, resamples=resamples, seed=boot_seed)
    assert got[0] == metrics.accuracy(labels, predictions)
    assert got[1:] == pytest.approx((low, high), rel=TOLERANCE, abs=TOLERANCE)
    assert got[1] <= got[2]


def test_accuracy_with_interval_by_hand():
    got = by_hand.accuracy_with_interval(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]),
                                         np.array([[0, 1, 2, 3], [2, 2, 2, 2], [0, 0, 1, 1]]))
    assert got == pytest.approx((0.75, 0.05 * 0.75, 0.75 + 0.95 * 0.25), rel=1e-12)


# -- Naive Bayes -----------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(2, 30), st.integers(1, 25), st.sampled_from([1.0, 0.1, 0.5, 2.0]), st.booleans())
def test_log_count_ratios_are_naive_bayes(seed, documents, features, alpha, binary):
    """From a document-feature matrix: the per-class counts by hand, then r, against NaiveBayes.fit_matrix."""
    rng = np.random.default_rng(seed)
    labels = np.arange(documents) % 2                                   # both classes
    matrix = rng.integers(0, 3, size=(documents, features)) * (rng.random((documents, features)) < 0.4)
    if binary:
        matrix = (matrix > 0).astype(np.int64)
    model = NaiveBayes(alpha=alpha).fit_matrix(scipy.sparse.csr_matrix(matrix.astype(float)), labels, NgramFeatures())
    counts = np.stack([matrix[labels == 0].sum(axis=0), matrix[labels == 1].sum(axis=0)])   # (2, F)
    got = by_hand.naive_bayes_log_count_ratios(counts, alpha)
    assert got.shape == (features,)
    np.testing.assert_allclose(got, model.log_count_ratio_, rtol=TOLERANCE, atol=TOLERANCE)


def test_log_count_ratios_on_words():
    """On real words: a word only in positive documents has r > 0, one in both equally has r = log of the ratio
    of the class totals."""
    documents = [["great", "film"], ["great", "acting"], ["dull", "film"]]
    model = NaiveBayes(binary=True).fit(documents, [1, 1, 0])
    columns = model.features_.vocabulary_                               # acting, dull, film, great
    counts = np.zeros((2, len(columns)))
    for words, label in zip(documents, [1, 1, 0]):
        for word in set(words):
            counts[label, columns[word]] += 1
    r = by_hand.naive_bayes_log_count_ratios(counts)
    np.testing.assert_allclose(r, model.log_count_ratio_, rtol=1e-12)
    assert r[columns["great"]] > 0 > r[columns["dull"]]
    # p = 1 + (1, 0, 1, 2) over 8, q = 1 + (0, 1, 1, 0) over 6: film has r = log(2/8) - log(2/6)
    assert r[columns["film"]] == pytest.approx(math.log(2 / 8) - math.log(2 / 6))
