"""The exact entropy of a PCFG language, computed from the grammar alone, and the perplexity floor it sets.

The expectation matrix
----------------------
Let ``M[A, B]`` be the expected number of ``B``'s produced by one expansion of ``A``::

    M[A, B] = sum over rules A -> alpha of  p(A -> alpha) * (number of B in alpha)

Expanding the start symbol ``S`` once gives on average ``M[S, :]`` nonterminals, twice ``M^2[S, :]``, and so
on, so the expected number of times each nonterminal is expanded in one derivation is the row vector::

    c = e_S (I + M + M^2 + ...) = e_S (I - M)^-1

The series converges iff the spectral radius rho(M) (largest |eigenvalue|) is below 1. Then the grammar is
*consistent*: derivations end with probability 1 and have a finite expected size (Booth & Thompson 1973,
"Applying probability measures to abstract languages"; Chi 1999, "Statistical properties of probabilistic
context-free grammars", who also shows that rule probabilities estimated from a treebank always give
rho(M) < 1). With ``c`` every expectation that adds up over the rules of a derivation is one dot product:

    E[words per sentence]       = sum_A c[A] * sum_rules p(A -> alpha) * (number of words in alpha)
    H(derivation)               = sum_A c[A] * h(A),    h(A) = - sum_rules p(A -> alpha) log p(A -> alpha)

The entropy of a derivation is the expected number of choices made at each nonterminal times the entropy
of each choice (the chain rule of entropy, applied down the tree; Grenander 1967, Chi 1999).

Why this is the entropy of the *sentences*
------------------------------------------
A sentence is a function of its derivation, so H(sentence) <= H(derivation), with equality iff the
derivation is a function of the sentence too, i.e. iff the grammar is *unambiguous* (every sentence has
exactly one derivation). Then p(sentence) = p(its derivation) and the two entropies are equal. Our grammars
are unambiguous by construction, and tests/test_synthetic_grammar.py checks it on samples with NLTK's chart
parser.

Per token, and the floor
------------------------
A language model predicts every word and one ``</s>`` per sentence (the evaluation convention of
:mod:`lmcourse.evaluation`), so over many sentences the true model's loss per predicted token tends to::

    H_token = H(sentence) / (E[words per sentence] + 1)        nats per token
    floor perplexity = exp(H_token)

No model can do better on average: its expected loss is H_token plus a Kullback-Leibler divergence, which
is never negative. How much *below* the floor one test set can come out by chance is
:mod:`lmcourse.synthetic.floor`'s business; the variance it needs is computed here too
(:func:`loss_variance_per_sentence`).
"""

from __future__ import annotations

import math

import numpy as np

from lmcourse.errors import UserError
from lmcourse.synthetic.grammar import CompiledGrammar


def expectation_matrix(grammar: CompiledGrammar) -> np.ndarray:
    """``M[A, B]`` = expected number of ``B`` on the right-hand side of one expansion of ``A``."""
    per_rule = grammar.nonterminal_counts() * grammar.rule_prob[:, None]
    matrix = np.zeros((grammar.n_nonterminals, grammar.n_nonterminals))
    np.add.at(matrix, grammar.rule_lhs, per_rule)
    return matrix


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix)))) if matrix.size else 0.0


def per_nonterminal_mean(grammar: CompiledGrammar, per_rule: np.ndarray) -> np.ndarray:
    """``sum over rules A -> alpha of p(A -> alpha) * per_rule[rule]``, for every nonterminal ``A``."""
    return np.bincount(grammar.rule_lhs, weights=grammar.rule_prob * per_rule, minlength=grammar.n_nonterminals)


def solve_subtree_totals(matrix: np.ndarray, local: np.ndarray) -> np.ndarray:
    """``x = (I - M)^-1 local``: for every nonterminal ``A``, the expected total over a subtree rooted at ``A``
    of a quantity whose expected value per expansion of ``A`` is ``local[A]`` (``x_A = local_A + sum_B M[A,B] x_B``).
    """
    return np.linalg.solve(np.eye(len(matrix)) - matrix, local)


def expected_counts(grammar: CompiledGrammar, matrix: np.ndarray | None = None) -> np.ndarray:
    """``c = e_S (I - M)^-1``: the expected number of expansions of each nonterminal in one derivation."""
    matrix = expectation_matrix(grammar) if matrix is None else matrix
    start = np.zeros(grammar.n_nonterminals)
    start[0] = 1.0
    return np.linalg.solve((np.eye(len(matrix)) - matrix).T, start)


def check_consistent(grammar: CompiledGrammar, matrix: np.ndarray) -> float:
    """The spectral radius of ``M``; a :class:`UserError` if it is not below 1 (derivations may not end)."""
    radius = spectral_radius(matrix)
    if radius >= 1 - 1e-9:
        raise UserError(f"grammar {grammar.path} is not consistent: the spectral radius of its expectation matrix "
                        f"is {radius:.4f} >= 1, so derivations need not end; lower the probabilities of its "
                        "recursive rules")
    return radius


def rule_choice_entropy(grammar: CompiledGrammar) -> np.ndarray:
    """``h(A) = - sum_rules p(A -> alpha) log p(A -> alpha)`` in nats, for every nonterminal ``A``."""
    return per_nonterminal_mean(grammar, -grammar.rule_log_prob)


def recursive_nonterminals(grammar: CompiledGrammar, matrix: np.ndarray) -> list[str]:
    """The nonterminals that can occur inside their own expansion (``A =>+ ... A ...``)."""
    reach = (matrix > 0).astype(np.int64)
    for _ in range(int(math.ceil(math.log2(max(len(reach), 2)))) + 1):  # transitive closure by squaring
        reach = ((reach + reach @ reach) > 0).astype(np.int64)
    return [name for name, recursive in zip(grammar.nonterminals, np.diag(reach)) if recursive]


def derivation_depth_distribution(grammar: CompiledGrammar, tolerance: float = 1e-12,
                                  max_depth: int = 10_000) -> np.ndarray:
    """``P(depth <= k)`` for ``k = 0, 1, ...``: the depth of a derivation tree is the number of nonterminals on
    its longest root-to-word path (``S -> NP VP``, ``NP -> DET N``, ``N -> 'dog'`` has depth 3).

    With ``q_k(A) = P(a subtree from A has depth <= k)``: ``q_0 = 0`` and
    ``q_k(A) = sum_rules p(A -> alpha) * prod_{B in alpha} q_{k-1}(B)``, iterated until ``1 - q_k(S)`` < tolerance.
    """
    counts = grammar.nonterminal_counts()
    within_depth = np.zeros(grammar.n_nonterminals)
    cumulative = [0.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(max_depth):
            log_q = np.log(within_depth)
            # product over the right-hand side = exp(sum of counts * log q); rules without nonterminals give 1
            rule_all_within = np.exp(np.where(counts > 0, counts * log_q, 0.0).sum(axis=1))
            within_depth = per_nonterminal_mean(grammar, rule_all_within)
            cumulative.append(float(within_depth[0]))
            if 1.0 - within_depth[0] < tolerance:
                break
    return np.array(cumulative)


def tokens_per_rule(grammar: CompiledGrammar) -> np.ndarray:
    return grammar.terminal_counts().astype(np.float64)


def entropy_per_token(grammar: CompiledGrammar) -> tuple[float, float, float]:
    """``(H(sentence) in nats, E[words per sentence], H_token in nats)``, exactly, from the grammar alone."""
    matrix = expectation_matrix(grammar)
    check_consistent(grammar, matrix)
    counts = expected_counts(grammar, matrix)
    sentence_entropy = float(counts @ rule_choice_entropy(grammar))
    expected_words = float(counts @ per_nonterminal_mean(grammar, tokens_per_rule(grammar)))
    return sentence_entropy, expected_words, sentence_entropy / (expected_words + 1)


def loss_variance_per_sentence(grammar: CompiledGrammar) -> float:
    """``Var(X - H_token * T)`` for one sentence, where ``X = -log p(sentence)`` and ``T`` = its predicted tokens.

    This is what sets the sampling noise of the true model's loss per token, ``sum X / sum T`` over ``n``
    sentences: by the delta method its standard deviation is ``sqrt(Var(X - H_token T) / n) / E[T]``.

    ``Y = X - H_token T = -H_token + sum over the rules used of w(r)``, with
    ``w(r) = -log p(r) - H_token * (words written by r)``: a sum over the nodes of the derivation tree. For the
    total ``Z_A`` over a subtree rooted at ``A``, the mean ``m`` and second moment ``s`` satisfy (the subtrees
    below one rule are independent)::

        m_A = sum_r p(r) (w(r) + sum_{B in r} m_B)                                     ->  m = (I - M)^-1 a
        s_A = sum_r p(r) [(w(r) + sum_{B in r} m_B)^2 - sum_{B in r} m_B^2 + sum_{B in r} s_B]  ->  s = (I - M)^-1 b

    and ``Var(Y) = Var(Z_S) = s_S - m_S^2``.
    """
    matrix = expectation_matrix(grammar)
    check_consistent(grammar, matrix)
    _, _, token_entropy = entropy_per_token(grammar)
    weight = -grammar.rule_log_prob - token_entropy * tokens_per_rule(grammar)
    counts = grammar.nonterminal_counts()
    mean = solve_subtree_totals(matrix, per_nonterminal_mean(grammar, weight))
    rule_mean = weight + counts @ mean
    second_local = per_nonterminal_mean(grammar, rule_mean**2 - counts @ mean**2)
    second = solve_subtree_totals(matrix, second_local)
    return float(second[0] - mean[0] ** 2)


def grammar_statistics(grammar: CompiledGrammar) -> dict:
    """Size, length, depth and recursion figures of a grammar, all exact (computed, not sampled)."""
    matrix = expectation_matrix(grammar)
    radius = check_consistent(grammar, matrix)
    counts = expected_counts(grammar, matrix)
    sentence_entropy, expected_words, token_entropy = entropy_per_token(grammar)
    depth_cdf = derivation_depth_distribution(grammar)
    variance = loss_variance_per_sentence(grammar)
    expected_tokens = expected_words + 1
    return {
        "name": grammar.name,
        "sha256": grammar.sha256,
        "nonterminals": grammar.n_nonterminals,
        "rules": grammar.n_rules,
        "vocabulary_size": len(grammar.terminals),
        "expected_words_per_sentence": expected_words,
        "expected_tokens_per_sentence": expected_tokens,
        "entropy_nats_per_sentence": sentence_entropy,
        "expected_rule_uses_per_sentence": float(counts.sum()),
        "expected_derivation_depth": float(np.sum(1.0 - depth_cdf)),
        "spectral_radius": radius,
        "recursive_nonterminals": recursive_nonterminals(grammar, matrix),
        # sampling noise of the loss per token: std over N tokens = this / sqrt(N) (see lmcourse.synthetic.floor)
        "loss_std_nats_per_sqrt_token": math.sqrt(variance / expected_tokens),
        "entropy_nats_per_token": token_entropy,
    }
