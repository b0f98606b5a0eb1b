"""Lesson 05 exercises: reading a comparison of language models.

Write the seven functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 05                       # a score table: points and a reason for each failure
    pytest lessons/05_comparison            # the same checks, as pytest tests

Each function is checked against the library's answer on fixed cases and on a few dozen generated inputs.
numpy only; read the notebook of this lesson (``05_comparison.ipynb``) first.

Conventions used by every function (they are the course's, ``lmcourse/evaluation.py``):

- A model scores a text by giving one natural-log probability ``log p`` per *predicted token*: every word
  and one ``</s>`` per sentence (``<s>`` is never predicted). These come as 1-D float64 numpy arrays, one
  entry per token, every entry <= 0 (``-inf`` means probability 0). Logs are natural logs (``np.log``).
- Two models compared are given the same tokens: ``log_p_a[i]`` and ``log_p_b[i]`` are two models'
  log-probabilities of the same token i.
- Sentences are marked by ``sentence_starts``, as ``EncodedSplit.sentence_starts`` has them: for n sentences,
  n + 1 ints ``0 = s_0 < s_1 < ... < s_n = N``; sentence j is the tokens ``s_j, ..., s_{j+1} - 1`` (its last
  token is its ``</s>``). E.g. ``[0, 3, 7]``: sentence 0 is tokens 0-2, sentence 1 tokens 3-6.
- Numbers are compared with a tolerance of 1e-9 (relative), so a float64 answer computed in another order
  is right; a wrong base of logarithm, a character missing, or a mean over the wrong things is not.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np  # noqa: F401


def perplexity_on_same_tokens(log_p_a: np.ndarray, log_p_b: np.ndarray) -> tuple[float, float]:
    """The perplexities of two models scored on the same N tokens: a tuple ``(ppl_a, ppl_b)`` of floats
    (2 points).

        ppl = exp(-(1/N) * sum over i of log p_i)          natural logs: exp, not 2 ** or 10 **

    the exponential of the *mean* loss per token (the geometric mean of 1/p_i: not the mean of 1/p_i). A
    token of probability 0 (log p = -inf) makes the perplexity inf, and that is the answer then.

    Why "on the same tokens": a perplexity is an average over the tokens scored. Another vocabulary, another
    tokenization or a missing ``</s>`` changes those tokens, and so the perplexity, without any model getting
    better. So refuse (``raise ValueError``) two arrays of different lengths; the library does (the grader
    only checks the perplexities).

    >>> perplexity_on_same_tokens(np.log([0.5, 0.25]), np.log([0.25, 0.25]))   # (2 ** 1.5, 4)
    (2.82842712474619, 4.0)
    """
    raise NotImplementedError("write perplexity_on_same_tokens")


def characters_of(sentences: list[list[str]]) -> int:
    """The number of characters of ``sentences`` (each a list of words), counted as a character-level model
    predicts them: an ``int`` (1 point).

        characters = sum over sentences of  len(" ".join(words)) + 1

    A character model of lmcourse (``tinyshakespeare-char``) predicts every character of a line and then one
    ``</s>`` for the newline. So write each sentence as a line, its words separated by single spaces, and
    count its ``</s>`` as one more character, the newline. Characters are Python's: ``len("é") == 1`` (not
    the bytes of UTF-8). Every sentence has at least one word.

    >>> characters_of([["the", "cat"], ["a", "dog", "ran"]])      # "the cat\\n" + "a dog ran\\n"
    18
    """
    raise NotImplementedError("write characters_of")


def bits_per_character(total_nll_nats: float, characters: int) -> float:
    """A model's loss on a text spread over its characters, in bits: a ``float`` (1 point).

        bits per character = total_nll_nats / ln 2 / characters

    ``total_nll_nats`` is a word-level model's total negative log-likelihood of the text (``-sum of log p``
    over every predicted token, ``</s>`` included, natural logs: nats); ``characters`` is ``characters_of``
    the text's sentences. A nat is 1 / ln 2 = 1.4427 bits. Divided by the characters rather than the tokens,
    the loss of a word model compares with a character model's bits per character on the same text
    (Cotterell et al. 2018).

    >>> bits_per_character(10 * math.log(2), 10)        # 10 bits over 10 characters
    1.0
    """
    raise NotImplementedError("write bits_per_character")


def pair_accuracy(good_log_p: np.ndarray, bad_log_p: np.ndarray) -> float:
    """The accuracy of a model on minimal pairs: the share of pairs in which the grammatical sentence is
    more probable than the ungrammatical one, a ``float`` in [0, 1] (1 point).

        accuracy = (number of pairs j with good_log_p[j] > bad_log_p[j]) / (number of pairs)

    ``good_log_p[j]`` and ``bad_log_p[j]`` are the log-probabilities of the two sentences of pair j ("the
    keys to the cabinet *are*" / "... *is*", Linzen et al. 2016). Strictly greater: a tie (equal
    log-probabilities, -inf and -inf included) counts as wrong, since the model has not chosen.

    >>> pair_accuracy(np.array([-1.0, -2.0, -3.0]), np.array([-2.0, -1.0, -3.0]))   # right, wrong, tie
    0.3333333333333333
    """
    raise NotImplementedError("write pair_accuracy")


def floor_ratio(perplexity: float, floor_perplexity: float) -> float:
    """How many times the entropy floor a perplexity is: a ``float`` (1 point).

        ratio = perplexity / floor_perplexity = exp(cross-entropy - entropy)          (nats per token)

    ``floor_perplexity`` = exp(H), H the entropy per token of the language (known exactly for our synthetic
    grammar). No model has an expected cross-entropy below H, so the expected ratio is >= 1, and 1 only for
    the true model: 1.10 means 10% above the floor. (On one test set sampling noise can put it a little
    below 1.) Note that it is a ratio of perplexities, not of their logarithms.

    >>> floor_ratio(20.0, 10.0)
    2.0
    """
    raise NotImplementedError("write floor_ratio")


def bootstrap_differences(log_p_a: np.ndarray, log_p_b: np.ndarray, sentence_starts: np.ndarray,
                          resampled: np.ndarray) -> np.ndarray:
    """ppl_a - ppl_b on each resampled test set of a paired bootstrap: an array of shape (R,) (3 points).

    A test set is a sample of sentences; the bootstrap imitates drawing other test sets by drawing its n
    sentences again with replacement (Efron & Tibshirani 1993). Here the draw is given: ``resampled`` is an
    (R, n) int array, and row r holds the ids (0 .. n-1, repeats allowed) of the sentences of resampled test
    set r. (``np.random.default_rng(seed).integers(0, n, size=(R, n))`` draws such a matrix; the library's
    ``paired_bootstrap`` does exactly that, then calls this function and ``percentile_interval``.)

    For each row r, for each model, with ``S_j`` = the sum of the model's log p over the tokens of sentence j
    and ``T_j`` = the number of tokens of sentence j (``</s>`` included)::

        ppl_r = exp(-(S_j1 + S_j2 + ... + S_jn) / (T_j1 + T_j2 + ... + T_jn))      j1 .. jn = resampled[r]

    and the answer's entry r is ``ppl_a_r - ppl_b_r``. Three things make it right:

    - resample *sentences*, not tokens: the tokens of a sentence are not independent (a hard sentence is hard
      for all its tokens);
    - *paired*: both models on the same row, the same sentences (Koehn 2004);
    - a perplexity is a mean over *tokens*: total log p over total tokens, not a mean of sentences' values.

    Hint: ``np.add.reduceat(log_p, sentence_starts[:-1])`` sums each sentence; ``np.diff(sentence_starts)``
    gives the lengths; ``S[resampled]`` has shape (R, n).

    >>> a = np.log([0.5, 0.5, 0.25])          # sentences: tokens 0-1 and token 2
    >>> b = np.log([0.25, 0.5, 0.5])
    >>> bootstrap_differences(a, b, np.array([0, 2, 3]), np.array([[0, 1], [0, 0], [1, 1]]))
    array([ 0.        , -0.82842712,  2.        ])
    """
    raise NotImplementedError("write bootstrap_differences")


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The percentile interval of bootstrap values: a tuple ``(low, high)`` of floats (1 point).

    With c = ``confidence`` (0.95 for a 95% interval), low is the (1 - c)/2 quantile of ``values`` and high
    the (1 + c)/2 quantile (Efron & Tibshirani 1993, ch. 13). A quantile q of R values sorted as
    v_(0) <= v_(1) <= ... <= v_(R-1) sits at position h = q * (R - 1), between two of them::

        quantile(q) = v_(floor h) + (h - floor h) * (v_(floor h + 1) - v_(floor h))

    (numpy's default: ``np.quantile(values, q)`` computes exactly this.) ``values`` is not sorted.

    >>> percentile_interval(np.arange(5.0), 0.5)          # positions 0.25 * 4 = 1 and 0.75 * 4 = 3
    (1.0, 3.0)
    >>> percentile_interval(np.array([4.0, 0.0, 2.0]), 0.5)   # sorted 0, 2, 4; positions 0.5 and 1.5
    (1.0, 3.0)
    """
    raise NotImplementedError("write percentile_interval")
