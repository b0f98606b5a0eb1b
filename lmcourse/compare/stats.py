"""What a comparison of two language models computes from their per-token log-probabilities.

Every model of the course gives one natural-log probability per *predicted token*, every word and one
``</s>`` per sentence (:mod:`lmcourse.evaluation`). Everything a comparison reports comes from those numbers:

- :func:`perplexity_on_same_tokens`  two models' perplexities, refused unless they scored the same tokens
- :func:`characters_of`, :func:`bits_per_character`  a word-level model's loss per character
- :func:`pair_accuracy`  minimal pairs: the share in which the grammatical sentence is more probable
- :func:`floor_ratio`  how far a model is above the entropy floor of the synthetic grammar
- :func:`sentence_totals`, :func:`bootstrap_differences`, :func:`percentile_interval`, :func:`paired_bootstrap`
  a paired bootstrap confidence interval for the difference of two perplexities

Perplexities compare only on the same tokens
--------------------------------------------
For N predicted tokens with natural-log probabilities ``log p_i``::

    perplexity = exp(-(1/N) sum_i log p_i)                     (Jurafsky & Martin, SLP3, ch. 3)

It is an average over *these* N tokens. Another vocabulary (a ``<unk>`` that swallows the rare words is easy
to predict), another tokenization (more, shorter tokens), or leaving out ``</s>`` changes the tokens, and so
the perplexity, without any model getting better. Two perplexities compare only when both models scored the
very same tokens; :func:`perplexity_on_same_tokens` refuses two arrays of different lengths.

Bits per character
------------------
Across tokenizations the total loss still compares if it is spread over something both share: the
characters of the text (Cotterell et al. 2018, "Are all languages equally hard to language-model?")::

    bits per character = total NLL (nats) / ln 2 / characters

The characters a word-level model predicts (:func:`characters_of`) are counted as the character corpora of
lmcourse count them: ``tinyshakespeare-char`` predicts one token per character of each line and one ``</s>``
(the newline) per line. A word sentence is the line written with single spaces between its words, and its
``</s>`` is the newline: ``len(" ".join(words)) + 1`` characters. So on the same text a word model's bits per
character and a character model's cross-entropy in bits per token (which *is* bits per character there)
divide by the same number.

The entropy floor
-----------------
A model q scored on text from a language p has an expected loss per token of
``H(p) + KL(p || q) >= H(p)`` (Cover & Thomas 2006, ch. 2), so its expected perplexity is at least the floor
``exp(H)`` (:mod:`lmcourse.synthetic.floor` computes ``H`` exactly for our grammar)::

    floor ratio = perplexity / floor perplexity = exp(cross-entropy - entropy)      (in nats)

A ratio of 1 is the true model (in expectation); on one finite test set sampling noise moves it a little.

A paired bootstrap interval for ppl_a - ppl_b
---------------------------------------------
A test set is a sample of sentences: another sample would give other perplexities. The bootstrap (Efron &
Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 6 and 13) imitates drawing new test sets by
drawing the n sentences of the test set again, n times with replacement, and recomputing the statistic on
each resampled set. Two choices make it right for comparing language models:

- *Sentences*, not tokens, are resampled: the tokens of one sentence are not independent (a hard sentence
  is hard for all its tokens), so resampling tokens gives an interval too narrow.
- *Paired*: both models are scored on the same resampled sentences (Koehn 2004, "Statistical significance
  tests for machine translation evaluation"). Their losses rise and fall together from sentence to
  sentence; the difference cancels what they share, and its interval is far narrower than the two
  perplexities' intervals would suggest.

With per-sentence sums ``S_j = sum of log p over sentence j`` and lengths ``T_j`` (words + ``</s>``), the
perplexity of a resampled test set ``j_1 ... j_n`` is ``exp(-(S_j1 + ... + S_jn) / (T_j1 + ... + T_jn))``: a
mean over its tokens, not over its sentences. The interval is the percentile interval: the (1 - c)/2 and
(1 + c)/2 quantiles of the resampled differences (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from lmcourse.evaluation import perplexity_from_nll

# A log-probability may be a rounding error above 0 (log of 1.0000000000000002), as in lmcourse.evaluation.
LOG_P_TOLERANCE = 1e-9
# paired_bootstrap draws its index matrix this many entries at a time (8 bytes each), whatever its size.
CHUNK_ENTRIES = 2**22


# -- checks ------------------------------------------------------------------------------------------------
def check_log_probs(log_p: Sequence[float] | np.ndarray, name: str = "log_p") -> np.ndarray:
    """``log_p`` as a 1-D float64 array of natural-log probabilities (<= 0, no NaN; -inf allowed), or a
    ``ValueError`` that says what is wrong."""
    array = np.asarray(log_p, dtype=np.float64)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one natural-log probability per predicted "
                         f"token), got shape {array.shape}")
    if np.isnan(array).any():
        raise ValueError(f"{name} holds NaN at index {int(np.argmax(np.isnan(array)))}: a model gave no "
                         "probability there")
    if (array > LOG_P_TOLERANCE).any():
        index = int(np.argmax(array > LOG_P_TOLERANCE))
        raise ValueError(f"{name}[{index}] = {array[index]!r} is positive: log-probabilities are <= 0 "
                         "(natural logs of probabilities; a loss is the negative of one)")
    return array


def check_same_tokens(log_p_a: Sequence[float] | np.ndarray, log_p_b: Sequence[float] | np.ndarray,
                      finite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Both models' log-probabilities, checked, and of the same length: one per predicted token of one text.
    ``finite``: refuse -inf too (a bootstrap of a difference of perplexities needs finite ones)."""
    a, b = check_log_probs(log_p_a, "log_p_a"), check_log_probs(log_p_b, "log_p_b")
    if len(a) != len(b):
        raise ValueError(f"model a scored {len(a):,} tokens and model b {len(b):,}: perplexities compare only on "
                         "the same predicted tokens (the same split, vocabulary and tokenization, </s> counted "
                         "by both)")
    if finite and not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a token of probability 0 (log p = -inf) makes a perplexity inf: no interval for a "
                         "difference of perplexities")
    return a, b


def check_sentence_starts(sentence_starts: Sequence[int] | np.ndarray, tokens: int) -> np.ndarray:
    """``sentence_starts`` as :class:`lmcourse.data.EncodedSplit` has them: ints ``0 = s_0 < s_1 < ... < s_n =
    tokens`` (sentence j is tokens ``s_j .. s_{j+1} - 1``, at least its ``</s>``)."""
    starts = np.asarray(sentence_starts)
    if starts.ndim != 1 or len(starts) < 2 or starts.dtype.kind not in "iu":
        raise ValueError("sentence_starts must be a 1-D array of ints, n + 1 of them for n sentences (as "
                         "EncodedSplit.sentence_starts: 0, the start of each sentence after the first, the end)")
    if starts[0] != 0 or starts[-1] != tokens:
        raise ValueError(f"sentence_starts must begin at 0 and end at the number of tokens ({tokens:,}), got "
                         f"{int(starts[0])} ... {int(starts[-1])}")
    if (np.diff(starts) <= 0).any():
        raise ValueError("sentence_starts must increase strictly: every sentence has at least its </s>")
    return starts.astype(np.int64)


def check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for a 95% interval), got {confidence!r}")
    return float(confidence)


# -- perplexity, bits per character, minimal pairs, the floor ------------------------------------------------
def perplexity_on_same_tokens(log_p_a: Sequence[float] | np.ndarray,
                              log_p_b: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(ppl_a, ppl_b): the perplexities of two models that scored the same N predicted tokens::

        ppl = exp(-(1/N) sum_i log p_i)        (natural logs; ``inf`` if some token got probability 0)

    ``log_p_a[i]`` and ``log_p_b[i]`` are the two models' log-probabilities of the same token i. Arrays of
    different lengths, NaN or positive log-probabilities are refused (``ValueError``): perplexities of
    different tokens do not compare (see the module docstring).
    """
    a, b = check_same_tokens(log_p_a, log_p_b)
    return perplexity_from_nll(-float(a.sum()), len(a)), perplexity_from_nll(-float(b.sum()), len(b))


def characters_of(sentences: Iterable[Sequence[str]]) -> int:
    """The characters of ``sentences`` (lists of words), counted as a character model predicts them::

        characters = sum over sentences of  len(" ".join(words)) + 1

    Each sentence is written with one space between its words, and its ``</s>`` is one more character, the
    newline ending its line, as ``tinyshakespeare-char`` predicts one ``</s>`` per line. (Equivalently: every
    word, then one character after it, its space or the newline.) Count the words of the text, before
    ``<unk>`` replaces any of them; characters are Python's (code points: ``len("é") == 1``).
    """
    total = 0
    for index, words in enumerate(sentences):
        if isinstance(words, str):
            raise ValueError(f"sentence {index} is a str ({words[:30]!r}): pass each sentence as a list of words "
                             "(line.split())")
        total += len(" ".join(words)) + 1
    return total


def bits_per_character(total_nll_nats: float, characters: int) -> float:
    """A model's total loss over a text spread over its characters::

        bits per character = total NLL (nats) / ln 2 / characters

    ``total_nll_nats`` is ``-sum of log p`` over every predicted token of the text (words and ``</s>``, natural
    logs); ``characters`` is :func:`characters_of` the text's sentences. For a word model this is the figure
    that compares with a character model's (Cotterell et al. 2018).
    """
    if not total_nll_nats >= 0:  # refuses NaN too
        raise ValueError(f"total_nll_nats is a loss, -sum of log-probabilities (>= 0), got {total_nll_nats!r}")
    if not (isinstance(characters, (int, np.integer)) and characters >= 1):
        raise ValueError(f"characters must be a positive int (characters_of(sentences)), got {characters!r}")
    return float(total_nll_nats) / math.log(2) / int(characters)


def pair_accuracy(good_log_p: Sequence[float] | np.ndarray, bad_log_p: Sequence[float] | np.ndarray) -> float:
    """The share of minimal pairs in which the model prefers the grammatical sentence::

        accuracy = (1/n) * #{ j : log p(good_j) > log p(bad_j) }          (a tie counts as wrong)

    ``good_log_p[j]`` and ``bad_log_p[j]`` are the log-probabilities of the two sentences of pair j (Linzen et
    al. 2016; Marvin & Linzen 2018). Strictly greater: a model that cannot tell them apart has not chosen.
    """
    good, bad = check_log_probs(good_log_p, "good_log_p"), check_log_probs(bad_log_p, "bad_log_p")
    if len(good) != len(bad):
        raise ValueError(f"{len(good)} good sentences and {len(bad)} bad ones: one of each per pair")
    return float(np.mean(good > bad))


def floor_ratio(perplexity: float, floor_perplexity: float) -> float:
    """How many times the floor a perplexity is::

        ratio = perplexity / floor perplexity = exp(cross-entropy - entropy)      (nats per token)

    ``floor_perplexity`` is ``exp(H)`` of the language (``lmcourse.synthetic.floor.floor_stats()``). The
    expected ratio of any model is >= 1, = 1 only for the true model; on one test set sampling noise moves
    it a little either way (:func:`lmcourse.synthetic.floor.floor_verdict` says how much is noise).
    """
    if not perplexity >= 1:
        raise ValueError(f"a perplexity is >= 1 (every probability is <= 1), got {perplexity!r}")
    if not 1 <= floor_perplexity < math.inf:
        raise ValueError(f"the floor perplexity exp(H) is a finite number >= 1, got {floor_perplexity!r}")
    return float(perplexity) / float(floor_perplexity)


# -- the paired bootstrap ------------------------------------------------------------------------------------
def sentence_totals(log_p: np.ndarray, sentence_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sums, lengths): ``sums[j]`` = log p of sentence j (its tokens' log-probabilities summed, ``</s>``
    included) and ``lengths[j]`` = its predicted tokens, for ``sentence_starts`` as in ``EncodedSplit``."""
    log_p = np.asarray(log_p, dtype=np.float64)
    starts = check_sentence_starts(sentence_starts, len(log_p))
    return np.add.reduceat(log_p, starts[:-1]), np.diff(starts)


def resampled_perplexities(sums: np.ndarray, lengths: np.ndarray, resampled: np.ndarray) -> np.ndarray:
    """The perplexity of each resampled test set (row r of ``resampled`` names its sentences)::

        ppl_r = exp(-(sum_k sums[resampled[r, k]]) / (sum_k lengths[resampled[r, k]]))
    """
    return np.exp(-sums[resampled].sum(axis=1) / lengths[resampled].sum(axis=1))  # (R,)


def bootstrap_differences(log_p_a: Sequence[float] | np.ndarray, log_p_b: Sequence[float] | np.ndarray,
                          sentence_starts: Sequence[int] | np.ndarray, resampled: np.ndarray) -> np.ndarray:
    """ppl_a - ppl_b on each resampled test set: an array of shape (R,).

    ``resampled`` is an (R, m) int array: row r names the m sentences (ids 0 .. n-1, repeats allowed; usually
    m = n) of resampled test set r. Both models are scored on the same rows (paired), and each perplexity is
    a mean over the tokens of the resampled sentences (see the module docstring). The log-probabilities must
    be finite here: a token of probability 0 makes a perplexity inf and a difference undefined.
    """
    a, b = check_same_tokens(log_p_a, log_p_b, finite=True)
    sums_a, lengths = sentence_totals(a, sentence_starts)
    sums_b, _ = sentence_totals(b, sentence_starts)
    resampled = np.asarray(resampled)
    if resampled.ndim != 2 or resampled.shape[1] == 0 or resampled.dtype.kind not in "iu":
        raise ValueError(f"resampled must be an (R, n) array of sentence ids, got shape {resampled.shape} of "
                         f"{resampled.dtype}")
    if resampled.size and not (0 <= resampled.min() and resampled.max() < len(lengths)):
        raise ValueError(f"resampled holds sentence ids outside 0 .. {len(lengths) - 1}")
    return resampled_perplexities(sums_a, lengths, resampled) - resampled_perplexities(sums_b, lengths, resampled)


def percentile_interval(values: Sequence[float] | np.ndarray, confidence: float) -> tuple[float, float]:
    """(low, high): the (1 - c)/2 and (1 + c)/2 quantiles of ``values``, for confidence c (Efron & Tibshirani
    1993, ch. 13).

    A quantile q of R values sorted as v_(0) <= ... <= v_(R-1) sits at position h = q (R - 1), between two of
    them: ``v_(floor h) + (h - floor h) * (v_(floor h + 1) - v_(floor h))`` (numpy's default, ``np.quantile``;
    Hyndman & Fan 1996, definition 7).
    """
    values = np.asarray(values, dtype=np.float64)
    confidence = check_confidence(confidence)
    if values.ndim != 1 or len(values) == 0 or np.isnan(values).any():
        raise ValueError("values must be a non-empty 1-D array of numbers (no NaN)")
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def resampled_sets(n: int, resamples: int, seed: int) -> Iterable[tuple[int, np.ndarray]]:
    """The bootstrap's draws, ``resamples`` sets of ``n`` indices drawn with replacement (``seed``), in pieces
    of at most :data:`CHUNK_ENTRIES` indices: (index of the piece's first set, its (sets, n) index matrix)."""
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK_ENTRIES // n)
    for first in range(0, resamples, rows):
        yield first, rng.integers(0, n, size=(min(rows, resamples - first), n))


def paired_bootstrap(log_p_a: Sequence[float] | np.ndarray, log_p_b: Sequence[float] | np.ndarray,
                     sentence_starts: Sequence[int] | np.ndarray, resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> dict:
    """A paired bootstrap confidence interval for ppl_a - ppl_b, resampling sentences (Koehn 2004).

    Returns ``{"difference": ppl_a - ppl_b on the full data, "low", "high": the percentile interval,
    "resamples", "confidence"}``. ``sentence_starts`` is the split's (``EncodedSplit.sentence_starts``: n + 1
    ints for n sentences). The resampled test sets are the rows of
    ``np.random.default_rng(seed).integers(0, n, size=(resamples, n))`` (drawn a chunk of rows at a time,
    the same numbers), so the same seed gives the same interval; then :func:`bootstrap_differences` and
    :func:`percentile_interval`. An interval that excludes 0 says the difference is larger than what another
    test set of this size would likely undo; it says nothing of another corpus.
    """
    if not (isinstance(resamples, (int, np.integer)) and resamples >= 1):
        raise ValueError(f"resamples must be a positive int (1000 is usual), got {resamples!r}")
    confidence = check_confidence(confidence)
    a, b = check_same_tokens(log_p_a, log_p_b, finite=True)
    sums_a, lengths = sentence_totals(a, sentence_starts)
    sums_b, _ = sentence_totals(b, sentence_starts)
    differences = np.empty(resamples)
    for first, resampled in resampled_sets(len(lengths), resamples, seed):
        differences[first:first + len(resampled)] = (resampled_perplexities(sums_a, lengths, resampled)
                                                     - resampled_perplexities(sums_b, lengths, resampled))
    ppl_a, ppl_b = perplexity_on_same_tokens(a, b)
    low, high = percentile_interval(differences, confidence)
    return {"difference": ppl_a - ppl_b, "low": low, "high": high, "resamples": int(resamples),
            "confidence": confidence}
