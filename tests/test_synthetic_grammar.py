"""The grammars of data/grammars/: readable by NLTK, probabilities summing to 1, and unambiguous.

Unambiguity is checked the way the issue asks: NLTK's probabilistic chart parser (InsideChartParser, which
returns every parse) finds exactly one parse for each sampled sentence, with the probability the sampler
recorded; NLTK's plain ChartParser counts the parses a second, independent way.
"""

from __future__ import annotations

import math
from collections import defaultdict

import nltk
import numpy as np
import pytest

from lmcourse.errors import UserError
from lmcourse.synthetic import floor_stats, grammar_path, load_grammar, nltk_grammar, sample_sentences
from lmcourse.synthetic.grammar import compile_pcfg

PARSE_SAMPLES = 250


def parse_report(pcfg: nltk.PCFG, sentences: list[list[str]], log_probs: np.ndarray) -> list[dict]:
    """For each sentence: its parses by the probabilistic and the plain chart parser, and the probabilities."""
    inside = nltk.InsideChartParser(pcfg)
    plain = nltk.ChartParser(pcfg)
    rows = []
    for words, log_prob in zip(sentences, log_probs):
        parses = list(inside.parse(words))
        rows.append({
            "words": words,
            "parses": parses,
            "plain_parse_count": sum(1 for _ in plain.parse(words)),
            "parser_prob": parses[0].prob() if parses else 0.0,
            "sampler_prob": math.exp(log_prob),
        })
    return rows


def sample_and_parse(grammar: str, n: int, seed: int) -> list[dict]:
    compiled = load_grammar(grammar)
    sample = sample_sentences(compiled, n, np.random.default_rng(seed))
    sentences = [sample.sentence(compiled, i) for i in range(len(sample))]
    return parse_report(nltk_grammar(grammar), sentences, sample.log_prob)


@pytest.fixture(scope="module")
def english_parses():
    return sample_and_parse("english", PARSE_SAMPLES, seed=2024)


def test_grammar_files_are_nltk_pcfgs_with_exact_sums():
    for name in ("english", "simple"):
        pcfg = nltk.PCFG.fromstring(grammar_path(name).read_text(encoding="utf-8"))
        totals = defaultdict(float)
        for production in pcfg.productions():
            totals[production.lhs()] += production.prob()
        assert pcfg.start() == nltk.Nonterminal("S")
        for lhs, total in totals.items():
            assert total == pytest.approx(1.0, abs=1e-9), (name, lhs)


def test_english_grammar_has_the_size_the_issue_asks_for():
    stats = floor_stats("english")["grammar_stats"]
    assert 200 <= stats["vocabulary_size"] <= 1000
    assert 8 <= stats["expected_words_per_sentence"] <= 15
    assert {"SUBJ_SG", "SUBJ_PL", "RC_SG", "RC_PL", "OBJ_REL"} <= set(stats["recursive_nonterminals"])
    assert 0 < stats["spectral_radius"] < 1


def test_every_sampled_english_sentence_has_exactly_one_parse_with_the_sampled_probability(english_parses):
    assert len(english_parses) >= 200
    for row in english_parses:
        assert len(row["parses"]) == 1, row["words"]
        assert row["plain_parse_count"] == 1, row["words"]
        assert row["parses"][0].leaves() == row["words"]
        assert row["parser_prob"] == pytest.approx(row["sampler_prob"], rel=1e-9), row["words"]


def test_every_sampled_simple_sentence_has_exactly_one_parse_with_the_sampled_probability():
    rows = sample_and_parse("simple", 200, seed=7)
    for row in rows:
        assert len(row["parses"]) == 1 and row["plain_parse_count"] == 1, row["words"]
        assert row["parser_prob"] == pytest.approx(row["sampler_prob"], rel=1e-9)


def test_the_parse_check_catches_an_ambiguous_grammar():
    # PP attachment to the verb or to the object: "the man sees the dog with the telescope" has two parses.
    ambiguous = nltk.PCFG.fromstring("""
        S -> NP VP [1.0]
        NP -> 'the' N [0.8] | 'the' N PP [0.2]
        VP -> V NP [0.7] | V NP PP [0.3]
        PP -> 'with' NP [1.0]
        N -> 'man' [0.5] | 'dog' [0.3] | 'telescope' [0.2]
        V -> 'sees' [1.0]
    """)
    words = "the man sees the dog with the telescope".split()
    [row] = parse_report(ambiguous, [words], np.array([0.0]))
    assert len(row["parses"]) == 2 and row["plain_parse_count"] == 2


def subject_and_main_verb(tree: nltk.Tree) -> tuple[str, int, int]:
    """The main verb's number ("SG"/"PL"), its position, and the position of the subject's head noun."""
    subject, verb_phrase = tree[0], tree[1]
    number = str(verb_phrase.label()).split("_")[1]
    noun_phrase = subject[0]
    nominal = noun_phrase[1]
    adjectives = 0
    while len(nominal) == 2:  # NOM -> ADJ NOM
        adjectives += 1
        nominal = nominal[1]
    head_position = 1 + adjectives
    verb_position = len(subject.leaves())
    return number, head_position, verb_position


def test_agreement_reaches_across_relative_clauses(english_parses):
    """The main verb agrees with the subject's head noun, often several words back and past nouns of the
    other number (which a trigram, seeing only the last two words, cannot tell apart)."""
    long_range = misleading = 0
    for row in english_parses:
        tree = row["parses"][0]
        number, head, verb = subject_and_main_verb(tree)
        preterminals = [str(tag) for _, tag in tree.pos()]  # the label above each word
        assert preterminals[head] == f"N_{number}"
        assert preterminals[verb].startswith(("VI_", "VT_")) and preterminals[verb].endswith(number)
        if verb - head > 2:
            long_range += 1
        nouns_before = [tag for tag in preterminals[:verb] if tag.startswith(("N_", "PLACE_"))]
        if not nouns_before[-1].endswith(number):
            misleading += 1
    assert long_range / len(english_parses) > 0.3
    assert misleading / len(english_parses) > 0.1


def test_probabilities_must_sum_to_one_much_more_closely_than_nltk_asks():
    text = "S -> 'a' [0.5] | 'b' [0.4999]"
    nltk.PCFG.fromstring(text)  # NLTK accepts sums within 0.01
    with pytest.raises(UserError, match="sum to"):
        compile_pcfg(text)


def test_unknown_grammar_names_the_known_ones():
    with pytest.raises(UserError, match="english"):
        grammar_path("klingon")
