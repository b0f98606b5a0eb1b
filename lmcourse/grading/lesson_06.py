"""Lesson 06, pre-train then fine-tune: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.neural.by_hand_pretrain` (plain numpy); the
learner's stubs are in ``lessons/06_pretrain_finetune/exercises.py``. Id arrays are compared exactly
(:func:`lmcourse.grading.lesson_03.array_mismatch` with ``exact``), float arrays with
:func:`lmcourse.grading.lesson_03.close_array`, numbers as in lessons 03 to 05 (1e-9 relative, 1e-12
absolute).

Everything random is given to the learner, so that every answer is determined: BERT's masking gets its
draws (as :func:`lmcourse.neural.masked.corrupt` does), the bootstrap its index matrix (as lesson 05's).
A fixed case never puts a draw within rounding of a boundary that two correct ways of writing the rule
would compute differently (``to_mask + to_random`` is exact in every fixed case that sits on it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from lmcourse.grading.case import Case, short_repr
from lmcourse.grading.exercise import Comparison, Exercise
from lmcourse.grading.lesson_03 import array_mismatch, close_array
from lmcourse.grading.lesson_05 import close_number, close_numbers
from lmcourse.neural import by_hand_pretrain as by_hand

IGNORE = by_hand.IGNORE
BOS_ID, EOS_ID, FIRST_WORD_ID = by_hand.BOS_ID, by_hand.EOS_ID, by_hand.FIRST_WORD_ID


def exact_arrays(names: tuple[str, ...]) -> Comparison:
    """A tuple of ``len(names)`` integer arrays, each exactly the expected one."""

    def compare(expected: tuple, actual: Any) -> str | None:
        if not isinstance(actual, tuple) or len(actual) != len(names):
            return f"returned {short_repr(actual)}, expected a tuple ({', '.join(names)}) of integer arrays"
        for name, want, got in zip(names, expected, actual):
            mismatch = array_mismatch(want, got, exact=True)
            if mismatch is not None:
                return f"{name} is wrong: {mismatch}"
        return None

    return compare


# -- inputs: masking -----------------------------------------------------------------------------------------
RATES = [(0.15, 0.8, 0.1), (0.5, 0.8, 0.1), (0.4, 0.6, 0.3), (1.0, 0.5, 0.25), (0.3, 0.1, 0.8), (0.6, 0.0, 0.5)]


def mask_arguments(seed: int, batch: int, length: int, words: int, rates: tuple = RATES[0],
                   bos_first: bool = True) -> Case:
    """(ids, chosen_draw, how_draw, random_words, mask_id) of a (batch, length) window of a corpus with
    ``words`` words (ids 0 .. 2 + words, mask_id 3 + words); ``<s>`` at the start of each row when
    ``bos_first`` and here and there elsewhere (a window of the stream crosses sentences); ``rates`` (select,
    to_mask, to_random), passed as keywords unless they are the defaults."""
    rng = np.random.default_rng(seed)
    vocab = FIRST_WORD_ID + words
    ids = rng.integers(0, vocab, size=(batch, length))
    if bos_first:
        ids[:, 0] = BOS_ID
    chosen_draw, how_draw = rng.random((batch, length)), rng.random((batch, length))
    random_words = rng.integers(FIRST_WORD_ID, vocab, size=(batch, length))
    select, to_mask, to_random = rates
    keywords = {} if rates == RATES[0] else {"select": select, "to_mask": to_mask, "to_random": to_random}
    return Case((ids, chosen_draw, how_draw, random_words, vocab), keywords)


@st.composite
def mask_cases(draw):
    """1-3 rows of 1-12 ids over 1-20 words; the default rates or others (half the positions chosen, ...)."""
    return mask_arguments(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 3)), draw(st.integers(1, 12)),
                          draw(st.integers(1, 20)), draw(st.sampled_from(RATES)), draw(st.booleans()))


# The docstring's example: <s> (drawn under 0.15, never chosen), 5 masked, 6 not chosen, 7 random, 8 unchanged.
HAND_IDS = np.array([[1, 5, 6, 7, 8]])
HAND_CHOSEN = np.array([[0.01, 0.10, 0.50, 0.05, 0.12]])
HAND_HOW = np.array([[0.30, 0.20, 0.90, 0.85, 0.95]])
HAND_WORDS = np.array([[4, 4, 4, 3, 4]])
# On the boundaries, with rates whose sums are exact (0.25 + 0.5 + 0.25): chosen_draw == select is not chosen,
# how_draw == to_mask is a random word, how_draw == to_mask + to_random is unchanged.
EDGE_IDS = np.array([[1, 3, 4, 5, 6, 7], [8, 9, 2, 0, 1, 3]])
EDGE_CHOSEN = np.array([[0.0, 0.25, 0.0, 0.0, 0.0, 0.2499], [0.0, 0.1, 0.0, 0.1, 0.0, 0.9]])
EDGE_HOW = np.array([[0.0, 0.0, 0.5, 0.75, 0.4999, 0.7499], [0.75, 0.5, 0.1, 0.99, 0.1, 0.1]])
EDGE_WORDS = np.array([[3, 9, 9, 9, 9, 9], [3, 4, 5, 6, 7, 8]])
EDGE_RATES = {"select": 0.25, "to_mask": 0.5, "to_random": 0.25}


# -- inputs: the loss ----------------------------------------------------------------------------------------
def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def loss_arguments(seed: int, batch: int, length: int, vocab: int, share: float = 0.3, scale: float = 1.0,
                   never_predicted: bool = True) -> tuple:
    """(log_probs (batch, length, vocab), labels): the log-softmax of normal logits times ``scale``, with
    ``<s>`` and the last id (``<mask>``) at -inf when ``never_predicted``; a share ``share`` of the positions
    labelled with an id that can be predicted, the others IGNORE."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(batch, length, vocab))
    allowed = np.arange(vocab)
    if never_predicted and vocab >= 4:
        logits[..., BOS_ID] = -np.inf
        logits[..., vocab - 1] = -np.inf
        allowed = np.setdiff1d(allowed, [BOS_ID, vocab - 1])
    labels = np.where(rng.random((batch, length)) < share, rng.choice(allowed, size=(batch, length)), IGNORE)
    return (log_softmax(logits), labels.astype(np.int64))


@st.composite
def loss_cases(draw):
    """1-3 rows of 1-8 positions over 2-12 ids, 0-100% of them labelled (so the rows' counts differ)."""
    return Case(loss_arguments(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 3)), draw(st.integers(1, 8)),
                               draw(st.integers(2, 12)), draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])),
                               draw(st.sampled_from([0.5, 1.0, 3.0])), draw(st.booleans())))


HAND_LOG_PROBS = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))
# Two rows with 1 and 3 labelled positions: the mean over the 4 is not the mean of the rows' means.
UNEVEN_LOG_PROBS = np.log(np.array([[[0.5, 0.5], [0.9, 0.1], [0.3, 0.7]], [[0.2, 0.8], [0.6, 0.4], [0.25, 0.75]]]))
UNEVEN_LABELS = np.array([[0, IGNORE, IGNORE], [1, 0, 1]])


# -- inputs: pooling -----------------------------------------------------------------------------------------
def pool_arguments(seed: int, batch: int, most: int, width: int, prefix: bool = True, floats: bool = False,
                   counts: list[int] | None = None) -> tuple:
    """(hidden (batch, most, width), mask (batch, most)): each row's real vectors first (``prefix``, as a batch
    of documents is padded) or anywhere; padding holds large numbers, so that counting it shows."""
    rng = np.random.default_rng(seed)
    hidden = rng.normal(size=(batch, most, width))
    if counts is None:
        counts = rng.integers(0, most + 1, size=batch).tolist()
    if prefix:
        mask = (np.arange(most)[None, :] < np.array(counts)[:, None]).astype(np.int64)
    else:
        mask = (rng.random((batch, most)) < 0.6).astype(np.int64)
    hidden = np.where(mask[:, :, None] == 1, hidden, 10.0 + 5.0 * rng.normal(size=hidden.shape))
    return (hidden, mask.astype(np.float64) if floats else mask)


@st.composite
def pool_cases(draw):
    """1-4 rows of up to 1-6 vectors of 1-5 numbers, a mask of ints or floats (sometimes not a prefix)."""
    return Case(pool_arguments(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 4)), draw(st.integers(1, 6)),
                               draw(st.integers(1, 5)), draw(st.booleans()) or draw(st.booleans()),
                               draw(st.booleans())))


# -- inputs: the interval ------------------------------------------------------------------------------------
def interval_arguments(seed: int, documents: int, resamples: int, accuracy: float = 0.8, classes: int = 2) -> tuple:
    """(labels, predictions, resample_indices): ``documents`` labels of ``classes`` classes, predictions right
    with probability ``accuracy`` (else another class), ``resamples`` rows of document ids."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=documents)
    wrong = rng.random(documents) >= accuracy
    predictions = np.where(wrong, (labels + rng.integers(1, classes, size=documents)) % classes, labels)
    return (labels, predictions.astype(np.int64), rng.integers(0, documents, size=(resamples, documents)))


@st.composite
def interval_cases(draw):
    """1-60 documents of 2-3 classes, accuracy 0-100%, 1-40 resampled test sets."""
    return Case(interval_arguments(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 60)),
                                   draw(st.integers(1, 40)), draw(st.sampled_from([0.0, 0.5, 0.7, 0.85, 1.0])),
                                   draw(st.sampled_from([2, 2, 3]))))


HAND_LABELS, HAND_PREDICTIONS = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])
HAND_RESAMPLED = np.array([[0, 1, 2, 3], [2, 2, 2, 2], [0, 0, 1, 1]])


# -- inputs: Naive Bayes -------------------------------------------------------------------------------------
def count_arguments(seed: int, features: int, most: int = 5, zeros: float = 0.4, alpha: float | None = None) -> Case:
    """(counts (2, features),): counts 0 .. ``most``, a share ``zeros`` of them 0 (a word never seen in a
    class); ``alpha`` as a keyword when given."""
    rng = np.random.default_rng(seed)
    counts = np.where(rng.random((2, features)) < zeros, 0, rng.integers(1, most + 1, size=(2, features)))
    return Case((counts.astype(np.int64),), {} if alpha is None else {"alpha": alpha})


@st.composite
def count_cases(draw):
    """1-30 features, counts up to 1-50 with 0-60% zeros, alpha 1 (by default) or 0.1, 0.5, 2."""
    return count_arguments(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 30)),
                           draw(st.sampled_from([1, 3, 10, 50])), draw(st.sampled_from([0.0, 0.3, 0.6])),
                           draw(st.sampled_from([None, None, 0.1, 0.5, 2.0])))


EXERCISES = [
    Exercise(
        name="bert_mask",
        points=3,
        reference=by_hand.bert_mask,
        summary="(inputs, labels): chosen if chosen_draw < select and not <s>; then <mask> / random word / "
                "unchanged by how_draw; labels the original ids at the chosen positions, -100 elsewhere",
        fixed_cases=[
            Case((HAND_IDS, HAND_CHOSEN, HAND_HOW, HAND_WORDS, 9)),             # the docstring's
            Case((EDGE_IDS, EDGE_CHOSEN, EDGE_HOW, EDGE_WORDS, 10), EDGE_RATES),  # on every boundary
            Case((HAND_IDS, np.zeros((1, 5)), HAND_HOW, HAND_WORDS, 9)),        # all drawn: all but <s> chosen
            Case((HAND_IDS, np.ones((1, 5)) * 0.99, HAND_HOW, HAND_WORDS, 9)),  # nothing chosen
            Case((np.array([[1, 1, 1]]), np.zeros((1, 3)), np.zeros((1, 3)), np.full((1, 3), 3), 5)),  # only <s>
            mask_arguments(1, 4, 16, 30),
            mask_arguments(2, 2, 10, 5, RATES[3]),                              # everything chosen
            mask_arguments(3, 3, 12, 8, RATES[4], bos_first=False),             # mostly random words
            mask_arguments(4, 1, 20, 2, RATES[2]),
        ],
        generated_cases=mask_cases(),
        returns=tuple,
        compare=exact_arrays(("inputs", "labels")),
    ),
    Exercise(
        name="masked_lm_loss",
        points=2,
        reference=by_hand.masked_lm_loss,
        summary="-(1/|M|) sum over the labelled positions M (label != -100) of log p(label); 0.0 if M is empty",
        fixed_cases=[
            Case((HAND_LOG_PROBS, np.array([[0, IGNORE]]))),                    # the docstring's: -log 0.5
            Case((HAND_LOG_PROBS, np.array([[1, 2]]))),                         # both positions
            Case((HAND_LOG_PROBS, np.array([[IGNORE, IGNORE]]))),               # none: 0.0
            Case((UNEVEN_LOG_PROBS, UNEVEN_LABELS)),                            # 1 and 3 labels in the two rows
            Case(loss_arguments(5, 4, 16, 12)),                                 # -inf columns, 30% labelled
            Case(loss_arguments(6, 2, 8, 6, share=1.0, scale=3.0)),
            Case(loss_arguments(7, 1, 30, 20, share=0.15, never_predicted=False)),
        ],
        generated_cases=loss_cases(),
        returns=float,
        compare=close_number,
    ),
    Exercise(
        name="masked_mean_pool",
        points=1,
        reference=by_hand.masked_mean_pool,
        summary="(B, E): sum of mask * hidden over positions / max(number of 1s, 1)",
        fixed_cases=[
            Case((np.array([[[1.0, 2.0], [3.0, 4.0], [99.0, -99.0]]]), np.array([[1, 1, 0]]))),  # the docstring's
            Case(pool_arguments(8, 3, 4, 2, counts=[4, 1, 2])),                 # lengths 4, 1 and 2
            Case(pool_arguments(9, 2, 3, 3, counts=[0, 3])),                    # an empty row: zeros
            Case(pool_arguments(10, 4, 6, 5, prefix=False)),                    # 1s anywhere
            Case(pool_arguments(11, 2, 5, 4, floats=True, counts=[5, 2])),      # a float mask
            Case(pool_arguments(12, 1, 1, 8, counts=[1])),
        ],
        generated_cases=pool_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
    Exercise(
        name="accuracy_with_interval",
        points=2,
        reference=by_hand.accuracy_with_interval,
        summary="(accuracy, low, high): the test set's accuracy, and the 0.025 and 0.975 quantiles (np.quantile) "
                "of the accuracies of the resampled documents",
        fixed_cases=[
            Case((HAND_LABELS, HAND_PREDICTIONS, HAND_RESAMPLED)),              # the docstring's
            Case((HAND_LABELS, HAND_PREDICTIONS, HAND_RESAMPLED[:1])),          # one resampled set
            Case((HAND_LABELS, HAND_LABELS, HAND_RESAMPLED)),                   # all right: (1, 1, 1)
            Case((np.array([0, 1]), np.array([1, 0]), np.array([[0, 1], [1, 1]]))),   # all wrong
            Case(interval_arguments(13, 200, 1000, 0.85)),                      # a test set of the task's size
            Case(interval_arguments(14, 50, 200, 0.6, classes=3)),
            Case(interval_arguments(15, 7, 9, 0.5)),
        ],
        generated_cases=interval_cases(),
        returns=tuple,
        compare=close_numbers(("accuracy", "low", "high")),
    ),
    Exercise(
        name="naive_bayes_log_count_ratios",
        points=2,
        reference=by_hand.naive_bayes_log_count_ratios,
        summary="r = log(p / sum p) - log(q / sum q), p = alpha + counts[1] (pos), q = alpha + counts[0] (neg)",
        fixed_cases=[
            Case((np.array([[3, 1], [1, 3]]),)),                                # the docstring's: -log 2, log 2
            Case((np.array([[0, 5, 2], [4, 0, 2]]),)),                          # zeros: the alpha is needed
            Case((np.array([[0, 5, 2], [4, 0, 2]]),), {"alpha": 0.5}),
            Case((np.array([[10, 10, 10, 10], [1, 2, 3, 100]]),), {"alpha": 2.0}),   # class totals differ
            Case((np.array([[7], [2]]),)),                                      # one feature: r = 0
            count_arguments(16, 25, most=20),
            count_arguments(17, 12, most=3, zeros=0.6, alpha=0.1),
        ],
        generated_cases=count_cases(),
        returns=np.ndarray,
        compare=close_array,
    ),
]
