"""The N-gram models: normalization (a property of every normalized model), hand-computed cases, a
plain-Python modified Kneser-Ney, vectorized scoring == word-by-word scoring, sampling, pruning, the CLI."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmcourse.cli import main
from lmcourse.data import BOS_ID, EOS_ID, Corpus
from lmcourse.errors import UserError
from lmcourse.ngram import (
    MODELS,
    Additive,
    JelinekMercer,
    MaximumLikelihood,
    ModifiedKneserNey,
    StupidBackoff,
    make_model,
    prune,
)
from lmcourse.ngram.counting import NgramCounts
from lmcourse.ngram.interpolation import tune_lambdas

NORMALIZED = [name for name, cls in MODELS.items() if cls.normalized]
BACKOFF_FORM = ["mle", "jm", "katz", "absdisc", "kn", "mkn", "kn-backoff"]
TRAIN = [s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat ran on a mat", "the cat",
                             "a dog sat on the cat", "the mat ran"]]
TEST = [["the", "cat", "ran", "zebra"], ["a", "dog"], ["mat", "the", "cat", "sat"]]


def toy(train=TRAIN, test=TEST) -> Corpus:
    return Corpus.from_sentences("toy", {"train": train, "valid": test, "test": test})


def word_by_word_log_probs(model, split) -> np.ndarray:
    """The slow definition: p(token | <s> + the sentence so far), one call per token."""
    result = []
    for sentence in split.sentences():
        history = [BOS_ID]
        for token in sentence:
            with np.errstate(divide="ignore"):
                result.append(math.log(model.score(int(token), history)) if model.score(int(token), history)
                              > 0 else -math.inf)
            history.append(int(token))
    return np.array(result)


words = st.sampled_from(["a", "b", "c", "d", "e"])
corpora = st.lists(st.lists(words, min_size=0, max_size=6), min_size=1, max_size=8)
contexts = st.lists(st.sampled_from(["a", "b", "c", "zzz", "<unk>", "</s>"]), max_size=4).flatmap(
    lambda ctx: st.sampled_from([ctx, ["<s>"] + ctx]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(train=corpora, context_list=st.lists(contexts, min_size=1, max_size=4), order=st.integers(1, 4))
def test_every_normalized_model_sums_to_one(train, context_list, order):
    corpus = toy(train=train, test=[["a"]])
    for name in NORMALIZED:
        model = make_model(name, order).fit(corpus)
        for context in context_list:
            p = model.distribution(context)
            assert p[BOS_ID] == 0.0, name
            assert np.all(p >= 0), name
            assert abs(p.sum() - 1.0) < 1e-9, (name, context, p.sum())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(train=corpora, test=corpora, order=st.integers(1, 4))
def test_vectorized_scoring_equals_word_by_word(train, test, order):
    corpus = toy(train=train, test=test)
    split = corpus.split("test")
    for name in MODELS:
        model = make_model(name, order).fit(corpus)
        fast = model.log_probs(split)
        slow = word_by_word_log_probs(model, split)
        assert fast.shape == (split.num_predicted,)
        assert np.allclose(fast, slow, rtol=1e-9, atol=1e-12) or np.array_equal(fast, slow), name


def test_pruned_models_stay_normalized_and_zero_thresholds_change_nothing():
    corpus = toy()
    for name in BACKOFF_FORM:
        model = make_model(name, 3).fit(corpus)
        same = prune(model, [0, 0, 0])
        assert np.allclose(same.log_probs(corpus.split("test")), model.log_probs(corpus.split("test")))
        pruned = prune(model, "0 1 1")
        assert pruned.ngram_counts()[3] < model.ngram_counts()[3]
        for context in [[], ["the"], ["<s>"], ["<s>", "the"], ["the", "cat"], ["on", "the"], ["zebra"]]:
            assert abs(pruned.distribution(context).sum() - 1) < 1e-9, (name, context)


def test_prune_rejects_bad_thresholds():
    model = ModifiedKneserNey(3).fit(toy())
    for bad in ("1 1", "0 2 1", "0 x", [-1]):
        with pytest.raises(UserError):
            prune(model, bad)
    with pytest.raises(UserError):
        prune(StupidBackoff(2).fit(toy()), "0 1")


def test_mle_is_relative_frequency():
    corpus = toy()
    model = MaximumLikelihood(2).fit(corpus)
    # "the" is followed by cat (2), dog (1), mat (2), cat again in "on the cat" -> cat 3, mat 2, dog 1
    assert model.score("cat", ["the"]) == pytest.approx(3 / 6)
    assert model.score("dog", ["the"]) == pytest.approx(1 / 6)
    assert model.score("ran", ["the"]) == 0.0
    assert model.score("the", ["<s>"]) == pytest.approx(4 / 6)
    total = sum(len(s) + 1 for s in TRAIN)
    assert MaximumLikelihood(1).fit(corpus).score("cat") == pytest.approx(4 / total)
    assert model.perplexity(corpus.split("test")) == math.inf


def test_additive_hand_computed():
    corpus = toy()
    outcomes = len(corpus.vocab) - 1  # every id but <s>
    model = Additive(2, k=0.5).fit(corpus)
    assert model.score("cat", ["the"]) == pytest.approx((3 + 0.5) / (6 + 0.5 * outcomes))
    assert model.score("ran", ["the"]) == pytest.approx(0.5 / (6 + 0.5 * outcomes))
    assert model.score("cat", ["zebra"]) == pytest.approx(0.5 / (0.5 * outcomes))  # unseen context
    with pytest.raises(UserError):
        Additive(2, k=0)


def test_stupid_backoff_scores_are_not_probabilities():
    corpus = toy()
    model = StupidBackoff(2, alpha=0.4).fit(corpus)
    assert model.score("cat", ["the"]) == pytest.approx(3 / 6)
    total = sum(len(s) + 1 for s in TRAIN)
    assert model.score("ran", ["the"]) == pytest.approx(0.4 * 2 / total)
    assert model.distribution(["the"]).sum() > 1.0
    with pytest.raises(UserError):
        model.perplexity(corpus.split("test"))


def reference_modified_kneser_ney(sentences: list[list[int]], order: int, vocab_size: int):
    """A direct, dictionary-based transcription of Chen & Goodman's interpolated modified KN with KenLM's
    conventions, to check the vectorized implementation against. Returns p(w, context_tuple)."""
    raw = {}
    for k in range(1, order + 1):
        raw[k] = Counter()
        for ids in sentences:
            padded = [BOS_ID] + list(ids)
            for end in range(max(1, k - 1), len(padded)):
                raw[k][tuple(padded[end - k + 1:end + 1])] += 1
    adjusted = {order: dict(raw[order])}
    for k in range(1, order):
        adjusted[k] = {g: (c if g[0] == BOS_ID else len({h[0] for h in raw[k + 1] if h[1:] == g}))
                       for g, c in raw[k].items()}
    discounts = {}
    for k in range(1, order + 1):
        n = Counter(min(a, 5) for a in adjusted[k].values())
        if any(n[r] == 0 for r in (1, 2, 3, 4)):
            d = (0.5, 1.0, 1.5)
        else:
            y = n[1] / (n[1] + 2 * n[2])
            d = tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
            if any(not 0 <= x <= r for r, x in zip((1, 2, 3), d)):
                d = (0.5, 1.0, 1.5)
        discounts[k] = d

    def discount(k, a):
        return 0.0 if a == 0 else discounts[k][min(a, 3) - 1]

    def p(w, context):
        k = len(context) + 1
        extensions = {g: a for g, a in adjusted[k].items() if g[:-1] == context}
        if k > 1 and not extensions:
            return p(w, context[1:])
        total = sum(extensions.values())
        if total == 0:
            return 1.0 / (vocab_size - 1)
        gamma = sum(discount(k, a) for a in extensions.values()) / total
        a = extensions.get(context + (w,), 0)
        lower = 1.0 / (vocab_size - 1) if k == 1 else p(w, context[1:])
        return max(a - discount(k, a), 0.0) / total + gamma * lower

    return p, discounts


@settings(max_examples=20, deadline=None)
@given(train=corpora, order=st.integers(1, 3), context=st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
       start=st.booleans())
def test_modified_kneser_ney_equals_the_plain_python_definition(train, order, context, start):
    corpus = toy(train=train, test=[["a"]])
    model = ModifiedKneserNey(order).fit(corpus)
    ids = [list(s) for s in corpus.split("train").sentences()]
    reference, discounts = reference_modified_kneser_ney(ids, order, len(corpus.vocab))
    context_ids = ([BOS_ID] if start else []) + [corpus.vocab.lookup(w) for w in context]
    used = tuple(context_ids[len(context_ids) - (order - 1):]) if order > 1 else ()
    ours = model.distribution(context_ids)
    for w in range(len(corpus.vocab)):
        if w != BOS_ID:
            assert ours[w] == pytest.approx(reference(w, used), rel=1e-9, abs=1e-15)
    for k in range(1, order + 1):
        assert model.discounts[k] == pytest.approx(discounts[k])


def test_jelinek_mercer_em_improves_heldout_likelihood():
    corpus = toy()
    counts = NgramCounts.from_split(corpus.split("train"), 3, len(corpus.vocab))
    heldout = corpus.split("test")
    tuned = tune_lambdas(counts, heldout)
    assert np.all((tuned[1:] > 0) & (tuned[1:] < 1))
    even = JelinekMercer(3, lambdas=[0.5, 0.5, 0.5]).fit(corpus)
    best = JelinekMercer(3, lambdas=tuned[1:]).fit(corpus)
    assert best.log_probs(heldout).sum() >= even.log_probs(heldout).sum() - 1e-9
    assert JelinekMercer(3).fit(corpus).describe()["lambdas"]


def test_generate_is_reproducible_and_uses_the_vocabulary():
    model = ModifiedKneserNey(3).fit(toy())
    first = model.sample_sentences(4, seed=3)
    assert first == model.sample_sentences(4, seed=3)
    assert all(word in model.vocab for sentence in first for word in sentence.split())
    cold = model.generate(seed=1, temperature=0.01, max_words=10)  # nearly greedy: the argmax each step
    history = ["<s>"]
    for word in cold:
        assert model.vocab.lookup(word) == int(np.argmax(model.distribution(history)))
        history.append(word)
    with pytest.raises(UserError):
        model.generate(temperature=0)


def test_score_accepts_strings_and_ids_and_logscore_is_log2():
    corpus = toy()
    model = ModifiedKneserNey(3).fit(corpus)
    cat, the = corpus.vocab.lookup("cat"), corpus.vocab.lookup("the")
    assert model.score("cat", ["<s>", "the"]) == model.score(cat, [BOS_ID, the])
    assert model.logscore("cat", ["the"]) == pytest.approx(math.log2(model.score("cat", ["the"])))
    assert model.score("<s>", ["the"]) == 0.0
    assert model.score(EOS_ID, ["mat"]) > 0


def test_unfitted_model_and_bad_order_are_user_errors():
    with pytest.raises(UserError):
        ModifiedKneserNey(0)
    with pytest.raises(UserError):
        ModifiedKneserNey(2).score("a", [])
    with pytest.raises(UserError):
        make_model("nope", 2)


# -- the command line --------------------------------------------------------------------------------------
@pytest.fixture
def folder_corpus(tmp_path):
    for name, sentences in (("train", TRAIN), ("valid", TEST), ("test", TEST)):
        (tmp_path / f"{name}.txt").write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return tmp_path


def run_json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_ngram_json(folder_corpus, capsys, tmp_path):
    arpa = tmp_path / "out" / "model.arpa"
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "3", "--smoothing", "mkn",
                               "--json", "--arpa", str(arpa)])
    for key in ("corpus", "model", "order", "smoothing", "valid_perplexity", "test_perplexity",
                "predicted_tokens", "fit_seconds", "score_seconds", "ngram_counts", "discounts"):
        assert key in result
    assert result["predicted_tokens"] == {"valid": 13, "test": 13}  # 10 words + 3 </s>
    assert set(result["discounts"]) == {"1", "2", "3"} and result["valid_perplexity"] > 1
    assert arpa.is_file() and arpa.read_text().startswith("\\data\\")


def test_cli_mle_infinite_perplexity_is_null_with_a_note(folder_corpus, capsys):
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "mle",
                               "--json"])
    assert result["valid_perplexity"] is None and "infinite" in result["note"]


def test_cli_stupid_backoff_has_no_perplexity(folder_corpus, capsys):
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing",
                               "stupid", "--json"])
    assert result["test_perplexity"] is None and "unnormalized" in result["note"]


def test_cli_sample_and_errors(folder_corpus, capsys):
    argv = ["sample", "--ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "kn",
            "--n", "3", "--seed", "1", "--json"]
    first = run_json(capsys, argv)
    assert len(first["sentences"]) == 3 and first == run_json(capsys, argv)
    assert main(["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "mkn",
                 "--prune", "1 1"]) == 2
    assert "unigrams cannot be pruned" in capsys.readouterr().err
