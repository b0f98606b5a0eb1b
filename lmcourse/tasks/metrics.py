"""How good a classifier is: accuracy, a confidence interval for it, and precision / recall / F1 per class.

Labels and predictions are ints 0 .. K-1 (for the sentiment task 0 = neg, 1 = pos), one per document.

Accuracy
--------
::

    accuracy = (1/n) * #{ i : prediction_i == label_i }

The bootstrap interval of an accuracy
-------------------------------------
A test set of n documents is one sample of the documents the classifier could meet; another sample would
give another accuracy. The percentile bootstrap (Efron & Tibshirani 1993, "An Introduction to the
Bootstrap", ch. 13) estimates that spread from the test set itself: draw n documents from the n, uniformly
and with replacement, R times; resample r has accuracy

    accuracy_r = (1/n) * sum_j correct[i_rj]        (i_r1 .. i_rn: the documents drawn, repeats allowed)

and the 95% interval is the 2.5% and 97.5% quantiles of accuracy_1 .. accuracy_R
(:func:`lmcourse.compare.stats.percentile_interval`). Documents are resampled whole, as the unit the test
set was drawn in. For 200 test reviews at 85% the interval is about +-5 points (close to the normal
approximation +-1.96 * sqrt(p (1 - p) / n)): two classifiers 2 points apart on 200 reviews are not told
apart. The interval says nothing of the other source of spread, training on other documents (the folds'
standard deviation shows that one).

Precision, recall and F1 per class
----------------------------------
With the confusion matrix ``C[i, j]`` = the documents of label i predicted as j, for class c::

    precision_c = C[c, c] / sum_i C[i, c]       (of the documents predicted c, the share that are c)
    recall_c    = C[c, c] / sum_j C[c, j]       (of the documents that are c, the share predicted c)
    F1_c        = 2 * precision_c * recall_c / (precision_c + recall_c)      (their harmonic mean)
    support_c   = sum_j C[c, j]                 (the documents that are c)

(Manning, Raghavan & Schuetze 2008, "Introduction to Information Retrieval", sec. 8.3 and 13.6.) A
precision with no document predicted c, or an F1 with precision + recall = 0, is 0 here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lmcourse.compare.stats import check_confidence, percentile_interval, resampled_sets


def check_labels(labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Both as 1-D int arrays of the same non-zero length, or a ``ValueError`` that says what is wrong."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    for name, array in (("labels", labels), ("predictions", predictions)):
        if array.ndim != 1 or len(array) == 0 or array.dtype.kind not in "iub":
            raise ValueError(f"{name} must be a non-empty 1-D array of class ids (ints), got shape "
                             f"{array.shape} of {array.dtype}")
        if array.min() < 0:
            raise ValueError(f"{name} holds a negative class id: class ids are 0 .. K-1")
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions: one of each per document")
    return labels.astype(np.int64), predictions.astype(np.int64)


def accuracy(labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray) -> float:
    """The share of documents whose prediction is their label."""
    labels, predictions = check_labels(labels, predictions)
    return float(np.mean(labels == predictions))


def bootstrap_interval(correct: Sequence[int] | np.ndarray, resamples: int = 10_000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """(low, high): the percentile bootstrap interval of the accuracy, resampling documents.

    ``correct[i]`` is 1 if document i was classified correctly, else 0. The resampled test sets are the rows
    of ``np.random.default_rng(seed).integers(0, n, size=(resamples, n))`` (drawn a chunk of rows at a
    time: the same numbers), so one seed gives one interval. See the module docstring.
    """
    correct = np.asarray(correct)
    if correct.ndim != 1 or len(correct) == 0 or not np.isin(correct, (0, 1)).all():
        raise ValueError("correct must be a non-empty 1-D array of 0 and 1 (1: the document was classified "
                         "correctly), e.g. (predictions == labels).astype(int)")
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise ValueError(f"resamples must be a positive int (10,000 is usual), got {resamples!r}")
    level = check_confidence(level)
    correct = correct.astype(np.float64)
    accuracies = np.empty(resamples)
    for first, drawn in resampled_sets(len(correct), resamples, seed):
        accuracies[first:first + len(drawn)] = correct[drawn].mean(axis=1)
    return percentile_interval(accuracies, level)


def confusion_matrix(labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray,
                     classes: int) -> np.ndarray:
    """``C[i, j]``: how many documents of label i were predicted j; shape (classes, classes)."""
    labels, predictions = check_labels(labels, predictions)
    if max(labels.max(), predictions.max()) >= classes:
        raise ValueError(f"a class id is >= {classes}, the number of classes: ids are 0 .. {classes - 1}")
    return np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)


def per_class(labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray,
              names: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """{name: {"precision", "recall", "f1", "support"}} for each class, class i called ``names[i]``."""
    matrix = confusion_matrix(labels, predictions, len(names))
    hits = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return {name: {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c]),
                   "support": int(actual[c])}
            for c, name in enumerate(names)}
