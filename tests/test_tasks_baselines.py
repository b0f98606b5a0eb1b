"""The baselines: N-gram features, Naive Bayes against a computation by hand, logistic regression against its
gradient and a closed form, and the whole run on a made-up corpus (then Naive Bayes on the real one)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from conftest import requires_corpus

from lmcourse.tasks.baselines import (
    PUBLISHED,
    LogisticRegression,
    NaiveBayes,
    NgramFeatures,
    document_ngrams,
    log_loss_and_gradient,
    merge_single_document_columns,
    run_baselines,
    search_penalty,
)
from lmcourse.tasks.movie_reviews import Document, folds, task_split

# Two positive and two negative toy reviews; vocabulary (sorted): bad, fun, good, plot.
TOY = [["good", "good", "fun"], ["fun", "plot"], ["bad", "plot"], ["bad", "bad", "good"]]
TOY_LABELS = [1, 1, 0, 0]


def toy_reviews(numbers: int = 100, seed: int = 0) -> list[Document]:
    """Reviews named like the real ones (cvNNN, NNN spread over 0-999 with NNN % 10 = i % 10 for the i-th, so
    that the split and the folds cut them as the real ones), of neutral words and a few leaning to their label."""
    rng = np.random.default_rng(seed)
    neutral = [f"w{i}" for i in range(40)]
    leaning = {0: ["awful", "dull", "worst"], 1: ["great", "moving", "best"]}
    documents = []
    for label, name in enumerate(("neg", "pos")):
        for i in range(numbers):
            number = i * (1000 // numbers) + i % 10
            words = list(rng.choice(neutral, size=30)) + list(rng.choice(leaning[label], size=2))
            words += list(rng.choice(leaning[1 - label], size=int(rng.integers(0, 2))))
            rng.shuffle(words)
            documents.append(Document(f"{name}/cv{number:03d}_{number}.txt", label, (tuple(words[:16]),
                                                                                     tuple(words[16:]))))
    return documents


# -- features ------------------------------------------------------------------------------------------------
def test_ngrams_of_a_document():
    assert document_ngrams(["a", "b", "c"], (1, 2)) == ["a", "b", "c", "a b", "b c"]
    assert document_ngrams(["a", "b", "c"], (2, 3)) == ["a b", "b c", "a b c"]
    assert document_ngrams(["a"], (2, 2)) == []


def test_features_count_or_mark_presence_and_drop_unseen_ngrams():
    counts = NgramFeatures().fit(TOY)
    assert counts.vocabulary_ == {"bad": 0, "fun": 1, "good": 2, "plot": 3}
    matrix = counts.transform([["good", "good", "zebra", "bad"]])
    assert matrix.toarray().tolist() == [[1, 0, 2, 0]]
    presence = NgramFeatures(binary=True).fit(TOY)
    assert presence.transform([["good", "good", "zebra", "bad"]]).toarray().tolist() == [[1, 0, 1, 0]]
    both = NgramFeatures((1, 2)).fit(TOY)
    assert "good good" in both.vocabulary_ and "plot bad" not in both.vocabulary_  # documents do not run on
    assert (both.fit_transform(TOY) != both.fit(TOY).transform(TOY)).nnz == 0


# -- Naive Bayes ---------------------------------------------------------------------------------------------
def test_naive_bayes_counts_by_hand():
    model = NaiveBayes(alpha=1.0).fit(TOY, TOY_LABELS)
    # pos counts bad 0, fun 2, good 2, plot 1 (+1 each: 1 3 3 2, of 9); neg 3 0 1 1 (+1: 4 1 2 2, of 9)
    np.testing.assert_allclose(np.exp(model.feature_log_prob_), [[4 / 9, 1 / 9, 2 / 9, 2 / 9],
                                                                [1 / 9, 3 / 9, 3 / 9, 2 / 9]])
    np.testing.assert_allclose(model.log_count_ratio_, np.log([1 / 4, 3, 3 / 2, 1]))
    np.testing.assert_allclose(np.exp(model.class_log_prior_), [1 / 2, 1 / 2])
    # "good fun zebra": pos 1/2 * 3/9 * 3/9, neg 1/2 * 2/9 * 1/9, so p(pos) = 9 / (9 + 2); zebra is unseen
    np.testing.assert_allclose(np.exp(model.predict_log_proba([["good", "fun", "zebra"]])), [[2 / 11, 9 / 11]])
    # "good good bad": pos 3 * 3 * 1 = 9, neg 2 * 2 * 4 = 16 (in ninths): p(pos) = 9 / 25
    np.testing.assert_allclose(np.exp(model.predict_log_proba([["good", "good", "bad"]]))[0, 1], 9 / 25)
    assert model.predict([["good", "fun"], ["bad", "good", "good"]]).tolist() == [1, 0]


def test_binary_naive_bayes_counts_documents_by_hand():
    model = NaiveBayes(binary=True).fit(TOY, TOY_LABELS)
    # presence: pos bad 0, fun 2, good 1, plot 1 (+1: 1 3 2 2, of 8); neg 2 0 1 1 (+1: 3 1 2 2, of 8)
    np.testing.assert_allclose(model.log_count_ratio_, np.log([1 / 3, 3, 1, 1]))
    # "good good bad" counts good once: pos 2 * 1 = 2, neg 2 * 3 = 6 (in eighths): p(pos) = 1/4
    np.testing.assert_allclose(np.exp(model.predict_log_proba([["good", "good", "bad"]]))[0, 1], 1 / 4)


def test_lidstone_smoothing_and_unequal_priors():
    model = NaiveBayes(alpha=0.5).fit(TOY[:3], [1, 1, 0])
    # pos counts 0 2 2 1 (+0.5: 0.5 2.5 2.5 1.5, of 7); priors 2/3, 1/3
    np.testing.assert_allclose(np.exp(model.feature_log_prob_[1]), [0.5 / 7, 2.5 / 7, 2.5 / 7, 1.5 / 7])
    np.testing.assert_allclose(np.exp(model.class_log_prior_), [1 / 3, 2 / 3])


def test_bad_naive_bayes_input_is_refused():
    with pytest.raises(ValueError, match="alpha must be > 0"):
        NaiveBayes(alpha=0)
    with pytest.raises(ValueError, match="both classes"):
        NaiveBayes().fit(TOY[:2], [1, 1])


# -- logistic regression -------------------------------------------------------------------------------------
def test_the_gradient_is_the_derivative_of_the_loss():
    rng = np.random.default_rng(0)
    matrix = scipy.sparse.random(30, 8, density=0.4, random_state=1, format="csr")
    labels = rng.integers(0, 2, size=30).astype(float)
    for point in (np.zeros(9), rng.normal(size=9)):
        error = scipy.optimize.check_grad(lambda p: log_loss_and_gradient(p, matrix, labels, 0.1)[0],
                                          lambda p: log_loss_and_gradient(p, matrix, labels, 0.1)[1], point)
        assert error < 1e-6


def test_the_loss_by_hand_and_the_bias_goes_unpenalized():
    matrix = scipy.sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    loss, gradient = log_loss_and_gradient(np.array([1.0, -1.0, 0.5]), matrix, np.array([1.0, 0.0]), 0.2)
    z = np.array([1.5, -1.5])
    expected = np.mean([math.log1p(math.exp(-z[0])), math.log1p(math.exp(z[1]))]) + 0.1 * 2
    assert loss == pytest.approx(expected)
    residual = (1 / (1 + np.exp(-z)) - [1, 0]) / 2
    np.testing.assert_allclose(gradient, [residual[0] + 0.2, 2 * residual[1] - 0.2, residual.sum()])


def test_merging_single_document_columns_solves_the_same_problem():
    # columns 0 and 2 are one document's (row 0, value 1), so are 1 and 7 (row 1); 3 is row 0 with value 2;
    # 4 is in four documents; 5 and 6 are in none
    matrix = scipy.sparse.csr_matrix(np.array([[1, 0, 1, 2, 1, 0, 0, 0], [0, 1, 0, 0, 1, 0, 0, 1],
                                               [0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
                                               [0, 0, 0, 0, 1, 0, 0, 0]], dtype=float))
    labels = np.array([1, 0, 1, 0, 0])
    merged = merge_single_document_columns(matrix)
    assert merged.group.tolist() == [2, 4, 2, 3, 0, 1, 1, 4]
    np.testing.assert_allclose(merged.scale, np.sqrt([1, 2, 2, 1, 2]))
    assert merged.matrix.shape == (5, 5)
    model = LogisticRegression(penalty=0.05, tolerance=1e-9).fit_matrix(matrix, labels, NgramFeatures())
    direct = scipy.optimize.minimize(log_loss_and_gradient, np.zeros(9), args=(matrix, labels.astype(float), 0.05),
                                     jac=True, method="L-BFGS-B", options={"gtol": 1e-9})
    np.testing.assert_allclose(model.parameters_, direct.x, atol=1e-5)  # the 8 weights, found with 5
    assert model.loss_ == pytest.approx(direct.fun)
    assert model.coef_[0] == model.coef_[2] and model.coef_[5] == model.coef_[6] == 0


def test_without_features_the_bias_is_the_log_odds():
    labels = [1, 1, 1, 0]
    model = LogisticRegression(penalty=0.1).fit_matrix(scipy.sparse.csr_matrix((4, 3)), labels, NgramFeatures())
    assert model.intercept_ == pytest.approx(math.log(3), abs=1e-5) and not model.coef_.any()


def test_the_fit_is_the_minimum():
    documents = [list(d.words) for d in toy_reviews(30)]
    labels = [d.label for d in toy_reviews(30)]
    model = LogisticRegression(penalty=1e-2, tolerance=1e-7).fit(documents, labels)
    matrix = model.features_.transform(documents)
    _, gradient = log_loss_and_gradient(model.parameters_, matrix, np.array(labels, float), 1e-2)
    assert model.converged_ and np.abs(gradient).max() < 1e-6
    great, awful = model.features_.vocabulary_["great"], model.features_.vocabulary_["awful"]
    assert model.coef_[great] > 0 > model.coef_[awful]
    assert (model.predict(documents) == labels).mean() == 1.0  # separable with this many features
    np.testing.assert_allclose(model.predict_proba(documents).sum(axis=1), 1.0)


def test_a_larger_penalty_gives_smaller_weights():
    documents, labels = [list(d.words) for d in toy_reviews(20)], [d.label for d in toy_reviews(20)]
    norms = [np.linalg.norm(LogisticRegression(penalty).fit(documents, labels).coef_) for penalty in (1e-3, 1e-1, 1)]
    assert norms[0] > norms[1] > norms[2] > 0


def test_the_penalty_search_keeps_the_best_and_breaks_ties_to_the_larger():
    documents = toy_reviews(40)
    split = task_split(documents)
    features = NgramFeatures((1, 2), binary=True)
    train = features.fit_transform([d.words for d in split["train"]])
    held_out = features.transform([d.words for d in split["valid"]])
    train_labels, held_out_labels = [d.label for d in split["train"]], np.array([d.label for d in split["valid"]])
    model, scores = search_penalty(train, train_labels, held_out, held_out_labels, features, (1e-3, 1e-2, 10.0))
    assert set(scores) == {1e-3, 1e-2, 10.0}
    best = max(scores.values())
    assert scores[model.penalty] == best and model.penalty == max(p for p, s in scores.items() if s == best)
    model, scores = search_penalty(train, train_labels, train, np.array(train_labels), features, (1e-4, 1e-3))
    assert scores == {1e-4: 1.0, 1e-3: 1.0} and model.penalty == 1e-3  # a tie: the larger


# -- the whole run ---------------------------------------------------------------------------------------------
def test_run_on_a_split_reports_every_baseline():
    result = run_baselines(task_split(toy_reviews()), grid=(1e-3, 1e-2), resamples=500)
    assert result["sizes"] == {"train": 160, "valid": 20, "test": 20}
    assert [row["key"] for row in result["baselines"]] == ["nb_unigrams", "nb_bigrams", "logreg_bigrams"]
    for row in result["baselines"]:
        low, high = row["interval_95"]
        assert low <= row["test_accuracy"] <= high and row["test_accuracy"] > 0.7
        assert sum(figures["support"] for figures in row["per_class"].values()) == 20
    assert result["baselines"][2]["penalty"] in (1e-3, 1e-2)
    assert {figure.compares_with for figure in PUBLISHED} <= {row["key"] for row in result["baselines"]}


def test_run_by_folds_never_tunes_on_the_test_fold(monkeypatch):
    from lmcourse.tasks import baselines

    documents = toy_reviews(60)
    cut = folds(documents, 3)
    seen = []
    real = baselines.fit_and_predict

    def spy(baseline, evaluation, grid):
        assert evaluation.refit and evaluation.held_out
        assert not {d.fileid for d in evaluation.test} & {d.fileid for d in evaluation.fitted}
        seen.append(len(evaluation.test))
        return real(baseline, evaluation, grid)

    monkeypatch.setattr(baselines, "fit_and_predict", spy)
    result = run_baselines(cut, grid=(1e-2,))
    assert result["folds"] == 3 and seen == [len(fold) for fold in cut for _ in range(3)] and sum(seen) == 3 * 120
    for row in result["baselines"]:
        assert len(row["fold_accuracy"]) == 3
        assert row["mean"] == pytest.approx(np.mean(row["fold_accuracy"]))
        assert row["std"] == pytest.approx(np.std(row["fold_accuracy"], ddof=1))
        assert sum(figures["support"] for figures in row["per_class"].values()) == 120


@pytest.mark.needs_corpus
@requires_corpus("movie_reviews")
def test_naive_bayes_on_the_real_split():
    from lmcourse.tasks import get_task

    task = get_task("movie_reviews")
    split = task.split(task.load_documents())
    model = NaiveBayes(binary=True).fit([d.words for d in split["train"]], [d.label for d in split["train"]])
    predictions = model.predict([d.words for d in split["test"]])
    assert np.mean(predictions == [d.label for d in split["test"]]) > 0.75
    ratio = model.log_count_ratio_
    vocabulary = model.features_.vocabulary_
    assert ratio[vocabulary["outstanding"]] > 1 > -1 > ratio[vocabulary["waste"]]
