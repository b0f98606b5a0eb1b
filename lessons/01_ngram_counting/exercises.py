"""Lesson 01 exercises: counting N-grams, maximum likelihood, the total probability of all sentences,
perplexity and sampling.

Write the six functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 01                       # a score table: points and a reason for each failure
    pytest lessons/01_ngram_counting        # the same checks, as pytest tests

Each function is checked against the library's answer (``lmcourse.ngram.by_hand``) on fixed cases and on a
few dozen generated inputs. Standard library only (``collections.Counter``, ``math`` and ``itertools`` are all
you need); read the notebook of this lesson first.

Conventions used by every function:

- A *sentence* is a list of words (strings). An order-n model reads it padded with n-1 ``"<s>"`` in front
  and one ``"</s>"`` at the end: ``["<s>", "the", "cat", "</s>"]`` for n = 2.
- ``counts`` is what ``count_ngrams`` returns: a ``Counter`` (a dict) from n-grams -- *tuples* of n
  strings -- to how often they occur. A *context* is a tuple of n-1 strings (``()`` when n = 1).
- Logarithms are natural logarithms (``math.log``).
"""

from __future__ import annotations

import itertools  # noqa: F401  (you will need them)
import math  # noqa: F401
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def count_ngrams(sentences: Iterable[Sequence[str]], n: int) -> Counter:
    """Count the n-grams of ``sentences``; return a ``collections.Counter`` (2 points).

    Pad each sentence with n-1 ``"<s>"`` in front and one ``"</s>"`` at the end, then count every window
    of n consecutive tokens of the padded sentence, as a tuple of n strings. A sentence of m words gives
    m + 1 n-grams (one for each word and one for ``</s>``); an empty sentence ``[]`` still gives one, the
    n-gram that ends in ``</s>``. N-grams never cross from one sentence into the next. n >= 1 (for n = 1
    there is no ``<s>``: the unigrams are the words and ``</s>``).

    >>> count_ngrams([["the", "cat"]], 2)
    Counter({('<s>', 'the'): 1, ('the', 'cat'): 1, ('cat', '</s>'): 1})
    """
    raise NotImplementedError("write count_ngrams")


def mle_probability(counts: Mapping[tuple[str, ...], int], word: str, context: Sequence[str]) -> float:
    """The maximum-likelihood estimate p(word | context), a ``float`` (2 points).

        p(w | h) = c(h, w) / c(h),      c(h) = sum over all words v of c(h, v)

    ``counts`` are n-gram counts; ``context`` is a tuple of n-1 words (``()`` for unigram counts, where
    c(h) is then the total number of tokens). c(h, w) is ``counts[context + (word,)]`` (0 if absent).
    Compute c(h) from ``counts`` as the sum above: how often h was followed by *something*. If the context
    was never seen (c(h) = 0) the estimate is 0 / 0: return ``0.0``.

    >>> counts = count_ngrams([["the", "cat"], ["the", "dog"]], 2)
    >>> mle_probability(counts, "cat", ("the",))
    0.5
    """
    raise NotImplementedError("write mle_probability")


def sentence_logprob(counts: Mapping[tuple[str, ...], int], sentence: Sequence[str]) -> float:
    """The natural-log probability of ``sentence`` under the MLE model of ``counts``, a ``float`` (3 points).

    n is the length of the n-grams in ``counts`` (``counts`` is never empty). Pad the sentence as
    ``count_ngrams`` does, and add up log p_MLE(token | the n-1 tokens before it) for every predicted
    token: each word *and* the final ``</s>`` (``<s>`` is never predicted):

        log p(w1 ... wm </s>) = sum over i = 1 .. m+1 of log p(w_i | w_{i-n+1} ... w_{i-1})

    If any of these probabilities is 0 the sentence is impossible: return ``float("-inf")``
    (``math.log(0)`` raises an error, so check first).

    >>> counts = count_ngrams([["the", "cat"], ["the", "dog"]], 2)
    >>> round(sentence_logprob(counts, ["the", "cat"]), 4)     # log(1 * 1/2 * 1)
    -0.6931
    """
    raise NotImplementedError("write sentence_logprob")


def sentence_probability_mass(counts: Mapping[tuple[str, ...], int], max_words: int) -> float:
    """The total probability of all sentences of at most ``max_words`` words, a ``float`` (2 points).

        sum over m = 0 .. max_words of  sum over all words w1 .. wm of  p(w1 ... wm </s>)

    p(w1 ... wm </s>) is the MLE probability of ``sentence_logprob`` (the exponential of it): a product of
    m + 1 probabilities, the last one p(</s> | the n-1 tokens before it). m = 0 is the empty sentence, whose
    only probability is p(</s> | <s> ... <s>). The words w_i range over every token that ``counts`` predicts
    (the last token of an n-gram) other than ``</s>``; ``<s>`` is never predicted, so it is not one of them.

    This is the check that the model is a probability distribution over *sentences*: the total is at most 1,
    and grows towards 1 as ``max_words`` grows (what is missing is the probability of the longer sentences).
    It works because every sentence ends in ``</s>``: a sentence of m words is the event "the model stops
    after m words", and sentences of different lengths exclude each other. Forget the final p(</s> | ...)
    and the total is 1 or more. The graded cases are small (at most 259 sentences to add up), so adding up
    ``math.exp(sentence_logprob(counts, sentence))`` over every sentence is fast enough
    (``itertools.product(words, repeat=m)`` gives the sentences of m words; ``math.exp(-math.inf)`` is 0.0).

    >>> counts = count_ngrams([["a", "a"]], 2)      # p(a | <s>) = 1, p(a | a) = 1/2, p(</s> | a) = 1/2
    >>> [sentence_probability_mass(counts, m) for m in range(4)]      # 0, then 1/2, 1/2 + 1/4, ...
    [0.0, 0.5, 0.75, 0.875]
    """
    raise NotImplementedError("write sentence_probability_mass")


def perplexity_from_logprobs(log_probs: Sequence[float]) -> float:
    """The perplexity of a text from the natural-log probability of each predicted token (1 point).

        perplexity = exp(-(1/N) * sum of log_probs),      N = len(log_probs)

    ``log_probs`` is a non-empty list of floats, each <= 0. If one of them is ``-inf`` (a token of
    probability 0) the perplexity is ``float("inf")``. Return a ``float``.

    >>> perplexity_from_logprobs([math.log(0.5), math.log(0.125)])      # 1 / sqrt(0.5 * 0.125)
    4.0
    """
    raise NotImplementedError("write perplexity_from_logprobs")


def sample_next_word(counts: Mapping[tuple[str, ...], int], context: Sequence[str], u: float) -> str:
    """Draw the word that follows ``context`` from the MLE model, given a random number ``u`` (2 points).

    ``u`` is uniform in [0, 1) (in a generator it comes from ``random.random()``; here it is given, so the
    answer is exact). Take the words w seen after the context (c(h, w) > 0) in alphabetical order
    (``sorted``); walk through them adding up p(w | h) = c(h, w) / c(h); return the first word at which
    the running total becomes *greater than* ``u``. So a word is drawn for a share p(w | h) of the values
    of u: this is sampling by inverting the cumulative distribution. The context was always seen.

    Rounding: u can be as close to 1 as a float gets (0.9999999999999999), and a running total of floats
    can end *just below* it (ten words of p = 0.1 add up to 0.9999999999999999). Always return a word:
    add up whole counts and divide (``running / c(h) > u``, which reaches exactly 1), or return the last
    word when the loop ends.

    >>> counts = count_ngrams([["b"], ["a"], ["a"], ["c"]], 2)      # after <s>: a 1/2, b 1/4, c 1/4
    >>> [sample_next_word(counts, ("<s>",), u) for u in (0.2, 0.5, 0.8)]
    ['a', 'b', 'c']
    """
    raise NotImplementedError("write sample_next_word")
