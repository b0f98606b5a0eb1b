"""Minimal pairs for subject-verb agreement, sampled from the grammar of the corpus ``synthetic``.

A *minimal pair* is a grammatical sentence and the same sentence with one word changed so that it is not.
Here the changed word is the main verb, put in the other number (Linzen et al. 2016, "Assessing the
ability of LSTMs to learn syntax-sensitive dependencies"; Marvin & Linzen 2018)::

    good:  the dog that the cats near the barn chase runs
    bad:   the dog that the cats near the barn chase run
               ^^^ head                              ^^^^ main verb: distance 9 - 1 = 8, 1 attractor

A model "knows" agreement on a pair if it gives the good sentence the higher probability
(:mod:`lmcourse.compare.agreement` scores them). Two figures say how hard a pair is:

- ``distance`` = position(main verb) - position(subject's head noun), in words (1 for "the dog runs",
  8 above, where 7 words stand between them); an N-gram model of order N sees the head noun only where
  distance <= N - 1;
- ``attractors`` = the nouns (``N_*`` and ``PLACE_*``) strictly between the head and the main verb whose
  number is the other one ("cats" above; "barn" is singular, as "dog"): they pull a model that guesses
  from the nearest noun the wrong way.

Both are read from the derivation tree, not guessed from the words: :class:`TreeSampler` draws each
sentence's tree from the grammar's rules (a small recursive sampler; :mod:`~lmcourse.synthetic.sampler`
draws words only), and the tree says which noun heads the subject (``S -> SUBJ -> NP -> NOM ... -> N``)
and which verb is the main one (the first word of the ``VP`` under ``S``). The verb is swapped by its
position in its word list: the k-th word of ``VI_SG`` <-> the k-th of ``VI_PL``, and ``VT_SG`` <-> ``VT_PL``
(the grammar's lists are parallel: "runs" and "run" are both the first).

Plain sampling gives mostly short distances (38% of the sentences have neither a PP nor a relative clause
on the subject: distance 1), so by default :func:`sample_pairs` returns a *balanced* set: at most
``ceil(n / len(DISTANCE_BUCKETS))`` pairs per distance bucket, taken in sampling order, then, if some
bucket is still short after ``POOL_FACTOR * n`` draws, the remaining places go to the pairs passed over, in
sampling order. Good sentences are distinct. The random numbers come from
``numpy.random.default_rng(seed)`` with ``DEFAULT_SEED`` = 10 by default; the corpus's splits are drawn
from the children of ``SeedSequence(corpus seed).spawn(3)``, a different stream for every seed, so the
pairs are a fresh draw from the language (a short good sentence such as "the dog runs" may of course also
occur in the training text: it is a common sentence of the language).
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmcourse.errors import UserError
from lmcourse.files import atomic_output
from lmcourse.synthetic.grammar import CompiledGrammar, load_grammar

DEFAULT_SEED = 10
DEFAULT_PAIRS = 1000
# Distance buckets of the balanced set, (lowest, highest) inclusive: one trigram window, then pairs of
# distances, then everything from 10 on.
DISTANCE_BUCKETS: tuple[tuple[int, float], ...] = ((1, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, math.inf))
POOL_FACTOR = 50  # the balanced set draws at most this many sentences per pair asked for
VERB_CLASSES = ("VI", "VT")  # verbs that can be the main verb: VI_SG/VI_PL, VT_SG/VT_PL
NOUN_CLASSES = ("N", "PLACE")  # the nouns that count as attractors: N_SG/N_PL, PLACE_SG/PLACE_PL
NUMBERS = ("SG", "PL")


@dataclass(frozen=True)
class MinimalPair:
    """A grammatical sentence, the same one with the main verb in the other number, and how hard it is.

    ``distance`` and ``attractors`` are ``None`` for pairs read from a file that does not give them.
    """

    good: str
    bad: str
    distance: int | None = None
    attractors: int | None = None


class TreeSampler:
    """Draw derivation trees from a PCFG, top-down: each nonterminal picks a rule with the rule's probability
    (the cumulative distribution inverted at one uniform number), then expands its children left to right.

    A tree is an ``nltk.Tree`` exactly as NLTK's parsers return it: ``Tree('N_SG', ['dog'])`` above each word.
    """

    def __init__(self, grammar: CompiledGrammar):
        import nltk  # here, not at the top: `lmcourse data` imports this module and need not load NLTK

        self.grammar, self.tree_class = grammar, nltk.Tree
        self.cumulative: list[list[float]] = []  # per nonterminal: cumulative probabilities of its rules
        self.right_sides: list[list[tuple[int, ...]]] = []  # per nonterminal: the symbols of each rule
        for symbol in range(grammar.n_nonterminals):
            rules = range(grammar.rule_start[symbol], grammar.rule_start[symbol + 1])
            self.cumulative.append(np.cumsum(grammar.rule_prob[rules]).tolist())
            self.right_sides.append([tuple(int(s) for s in grammar.rhs(r)) for r in rules])

    def sample(self, rng: np.random.Generator, symbol: int = 0):
        """One tree rooted at ``symbol`` (0: the start symbol ``S``)."""
        cumulative = self.cumulative[symbol]
        choice = min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)
        children = []
        for child in self.right_sides[symbol][choice]:
            if child < self.grammar.n_nonterminals:
                children.append(self.sample(rng, child))
            else:
                children.append(self.grammar.terminals[child - self.grammar.n_nonterminals])
        return self.tree_class(self.grammar.nonterminals[symbol], children)


def word_class(label: str) -> tuple[str, str | None]:
    """``"VT_SG"`` -> ``("VT", "SG")``; a label without a number suffix -> ``(label, None)``."""
    head, _, number = str(label).rpartition("_")
    return (head, number) if head and number in NUMBERS else (str(label), None)


def verb_swaps(grammar: CompiledGrammar) -> dict[str, str]:
    """Every main-verb word -> the same verb in the other number, by position in the word lists.

    The k-th word of ``VI_SG`` <-> the k-th word of ``VI_PL`` (and ``VT_SG`` <-> ``VT_PL``); a UserError if a
    grammar lacks these lists or their lengths differ.
    """
    swaps: dict[str, str] = {}
    for verb_class in VERB_CLASSES:
        singular, plural = (word_list(grammar, f"{verb_class}_{number}") for number in NUMBERS)
        if len(singular) != len(plural):
            raise UserError(f"grammar {grammar.name}: {verb_class}_SG has {len(singular)} words but "
                            f"{verb_class}_PL has {len(plural)}; minimal pairs need parallel verb lists")
        swaps.update(zip(singular, plural))
        swaps.update(zip(plural, singular))
    return swaps


def word_list(grammar: CompiledGrammar, nonterminal: str) -> list[str]:
    """The words of ``nonterminal``'s one-word rules, in the grammar file's order."""
    if nonterminal not in grammar.nonterminals:
        raise UserError(f"grammar {grammar.name} has no {nonterminal}: minimal pairs need the verb classes "
                        f"VI_SG/VI_PL and VT_SG/VT_PL of data/grammars/english.pcfg")
    symbol = grammar.nonterminals.index(nonterminal)
    rules = range(grammar.rule_start[symbol], grammar.rule_start[symbol + 1])
    return [grammar.terminals[int(grammar.rhs(r)[0]) - grammar.n_nonterminals] for r in rules
            if grammar.rule_length[r] == 1 and grammar.rhs(r)[0] >= grammar.n_nonterminals]


def leaf_index(tree, position: tuple[int, ...]) -> int:
    """The index, among the sentence's words, of the first word under the subtree at ``position``."""
    leaf_positions = tree.treepositions("leaves")
    return next(i for i, leaf in enumerate(leaf_positions) if leaf[: len(position)] == position)


def subject_head_position(tree) -> tuple[int, ...]:
    """The tree position of the subject's head noun: from ``S``'s first child down through ``SUBJ``, ``NP``
    and ``NOM`` (each time the first child so labelled) to the ``N_SG`` / ``N_PL`` above the noun."""
    position: tuple[int, ...] = (0,)
    while word_class(tree[position].label())[0] != "N":
        labels = [word_class(child.label())[0] if hasattr(child, "label") else None for child in tree[position]]
        following = [i for i, label in enumerate(labels) if label in ("SUBJ", "NP", "NOM", "N")]
        if not following:
            raise UserError(f"cannot find the subject's head noun in {tree}: expected S -> SUBJ/NP ... -> N_SG")
        position += (following[0],)
    return position


def main_verb_position(tree) -> tuple[int, ...]:
    """The tree position of the main verb: the first child of the ``VP_SG`` / ``VP_PL`` under ``S``."""
    verb_phrase = tree[1]
    if word_class(verb_phrase.label())[0] != "VP" or word_class(verb_phrase[0].label())[0] not in VERB_CLASSES:
        raise UserError(f"cannot find the main verb in {tree}: expected S -> SUBJ VP with VP -> VI/VT ...")
    return (1, 0)


def pair_from_tree(tree, swaps: dict[str, str]) -> MinimalPair:
    """The minimal pair of one sampled tree: the main verb swapped, with its distance and attractors."""
    words = tree.leaves()
    tags = [tag for _, tag in tree.pos()]
    head = leaf_index(tree, subject_head_position(tree))
    verb = leaf_index(tree, main_verb_position(tree))
    number = word_class(tags[head])[1]
    bad = list(words)
    bad[verb] = swaps[words[verb]]
    between = [word_class(tag) for tag in tags[head + 1: verb]]
    attractors = sum(1 for cls, num in between if cls in NOUN_CLASSES and num is not None and num != number)
    return MinimalPair(" ".join(words), " ".join(bad), distance=verb - head, attractors=attractors)


def distance_bucket(distance: int) -> int:
    """The index of the bucket of :data:`DISTANCE_BUCKETS` that holds ``distance``."""
    return next(i for i, (low, high) in enumerate(DISTANCE_BUCKETS) if low <= distance <= high)


def sample_pairs(grammar: CompiledGrammar | str | Path = "english", n: int = DEFAULT_PAIRS,
                 seed: int = DEFAULT_SEED, balanced: bool = True) -> list[MinimalPair]:
    """``n`` minimal pairs with distinct good sentences, drawn with ``numpy.random.default_rng(seed)``.

    ``balanced=True`` (the default) spreads them over :data:`DISTANCE_BUCKETS` as the module docstring says;
    ``balanced=False`` keeps them as sampled (mostly short distances). Same seed, same pairs.
    """
    if not isinstance(grammar, CompiledGrammar):
        grammar = load_grammar(grammar)
    if n < 1:
        raise UserError(f"the number of pairs must be at least 1 (got {n})")
    swaps, sampler, rng = verb_swaps(grammar), TreeSampler(grammar), np.random.default_rng(seed)
    quota = math.ceil(n / len(DISTANCE_BUCKETS)) if balanced else n
    taken: list[tuple[int, MinimalPair]] = []  # (draw number, pair), to keep sampling order
    passed_over: list[tuple[int, MinimalPair]] = []
    per_bucket = [0] * len(DISTANCE_BUCKETS)
    seen: set[str] = set()
    for draw in range(POOL_FACTOR * n):
        pair = pair_from_tree(sampler.sample(rng), swaps)
        if pair.good in seen:
            continue
        seen.add(pair.good)
        bucket = distance_bucket(pair.distance)
        if per_bucket[bucket] < quota:
            per_bucket[bucket] += 1
            taken.append((draw, pair))
        else:
            passed_over.append((draw, pair))
        if len(taken) == n:
            break
    taken += passed_over[: n - len(taken)]  # buckets the grammar rarely reaches: fill from the others
    if len(taken) < n:
        raise UserError(f"grammar {grammar.name} gave only {len(taken)} distinct sentences in "
                        f"{POOL_FACTOR * n} draws: ask for fewer pairs")
    return [pair for _, pair in sorted(taken, key=lambda item: item[0])]


def pairs_tsv_lines(pairs: Sequence[MinimalPair]) -> list[str]:
    """One line a pair: ``good<TAB>bad<TAB>attractors<TAB>distance`` (no header)."""
    return [f"{p.good}\t{p.bad}\t{p.attractors}\t{p.distance}" for p in pairs]


def write_pairs_tsv(pairs: Sequence[MinimalPair], path: str | os.PathLike) -> Path:
    """Write ``pairs`` as :func:`pairs_tsv_lines` to ``path`` atomically (a temporary file beside it, then
    ``os.replace``: a reader sees the old file or the whole new one). Returns the path."""
    if any(p.distance is None or p.attractors is None for p in pairs):
        raise UserError("every pair needs its distance and attractor count to be written as a pairs TSV")
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text("".join(line + "\n" for line in pairs_tsv_lines(pairs)), encoding="utf-8")
    return path
