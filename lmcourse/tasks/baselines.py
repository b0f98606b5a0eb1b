"""The baselines a fine-tuned language model has to beat: Naive Bayes and logistic regression on N-grams.

Features (:class:`NgramFeatures`)
---------------------------------
A document is a bag of its N-grams: its words (unigrams) and, with ``ngram_range=(1, 2)``, its pairs of
adjacent words (bigrams, across sentence ends too). The vocabulary is every N-gram of the *training*
documents; a document becomes a row of a sparse matrix, ``x[w]`` = how often N-gram w occurs in it, or with
``binary=True`` whether it occurs (0 or 1). N-grams never seen in training are dropped.

Multinomial Naive Bayes (:class:`NaiveBayes`)
---------------------------------------------
Each class c is a distribution over the vocabulary, estimated with add-alpha (Laplace for alpha = 1,
Lidstone otherwise) smoothing from the feature counts of its training documents::

    p(w | c) = (alpha + n_cw) / (alpha * |V| + sum_v n_cv)      n_cw = sum of x[w] over the documents of c
    p(c)     = (documents of c) / (documents)

and a document x is scored by Bayes' rule, its features independent given the class::

    log p(c | x) = log p(c) + sum_w x[w] log p(w | c) - log Z      (Z normalizes over the classes)

(Jurafsky & Martin, "Speech and Language Processing", 3rd ed., ch. 4; McCallum & Nigam 1998.) With
``binary=True`` every x[w] is 0 or 1, training and test alike: a word said five times counts once. For
sentiment this does better (Pang, Lee & Vaithyanathan 2002; Wang & Manning 2012, who call it MNB). With two
classes the model is linear in x, with weights the log-count ratio (Wang & Manning's r)::

    r[w] = log p(w | pos) - log p(w | neg)       log p(pos | x) / p(neg | x) = log p(pos)/p(neg) + r . x

L2-regularized logistic regression (:class:`LogisticRegression`)
----------------------------------------------------------------
p(pos | x) = sigmoid(w . x + b), sigmoid(z) = 1 / (1 + exp(-z)), fitted by minimizing over (w, b)::

    loss(w, b) = (1/n) sum_i [ log(1 + exp(z_i)) - y_i z_i ]  +  (lambda / 2) ||w||^2       z_i = w . x_i + b

the mean log loss (cross-entropy) of the n training documents plus an L2 penalty on the weights (not on the
bias b). Its gradient (Jurafsky & Martin, ch. 5)::

    d loss / d w = (1/n) X^T (sigmoid(z) - y) + lambda w          d loss / d b = (1/n) sum_i (sigmoid(z_i) - y_i)

The loss is convex, so L-BFGS (Liu & Nocedal 1989; ``scipy.optimize.minimize(method="L-BFGS-B")``) finds its
minimum from those two formulas alone. lambda is chosen on held-out documents (:func:`choose_penalty`), never
on the test documents.

The published figures (:data:`PUBLISHED`) are 10-fold cross-validation on the same 2,000 reviews, which
:func:`run_baselines` reproduces with ``folds``; the fixed split scores only 200 test reviews (a 95% interval
of about +-5 points: :mod:`lmcourse.tasks.metrics`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.optimize
import scipy.sparse
from scipy.special import expit, logsumexp

from lmcourse.tasks.metrics import accuracy, bootstrap_interval, per_class
from lmcourse.tasks.movie_reviews import LABELS, Document, review_number

NgramRange = tuple[int, int]
PENALTY_GRID = (1e-5, 1e-4, 1e-3, 1e-2)  # lambda, tried on held-out documents


@dataclass(frozen=True)
class PublishedFigure:
    """An accuracy from the literature, beside the baseline of ours it compares with (``compares_with``)."""

    source: str
    model: str
    accuracy: float
    protocol: str
    compares_with: str


PROTOCOL = "10-fold cross-validation, polarity dataset v2.0 (the 2,000 reviews of movie_reviews)"
PUBLISHED = (
    PublishedFigure("Pang & Lee 2004", "Naive Bayes, unigram presence", 0.864, PROTOCOL, "nb_unigrams"),
    PublishedFigure("Pang & Lee 2004", "SVM, unigram presence", 0.872, PROTOCOL, "logreg_bigrams"),
    PublishedFigure("Wang & Manning 2012", "NBSVM-bi: SVM on NB log-count ratios, uni+bigrams", 0.8945, PROTOCOL,
                    "logreg_bigrams"),
)


# -- features ------------------------------------------------------------------------------------------------
def document_ngrams(words: Sequence[str], ngram_range: NgramRange) -> list[str]:
    """The N-grams of ``words`` for every N in ``ngram_range`` (inclusive), each as its words joined by spaces."""
    low, high = ngram_range
    return [" ".join(gram) for n in range(low, high + 1) for gram in zip(*(words[i:] for i in range(n)))]


def check_ngram_range(ngram_range: NgramRange) -> NgramRange:
    low, high = ngram_range
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
        raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {ngram_range!r}")
    return low, high


class NgramFeatures:
    """A document (its words) to a sparse row of N-gram counts, or of presence with ``binary=True``."""

    def __init__(self, ngram_range: NgramRange = (1, 1), binary: bool = False):
        self.ngram_range = check_ngram_range(ngram_range)
        self.binary = binary

    def fit(self, documents_words: Iterable[Sequence[str]]) -> NgramFeatures:
        """The vocabulary: every N-gram of these (training) documents, in sorted order."""
        return self._fit_grams(document_ngrams(words, self.ngram_range) for words in documents_words)

    def transform(self, documents_words: Iterable[Sequence[str]]) -> scipy.sparse.csr_matrix:
        """One row per document, one column per vocabulary N-gram; N-grams outside the vocabulary dropped."""
        return self._matrix(document_ngrams(words, self.ngram_range) for words in documents_words)

    def fit_transform(self, documents_words: Sequence[Sequence[str]]) -> scipy.sparse.csr_matrix:
        """``fit`` then ``transform`` of the same documents, their N-grams listed once."""
        grams = [document_ngrams(words, self.ngram_range) for words in documents_words]
        return self._fit_grams(grams)._matrix(grams)

    def _fit_grams(self, documents_grams: Iterable[list[str]]) -> NgramFeatures:
        seen: set[str] = set()
        for grams in documents_grams:
            seen.update(grams)
        self.vocabulary_ = {gram: column for column, gram in enumerate(sorted(seen))}
        return self

    def _matrix(self, documents_grams: Iterable[list[str]]) -> scipy.sparse.csr_matrix:
        vocabulary = self.vocabulary_
        columns_of = [[vocabulary.get(gram, -1) for gram in grams] for grams in documents_grams]  # -1: unseen
        rows = np.repeat(np.arange(len(columns_of)), [len(columns) for columns in columns_of])
        columns = np.fromiter(itertools.chain.from_iterable(columns_of), dtype=np.int64, count=len(rows))
        seen = columns >= 0
        # an N-gram k times in a document is k entries (row, column), which csr_matrix adds up into a count k
        matrix = scipy.sparse.csr_matrix((np.ones(np.count_nonzero(seen)), (rows[seen], columns[seen])),
                                         shape=(len(columns_of), len(vocabulary)))
        if self.binary:
            matrix.data[:] = 1.0
        return matrix


def check_binary_labels(labels: Sequence[int] | np.ndarray, rows: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (rows,) or not np.isin(labels, (0, 1)).all():
        raise ValueError(f"labels must be {rows} class ids, 0 (neg) or 1 (pos), one per document")
    if len(np.unique(labels)) < 2:
        raise ValueError("the training documents must include both classes")
    return labels.astype(np.int64)


def labels_of(documents: Sequence[Document]) -> np.ndarray:
    """The documents' labels as an int array (0 neg, 1 pos)."""
    return np.array([document.label for document in documents], dtype=np.int64)


# -- Naive Bayes ---------------------------------------------------------------------------------------------
class NaiveBayes:
    """Multinomial Naive Bayes with add-``alpha`` smoothing, for two classes (see the module docstring)."""

    def __init__(self, alpha: float = 1.0, binary: bool = False, ngram_range: NgramRange = (1, 1)):
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0 (1 for Laplace smoothing), got {alpha!r}")
        self.alpha, self.binary, self.ngram_range = alpha, binary, check_ngram_range(ngram_range)

    def fit(self, documents_words: Sequence[Sequence[str]], labels: Sequence[int] | np.ndarray) -> NaiveBayes:
        features = NgramFeatures(self.ngram_range, self.binary)
        return self.fit_matrix(features.fit_transform(documents_words), labels, features)

    def fit_matrix(self, counts: scipy.sparse.spmatrix, labels: Sequence[int] | np.ndarray,
                   features: NgramFeatures) -> NaiveBayes:
        """Fit on features already built (``counts`` = ``features.transform`` of the training documents)."""
        labels = check_binary_labels(labels, counts.shape[0])
        one_hot = scipy.sparse.csr_matrix(np.eye(2)[labels].T)  # (2, documents)
        class_counts = np.asarray((one_hot @ counts).todense()) + self.alpha  # alpha + n_cw, shape (2, |V|)
        self.features_ = features
        self.feature_log_prob_ = np.log(class_counts) - np.log(class_counts.sum(axis=1, keepdims=True))
        self.class_log_prior_ = np.log(np.bincount(labels, minlength=2) / len(labels))
        self.log_count_ratio_ = self.feature_log_prob_[1] - self.feature_log_prob_[0]
        return self

    def log_proba_matrix(self, counts: scipy.sparse.spmatrix) -> np.ndarray:
        """log p(c | x) for each row of ``counts`` (``features_.transform`` of documents) and class."""
        joint = counts @ self.feature_log_prob_.T + self.class_log_prior_  # log p(c) + sum_w x[w] log p(w | c)
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_log_proba(self, documents_words: Sequence[Sequence[str]]) -> np.ndarray:
        """log p(c | x) for each document (rows) and class (columns: neg, pos)."""
        return self.log_proba_matrix(self.features_.transform(documents_words))

    def predict_matrix(self, counts: scipy.sparse.spmatrix) -> np.ndarray:
        """The most probable class of each row (a tie goes to class 0)."""
        return np.argmax(self.log_proba_matrix(counts), axis=1)

    def predict(self, documents_words: Sequence[Sequence[str]]) -> np.ndarray:
        return self.predict_matrix(self.features_.transform(documents_words))


# -- logistic regression -------------------------------------------------------------------------------------
def log_loss_and_gradient(parameters: np.ndarray, features: scipy.sparse.spmatrix, labels: np.ndarray,
                          penalty: float) -> tuple[float, np.ndarray]:
    """The penalized mean log loss at ``parameters`` = (w, b) and its gradient (the module docstring)."""
    weights, bias = parameters[:-1], parameters[-1]
    z = features @ weights + bias
    loss = np.mean(np.logaddexp(0.0, z) - labels * z) + penalty / 2 * weights @ weights
    residual = (expit(z) - labels) / len(labels)  # d (mean log loss) / d z_i
    gradient = np.append(features.T @ residual + penalty * weights, residual.sum())
    return float(loss), gradient


class MergedColumns(NamedTuple):
    """A feature matrix with its equal columns merged (:func:`merge_single_document_columns`)."""

    matrix: scipy.sparse.csr_matrix  # one column per group of equal columns, times sqrt(the group's size)
    group: np.ndarray  # group[j]: the merged column of original column j
    scale: np.ndarray  # scale[g] = sqrt(size of group g)


def merge_single_document_columns(matrix: scipy.sparse.spmatrix) -> MergedColumns:
    """The same L2-penalized problem with fewer weights: equal columns of ``matrix`` merged into one.

    If m columns are equal (x), z = X w sees their weights only through their sum s; for a given s the penalty
    (lambda / 2) sum_j w_j^2 is smallest when every w_j = s / m, where it is (lambda / 2) s^2 / m. So at the
    minimum the m weights are equal, and with u = s / sqrt(m) the m columns act as one column sqrt(m) x of
    weight u and penalty (lambda / 2) u^2: the same problem, whose solution gives back w_j = u / sqrt(m).

    The columns merged are the N-grams of a single document: columns with one non-zero, equal when it is in
    the same row with the same value (and the columns of no document, all zero). Most bigrams occur in one
    training review only: on movie_reviews' train split 426,514 columns become 131,924, and L-BFGS's cost
    per step is proportional to the number of weights.
    """
    columns = matrix.tocsc()
    nonzeros, starts = np.diff(columns.indptr), columns.indptr[:-1]
    # (row, value) of each column's first non-zero, (-1, 0) for an empty column (the appended 0 keeps the
    # start of an empty last column inside the arrays)
    row = np.where(nonzeros >= 1, np.append(columns.indices, 0)[starts], -1)
    value = np.where(nonzeros >= 1, np.append(columns.data, 0.0)[starts], 0.0)
    single = nonzeros <= 1
    _, single_group = np.unique(np.stack([row[single], value[single]]), axis=1, return_inverse=True)
    group = np.empty(columns.shape[1], dtype=np.int64)
    group[~single] = np.arange(np.count_nonzero(~single))  # a column of several documents: a group of its own
    group[single] = np.count_nonzero(~single) + single_group.ravel()
    scale = np.sqrt(np.bincount(group))
    first = np.unique(group, return_index=True)[1]  # one original column of each group
    merged = (columns[:, first] @ scipy.sparse.diags(scale)).tocsr()
    return MergedColumns(merged, group, scale)


class LogisticRegression:
    """Logistic regression with an L2 penalty ``lambda`` on its weights, fitted by L-BFGS.

    L-BFGS stops when no gradient component exceeds ``tolerance`` (scipy's ``gtol``), when the loss stops
    going down, or after ``max_iter`` steps (then ``converged_`` is False). At 1e-6 the predictions are those of
    a far tighter fit; at 1e-5 one test review in 200 already changes.
    """

    def __init__(self, penalty: float = 1e-3, ngram_range: NgramRange = (1, 2), binary: bool = True,
                 max_iter: int = 1000, tolerance: float = 1e-6):
        if not penalty > 0:
            raise ValueError(f"penalty (lambda) must be > 0, got {penalty!r}")
        self.penalty, self.ngram_range, self.binary = penalty, check_ngram_range(ngram_range), binary
        self.max_iter, self.tolerance = max_iter, tolerance

    def fit(self, documents_words: Sequence[Sequence[str]], labels: Sequence[int] | np.ndarray
            ) -> LogisticRegression:
        features = NgramFeatures(self.ngram_range, self.binary)
        return self.fit_matrix(features.fit_transform(documents_words), labels, features)

    def fit_matrix(self, matrix: scipy.sparse.spmatrix, labels: Sequence[int] | np.ndarray,
                   features: NgramFeatures, start: np.ndarray | None = None) -> LogisticRegression:
        """Fit on features already built; ``start`` = (w, b) to start from (a warm start), else zeros."""
        return self.fit_merged(merge_single_document_columns(matrix), labels, features, start)

    def fit_merged(self, merged: MergedColumns, labels: Sequence[int] | np.ndarray, features: NgramFeatures,
                   start: np.ndarray | None = None) -> LogisticRegression:
        """Minimize the loss by L-BFGS over the merged columns' weights u, then w_j = u_g / sqrt(m_g)."""
        labels = check_binary_labels(labels, merged.matrix.shape[0]).astype(np.float64)
        if start is None:
            initial = np.zeros(merged.matrix.shape[1] + 1)
        else:  # u_g = (sum of the group's w_j) / sqrt(m_g), the bias as it is
            initial = np.append(np.bincount(merged.group, start[:-1], len(merged.scale)) / merged.scale, start[-1])
        result = scipy.optimize.minimize(
            log_loss_and_gradient, initial, args=(merged.matrix, labels, self.penalty), jac=True,
            method="L-BFGS-B", options={"maxiter": self.max_iter, "gtol": self.tolerance})
        self.features_, self.intercept_ = features, float(result.x[-1])
        self.coef_ = (result.x[:-1] / merged.scale)[merged.group]
        self.n_iter_, self.converged_, self.loss_ = int(result.nit), bool(result.success), float(result.fun)
        return self

    @property
    def parameters_(self) -> np.ndarray:
        """(w, b) as one vector, the form :meth:`fit_matrix` starts from."""
        return np.append(self.coef_, self.intercept_)

    def decision_function(self, documents_words: Sequence[Sequence[str]]) -> np.ndarray:
        """z = w . x + b for each document: log p(pos | x) / p(neg | x)."""
        return self.decision_matrix(self.features_.transform(documents_words))

    def decision_matrix(self, matrix: scipy.sparse.spmatrix) -> np.ndarray:
        return matrix @ self.coef_ + self.intercept_

    def predict_proba(self, documents_words: Sequence[Sequence[str]]) -> np.ndarray:
        """p(c | x) for each document (rows) and class (columns: neg, pos)."""
        pos = expit(self.decision_function(documents_words))
        return np.column_stack([1 - pos, pos])

    def predict_matrix(self, matrix: scipy.sparse.spmatrix) -> np.ndarray:
        """1 (pos) where z > 0, i.e. p(pos | x) > 1/2, else 0 (neg)."""
        return (self.decision_matrix(matrix) > 0).astype(np.int64)

    def predict(self, documents_words: Sequence[Sequence[str]]) -> np.ndarray:
        return self.predict_matrix(self.features_.transform(documents_words))


def search_penalty(train: scipy.sparse.spmatrix, train_labels: np.ndarray, held_out: scipy.sparse.spmatrix,
                   held_out_labels: np.ndarray, features: NgramFeatures, grid: Sequence[float] = PENALTY_GRID
                   ) -> tuple[LogisticRegression, dict[float, float]]:
    """Fit one model per lambda of ``grid`` on ``train``; keep the most accurate on ``held_out``.

    A tie goes to the larger lambda (the simpler model). The grid is walked from the largest lambda down,
    each fit starting from the previous solution (a warm start: the same optimum, to the tolerance, in fewer
    iterations). Returns the chosen model and every lambda's held-out accuracy.
    """
    if not grid or any(not value > 0 for value in grid):
        raise ValueError(f"the penalty grid must be a non-empty list of lambdas > 0, got {grid!r}")
    merged = merge_single_document_columns(train)
    best, scores, start = None, {}, None
    for penalty in sorted(set(grid), reverse=True):
        model = LogisticRegression(penalty).fit_merged(merged, train_labels, features, start)
        start = model.parameters_
        scores[penalty] = accuracy(held_out_labels, model.predict_matrix(held_out))
        if best is None or scores[penalty] > scores[best.penalty]:
            best = model
    return best, scores


def choose_penalty(train: Sequence[Document], valid: Sequence[Document], grid: Sequence[float] = PENALTY_GRID
                   ) -> tuple[LogisticRegression, dict[float, float]]:
    """Logistic regression on uni+bigram presence, lambda chosen by accuracy on ``valid``.

    Returns the model fitted on ``train`` with the chosen lambda (``model.penalty``) and each lambda's
    accuracy on ``valid``.
    """
    features = NgramFeatures((1, 2), binary=True)
    train_matrix = features.fit_transform([d.words for d in train])
    valid_matrix = features.transform([d.words for d in valid])
    return search_penalty(train_matrix, labels_of(train), valid_matrix, labels_of(valid), features, grid)


# -- running them --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    key: str
    name: str
    model: str  # "naive_bayes" or "logistic_regression"
    ngram_range: NgramRange


BASELINES = (
    Baseline("nb_unigrams", "Naive Bayes, unigram presence", "naive_bayes", (1, 1)),
    Baseline("nb_bigrams", "Naive Bayes, uni+bigram presence", "naive_bayes", (1, 2)),
    Baseline("logreg_bigrams", "logistic regression (L2), uni+bigram presence", "logistic_regression", (1, 2)),
)


@dataclass
class Evaluation:
    """One evaluation's documents: models are fitted on ``train``, tuned on ``held_out``, scored on ``test``.

    With ``refit`` the final models are fitted on ``train`` + ``held_out`` (cross-validation: the held-out
    reviews are training folds); without, on ``train`` alone (the fixed split: held out = valid). The feature
    matrices are built once per N-gram range and shared by the baselines that use the same.
    """

    train: list[Document]
    held_out: list[Document]
    test: list[Document]
    refit: bool
    built: dict = field(default_factory=dict)

    @property
    def fitted(self) -> list[Document]:
        return [*self.train, *self.held_out] if self.refit else list(self.train)

    def matrices(self, ngram_range: NgramRange) -> tuple[NgramFeatures, scipy.sparse.csr_matrix,
                                                          scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
        """(features, fitted, held-out and test matrices); the vocabulary is the fitted documents' N-grams."""
        if ngram_range not in self.built:
            features = NgramFeatures(ngram_range, binary=True)
            fitted = features.fit_transform([d.words for d in self.fitted])
            # With refit the held-out reviews are fitted too: their rows are the last of the fitted matrix.
            held_out = fitted[len(self.train):] if self.refit else features.transform([d.words for d in self.held_out])
            self.built[ngram_range] = (features, fitted, held_out, features.transform([d.words for d in self.test]))
        return self.built[ngram_range]


def fit_and_predict(baseline: Baseline, evaluation: Evaluation, grid: Sequence[float]) -> tuple[np.ndarray, dict]:
    """Fit ``baseline``, predict the labels of ``evaluation.test``; returns (predictions, facts about the fit).

    Naive Bayes has nothing to tune. Logistic regression is fitted on ``train`` once per lambda of ``grid``,
    the lambda most accurate on ``held_out`` kept, and with ``refit`` fitted again on train + held out.
    The test documents are only ever predicted.
    """
    features, fitted, held_out, test = evaluation.matrices(baseline.ngram_range)
    if baseline.model == "naive_bayes":
        model = NaiveBayes(binary=True, ngram_range=baseline.ngram_range)
        model.fit_matrix(fitted, labels_of(evaluation.fitted), features)
        return model.predict_matrix(test), {"features": fitted.shape[1]}
    # With refit the vocabulary also holds held-out N-grams; fitted on train alone their weights stay 0.
    train = fitted[:len(evaluation.train)]
    model, scores = search_penalty(train, labels_of(evaluation.train), held_out, labels_of(evaluation.held_out),
                                   features, grid)
    if evaluation.refit:
        model = LogisticRegression(model.penalty).fit_matrix(fitted, labels_of(evaluation.fitted), features,
                                                             model.parameters_)
    return model.predict_matrix(test), {
        "features": fitted.shape[1], "penalty": model.penalty, "held_out_accuracy": scores,
        "converged": model.converged_, "iterations": model.n_iter_}


def held_out_slice(training: Sequence[Document]) -> tuple[list[Document], list[Document]]:
    """(rest, held out): the held-out reviews are those the fixed split calls valid (cvNNN, NNN % 10 == 8)."""
    held_out = [d for d in training if review_number(d.fileid) % 10 == 8]
    return [d for d in training if review_number(d.fileid) % 10 != 8], held_out


def split_rows(split: dict[str, list[Document]], grid: Sequence[float], resamples: int, seed: int,
               log: Callable[[str], None]) -> list[dict]:
    """Every baseline on the fixed split: fitted on train (lambda chosen on valid), scored on test."""
    evaluation = Evaluation(split["train"], split["valid"], split["test"], refit=False)
    labels, rows = labels_of(split["test"]), []
    for baseline in BASELINES:
        log(f"fitting {baseline.name} on {len(split['train'])} training reviews ...")
        start = time.perf_counter()
        predictions, facts = fit_and_predict(baseline, evaluation, grid)
        low, high = bootstrap_interval((predictions == labels).astype(np.int64), resamples, seed)
        rows.append({"key": baseline.key, "name": baseline.name, "test_accuracy": accuracy(labels, predictions),
                     "interval_95": [low, high], "per_class": per_class(labels, predictions, LABELS), **facts,
                     "seconds": round(time.perf_counter() - start, 2)})
    return rows


def fold_predictions(folds: Sequence[Sequence[Document]], grid: Sequence[float], log: Callable[[str], None]
                     ) -> list[list[tuple[np.ndarray, dict]]]:
    """predictions[i][b]: baseline b's (predictions, facts) on fold i, fitted on the other folds.

    Logistic regression's lambda is chosen on a slice of the training folds (:func:`held_out_slice`), never
    on fold i.
    """
    result = []
    for i, test_fold in enumerate(folds):
        log(f"fold {i + 1} of {len(folds)}: fitting on the other {len(folds) - 1} ...")
        rest, held_out = held_out_slice([d for j, fold in enumerate(folds) if j != i for d in fold])
        evaluation = Evaluation(rest, held_out, list(test_fold), refit=True)
        result.append([fit_and_predict(baseline, evaluation, grid) for baseline in BASELINES])
    return result


def folds_rows(folds: Sequence[Sequence[Document]], grid: Sequence[float], log: Callable[[str], None]
               ) -> list[dict]:
    """Each baseline's fold accuracies, their mean and sample standard deviation (ddof = 1), and per-class
    figures over every review's out-of-fold prediction."""
    predictions, labels = fold_predictions(folds, grid, log), [labels_of(fold) for fold in folds]
    rows = []
    for b, baseline in enumerate(BASELINES):
        accuracies = [accuracy(labels[i], predictions[i][b][0]) for i in range(len(folds))]
        pooled = np.concatenate([predictions[i][b][0] for i in range(len(folds))])
        row = {"key": baseline.key, "name": baseline.name, "fold_accuracy": accuracies,
               "mean": float(np.mean(accuracies)), "std": float(np.std(accuracies, ddof=1)),
               "per_class": per_class(np.concatenate(labels), pooled, LABELS)}
        if baseline.model == "logistic_regression":
            row["penalties"] = [predictions[i][b][1]["penalty"] for i in range(len(folds))]
            row["converged"] = all(predictions[i][b][1]["converged"] for i in range(len(folds)))
        rows.append(row)
    return rows


def run_baselines(split_or_folds: dict[str, list[Document]] | Sequence[Sequence[Document]],
                  grid: Sequence[float] = PENALTY_GRID, resamples: int = 10_000, seed: int = 0,
                  log: Callable[[str], None] = lambda message: None) -> dict:
    """Every baseline of :data:`BASELINES`, on the fixed split (a dict, as :func:`task_split` gives) or by
    cross-validation (a list of folds, as :func:`folds` gives); the published figures come along.

    On the split: each baseline's test accuracy, its 95% bootstrap interval over the test reviews (``resamples``
    draws, ``seed``) and per-class precision / recall / F1. With folds: each fold's accuracy, their mean and
    standard deviation, and per-class figures over every review's out-of-fold prediction.
    """
    published = [vars(figure) for figure in PUBLISHED]
    if isinstance(split_or_folds, dict):
        split = split_or_folds
        return {"protocol": "split", "sizes": {name: len(docs) for name, docs in split.items()},
                "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.95},
                "penalty_grid": list(grid), "baselines": split_rows(split, grid, resamples, seed, log),
                "published": published}
    folds = list(split_or_folds)
    return {"protocol": "folds", "folds": len(folds), "fold_sizes": [len(fold) for fold in folds],
            "penalty_grid": list(grid), "baselines": folds_rows(folds, grid, log), "published": published}
