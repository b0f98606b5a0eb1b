"""Lesson 02 exercises: add-k, Good-Turing and Katz discounts, continuation counts, interpolated Kneser-Ney,
modified KN discounts.

Write the seven functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 02                       # a score table: points and a reason for each failure
    pytest lessons/02_smoothing             # the same checks, as pytest tests

Each function is checked against the library's answer (``lmcourse.ngram.by_hand``) on fixed cases and on a
few dozen generated inputs. Standard library only; read the notebook of this lesson first.

The conventions are those of lesson 01:

- ``counts`` maps n-grams -- *tuples* of n strings -- to counts, as ``count_ngrams`` of lesson 01 returns
  (each sentence padded with n-1 ``"<s>"`` and one ``"</s>"``). ``bigram_counts`` are counts with n = 2.
  Only n-grams with a count > 0 are ever in it.
- A *context* h is a tuple of n-1 strings (``()`` for unigrams; ``(v,)`` for bigrams), and
  c(h) = sum over all words v of c(h, v): how often h was followed by something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Counts = Mapping[tuple[str, ...], int]


def count_ngrams(sentences: Iterable[Sequence[str]], n: int) -> Counter:
    """Given, not graded: lesson 01's ``count_ngrams``, written out here so that this file needs nothing of
    the answer key (the examples below use it). Each sentence is padded with n-1 ``"<s>"`` and one ``"</s>"``.

    >>> count_ngrams([["the", "cat"]], 2)
    Counter({('<s>', 'the'): 1, ('the', 'cat'): 1, ('cat', '</s>'): 1})
    """
    counts: Counter = Counter()
    for sentence in sentences:
        padded = ["<s>"] * (n - 1) + list(sentence) + ["</s>"]
        for end in range(n, len(padded) + 1):
            counts[tuple(padded[end - n:end])] += 1
    return counts


def add_k_probability(counts: Counts, word: str, context: Sequence[str], k: float,
                      vocabulary_size: int) -> float:
    """Add-k smoothing (k = 1 is Laplace's add-one), a ``float`` (2 points).

        p(w | h) = (c(h, w) + k) / (c(h) + k * V)

    V = ``vocabulary_size``: the number of different tokens the model can predict (every word, ``<unk>``
    and ``</s>``; it is given, do not compute it from ``counts``). k > 0. A context never seen gets
    c(h) = 0, so every word then has probability 1 / V.

    >>> counts = count_ngrams([["the", "cat"], ["the", "dog"]], 2)
    >>> add_k_probability(counts, "cat", ("the",), 1.0, 5)        # (1 + 1) / (2 + 5)
    0.2857142857142857
    """
    raise NotImplementedError("write add_k_probability")


def good_turing_count(counts: Counts, r: int) -> float:
    """Good-Turing's adjusted count r* for the n-grams seen ``r`` times, a ``float`` (1 point):

        r* = (r + 1) * n_{r+1} / n_r

    n_r is a *count of counts*: the number of n-grams (keys of ``counts``) seen exactly r times, so count how
    often each value of ``counts`` occurs (a ``Counter`` of ``counts.values()``). In every graded case some
    n-gram was seen r times (n_r > 0); n_{r+1} may be 0 (then r* = 0.0). An n-gram seen r times in training
    is expected about r* times in new text of the same size (Good 1953): fewer than r.

    >>> counts = {("x", str(i)): c for i, c in enumerate([1, 1, 1, 1, 2, 2, 3, 4])}   # n1..n4 = 4, 2, 1, 1
    >>> good_turing_count(counts, 1), good_turing_count(counts, 2)       # 2 * 2 / 4, 3 * 1 / 2
    (1.0, 1.5)
    """
    raise NotImplementedError("write good_turing_count")


def katz_discount(counts: Counts, r: int, k: int = 5) -> float:
    """Katz's discount d_r for the n-grams of ``counts`` seen ``r`` times, a ``float`` (2 points).

    Katz (1987) trusts the counts above k (the library's Katz backoff uses k = 5) and discounts the others
    with Good-Turing: an n-gram seen r times counts d_r * r, with

        d_r = (r*/r - C) / (1 - C)      for 1 <= r <= k,        C = (k + 1) * n_{k+1} / n_1
        d_r = 1                         for r > k

    where r* = (r + 1) * n_{r+1} / n_r as in ``good_turing_count`` and n_r is the number of n-grams seen
    exactly r times. Plain Good-Turing would use d_r = r*/r for every r; C corrects for leaving the counts
    above k alone, so that the mass the discounts free is still n_1 / N.

    The estimate cannot always be used. Return 1.0 (no discount) when n_1 = 0 or n_r = 0, when C >= 1, and
    when d_r is not in the range 0 < d_r <= 1 (a d_r of exactly 0, when r*/r = C, gives 1.0 too).
    Floating-point rounding can put a d_r of exactly 0 just above or below 0; whole numbers cannot: with C < 1,
    d_r > 0 exactly when (r+1) n_{r+1} n_1 > r n_r (k+1) n_{k+1}, and d_r <= 1 exactly when (r+1) n_{r+1} <= r n_r.

    >>> counts = {("x", str(i)): c for i, c in enumerate([1] * 10 + [2] * 4 + [3] * 2 + [4, 5, 6])}
    >>> [round(katz_discount(counts, r), 4) for r in range(1, 7)]   # n1..n6 = 10, 4, 2, 1, 1, 1: C = 0.6
    [0.5, 0.375, 0.1667, 1.0, 1.0, 1.0]
    """
    raise NotImplementedError("write katz_discount")


def continuation_count(bigram_counts: Counts, word: str) -> int:
    """N1+(. w): the number of *distinct* words v that were seen right before ``word``, an ``int`` (1 point).

    That is the number of bigrams (v, word) with a count > 0 -- however large their counts. ``"<s>"``
    counts as a word before the first word of a sentence. A word never seen gives 0.

    >>> bigram_counts = count_ngrams([["san", "francisco"]] * 3 + [["my", "glasses"], ["new", "glasses"]], 2)
    >>> continuation_count(bigram_counts, "francisco"), continuation_count(bigram_counts, "glasses")
    (1, 2)
    """
    raise NotImplementedError("write continuation_count")


def continuation_probability(bigram_counts: Counts, word: str) -> float:
    """Kneser-Ney's unigram probability, a ``float`` (2 points):

        p_cont(w) = N1+(. w) / N1+(. .)

    N1+(. .) is the sum of N1+(. v) over all words v, which is the number of distinct bigrams (the number
    of keys of ``bigram_counts`` with a count > 0). If there are no bigrams at all, return 0.0.

    >>> bigram_counts = count_ngrams([["san", "francisco"]] * 3 + [["my", "glasses"], ["new", "glasses"]], 2)
    >>> continuation_probability(bigram_counts, "glasses")        # 2 of the 8 distinct bigrams
    0.25
    """
    raise NotImplementedError("write continuation_probability")


def interpolated_kn_probability(bigram_counts: Counts, word: str, context: Sequence[str],
                                discount: float) -> float:
    """Interpolated Kneser-Ney p(word | v) for a bigram model, a ``float`` (3 points).

        p_KN(w | v) = max(c(v, w) - D, 0) / c(v)  +  lambda(v) * p_cont(w)
        lambda(v)   = D * N1+(v .) / c(v)

    ``context`` is the tuple ``(v,)``. c(v) = sum over w of c(v, w); N1+(v .) = the number of distinct
    words seen *after* v; D = ``discount``, between 0 and 1; p_cont is ``continuation_probability``.
    lambda(v) is exactly the probability mass the discount took away from the words seen after v, so
    p_KN(. | v) sums to 1. If the context was never seen (c(v) = 0), return p_cont(w).

    >>> bigram_counts = count_ngrams([["san", "francisco"]] * 3 + [["my", "glasses"], ["new", "glasses"]], 2)
    >>> round(interpolated_kn_probability(bigram_counts, "francisco", ("san",), 0.75), 4)   # 2.25/3 + 0.25 * 1/8
    0.7812
    """
    raise NotImplementedError("write interpolated_kn_probability")


def modified_kn_discounts(counts: Counts) -> tuple[float, float, float]:
    """Modified Kneser-Ney's discounts ``(D1, D2, D3plus)`` for the n-grams of ``counts``, a tuple (2 points).

    Let n_r be the number of n-grams in ``counts`` seen exactly r times (r = 1, 2, 3, 4). Then
    (Chen & Goodman 1998, eq. 26)

        Y   = n1 / (n1 + 2 * n2)
        D_r = r - (r + 1) * Y * n_{r+1} / n_r          for r = 1, 2, 3

    Return the tuple ``(D1, D2, D3)`` of floats. If any of n1, n2, n3, n4 is 0, or any D_r is outside
    the range 0 <= D_r <= r, the estimate cannot be used: return KenLM's fallback ``(0.5, 1.0, 1.5)``.

    >>> counts = {("x", str(i)): c for i, c in enumerate([1, 1, 1, 1, 2, 2, 3, 4])}   # n1..n4 = 4, 2, 1, 1
    >>> modified_kn_discounts(counts)
    (0.5, 1.25, 1.0)
    """
    raise NotImplementedError("write modified_kn_discounts")
