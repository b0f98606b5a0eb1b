"""Agreement with KenLM: perplexity parity with lmplz on brown (read from the reference file), and our ARPA
files loaded by the ``kenlm`` package scoring exactly as our models do."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, requires_corpus, requires_reference

from lmcourse.data import Corpus
from lmcourse.ngram import BackoffKneserNey, KatzBackoff, ModifiedKneserNey, prune, write_arpa

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
        assert abs(ours / theirs - 1) < 1e-3, (split_name, ours, theirs)
    by_order = expected["discounts_and_counts_by_order"]
    for k in range(2, order + 1):  # order 1: KenLM adds its own zero-count <unk> (one unigram more)
        assert model.ngram_counts()[k] == by_order[str(k)]["ngrams"]
        d1, d2, d3 = model.discounts[k]
        assert d1 == pytest.approx(by_order[str(k)]["D1"], rel=1e-5)  # printed with 6 digits
        assert d2 == pytest.approx(by_order[str(k)]["D2"], rel=1e-5)  # printed with 6 digits
        assert d3 == pytest.approx(by_order[str(k)]["D3+"], rel=1e-5)  # printed with 6 digits
    assert model.ngram_counts()[1] == by_order["1"]["ngrams"] - 1


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
