"""Minimal pairs from the grammar: the good sentence is in the language, the bad one is not, they differ in
exactly the main verb, and distance and attractors are what the tree says."""

from __future__ import annotations

import math

import nltk
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.errors import UserError
from lmcourse.synthetic import load_grammar, nltk_grammar
from lmcourse.synthetic.grammar import compile_pcfg
from lmcourse.synthetic.pairs import (
    DISTANCE_BUCKETS,
    MinimalPair,
    TreeSampler,
    distance_bucket,
    leaf_index,
    main_verb_position,
    pair_from_tree,
    sample_pairs,
    verb_swaps,
    word_list,
    write_pairs_tsv,
)

PARSED_PAIRS = 200


@pytest.fixture(scope="module")
def english():
    return load_grammar("english")


@pytest.fixture(scope="module")
def parser():
    return nltk.ChartParser(nltk_grammar("english"))


def test_the_singular_and_plural_verb_lists_are_parallel(english):
    """The k-th singular verb is the k-th plural verb + s / es / (y ->) ies, with the same probability: so
    swapping by position changes the number and nothing else."""
    probability = {(english.nonterminals[lhs], english.words(english.rhs(r))[0]): p
                   for r, (lhs, p) in enumerate(zip(english.rule_lhs, english.rule_prob))
                   if english.rule_length[r] == 1}
    for verb_class in ("VI", "VT"):
        singular, plural = word_list(english, f"{verb_class}_SG"), word_list(english, f"{verb_class}_PL")
        assert len(singular) == len(plural) > 10
        for sg, pl in zip(singular, plural):
            assert sg in (pl + "s", pl + "es", pl[:-1] + "ies"), (sg, pl)
            assert probability[(f"{verb_class}_SG", sg)] == probability[(f"{verb_class}_PL", pl)]
    swaps = verb_swaps(english)
    assert swaps["runs"] == "run" and swaps["run"] == "runs" and swaps["chases"] == "chase"


def test_sampled_trees_are_the_trees_nltk_parses(english, parser):
    sampler, rng = TreeSampler(english), np.random.default_rng(0)
    for _ in range(100):
        tree = sampler.sample(rng)
        parses = list(parser.parse(tree.leaves()))
        assert parses == [tree]


def test_every_good_sentence_is_in_the_language_and_every_bad_one_is_not(english, parser):
    pairs = sample_pairs(english, PARSED_PAIRS, seed=1)
    assert max(p.distance for p in pairs) >= 10  # the balanced set reaches long distances
    for pair in pairs:
        assert len(list(parser.parse(pair.good.split()))) == 1, pair.good
        assert next(parser.parse(pair.bad.split()), None) is None, pair.bad


def test_a_pair_differs_in_exactly_the_main_verb(english):
    sampler, rng, swaps = TreeSampler(english), np.random.default_rng(3), verb_swaps(english)
    for _ in range(300):
        tree = sampler.sample(rng)
        pair = pair_from_tree(tree, swaps)
        good, bad = pair.good.split(), pair.bad.split()
        differing = [i for i, (g, b) in enumerate(zip(good, bad)) if g != b]
        assert len(good) == len(bad) and differing == [leaf_index(tree, main_verb_position(tree))]
        verb_tag = tree.pos()[differing[0]][1]
        assert verb_tag.startswith(("VI_", "VT_")) and tree[1].label() == f"VP_{verb_tag[-2:]}"


# -- distance and attractors on hand-built trees ------------------------------------------------------------
def tree_of(text: str) -> nltk.Tree:
    return nltk.Tree.fromstring(text)


HAND_BUILT = [
    # the dog runs: head at 1, verb at 2
    ("(S (SUBJ_SG (NP_SG (DET_SG the) (NOM_SG (N_SG dog)))) (VP_SG (VI_SG runs)))", "the dog run", 1, 0),
    # adjectives before the head do not count; the object after the verb does not either
    ("(S (SUBJ_PL (NP_PL (DET_PL the) (NOM_PL (ADJ big) (NOM_PL (N_PL dogs))))) "
     "(VP_PL (VT_PL chase) (OBJ (NP_SG (DET_SG a) (NOM_SG (N_SG cat))))))", "the big dogs chases a cat", 1, 0),
    # a PP of the other number: one attractor
    ("(S (SUBJ_PL (NP_PL (DET_PL the) (NOM_PL (N_PL dogs)) (PP (P near) (PLACE_NP (DET_SG the) "
     "(PLACE_NOM_SG (PLACE_SG barn)))))) (VP_PL (VI_PL run)))", "the dogs near the barn runs", 4, 1),
    # the grammar's example: an object relative whose subject has a PP; cats is plural (an attractor), barn not;
    # distance 8 = 9 - 1 (the grammar's header counts the 7 words in between)
    ("(S (SUBJ_SG (NP_SG (DET_SG the) (NOM_SG (N_SG dog))) (RC_SG that (OBJ_REL (SUBJ_PL (NP_PL (DET_PL the) "
     "(NOM_PL (N_PL cats)) (PP (P near) (PLACE_NP (DET_SG the) (PLACE_NOM_SG (PLACE_SG barn)))))) "
     "(VT_PL chase)))) (VP_SG (VI_SG runs)))", "the dog that the cats near the barn chase run", 8, 1),
    # a subject relative with a plural object: one attractor (cats), five words apart
    ("(S (SUBJ_SG (NP_SG (DET_SG the) (NOM_SG (N_SG dog))) (RC_SG that (VP_SG (VT_SG chases) (OBJ (NP_PL "
     "(DET_PL the) (NOM_PL (N_PL cats))))))) (VP_SG (VI_SG runs) (ADV today)))",
     "the dog that chases the cats run today", 5, 1),
]


@pytest.mark.parametrize("text, bad, distance, attractors", HAND_BUILT)
def test_distance_and_attractors_of_hand_built_trees(english, parser, text, bad, distance, attractors):
    tree = tree_of(text)
    assert list(parser.parse(tree.leaves())) == [tree]  # each hand-built tree is the grammar's own parse
    pair = pair_from_tree(tree, verb_swaps(english))
    assert pair == MinimalPair(" ".join(tree.leaves()), bad, distance=distance, attractors=attractors)


def test_the_issue_example_counts_both_nouns_of_the_other_number(english):
    tree = tree_of("(S (SUBJ_SG (NP_SG (DET_SG the) (NOM_SG (N_SG dog))) (RC_SG that (OBJ_REL (SUBJ_PL (NP_PL "
                   "(DET_PL the) (NOM_PL (N_PL cats)) (PP (P near) (PLACE_NP (DET_PL the) (PLACE_NOM_PL "
                   "(PLACE_PL barns)))))) (VT_PL chase)))) (VP_SG (VI_SG runs)))")
    assert pair_from_tree(tree, verb_swaps(english)).attractors == 2


# -- sampling ---------------------------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_pairs_and_another_seed_others(english):
    assert sample_pairs(english, 60, seed=4) == sample_pairs(english, 60, seed=4)
    assert sample_pairs(english, 60, seed=4) != sample_pairs(english, 60, seed=5)


def test_the_default_set_is_balanced_over_distance_buckets_and_plain_sampling_is_not(english):
    n = 120
    balanced = sample_pairs(english, n, seed=0)
    plain = sample_pairs(english, n, seed=0, balanced=False)
    assert len(balanced) == len(plain) == n
    per_bucket = np.bincount([distance_bucket(p.distance) for p in balanced], minlength=len(DISTANCE_BUCKETS))
    assert per_bucket.tolist() == [math.ceil(n / len(DISTANCE_BUCKETS))] * len(DISTANCE_BUCKETS)
    assert sum(p.distance == 1 for p in plain) > n / 4 > sum(p.distance >= 10 for p in plain)
    assert len({p.good for p in balanced}) == n  # distinct good sentences


def test_a_grammar_without_long_distances_fills_the_set_from_the_short_bucket():
    pairs = sample_pairs("simple", 30, seed=0)
    assert len(pairs) == 30 and {p.distance for p in pairs} == {1} and {p.attractors for p in pairs} == {0}


@given(st.integers(0, 2**32 - 1))
def test_sampled_pairs_are_consistent(seed):
    english = load_grammar("english")
    tree = TreeSampler(english).sample(np.random.default_rng(seed))
    swaps = verb_swaps(english)
    pair = pair_from_tree(tree, swaps)
    verb = leaf_index(tree, main_verb_position(tree))
    assert pair.distance >= 1 and 0 <= pair.attractors <= pair.distance - 1
    assert swaps[pair.bad.split()[verb]] == pair.good.split()[verb]
    assert pair_from_tree(tree, swaps) == pair


def test_grammars_without_parallel_verb_lists_are_refused():
    lopsided = compile_pcfg("S -> 'x' VI_SG [0.5] | 'x' VI_PL [0.5]\nVI_SG -> 'runs' [1.0]\n"
                            "VI_PL -> 'run' [0.5] | 'walk' [0.5]\nVT_SG -> 'sees' [1.0]\nVT_PL -> 'see' [1.0]\n"
                            "X -> VT_SG VT_PL [1.0]")
    with pytest.raises(UserError, match="VI_SG has 1 words but VI_PL has 2"):
        verb_swaps(lopsided)
    with pytest.raises(UserError, match="no VT_SG"):
        verb_swaps(compile_pcfg("S -> VI_SG [1.0]\nVI_SG -> 'runs' [1.0]\nVI_PL -> 'run' [1.0]"))


def test_write_pairs_tsv_replaces_the_file_whole(english, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("old\n", encoding="utf-8")
    pairs = sample_pairs(english, 12, seed=2)
    assert write_pairs_tsv(pairs, path) == path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{pairs[0].good}\t{pairs[0].bad}\t{pairs[0].attractors}\t{pairs[0].distance}"
    assert len(lines) == 12 and [p.name for p in tmp_path.iterdir()] == ["pairs.tsv"]
