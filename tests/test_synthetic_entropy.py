"""The exact entropy and expectations of a PCFG, against closed forms and against Monte-Carlo estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.errors import UserError
from lmcourse.synthetic import load_grammar, sample_sentences
from lmcourse.synthetic.entropy import (
    derivation_depth_distribution,
    entropy_per_token,
    expectation_matrix,
    grammar_statistics,
    loss_variance_per_sentence,
    recursive_nonterminals,
    spectral_radius,
)
from lmcourse.synthetic.grammar import compile_pcfg

MONTE_CARLO_SENTENCES = 40_000


@pytest.fixture(scope="module", params=["english", "simple"])
def grammar_and_sample(request):
    grammar = load_grammar(request.param)
    return grammar, sample_sentences(grammar, MONTE_CARLO_SENTENCES, np.random.default_rng(12345))


def test_analytic_entropy_per_token_matches_monte_carlo_within_one_percent(grammar_and_sample):
    grammar, sample = grammar_and_sample
    _, _, entropy = entropy_per_token(grammar)
    tokens = sample.lengths + 1  # the words and </s>
    estimate = -sample.log_prob.mean() / tokens.mean()
    assert estimate == pytest.approx(entropy, rel=0.01)
    # and within 4 standard errors, with the standard error from the exact variance
    standard_error = math.sqrt(loss_variance_per_sentence(grammar) / len(sample)) / tokens.mean()
    assert abs(estimate - entropy) < 4 * standard_error


def test_expected_length_depth_and_variance_match_monte_carlo(grammar_and_sample):
    grammar, sample = grammar_and_sample
    stats = grammar_statistics(grammar)
    n = len(sample)
    lengths = sample.lengths
    assert abs(lengths.mean() - stats["expected_words_per_sentence"]) < 4 * lengths.std() / math.sqrt(n)
    depth = sample.depth
    assert abs(depth.mean() - stats["expected_derivation_depth"]) < 4 * depth.std() / math.sqrt(n)
    entropy = stats["entropy_nats_per_token"]
    centred_loss = -sample.log_prob - entropy * (lengths + 1)  # X - H T, mean 0
    assert centred_loss.mean() == pytest.approx(0.0, abs=4 * centred_loss.std() / math.sqrt(n))
    assert centred_loss.var() == pytest.approx(loss_variance_per_sentence(grammar), rel=0.08)


def test_geometric_grammar_has_closed_form_figures():
    # S -> 'a' | 'a' S, each with probability 1/2: length ~ Geometric(1/2), E[words] = 2, one fair coin per
    # word, so H(sentence) = 2 ln 2 and H per token = 2 ln 2 / 3 (the </s> makes 3 tokens on average).
    grammar = compile_pcfg("S -> 'a' [0.5] | 'a' S [0.5]")
    sentence_entropy, expected_words, token_entropy = entropy_per_token(grammar)
    assert expected_words == pytest.approx(2.0)
    assert sentence_entropy == pytest.approx(2 * math.log(2))
    assert token_entropy == pytest.approx(2 * math.log(2) / 3)
    stats = grammar_statistics(grammar)
    assert stats["spectral_radius"] == pytest.approx(0.5)
    assert stats["recursive_nonterminals"] == ["S"]
    assert stats["expected_derivation_depth"] == pytest.approx(2.0)  # depth = number of S = words
    # X - H T = (n ln 2) - (2 ln2 / 3)(n + 1) with n ~ Geometric(1/2), Var(n) = 2
    assert loss_variance_per_sentence(grammar) == pytest.approx((math.log(2) - 2 * math.log(2) / 3) ** 2 * 2)


@settings(max_examples=30, deadline=None)
@given(stop_percent=st.integers(min_value=5, max_value=95), branch_percent=st.integers(min_value=1, max_value=49))
def test_depth_distribution_and_counts_follow_their_recursions(stop_percent, branch_percent):
    """For S -> 'a' [stop] | 'a' S [1 - stop]: P(depth <= k) = 1 - (1 - stop)^k. And for
    A -> 'b' | A A (branching with probability ``branch``): M = 2 branch, E[words] = (1 - branch) / (1 - 2 branch)."""
    stop, branch = stop_percent / 100, branch_percent / 100  # NLTK's format has no 1e-5 notation
    chain = compile_pcfg(f"S -> 'a' [{stop}] | 'a' S [{(100 - stop_percent) / 100}]")
    cdf = derivation_depth_distribution(chain)
    k = np.arange(len(cdf))
    np.testing.assert_allclose(cdf, 1 - (1 - stop) ** k, atol=1e-12)
    tree = compile_pcfg(f"A -> 'b' [{(100 - branch_percent) / 100}] | A A [{branch}]")
    assert spectral_radius(expectation_matrix(tree)) == pytest.approx(2 * branch)
    # an A writes one word with probability 1 - branch, else two A's: L = (1 - branch) + branch * 2 L
    _, expected_words, _ = entropy_per_token(tree)
    assert expected_words == pytest.approx((1 - branch) / (1 - 2 * branch))


def test_inconsistent_grammar_is_refused():
    # A -> A A with probability 0.6: each A makes 1.2 A's on average, so derivations need not end.
    grammar = compile_pcfg("A -> 'b' [0.4] | A A [0.6]")
    with pytest.raises(UserError, match="not consistent"):
        entropy_per_token(grammar)


def test_simple_grammar_is_not_recursive_and_english_is():
    simple = load_grammar("simple")
    assert recursive_nonterminals(simple, expectation_matrix(simple)) == []
    assert grammar_statistics(simple)["spectral_radius"] == pytest.approx(0.0, abs=1e-12)
    english = load_grammar("english")
    assert "S" not in recursive_nonterminals(english, expectation_matrix(english))
