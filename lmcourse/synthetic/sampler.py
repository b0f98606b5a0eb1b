"""Sampling sentences from a PCFG, many at once, with numpy.

Instead of a recursive function called once per nonterminal, all sentences grow together, one level of
their derivation trees per round:

    round 0:   [S]                       [S]
    round 1:   [SUBJ_SG VP_SG]           [SUBJ_PL VP_PL]
    round 2:   [NP_SG VI_SG]             [NP_PL RC_PL VT_PL OBJ]
    ...        until every symbol is a word

Every round draws one uniform number per nonterminal still present, picks each one's rule by inverting
the cumulative distribution of that nonterminal's rules, and splices the right-hand sides in place (words
are carried over unchanged). Left-to-right order is kept, so at the end each sentence's symbols are its
words in order. The log-probability of each derivation (the sum of the log-probabilities of its rules) and
its depth (the number of rounds in which it still had a nonterminal) are recorded on the way.

The random numbers come from a ``numpy.random.Generator``, drawn in a fixed order, so the same seed gives
the same sentences on every machine (for the same numpy major version).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmcourse.synthetic.grammar import CompiledGrammar


@dataclass
class SampledSentences:
    """``words[starts[i]:starts[i+1]]`` are the terminal symbols of sentence ``i``."""

    words: np.ndarray  # terminal symbols (ids >= grammar.n_nonterminals), all sentences one after another
    starts: np.ndarray  # int64, length n + 1
    log_prob: np.ndarray  # log p(derivation) = log p(sentence) for an unambiguous grammar
    depth: np.ndarray  # derivation depth: nonterminals on the longest root-to-word path

    def __len__(self) -> int:
        return len(self.starts) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Words per sentence."""
        return np.diff(self.starts)

    def sentence(self, grammar: CompiledGrammar, index: int) -> list[str]:
        return grammar.words(self.words[self.starts[index]: self.starts[index + 1]])

    def lines(self, grammar: CompiledGrammar) -> list[str]:
        """Each sentence as one line of words separated by single spaces."""
        vocabulary = np.array(grammar.terminals, dtype=object)
        words = vocabulary[self.words - grammar.n_nonterminals]
        return [" ".join(words[start:end]) for start, end in zip(self.starts[:-1], self.starts[1:])]


def cumulative_keys(grammar: CompiledGrammar) -> np.ndarray:
    """For rule ``r`` of nonterminal ``A``: ``A + P(rule index <= r | A)``.

    The keys of ``A``'s rules rise from above ``A`` to exactly ``A + 1``, so ``searchsorted(keys, A + u)``
    with ``u ~ Uniform[0, 1)`` finds, for every nonterminal at once, the rule whose cumulative probability
    first exceeds ``u``: inverse-CDF sampling of all the nonterminals' rule choices in one call.
    """
    within = np.zeros(grammar.n_rules)
    for lhs in range(grammar.n_nonterminals):
        start, stop = grammar.rule_start[lhs], grammar.rule_start[lhs + 1]
        within[start:stop] = np.cumsum(grammar.rule_prob[start:stop])
        within[stop - 1] = 1.0  # rounding must not leave a gap at the top
    return grammar.rule_lhs + within


def sample_sentences(grammar: CompiledGrammar, n: int, rng: np.random.Generator) -> SampledSentences:
    """``n`` independent sentences from ``grammar``, with their log-probabilities and derivation depths."""
    keys = cumulative_keys(grammar)
    rule_log_prob = grammar.rule_log_prob
    n_nonterminals = grammar.n_nonterminals
    symbols = np.zeros(n, dtype=np.int64)  # every sentence starts as the start symbol, 0
    owner = np.arange(n, dtype=np.int64)  # which sentence each symbol belongs to
    log_prob = np.zeros(n)
    depth = np.zeros(n, dtype=np.int64)
    level = 0
    while True:
        positions = np.flatnonzero(symbols < n_nonterminals)
        if len(positions) == 0:
            break
        level += 1
        lhs = symbols[positions]
        u = rng.random(len(positions))
        rules = np.searchsorted(keys, lhs + u, side="right")
        rules = np.minimum(rules, grammar.rule_start[lhs + 1] - 1)  # lhs + u may round up to lhs + 1
        log_prob += np.bincount(owner[positions], weights=rule_log_prob[rules], minlength=n)
        depth[owner[positions]] = level
        # Splice: a nonterminal becomes its rule's right-hand side, a word stays itself.
        lengths = np.ones(len(symbols), dtype=np.int64)
        lengths[positions] = grammar.rule_length[rules]
        rule_at = np.full(len(symbols), -1, dtype=np.int64)
        rule_at[positions] = rules
        first = np.cumsum(lengths) - lengths
        offset_in_rhs = np.arange(int(lengths.sum())) - np.repeat(first, lengths)
        rule_at = np.repeat(rule_at, lengths)
        expanded = grammar.rule_rhs[np.maximum(rule_at, 0), offset_in_rhs]
        symbols = np.where(rule_at >= 0, expanded, np.repeat(symbols, lengths))
        owner = np.repeat(owner, lengths)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=starts[1:])
    return SampledSentences(words=symbols, starts=starts, log_prob=log_prob, depth=depth)
