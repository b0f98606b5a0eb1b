"""One interface for every model: the same predicted tokens, the same methods, N-gram or neural."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import requires_corpus

from lmcourse.data import load_corpus
from lmcourse.lm import LanguageModel
from lmcourse.neural import MODELS, TrainConfig, make_model
from lmcourse.ngram import ModifiedKneserNey
from lmcourse.synthetic import check_not_below_floor


def untrained(kind: str, corpus):
    sizes = dict(d_model=8, heads=2, context=16) if kind == "transformer" else dict(emb=8, hidden=8)
    model = make_model(kind, layers=1, training=TrainConfig(eval_batch=256), **sizes)
    model.build(corpus.vocab, corpus.level)
    return model


@pytest.mark.slow
@requires_corpus("brown")
def test_every_model_scores_exactly_the_predicted_tokens_of_brown_valid():
    corpus = load_corpus("brown")
    valid = corpus.split("valid")
    assert valid.num_predicted == 121_184
    models = [ModifiedKneserNey(order=3).fit(corpus)] + [untrained(kind, corpus) for kind in MODELS]
    for model in models:
        assert isinstance(model, LanguageModel)
        log_p = model.log_probs(valid)
        assert log_p.shape == (121_184,) and np.all(log_p <= 0), type(model).__name__
        assert model.evaluate(valid)["predicted_tokens"] == 121_184
    for model in models[-2:]:                       # the LSTM and the Transformer, sentence by sentence
        per_sentence = model.log_probs(valid, per_sentence=True)
        assert per_sentence.shape == (121_184,) and np.all(np.isfinite(per_sentence))


@pytest.fixture(scope="module")
def lstm_on_synthetic():
    corpus = load_corpus("synthetic")
    training = TrainConfig(optimizer="adamw", lr=1e-2, schedule="cosine", warmup=20, steps=300, batch=32, bptt=20,
                           eval_every=150, clip=1.0, device="cpu")
    return corpus, make_model("lstm", emb=48, hidden=48, layers=1, dropout=0.0, training=training).fit(
        corpus, progress_bar=False)


def test_a_trained_lstm_learns_and_is_not_below_the_floor(lstm_on_synthetic):
    corpus, model = lstm_on_synthetic
    test = corpus.split("test")
    perplexity = model.perplexity(test)
    assert perplexity < 60  # a unigram model is near 200 here; the floor is 29.3
    check_not_below_floor(perplexity, test.num_predicted)
    sentence_by_sentence = float(np.exp(-model.log_probs(test, per_sentence=True).mean()))
    assert sentence_by_sentence == pytest.approx(perplexity, rel=0.05)


def test_the_same_methods_answer_alike(lstm_on_synthetic):
    corpus, model = lstm_on_synthetic
    distribution = model.distribution(["the"])
    assert distribution.sum() == pytest.approx(1.0, abs=1e-6) and distribution[1] == 0
    assert model.score("dog", ["the"]) == pytest.approx(distribution[corpus.vocab.lookup("dog")])
    assert model.logscore("dog", ["the"]) == pytest.approx(np.log2(distribution[corpus.vocab.lookup("dog")]))
    first, second = model.sample_sentences(3, seed=5), model.sample_sentences(3, seed=5)
    assert first == second and all(isinstance(s, str) for s in first)
    assert model.describe()["parameters"] == model.num_parameters()
