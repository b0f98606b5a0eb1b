"""The N-gram models: normalization (a property of every normalized model), hand-computed cases, a
plain-Python modified Kneser-Ney, vectorized scoring == word-by-word scoring, sampling, pruning, bad settings,
bits per character, the synthetic corpora's floor. The command line: tests/test_cli_ngram.py."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from conftest import requires_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmcourse.data import BOS_ID, EOS_ID, REGISTRY, Corpus, load_corpus
from lmcourse.errors import UserError
from lmcourse.ngram import (
    MODELS,
    AbsoluteDiscounting,
    Additive,
    BackoffKneserNey,
    JelinekMercer,
    KatzBackoff,
    KneserNey,
    MaximumLikelihood,
    ModifiedKneserNey,
    StupidBackoff,
    make_model,
    prune,
)
from lmcourse.ngram.base import backoff_weights
from lmcourse.ngram.counting import NgramCounts
from lmcourse.ngram.interpolation import tune_lambdas
from lmcourse.ngram.katz import good_turing_discounts
from lmcourse.ngram.pruning import parse_thresholds
from lmcourse.synthetic import check_not_below_floor

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
    lambdas = JelinekMercer(3).fit(corpus).describe()["lambdas"]  # tuned on the last train sentence
    assert len(lambdas) == 3
    assert all(0 < x < 1 for x in lambdas)
    assert all(abs(x - 0.5) > 1e-3 for x in lambdas)  # EM moved every weight from its start, 0.5


def test_jelinek_mercer_rejects_lambdas_of_the_wrong_length():
    for bad in ([0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [0.5, 1.5, 0.5]):
        with pytest.raises(UserError, match="needs 3 lambdas"):
            JelinekMercer(3, lambdas=bad)


# -- hand-computed estimates ---------------------------------------------------------------------------------
# A 3-sentence corpus small enough to work out on paper. Padded: "<s> a b </s>", "<s> a b c </s>", "<s> b </s>".
# ids: <unk>, <s>, </s>, a, b, c; the predictable ids are all but <s>: 5 of them, uniform 1/5.
# raw unigram counts: a 2, b 3, c 1, </s> 3 (total 9);
# raw bigrams: <s> a 2, <s> b 1, a b 2, b </s> 2, b c 1, c </s> 1   (n1 = 3, n2 = 3).
PAPER = [s.split() for s in ["a b", "a b c", "b"]]


def paper() -> Corpus:
    return Corpus.from_sentences("paper", {"train": PAPER, "valid": [["a"]], "test": [["a"]]})


def test_good_turing_discounts_hand_computed():
    # count-of-counts n1..n6 = 10, 4, 2, 1, 1, 1; Katz with K = 5: common = (K+1) n6 / n1 = 6 / 10 = 0.6
    counts = np.array([1] * 10 + [2] * 4 + [3] * 2 + [4, 5, 6])
    d = good_turing_discounts(counts)
    # r* = (r+1) n_{r+1} / n_r;  d_r = (r*/r - 0.6) / (1 - 0.6)
    assert d[1] == pytest.approx((2 * 4 / 10 / 1 - 0.6) / 0.4)  # r* = 0.8  -> d1 = 0.5
    assert d[2] == pytest.approx((3 * 2 / 4 / 2 - 0.6) / 0.4)  # r* = 1.5  -> d2 = 0.375
    assert d[3] == pytest.approx((4 * 1 / 2 / 3 - 0.6) / 0.4)  # r* = 2    -> d3 = 1/6
    assert d[4] == d[5] == 1.0  # (5/4 - 0.6) / 0.4 = 1.625 and 1.5 are above 1: not discounted


def test_katz_unigrams_hand_computed():
    # one sentence whose words have the count-of-counts above: 9 singletons (+ </s>, seen once), 4 words seen
    # twice, 2 three times, one each 4, 5 and 6 times. N = 10 + 8 + 6 + 4 + 5 + 6 = 39 predicted tokens.
    sentence = ([f"one{i}" for i in range(9)] + ["two0", "two1", "two2", "two3"] * 2 + ["three0", "three1"] * 3
                + ["four"] * 4 + ["five"] * 5 + ["six"] * 6)
    corpus = Corpus.from_sentences("gt", {"train": [sentence], "valid": [["six"]], "test": [["six"]]})
    model = KatzBackoff(1).fit(corpus)
    # discounted mass: 10 * 1 * 0.5 + 4 * 2 * 0.375 + 2 * 3 / 6 + 4 + 5 + 6 = 24; left = 15/39, spread
    # uniformly over the 20 predictable ids (18 words, <unk> and </s>; <s> is not predicted)
    assert len(corpus.vocab) == 21
    share = 15 / 39 / 20
    assert model.score("one3") == pytest.approx(0.5 * 1 / 39 + share)
    assert model.score("</s>") == pytest.approx(0.5 * 1 / 39 + share)
    assert model.score("two0") == pytest.approx(0.375 * 2 / 39 + share)
    assert model.score("three1") == pytest.approx(3 / 6 / 39 + share)
    assert model.score("six") == pytest.approx(6 / 39 + share)
    assert model.score("<unk>") == pytest.approx(share)


def test_absolute_discounting_hand_computed():
    model = AbsoluteDiscounting(2).fit(paper())
    # unigrams: n1 = 1 (c), n2 = 1 (a) -> D1 = 1 / (1 + 2) = 1/3; gamma = D1 * 4 seen types / 9 = 4/27
    # bigrams: n1 = 3, n2 = 3 -> D2 = 3 / (3 + 6) = 1/3
    assert model.discounts == {1: pytest.approx((1 / 3,)), 2: pytest.approx((1 / 3,))}
    p_a = (2 - 1 / 3) / 9 + 4 / 27 / 5  # = 29/135
    p_c = (1 - 1 / 3) / 9 + 4 / 27 / 5  # = 14/135
    p_end = (3 - 1 / 3) / 9 + 4 / 27 / 5  # = 44/135
    assert model.score("a") == pytest.approx(29 / 135) == p_a
    assert model.score("<unk>") == pytest.approx(4 / 135)
    # after b: b </s> 2, b c 1 (total 3); gamma(b) = D2 * 2 types / 3 = 2/9
    assert model.score("</s>", ["b"]) == pytest.approx((2 - 1 / 3) / 3 + 2 / 9 * p_end)
    assert model.score("c", ["b"]) == pytest.approx((1 - 1 / 3) / 3 + 2 / 9 * p_c)
    assert model.score("a", ["b"]) == pytest.approx(2 / 9 * p_a)


def test_interpolated_kneser_ney_hand_computed():
    model = KneserNey(2).fit(paper())
    # continuation counts N1+(. w): a {<s>} 1, b {<s>, a} 2, c {b} 1, </s> {b, c} 2; total 6, 4 types
    # n1 = 2, n2 = 2 -> D1 = 2 / (2 + 4) = 1/3; gamma = D1 * 4 / 6 = 2/9; uniform 1/5
    p_a = (1 - 1 / 3) / 6 + 2 / 9 / 5  # = 7/45
    p_end = (2 - 1 / 3) / 6 + 2 / 9 / 5  # = 29/90
    assert model.discounts == {1: pytest.approx((1 / 3,)), 2: pytest.approx((1 / 3,))}
    assert model.score("a") == pytest.approx(7 / 45) == p_a
    assert model.score("b") == pytest.approx(29 / 90) == p_end
    assert model.score("<unk>") == pytest.approx(2 / 45)
    # bigrams use raw counts, D2 = 1/3 as for absolute discounting; gamma(b) = gamma(<s>) = 2/9
    assert model.score("</s>", ["b"]) == pytest.approx((2 - 1 / 3) / 3 + 2 / 9 * p_end)
    assert model.score("a", ["b"]) == pytest.approx(2 / 9 * p_a)
    assert model.score("a", ["<s>"]) == pytest.approx((2 - 1 / 3) / 3 + 2 / 9 * p_a)


def test_backoff_kneser_ney_hand_computed():
    model = BackoffKneserNey(2).fit(paper())
    # unigrams as interpolated KN: p(a) = p(c) = 7/45, p(b) = p(</s>) = 29/90, p(<unk>) = 2/45
    p_a, p_c, p_end, p_unk = 7 / 45, 7 / 45, 29 / 90, 2 / 45
    # after b, seen: </s> (2) and c (1): p*(</s> | b) = (2 - 1/3) / 3 = 5/9, p*(c | b) = (1 - 1/3) / 3 = 2/9
    assert model.score("</s>", ["b"]) == pytest.approx(5 / 9)
    assert model.score("c", ["b"]) == pytest.approx(2 / 9)
    # beta(b) = (1 - 5/9 - 2/9) / (1 - p(</s>) - p(c)) = (2/9) / (47/90) = 20/47
    beta = (2 / 9) / (1 - p_end - p_c)
    assert beta == pytest.approx(20 / 47)
    assert model.score("a", ["b"]) == pytest.approx(20 / 47 * p_a)
    assert model.score("<unk>", ["b"]) == pytest.approx(20 / 47 * p_unk)
    assert model.distribution(["b"]).sum() == pytest.approx(1.0)


def test_backoff_weights_helper():
    # two contexts: context 0 saw words with p* 0.5 and 0.2 (lower-order p 0.3 and 0.1); context 1 saw every
    # word (its lower-order probabilities sum to 1): nothing to back off to, b = 0 and flagged
    contexts = np.array([0, 0, 1, 1])
    left = np.array([1 - 0.5 - 0.2, 0.1])
    weights, every_word_seen = backoff_weights(contexts, left, np.array([0.3, 0.1, 0.6, 0.4]), 2)
    assert weights[0] == pytest.approx(0.3 / (1 - 0.3 - 0.1))
    assert weights[1] == 0.0 and list(every_word_seen) == [False, True]


# -- bad input ------------------------------------------------------------------------------------------------
def test_bad_settings_are_user_errors():
    for alpha in (2.0, 0.0, -0.4, math.nan):
        with pytest.raises(UserError, match="alpha"):
            StupidBackoff(2, alpha=alpha)
    for k in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(UserError, match="k > 0"):
            Additive(2, k=k)
    model = ModifiedKneserNey(2).fit(toy())
    for temperature in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(UserError, match="temperature"):
            model.generate(temperature=temperature)
        with pytest.raises(UserError, match="temperature"):
            model.sample_sentences(2, temperature=temperature)


def test_prune_refuses_more_thresholds_than_orders():
    model = ModifiedKneserNey(2).fit(toy())
    with pytest.raises(UserError, match="the model has order 2"):
        prune(model, "0 1 2 3")
    assert parse_thresholds("0 1", 4) == [0, 1, 1, 1]  # fewer is fine: the last one repeats


# -- character corpora and the synthetic grammars ------------------------------------------------------------
def test_models_fitted_on_a_char_corpus_report_bits_per_character():
    sentences = [list("the cat sat"), list("a cat ran"), list("the mat")]
    corpus = Corpus.from_sentences("chars", {"train": sentences, "valid": sentences, "test": sentences},
                                   level="char")
    split = corpus.split("test")
    for name in NORMALIZED:
        model = make_model(name, 3).fit(corpus)
        assert model.level == "char"
        figures = model.evaluate(split)
        assert figures["bits_per_character"] == figures["cross_entropy_bits"], name
    word_model = ModifiedKneserNey(2).fit(toy())
    assert "bits_per_character" not in word_model.evaluate(toy().split("test"))
    # an EncodedSplit carries no level: the model is word level then
    assert ModifiedKneserNey(2).fit(corpus.split("train"), vocab=corpus.vocab).level == "word"


@requires_corpus("synthetic")
def test_modified_kneser_ney_on_synthetic_is_not_below_the_floor():
    corpus = load_corpus("synthetic")
    test = corpus.split("test")
    for order in (3, 4):
        perplexity = ModifiedKneserNey(order).fit(corpus).perplexity(test)
        check_not_below_floor(perplexity, test.num_predicted, grammar=REGISTRY["synthetic"].grammar)


@requires_corpus("synthetic-simple")
def test_models_on_synthetic_simple_are_not_below_the_floor():
    corpus = load_corpus("synthetic-simple")
    test = corpus.split("test")
    grammar = REGISTRY["synthetic-simple"].grammar
    for name, order in (("mkn", 3), ("kn", 2), ("katz", 3), ("jm", 3), ("absdisc", 2), ("addk", 2)):
        perplexity = make_model(name, order).fit(corpus).perplexity(test)
        assert math.isfinite(perplexity), name
        check_not_below_floor(perplexity, test.num_predicted, grammar=grammar)



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


def test_a_string_context_is_refused_on_a_word_corpus():
    """``score("cat", "the")`` would silently condition on the letters t, h, e."""
    from lmcourse.data import Corpus
    from lmcourse.errors import UserError
    from lmcourse.ngram import ModifiedKneserNey

    corpus = Corpus.from_sentences("toy", {"train": [["the", "cat"], ["the", "dog"]]})
    model = ModifiedKneserNey(order=2).fit(corpus)
    with pytest.raises(UserError, match=r"list of words.*\['the'\]"):
        model.score("cat", "the")
    assert model.score("cat", ["the"]) > model.score("the", ["the"])
    assert model.score("zebra", ["the"]) == model.score("<unk>", ["the"])  # out of vocabulary = <unk>
