"""Minimal-pair accuracy: the TSV reader's errors, score_pairs against a per-word brute force, and the two
models that bracket it (a bigram near chance beyond its window, a grammar oracle at 1.0)."""

from __future__ import annotations

import math

import nltk
import numpy as np
import pytest

from lmcourse.compare.agreement import read_pairs_tsv, score_pairs
from lmcourse.data import load_corpus
from lmcourse.errors import UserError
from lmcourse.lm import LanguageModel
from lmcourse.ngram import make_model
from lmcourse.synthetic import nltk_grammar
from lmcourse.synthetic.pairs import MinimalPair, sample_pairs, write_pairs_tsv

SCORE_KEYS = {"pairs", "accuracy", "correct", "by_distance", "by_attractors", "unk_words", "pairs_with_unk", "ties"}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus("synthetic")


@pytest.fixture(scope="module")
def bigram(corpus):
    return make_model("kn", 2).fit(corpus)


@pytest.fixture(scope="module")
def pairs():
    return sample_pairs("english", 600, seed=21)


# -- reading ----------------------------------------------------------------------------------------------------
def test_a_written_file_reads_back_as_the_same_pairs(tmp_path, pairs):
    path = write_pairs_tsv(pairs, tmp_path / "pairs.tsv")
    assert read_pairs_tsv(path) == pairs


def test_any_tsv_of_good_tab_bad_works_with_or_without_the_extra_columns(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_bytes("\ufeffgood\tbad\nthe dog runs\tthe dog run\r\n\n the  cats sleep \tthe cats sleeps\n"
                     .encode("utf-8"))
    assert read_pairs_tsv(path) == [MinimalPair("the dog runs", "the dog run"),
                                    MinimalPair("the cats sleep", "the cats sleeps")]
    path.write_text("the dog runs\tthe dog run\t0\n", encoding="utf-8")
    assert read_pairs_tsv(path) == [MinimalPair("the dog runs", "the dog run", attractors=0)]


BAD_LINES = [
    ("the dog runs the dog run", "line 2: no tab"),
    ("\tthe dog run\t0\t1", "line 2: the good sentence is empty"),
    ("the dog runs\t  \t0\t1", "line 2: the bad sentence is empty"),
    ("the dog runs\tthe dog run\tmany\t1", "line 2: the attractors column is 'many', not an integer"),
    ("the dog runs\tthe dog run\t0\t1.5", "line 2: the distance column is '1.5', not an integer"),
    ("the dog runs\tthe dog run\t-1\t1", "line 2: the attractors column is -1"),
    ("the dog runs\tthe dog run\t0\t1\t7", "line 2: 5 columns"),
    ("the dog runs\tthe dog run", "line 2: 2 columns, but line 1 has 4"),
    ("the dog runs\tthe dog runs\t0\t1", "line 2: the good and the bad sentence are the same"),
    ("<s> the dog runs\tthe dog run\t0\t1", "line 2: the good sentence holds <s> or </s>"),
]


@pytest.mark.parametrize("line, message", BAD_LINES)
def test_a_bad_line_is_a_one_line_error_naming_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(f"the cat sleeps\tthe cat sleep\t0\t1\n{line}\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        read_pairs_tsv(path)
    assert f"{path}, {message}" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("", encoding="utf-8"), "is empty"),
    (lambda p: p.write_text("good\tbad\n\n  \n", encoding="utf-8"), "is empty"),
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b"the dog runs\tthe dog run\nthe \xff cat\tx\n"), "not UTF-8 (byte 0xff on line 2)"),
])
def test_an_unusable_file_is_a_one_line_error(tmp_path, make, message):
    path = tmp_path / "pairs.tsv"
    make(path)
    with pytest.raises(UserError) as error:
        read_pairs_tsv(path)
    assert message in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


# -- scoring ----------------------------------------------------------------------------------------------------
def brute_force_log2_prob(model, sentence: str) -> float:
    """log2 p(sentence </s>) word by word with model.logscore, each word after <s> and the words before it."""
    words = sentence.split() + ["</s>"]
    return sum(model.logscore(word, ["<s>"] + words[:i]) for i, word in enumerate(words))


def brute_force_score(model, pairs: list[MinimalPair], vocab) -> dict:
    correct, ties, unk_words, pairs_with_unk = [], 0, 0, 0
    by: dict[str, dict[int, list[bool]]] = {"by_distance": {}, "by_attractors": {}}
    for pair in pairs:
        good, bad = brute_force_log2_prob(model, pair.good), brute_force_log2_prob(model, pair.bad)
        correct.append(good > bad)
        ties += good == bad
        unknown = sum(word not in vocab for s in (pair.good, pair.bad) for word in s.split())
        unk_words += unknown
        pairs_with_unk += unknown > 0
        for key, value in (("by_distance", pair.distance), ("by_attractors", pair.attractors)):
            by[key].setdefault(value, []).append(good > bad)
    grouped = {key: {str(v): {"pairs": len(c), "accuracy": sum(c) / len(c)} for v, c in sorted(groups.items())}
               for key, groups in by.items()}
    return {"pairs": len(pairs), "accuracy": sum(correct) / len(pairs), "correct": sum(correct), **grouped,
            "unk_words": unk_words, "pairs_with_unk": pairs_with_unk, "ties": ties}


def test_score_pairs_is_the_per_word_brute_force(corpus, bigram, pairs):
    chosen = pairs[:40] + [MinimalPair("the dog zorbs", "the dog glorbs", distance=1, attractors=0),  # a tie
                           MinimalPair("the dog runs zorbly", "the dog run zorbly", distance=1, attractors=0)]
    trigram = make_model("kn", 3).fit(corpus)
    for model in (bigram, trigram):
        scores = score_pairs(model, chosen, corpus.vocab)
        assert set(scores) == SCORE_KEYS
        expected = brute_force_score(model, chosen, corpus.vocab)
        assert scores == expected
        assert scores["unk_words"] == 4 and scores["pairs_with_unk"] == 2 and scores["ties"] >= 1


def test_a_bigram_is_near_chance_beyond_its_window(corpus, bigram, pairs):
    scores = score_pairs(bigram, pairs, corpus.vocab)
    assert scores["by_distance"]["1"]["accuracy"] > 0.7  # the head noun is the word before the verb
    far = [p for p in pairs if p.distance >= 4]
    assert len(far) > 300
    assert 0.35 < score_pairs(bigram, far, corpus.vocab)["accuracy"] < 0.65


class GrammarOracle(LanguageModel):
    """A "model" that sees agreement: log p = 0 for a sentence the grammar parses, -inf for any other (a
    stand-in for a model that has learnt the grammar). It records how often it was called."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.parser, self.calls = vocab, nltk.ChartParser(nltk_grammar("english")), 0

    def sentence_log_probs(self, split) -> np.ndarray:
        self.calls += 1
        sentences = [self.vocab.decode(ids[:-1]) for ids in split.sentences()]
        return np.array([0.0 if next(self.parser.parse(s), None) is not None else -math.inf for s in sentences])


def test_a_model_that_sees_agreement_scores_one_in_one_call(corpus, pairs):
    oracle = GrammarOracle(corpus.vocab)
    scores = score_pairs(oracle, pairs[:150], corpus.vocab)
    assert scores["accuracy"] == 1.0 and scores["ties"] == 0 and oracle.calls == 1
    assert all(row["accuracy"] == 1.0 for row in scores["by_distance"].values())
    swapped = [MinimalPair(p.bad, p.good, p.distance, p.attractors) for p in pairs[:150]]
    assert score_pairs(oracle, swapped, corpus.vocab)["accuracy"] == 0.0


def test_groups_appear_only_for_the_columns_the_pairs_have(corpus, bigram):
    plain = [MinimalPair("the dog runs", "the dog run"), MinimalPair("the dogs run", "the dogs runs")]
    scores = score_pairs(bigram, plain, corpus.vocab)
    assert scores["by_distance"] == {} and scores["by_attractors"] == {} and scores["pairs"] == 2
    with_attractors = [MinimalPair("the dog runs", "the dog run", attractors=0)]
    scores = score_pairs(bigram, with_attractors, corpus.vocab)
    assert list(scores["by_attractors"]) == ["0"] and scores["by_distance"] == {}


def test_no_pairs_is_an_error(corpus, bigram):
    with pytest.raises(UserError, match="no minimal pairs"):
        score_pairs(bigram, [], corpus.vocab)
