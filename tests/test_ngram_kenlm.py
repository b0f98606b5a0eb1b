"""Agreement with KenLM: perplexity parity with lmplz on brown (read from the reference file), and our ARPA
files loaded by the ``kenlm`` package scoring exactly as our models do."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, requires_corpus, requires_reference

from lmcourse.data import Corpus
from lmcourse.ngram import BackoffKneserNey, KatzBackoff, ModifiedKneserNey, NgramCounts, prune, write_arpa
from lmcourse.ngram.kneser_ney import modified_discounts

REFERENCE_FILE = "kenlm_brown.json"
ORDERS = (2, 3, 4, 5)


@pytest.fixture(scope="module")
def brown():
    from lmcourse.data import load_corpus

    return load_corpus("brown")


@pytest.fixture(scope="module")
def reference():
    return json.loads((REFERENCE_DIR / REFERENCE_FILE).read_text())["orders"]


@requires_corpus("brown")
@requires_reference(REFERENCE_FILE)
@pytest.mark.parametrize("order", ORDERS)
def test_modified_kneser_ney_matches_lmplz_on_brown(brown, reference, order):
    expected = reference[str(order)]
    model = ModifiedKneserNey(order).fit(brown)
    for split_name in ("valid", "test"):
        split = brown.split(split_name)
        assert split.num_predicted == expected[f"{split_name}_tokens"]
        ours = model.perplexity(split)
        theirs = expected[f"{split_name}_perplexity"]
        assert abs(ours / theirs - 1) < 3e-6, (split_name, ours, theirs)  # the README's claim
    by_order = expected["discounts_and_counts_by_order"]
    for k in range(2, order + 1):  # order 1: see test_unigram_discounts_differ_from_lmplz_by_one_ngram
        assert model.ngram_counts()[k] == by_order[str(k)]["ngrams"]
        d1, d2, d3 = model.discounts[k]
        assert d1 == pytest.approx(by_order[str(k)]["D1"], rel=1e-5)  # printed with 6 digits
        assert d2 == pytest.approx(by_order[str(k)]["D2"], rel=1e-5)  # printed with 6 digits
        assert d3 == pytest.approx(by_order[str(k)]["D3+"], rel=1e-5)  # printed with 6 digits
    assert model.ngram_counts()[1] == by_order["1"]["ngrams"] - 1  # KenLM adds its own zero-count <unk>


def lmplz_unigram_count_of_counts(split, adjusted: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """n_0..n_4 of the unigrams as lmplz computes them: lmplz numbers the words by first appearance and, in
    adjust_counts.cc (the loop after "This outputs the last n-grams"), adds the last unigram of its sorted
    stream -- the word that first appears latest -- with its raw count instead of its adjusted count."""
    tokens = np.asarray(split.tokens, dtype=np.int64)
    ids, first_position = np.unique(tokens, return_index=True)
    appears_last = ids[np.argmax(first_position)]
    as_lmplz = adjusted.copy()
    as_lmplz[appears_last] = raw[appears_last]
    return NgramCounts.count_of_counts(as_lmplz)


@requires_corpus("brown")
@requires_reference(REFERENCE_FILE)
def test_unigram_discounts_differ_from_lmplz_by_one_ngram(brown, reference):
    """Our unigram discounts follow Chen & Goodman; lmplz's differ only by its one-N-gram substitution
    (see the kneser_ney module docstring): with it we reproduce lmplz's printed figures."""
    expected = reference["2"]["discounts_and_counts_by_order"]["1"]
    train = brown.split("train")
    counts = NgramCounts.from_split(train, 2, len(brown.vocab))
    adjusted = counts.kneser_ney_counts()[1]
    ours = modified_discounts(NgramCounts.count_of_counts(adjusted))
    assert ours == pytest.approx(ModifiedKneserNey(2).fit(brown).discounts[1])
    lmplz = modified_discounts(lmplz_unigram_count_of_counts(train, adjusted, counts.tables[1].counts))
    theirs = (expected["D1"], expected["D2"], expected["D3+"])
    assert lmplz == pytest.approx(theirs, rel=1e-5)  # lmplz prints 6 digits
    assert ours[0] != pytest.approx(theirs[0], rel=1e-3)  # the definitions really differ on Brown


TRAIN = [s.split() for s in [
    "the cat sat on the mat", "the dog sat on the log", "a cat ran on a mat", "the cat", "a dog sat on the cat",
    "the mat ran", "the dog and the cat sat", "a log on a mat", "the cat ran and the dog ran", "on the mat",
]]
TEST = [["the", "cat", "ran", "zebra"], ["a", "dog"], ["mat", "the", "cat", "sat", "on", "a", "log"], ["the"]]


@pytest.mark.parametrize("make", [
    lambda: ModifiedKneserNey(3), lambda: ModifiedKneserNey(4), lambda: KatzBackoff(3),
    lambda: BackoffKneserNey(3), lambda: "pruned",
])
def test_kenlm_loads_our_arpa_and_agrees(tmp_path, make):
    kenlm = pytest.importorskip("kenlm")
    corpus = Corpus.from_sentences("toy", {"train": TRAIN, "valid": TEST, "test": TEST})
    model = make()
    if model == "pruned":
        model = prune(ModifiedKneserNey(3).fit(corpus), "0 1 1")
    else:
        model.fit(corpus)
    path = write_arpa(model, tmp_path / "model.arpa")
    loaded = kenlm.Model(str(path))
    split = corpus.split("test")
    log10 = model.log_probs(split) / np.log(10)
    for i, sentence in enumerate(TEST):
        ours = log10[split.sentence_starts[i]:split.sentence_starts[i + 1]].sum()
        theirs = loaded.score(" ".join(sentence), bos=True, eos=True)
        assert ours == pytest.approx(theirs, abs=1e-4), (sentence, ours, theirs)
