"""Lesson 06 exercises: pre-train, then fine-tune.

Write the five functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 06                            # a score table: points and a reason for each failure
    pytest lessons/06_pretrain_finetune          # the same checks, as pytest tests

Each function is checked against the library's answer on fixed cases and on a few dozen generated inputs.
numpy only; read the notebook of this lesson (``06_pretrain_finetune.ipynb``) first.

Conventions used by every function (they are the course's, ``lmcourse/data/vocabulary.py``):

- Token ids: ``0 = <unk>``, ``1 = <s>``, ``2 = </s>``, the words from 3 on. A masked language model adds one
  id after the corpus's V ids, ``<mask>`` = V (called ``mask_id``).
- Arrays are numpy arrays, batch first: B rows (windows, or documents) of T positions.
- ``IGNORE = -100`` is the label of a position that carries no loss (PyTorch's ``ignore_index``).
- Logs are natural logs (``np.log``). Numbers and float arrays are compared with a tolerance of 1e-9
  (relative), so a float64 answer computed in another order is right; id arrays must be exactly equal.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np  # noqa: F401

IGNORE = -100


def bert_mask(ids: np.ndarray, chosen_draw: np.ndarray, how_draw: np.ndarray, random_words: np.ndarray,
              mask_id: int, select: float = 0.15, to_mask: float = 0.8,
              to_random: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """BERT's corruption of a batch of token ids, given its random draws: a tuple ``(inputs, labels)`` of
    two int arrays of the shape of ``ids`` (3 points).

    ``ids``, ``chosen_draw``, ``how_draw`` and ``random_words`` all have one shape, (B, T). For every
    position t:

    - t is *chosen* if ``chosen_draw[t] < select`` (strictly) **and** ``ids[t]`` is not ``<s>`` (id 1), which
      only marks where the text starts and is never predicted;
    - a chosen position becomes ``mask_id`` if ``how_draw[t] < to_mask``; it becomes ``random_words[t]`` if
      ``to_mask <= how_draw[t] < to_mask + to_random``; otherwise it stays as it is (``ids[t]``);
    - a position that is not chosen stays as it is;
    - ``labels[t]`` is the *original* ``ids[t]`` where t is chosen (masked, randomized or unchanged alike:
      the loss is taken at every chosen position) and ``IGNORE`` (-100) everywhere else.

    The draws are given (uniform in [0, 1) for the two draws; ``random_words`` are word ids 3 .. mask_id - 1),
    so the answer is fully determined. With the defaults, 15% of the positions are chosen; of those, 80% are
    masked, 10% replaced by a random word and 10% left unchanged (Devlin et al. 2019, §3.1). Use
    ``select``, ``to_mask`` and ``to_random`` as given: the grader also calls it with other values.
    ``ids`` itself must not change.

    >>> ids = np.array([[1, 5, 6, 7, 8]])                        # <s>, then four words
    >>> chosen_draw = np.array([[0.01, 0.10, 0.50, 0.05, 0.12]])   # < 0.15: <s> (never chosen), 5, 7 and 8
    >>> how_draw = np.array([[0.30, 0.20, 0.90, 0.85, 0.95]])      # 5: masked, 7: random word, 8: unchanged
    >>> random_words = np.array([[4, 4, 4, 3, 4]])
    >>> bert_mask(ids, chosen_draw, how_draw, random_words, mask_id=9)
    (array([[1, 9, 6, 3, 8]]), array([[-100,    5, -100,    7,    8]]))
    """
    raise NotImplementedError("write bert_mask")


def masked_lm_loss(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The masked language model's loss in nats, a ``float`` (2 points):

        L = -(1 / |M|) * sum over (b, t) in M of  log_probs[b, t, labels[b, t]]

    where M is the set of chosen positions, those with ``labels[b, t] != IGNORE``, over the whole batch.
    ``log_probs`` (B, T, V) are natural-log probabilities (each row ``log_probs[b, t]`` sums to 1 after
    ``np.exp``); ``labels`` (B, T) are ids, or ``IGNORE``, as ``bert_mask`` returns them.

    - One mean over all of M (a row with more chosen positions weighs more): not a mean of each row's mean,
      not a sum, not a mean over all B * T positions.
    - No chosen position at all (every label ``IGNORE``): return 0.0.
    - Some columns of ``log_probs`` may be -inf (the library never predicts ``<s>`` or ``<mask>``; those ids
      are never labels). Pick the entries you need by indexing: multiplying by a one-hot vector gives
      -inf * 0 = nan.

    >>> log_probs = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))     # B = 1, T = 2, V = 3
    >>> masked_lm_loss(log_probs, np.array([[0, IGNORE]]))                      # -log 0.5
    0.6931471805599453
    """
    raise NotImplementedError("write masked_lm_loss")


def masked_mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each row's real vectors: an array of shape (B, E) (1 point).

        pooled[b] = (sum over i of mask[b, i] * hidden[b, i]) / (sum over i of mask[b, i])

    ``hidden`` is (B, N, E): B rows (documents) of N vectors (window vectors) of E numbers each. ``mask`` is
    (B, N) of 0 and 1 (ints, or floats 0.0 / 1.0): 1 where row b really has a vector at position i, 0 where
    it is padding (a document of 3 windows in a batch whose longest has N = 7). Padding vectors hold arbitrary
    numbers: they must count neither in the sum nor in the divisor. A row whose mask is all 0 gives a row of
    zeros (divide by max(count, 1)).

    >>> hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [99.0, -99.0]]])    # one row: two vectors, then padding
    >>> masked_mean_pool(hidden, np.array([[1, 1, 0]]))
    array([[2., 3.]])
    """
    raise NotImplementedError("write masked_mean_pool")


def accuracy_with_interval(labels: np.ndarray, predictions: np.ndarray,
                           resample_indices: np.ndarray) -> tuple[float, float, float]:
    """A classifier's test accuracy and its 95% percentile bootstrap interval: a tuple
    ``(accuracy, low, high)`` of floats (2 points).

    ``labels`` and ``predictions`` are (n,) int arrays of class ids, one entry per test document.
    ``resample_indices`` is an (R, n) int array: row r lists the documents (ids 0 .. n-1, repeats allowed) of
    resampled test set r, n documents drawn with replacement. (The library draws it as
    ``np.random.default_rng(seed).integers(0, n, size=(R, n))``; here it is given, so the answer is
    determined.) With ``correct[i] = 1`` if ``predictions[i] == labels[i]``, else 0::

        accuracy   = (1/n) * sum over i of correct[i]                       on the test set itself
        accuracy_r = (1/n) * sum over k of correct[resample_indices[r, k]]  on resampled set r
        low, high  = the 0.025 and 0.975 quantiles of accuracy_1 .. accuracy_R

    A quantile q of R values sorted as v_(0) <= ... <= v_(R-1) sits at position h = q * (R - 1):
    ``v_(floor h) + (h - floor h) * (v_(floor h + 1) - v_(floor h))``, which is ``np.quantile(values, q)``
    (the percentile interval, Efron & Tibshirani 1993, ch. 13). A document drawn twice counts twice; a
    document's label and prediction are drawn together. The accuracy is the test set's own, not the mean of
    the resampled ones; and the interval comes from the resampled accuracies, not from a formula such as
    ``accuracy +- 1.96 * sqrt(accuracy * (1 - accuracy) / n)``.

    >>> labels, predictions = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])       # 3 of 4 right
    >>> resampled = np.array([[0, 1, 2, 3], [2, 2, 2, 2], [0, 0, 1, 1]])          # accuracies 0.75, 0, 1
    >>> tuple(round(x, 6) for x in accuracy_with_interval(labels, predictions, resampled))   # positions 0.05, 1.95
    (0.75, 0.0375, 0.9875)
    """
    raise NotImplementedError("write accuracy_with_interval")


def naive_bayes_log_count_ratios(counts: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """The log-count ratio r of every feature (Wang & Manning 2012): an array of shape (F,) (2 points).

    ``counts`` is a (2, F) array of non-negative counts: ``counts[0, f]`` for the negative class,
    ``counts[1, f]`` for the positive class, of feature f (a word) over each class's training documents.
    With add-``alpha`` smoothing (alpha = 1: Laplace)::

        p = alpha + counts[1]            q = alpha + counts[0]                   (each (F,))
        r = log(p / sum(p)) - log(q / sum(q))

    ``p / sum(p)`` is the smoothed p(feature | positive) (the alpha is added to every feature, so ``sum(p)``
    = alpha * F + the total positive count), and r[f] = log p(f | pos) - log p(f | neg): > 0 for a feature
    more frequent in positive reviews. A count of 0 is fine: that is what the alpha is for. Use ``alpha`` as
    given: the grader also calls it with other values.

    >>> naive_bayes_log_count_ratios(np.array([[3, 1], [1, 3]]))         # p = (2, 4) / 6, q = (4, 2) / 6
    array([-0.69314718,  0.69314718])
    """
    raise NotImplementedError("write naive_bayes_log_count_ratios")
