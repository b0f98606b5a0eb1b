"""Pre-training and fine-tuning by hand: the formulas of lesson 06 in plain numpy.

The masked language model (:mod:`lmcourse.neural.masked`) and the fine-tuned classifier
(:mod:`lmcourse.neural.classify`) are PyTorch modules; the task's figures are :mod:`lmcourse.tasks.metrics`
and :mod:`lmcourse.tasks.baselines`. The functions here compute their parts the slow, readable way, one
formula per function, with numpy only (no ``torch``: the grader imports this module in a child process for
every exercise, and importing torch takes seconds). They are the reference answers of the exercises of lesson
06 (``lmcourse grade 06``); ``tests/test_neural_by_hand_pretrain.py`` checks each against the library's
version:

========================================  ==================================================================
here                                      the library
========================================  ==================================================================
:func:`bert_mask`                         :func:`lmcourse.neural.masked.corrupt`
:func:`masked_lm_loss`                    :meth:`lmcourse.neural.masked.MaskedTransformer.loss`
                                          (``F.cross_entropy(..., ignore_index=-100)``, summed, / chosen)
:func:`masked_mean_pool`                  :func:`lmcourse.neural.classify.masked_mean`
:func:`accuracy_with_interval`            :func:`lmcourse.tasks.metrics.accuracy` and ``bootstrap_interval``
:func:`naive_bayes_log_count_ratios`      ``log_count_ratio_`` of :class:`lmcourse.tasks.baselines.NaiveBayes`
========================================  ==================================================================

Conventions (the course's, :mod:`lmcourse.data.vocabulary`): ids ``0 = <unk>``, ``1 = <s>``, ``2 = </s>``,
the words from 3; a masked LM's ``<mask>`` is one more id after the corpus's (``mask_id`` = V). Arrays are
batch first; log-probabilities are natural logs.

References: J. Devlin, M.-W. Chang, K. Lee and K. Toutanova, "BERT: pre-training of deep bidirectional
transformers for language understanding", NAACL 2019 (§3.1, the masked LM and its 80/10/10 rule; appendix
A.1); A. Radford, K. Narasimhan, T. Salimans and I. Sutskever, "Improving language understanding by generative
pre-training" (GPT, 2018); B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 13
(the percentile interval); S. Wang and C. D. Manning, "Baselines and bigrams: simple, good sentiment and topic
classification", ACL 2012 (§2.1, the log-count ratio r); D. Jurafsky and J. H. Martin, *Speech and Language
Processing*, 3rd ed. draft, ch. 4 (Naive Bayes) and ch. 11 (masked language models, fine-tuning).
"""

from __future__ import annotations

import numpy as np

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2   # as lmcourse.data.vocabulary (a test checks it)
FIRST_WORD_ID = EOS_ID + 1
IGNORE = -100                      # the label of a position with no loss (F.cross_entropy's ignore_index)
CONFIDENCE = 0.95                  # the interval of accuracy_with_interval


# -- the masked language model -----------------------------------------------------------------------------
def bert_mask(ids: np.ndarray, chosen_draw: np.ndarray, how_draw: np.ndarray, random_words: np.ndarray,
              mask_id: int, select: float = 0.15, to_mask: float = 0.8,
              to_random: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """BERT's corruption of a batch of token ids, given its random draws (Devlin et al. 2019, §3.1):
    ``(inputs, labels)``, two int64 arrays of the shape of ``ids``.

    Position t (every array has the shape of ``ids``, (B, T) in training) is

    * *chosen* if ``chosen_draw[t] < select`` and ``ids[t] != <s>`` (id 1: ``<s>`` only says where the text
      starts and is never predicted);
    * a chosen position is replaced by ``mask_id`` if ``how_draw[t] < to_mask``, by ``random_words[t]`` if
      ``to_mask <= how_draw[t] < to_mask + to_random``, and left as it is otherwise;
    * ``labels[t]`` is the original ``ids[t]`` at a chosen position and ``IGNORE`` (-100) elsewhere: the
      loss is taken at the chosen positions only, whatever became of them.

    ``chosen_draw`` and ``how_draw`` are uniform in [0, 1); ``random_words`` are uniform over the words (ids
    3 .. mask_id - 1). With the defaults 15% of the positions are chosen and, of those, 80% masked, 10% random
    and 10% unchanged, so the model cannot tell from its input which positions it will be asked about. This is
    :func:`lmcourse.neural.masked.corrupt`, which :func:`~lmcourse.neural.masked.mask_tokens` calls with
    fresh draws at every training step.
    """
    ids = np.asarray(ids)
    chosen_draw, how_draw, random_words = np.asarray(chosen_draw), np.asarray(how_draw), np.asarray(random_words)
    if not (ids.shape == chosen_draw.shape == how_draw.shape == random_words.shape):
        raise ValueError(f"ids, chosen_draw, how_draw and random_words must have one shape, got {ids.shape}, "
                         f"{chosen_draw.shape}, {how_draw.shape}, {random_words.shape}")
    chosen = (chosen_draw < select) & (ids != BOS_ID)                           # (B, T) bool
    masked = chosen & (how_draw < to_mask)
    randomized = chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random)
    inputs = np.where(masked, mask_id, ids)
    inputs = np.where(randomized, random_words, inputs)
    labels = np.where(chosen, ids, IGNORE)
    return inputs.astype(np.int64), labels.astype(np.int64)


def masked_lm_loss(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The masked LM's loss, in nats, a float: the mean over the chosen positions M (those whose label is not
    ``IGNORE``) of minus the log-probability of the original token:

        L = -(1 / |M|) sum_{(b, t) in M} log_probs[b, t, labels[b, t]]          (0.0 when M is empty)

    ``log_probs`` (B, T, V) are the model's natural-log probabilities at every position (log-softmax of its
    logits; the columns of ``<s>`` and ``<mask>`` may be -inf, as the library's are: those ids are never
    labels), ``labels`` (B, T) as :func:`bert_mask` gives them. One mean over all the chosen positions of the
    batch, not a mean of each row's mean. This is ``F.cross_entropy(logits, labels, ignore_index=-100)``
    (:meth:`lmcourse.neural.masked.MaskedTransformer.loss` sums it and divides by |M|, which gives 0 rather
    than NaN for a batch with no chosen position).
    """
    log_probs, labels = np.asarray(log_probs, dtype=np.float64), np.asarray(labels)
    if log_probs.ndim != 3 or labels.shape != log_probs.shape[:2]:
        raise ValueError(f"expected log_probs (B, T, V) and labels (B, T), got shapes {log_probs.shape} and "
                         f"{labels.shape}")
    chosen = labels != IGNORE                                                    # (B, T)
    if not chosen.any():
        return 0.0
    picked = log_probs[chosen, labels[chosen]]                                   # (|M|,): log p(original)
    return float(-picked.mean())


# -- fine-tuning ---------------------------------------------------------------------------------------------
def masked_mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of the vectors that are really there: (B, N, E), (B, N) -> (B, E).

        pooled[b] = sum_i mask[b, i] hidden[b, i] / sum_i mask[b, i]          (a row with no 1: zeros)

    ``mask[b, i]`` is 1 where row b has a vector at position i and 0 at padding (the rows of a batch have
    different lengths: a document of 3 windows beside one of 7). Padding vectors hold anything and must not
    count, in the sum or in the divisor. A row whose mask is all 0 gives the zero vector (the library divides
    by max(count, 1)). This is :func:`lmcourse.neural.classify.masked_mean`, which pools a document's window
    vectors into the document's vector.
    """
    hidden, mask = np.asarray(hidden, dtype=np.float64), np.asarray(mask)
    if hidden.ndim != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError(f"expected hidden (B, N, E) and mask (B, N), got shapes {hidden.shape} and {mask.shape}")
    weights = mask.astype(np.float64)[:, :, None]                                # (B, N, 1)
    total = (hidden * weights).sum(axis=1)                                       # (B, E)
    count = weights.sum(axis=1)                                                  # (B, 1)
    return total / np.maximum(count, 1.0)


def accuracy_with_interval(labels: np.ndarray, predictions: np.ndarray,
                           resample_indices: np.ndarray) -> tuple[float, float, float]:
    """A classifier's accuracy on n test documents and its 95% percentile bootstrap interval:
    ``(accuracy, low, high)``, three floats.

        accuracy   = (1/n) #{i : predictions[i] == labels[i]}
        accuracy_r = (1/n) sum_k correct[resample_indices[r, k]]        correct[i] = 1 if document i is right
        (low, high) = the 0.025 and 0.975 quantiles of accuracy_1 .. accuracy_R

    ``resample_indices`` is an (R, n) int array: row r names the documents (0 .. n-1, repeats allowed) of
    resampled test set r, drawn with replacement (:func:`lmcourse.tasks.metrics.bootstrap_interval` draws it
    as ``np.random.default_rng(seed).integers(0, n, size=(R, n))``). Whole documents are resampled, with
    their label and prediction together. The quantiles are numpy's default (``np.quantile``, as
    :func:`lmcourse.compare.stats.percentile_interval`; Efron & Tibshirani 1993, ch. 13).
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    resample_indices = np.asarray(resample_indices)
    if labels.ndim != 1 or labels.shape != predictions.shape or len(labels) == 0:
        raise ValueError(f"labels and predictions must be two 1-D arrays of one length >= 1, got shapes "
                         f"{labels.shape} and {predictions.shape}")
    if resample_indices.ndim != 2 or resample_indices.shape[0] == 0:
        raise ValueError(f"resample_indices must be an (R, n) array with R >= 1, got shape {resample_indices.shape}")
    correct = (labels == predictions).astype(np.float64)                         # (n,)
    accuracies = correct[resample_indices].mean(axis=1)                          # (R,)
    low, high = np.quantile(accuracies, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(correct.mean()), float(low), float(high)


def naive_bayes_log_count_ratios(counts: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Wang & Manning's (2012, §2.1) log-count ratio of every feature, a (F,) float array:

        p = alpha + counts[1]        q = alpha + counts[0]          (each (F,): smoothed counts of pos, neg)
        r = log(p / ||p||_1) - log(q / ||q||_1)                     ||p||_1 = sum_f p[f]

    ``counts`` (2, F) holds, for each class (row 0 negative, row 1 positive), each feature's count over its
    training documents (with binary features: in how many of them the feature occurs). ``p / ||p||_1`` is
    add-alpha smoothed p(feature | pos) (Laplace for alpha = 1), so r[f] = log p(f | pos) - log p(f | neg):
    a multinomial Naive Bayes classifier scores a document by the prior log-odds plus r . x, and sentiment
    words have the largest |r|. This is ``NaiveBayes(alpha).fit_matrix(...).log_count_ratio_``
    (:mod:`lmcourse.tasks.baselines`).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != 2:
        raise ValueError(f"counts must be a (2, F) array (row 0 negative, row 1 positive), got shape {counts.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    p = alpha + counts[1]                                                        # (F,)
    q = alpha + counts[0]
    return np.log(p / p.sum()) - np.log(q / q.sum())
