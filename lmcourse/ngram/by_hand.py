"""N-gram counting and smoothing by hand: the formulas of lessons 01 and 02 in plain Python.

The models of :mod:`lmcourse.ngram` are fast because they count with integer keys and numpy. The functions
here compute the same quantities the slow, readable way -- ``Counter``\\s over tuples of strings -- one formula
per function. They are the reference answers of the exercises of lessons 01 and 02 (``lmcourse grade 01``,
``lmcourse grade 02``), and ``tests/test_ngram_by_hand.py`` checks that they agree with the library's
models, so that the library really is the answer key.

Conventions (every function below follows them):

* A *sentence* is a list of words (strings). Counting an order-n model reads it *padded*::

      <s> ... <s>  w1 w2 ... wm  </s>        (n-1 copies of <s> in front, one </s> at the end)

  so every word and the final ``</s>`` has a full context of n-1 tokens. ``<s>`` is context only: it is
  never predicted. ``</s>`` is predicted, so a model learns where sentences end.
* ``counts`` is a ``Counter`` (or dict) from n-grams -- tuples of n strings -- to how often they occur,
  as :func:`count_ngrams` returns. A *context* h is a tuple of n-1 strings, and

      c(h) = sum over w of c(h, w)

  is how often h was seen *as a context* (followed by something).
* Logarithms are natural logs (``math.log``), as in :mod:`lmcourse.evaluation`.

The library's models put a single ``<s>`` in front of a sentence and use a shorter context near the start
(KenLM's convention). For maximum likelihood and add-k the two conventions give exactly the same
probabilities: ``c(<s> <s> w) = c(<s> w)`` and ``c(<s> <s>)`` = the number of sentences = ``c(<s>)``.

References: D. Jurafsky and J. H. Martin, *Speech and Language Processing* (3rd ed. draft), ch. 3;
S. F. Chen and J. Goodman, "An Empirical Study of Smoothing Techniques for Language Modeling" (1998);
R. Kneser and H. Ney, "Improved backing-off for M-gram language modeling" (1995); I. J. Good, "The population
frequencies of species and the estimation of population parameters", Biometrika (1953); S. M. Katz,
"Estimation of probabilities from sparse data for the language model component of a speech recognizer",
IEEE Trans. ASSP (1987).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

BOS = "<s>"
EOS = "</s>"

NgramCounts = Mapping[tuple[str, ...], int]


# -- lesson 01: counting, maximum likelihood, perplexity, sampling -------------------------------------------
def pad_sentence(sentence: Sequence[str], n: int) -> list[str]:
    """``[<s>] * (n-1) + sentence + [</s>]``: the padded sentence an order-n model reads."""
    return [BOS] * (n - 1) + list(sentence) + [EOS]


def count_ngrams(sentences: Iterable[Sequence[str]], n: int) -> Counter:
    """How often each n-gram occurs: a ``Counter`` from tuples of n strings to counts.

    Each sentence is padded with n-1 ``<s>`` in front and one ``</s>`` at the end (:func:`pad_sentence`);
    the n-grams are all windows of n consecutive tokens of the padded sentence. A sentence of m words gives
    m + 1 n-grams (one per predicted token). N-grams never cross a sentence boundary.

    >>> count_ngrams([["the", "cat"]], 2)
    Counter({('<s>', 'the'): 1, ('the', 'cat'): 1, ('cat', '</s>'): 1})
    """
    if n < 1:
        raise ValueError(f"the order n must be at least 1 (got {n})")
    counts: Counter = Counter()
    for sentence in sentences:
        padded = pad_sentence(sentence, n)
        for end in range(n, len(padded) + 1):
            counts[tuple(padded[end - n:end])] += 1
    return counts


def context_count(counts: NgramCounts, context: Sequence[str]) -> int:
    """c(h) = sum over w of c(h, w): how often ``context`` was followed by a word."""
    context = tuple(context)
    return sum(count for ngram, count in counts.items() if ngram[:-1] == context)


def followers(counts: NgramCounts, context: Sequence[str]) -> dict[str, int]:
    """{w: c(h, w)} for the words w seen after ``context`` (count > 0)."""
    context = tuple(context)
    return {ngram[-1]: count for ngram, count in counts.items() if ngram[:-1] == context and count > 0}


def mle_probability(counts: NgramCounts, word: str, context: Sequence[str]) -> float:
    """The maximum-likelihood estimate p(w | h) = c(h, w) / c(h), with c(h) = sum_v c(h, v).

    ``context`` has n-1 words (the empty tuple for a unigram model, where c(h) is the number of tokens).
    A context never seen has no estimate (0 / 0): return 0.0 then.
    """
    total = context_count(counts, context)
    if total == 0:
        return 0.0
    return counts.get(tuple(context) + (word,), 0) / total


def sentence_logprob(counts: NgramCounts, sentence: Sequence[str]) -> float:
    """log p(sentence) under the maximum-likelihood n-gram model of ``counts`` (natural log).

    n is the length of the n-grams in ``counts`` (which must not be empty). Pad the sentence as
    :func:`count_ngrams` does; then, by the chain rule and the Markov assumption,

        log p(w1 .. wm </s>) = sum over i = 1 .. m+1 of log p_MLE(w_i | w_{i-n+1} .. w_{i-1})

    (the last term predicts ``</s>``). If one of the probabilities is 0 the sentence is impossible under
    the model: return ``-inf`` (``float("-inf")``; ``math.log(0)`` raises).
    """
    n = len(next(iter(counts)))
    padded = pad_sentence(sentence, n)
    total = 0.0
    for end in range(n, len(padded) + 1):
        probability = mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
        if probability == 0.0:
            return -math.inf
        total += math.log(probability)
    return total


def perplexity_from_logprobs(log_probs: Sequence[float]) -> float:
    """Perplexity from the natural-log probability of every predicted token:

        PP = exp(-(1/N) sum_i log p_i)           N = number of predicted tokens (len(log_probs))

    This is the geometric mean of 1/p_i: the "branching factor" of the model on this text. One
    probability 0 (log = ``-inf``) makes it ``inf``. ``log_probs`` must not be empty.
    """
    if len(log_probs) == 0:
        raise ValueError("perplexity needs at least one predicted token")
    mean = sum(log_probs) / len(log_probs)
    try:
        return math.exp(-mean)
    except OverflowError:  # beyond the largest float (and exp(inf) when some p_i = 0 is inf already)
        return math.inf


def sample_next_word(counts: NgramCounts, context: Sequence[str], u: float) -> str:
    """Draw the next word after ``context`` from the MLE distribution, by inverting its CDF at ``u``.

    ``u`` is a uniform random number in [0, 1). Put the words seen after the context (c(h, w) > 0) in
    alphabetical order (Python's ``sorted``) w_1, w_2, ..., and return the first w_j whose cumulative
    probability exceeds u:

        sum_{i <= j} c(h, w_i) / c(h)  >  u

    so each word is returned for a share p(w | h) of the values of u. ``context`` must have been seen.
    """
    seen = followers(counts, context)
    if not seen:
        raise ValueError(f"context {tuple(context)!r} was never seen: nothing to sample")
    total = sum(seen.values())
    cumulative = 0
    for word in sorted(seen):
        cumulative += seen[word]
        if cumulative / total > u:
            return word
    return sorted(seen)[-1]  # u within rounding of 1


def sentence_probability_mass(counts: NgramCounts, max_words: int) -> float:
    """The total probability of all sentences of at most ``max_words`` words under the MLE model of ``counts``:

        sum over m = 0 .. max_words of  sum over all words w1 .. wm of  p(w1 ... wm </s>)

    where p(w1 ... wm </s>) is the product of the m + 1 probabilities of :func:`sentence_logprob`, the last
    one p(</s> | ...), and the words range over every token that ``counts`` predicts other than ``</s>``.
    Because every sentence ends in ``</s>``, a sentence of m words is the event "the model stops after m
    words": sentences of different lengths exclude each other and the total is at most 1. It grows towards 1
    with ``max_words``; what it lacks is the probability of the sentences longer than ``max_words``. Leave the
    final p(</s> | ...) out and each p(w1 ... wm) becomes the probability that the sentence *goes on* for
    at least m words: the total is then 1 or more (and tends to 1 + the mean sentence length).

    Computed length by length (the forward algorithm): the probability of each context after m words,
    sentence not yet ended; the same number as summing ``exp(sentence_logprob)`` over all V^m sentences.
    """
    n = len(next(iter(counts)))
    not_ended = {(BOS,) * (n - 1): 1.0}  # context after m words -> probability, sentence not ended yet
    total = 0.0
    for m in range(max_words + 1):
        going_on: dict[tuple[str, ...], float] = {}
        for context, probability in not_ended.items():
            seen = followers(counts, context)
            context_total = sum(seen.values())
            for word, count in seen.items():
                p = probability * count / context_total
                if word == EOS:
                    total += p  # a sentence of m words
                elif m < max_words:
                    following = (context + (word,))[1:]  # the last n-1 tokens ((): unigrams)
                    going_on[following] = going_on.get(following, 0.0) + p
        not_ended = going_on
    return total


def generate_sentence(counts: NgramCounts, rng: random.Random, max_words: int = 30,
                      sample: Callable[[NgramCounts, Sequence[str], float], str] | None = None) -> list[str]:
    """Sample a sentence (without its ``</s>``) word by word from the MLE model, as Shannon (1948) did.

    Each word is drawn by ``sample(counts, context, u)`` (default :func:`sample_next_word`) with
    ``u = rng.random()``.
    """
    sample = sample_next_word if sample is None else sample
    n = len(next(iter(counts)))
    history = [BOS] * (n - 1)
    sentence: list[str] = []
    while len(sentence) < max_words:
        word = sample(counts, tuple(history[len(history) - (n - 1):]) if n > 1 else (), rng.random())
        if word == EOS:
            break
        sentence.append(word)
        history.append(word)
    return sentence


# -- lesson 02: smoothing ------------------------------------------------------------------------------------
def add_k_probability(counts: NgramCounts, word: str, context: Sequence[str], k: float,
                      vocabulary_size: int) -> float:
    """Add-k (Lidstone) smoothing; k = 1 is add-one (Laplace):

        p(w | h) = (c(h, w) + k) / (c(h) + k * V)

    where V = ``vocabulary_size`` is the number of words that can be predicted (here it counts every
    word, ``<unk>`` and ``</s>``, but not ``<s>``), and c(h) = sum_v c(h, v). An unseen context gives the
    uniform 1 / V. Needs k > 0.
    """
    total = context_count(counts, context)
    return (counts.get(tuple(context) + (word,), 0) + k) / (total + k * vocabulary_size)


def continuation_count(bigram_counts: NgramCounts, word: str) -> int:
    """N1+(. w): the number of *distinct* words v with c(v, w) > 0 (Kneser & Ney 1995).

    Not how often ``word`` occurs, but in how many different contexts: "francisco" is frequent but
    follows almost only "san", so its continuation count is small. ``<s>`` counts as a context.
    """
    return sum(1 for (_, second), count in bigram_counts.items() if second == word and count > 0)


def continuation_probability(bigram_counts: NgramCounts, word: str) -> float:
    """Kneser-Ney's unigram distribution:

        p_cont(w) = N1+(. w) / N1+(. .)

    where N1+(. .) = sum_v N1+(. v) is the number of distinct bigram types (count > 0). It sums to 1
    over the words that can follow something. Returns 0.0 if there are no bigrams at all.
    """
    bigram_types = sum(1 for count in bigram_counts.values() if count > 0)
    if bigram_types == 0:
        return 0.0
    return continuation_count(bigram_counts, word) / bigram_types


def interpolated_kn_probability(bigram_counts: NgramCounts, word: str, context: Sequence[str],
                                discount: float) -> float:
    """Interpolated Kneser-Ney for bigrams (Chen & Goodman 1998, eq. 20; Jurafsky & Martin eq. 3.35):

        p_KN(w | v) = max(c(v, w) - D, 0) / c(v)  +  lambda(v) * p_cont(w)
        lambda(v)   = D * N1+(v .) / c(v)

    ``context`` is ``(v,)``; c(v) = sum_w c(v, w); N1+(v .) = number of distinct words seen after v;
    D = ``discount`` (0 <= D <= 1); p_cont is :func:`continuation_probability`. lambda(v) is exactly the
    mass the discount removed from the words seen after v, so p_KN(. | v) sums to 1. A context never seen
    (c(v) = 0) gives p_cont(w).
    """
    context = tuple(context)
    seen = followers(bigram_counts, context)
    total = sum(seen.values())
    lower = continuation_probability(bigram_counts, word)
    if total == 0:
        return lower
    discounted = max(seen.get(word, 0) - discount, 0.0) / total
    interpolation_weight = discount * len(seen) / total
    return discounted + interpolation_weight * lower


FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback


def count_of_counts(counts: NgramCounts, up_to: int = 4) -> list[int]:
    """[n_0, n_1, ..., n_up_to]: n_r = the number of n-grams seen exactly r times (n_0 = 0)."""
    histogram = Counter(counts.values())
    return [0] + [histogram.get(r, 0) for r in range(1, up_to + 1)]


def good_turing_count(counts: NgramCounts, r: int) -> float:
    """Good-Turing's adjusted count (Good 1953) for the n-grams seen ``r`` times:

        r* = (r + 1) * n_{r+1} / n_r

    where n_r is the number of n-grams in ``counts`` seen exactly r times. An n-gram seen r times is
    expected to occur about r* times in new text of the same size (usually fewer than r), and the mass taken
    from all seen n-grams, n_1 / N, is Good-Turing's probability of an n-gram never seen. Needs n_r > 0.
    """
    n = count_of_counts(counts, up_to=r + 1)
    if n[r] == 0:
        raise ValueError(f"no n-gram was seen exactly {r} times (n_{r} = 0): r* is not defined")
    return (r + 1) * n[r + 1] / n[r]


KATZ_K = 5  # Katz (1987): counts above k are reliable and not discounted (lmcourse.ngram.katz)


def katz_discount(counts: NgramCounts, r: int, k: int = KATZ_K) -> float:
    """Katz's discount d_r for the n-grams of ``counts`` seen ``r`` times (Katz 1987; Jurafsky & Martin):

        d_r = (r*/r - (k+1) n_{k+1} / n_1) / (1 - (k+1) n_{k+1} / n_1)      for 1 <= r <= k
        d_r = 1                                                             for r > k

    with r* = :func:`good_turing_count` and n_r as there. A count r becomes d_r * r. The term
    (k+1) n_{k+1} / n_1 renormalizes: the counts above k keep their value, and the mass the discounted counts
    1..k give up is still n_1 / N, Good-Turing's estimate of the unseen mass. Where the estimate is unusable
    d_r = 1 (no discount), as :func:`lmcourse.ngram.katz.good_turing_discounts` does: when n_1 = 0 or n_r = 0,
    when (k+1) n_{k+1} >= n_1, and when d_r would not be in (0, 1]. Whether 0 < d_r <= 1 is decided in whole
    numbers, so that a d_r of exactly 0 is not taken for a tiny positive one through rounding:

        d_r > 0   <=>  (r+1) n_{r+1} n_1 > r n_r (k+1) n_{k+1}          d_r <= 1  <=>  (r+1) n_{r+1} <= r n_r

    The library's models count one ``<s>`` per sentence (see the module docstring): for unigrams and bigrams
    their counts of counts are those of :func:`count_ngrams`, and so are these discounts.
    """
    if r > k:
        return 1.0
    n = count_of_counts(counts, up_to=k + 1)
    if n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
        return 1.0
    if (r + 1) * n[r + 1] * n[1] <= r * n[r] * (k + 1) * n[k + 1] or (r + 1) * n[r + 1] > r * n[r]:
        return 1.0
    r_star = (r + 1) * n[r + 1] / n[r]
    common = (k + 1) * n[k + 1] / n[1]
    return (r_star / r - common) / (1 - common)


def modified_kn_discounts(counts: NgramCounts) -> tuple[float, float, float]:
    """Modified Kneser-Ney's three discounts (D1, D2, D3+) for one order (Chen & Goodman 1998, eq. 26):

        Y   = n1 / (n1 + 2 n2)
        D_r = r - (r + 1) * Y * n_{r+1} / n_r        for r = 1, 2, 3

    where n_r is the number of n-grams in ``counts`` seen exactly r times. D1 is used for n-grams seen once,
    D2 twice, D3+ three times or more. If one of n1, n2, n3, n4 is 0, or a D_r falls outside [0, r], the
    estimate is unusable: return KenLM's fallback ``(0.5, 1.0, 1.5)``.
    """
    n = count_of_counts(counts, up_to=4)
    if any(n[r] == 0 for r in (1, 2, 3, 4)):
        return FALLBACK_DISCOUNTS
    # D_r <= r always holds; D_r >= 0 exactly when r n_r (n1 + 2 n2) >= (r + 1) n1 n_{r+1}. Decide that in
    # whole numbers, so that a D_r of exactly 0 is not lost to rounding (it may come out as -4e-16).
    if any(r * n[r] * (n[1] + 2 * n[2]) < (r + 1) * n[1] * n[r + 1] for r in (1, 2, 3)):
        return FALLBACK_DISCOUNTS
    y = n[1] / (n[1] + 2 * n[2])
    return tuple(max(r - (r + 1) * y * n[r + 1] / n[r], 0.0) for r in (1, 2, 3))


def kneser_ney_bigram_probability(bigram_counts: NgramCounts, word: str, context: Sequence[str],
                                  bigram_discount: float, unigram_discount: float,
                                  vocabulary_size: int) -> float:
    """Interpolated Kneser-Ney of order 2 exactly as :class:`lmcourse.ngram.KneserNey` (KenLM's form).

    It differs from :func:`interpolated_kn_probability` in one place: the continuation unigrams are
    discounted too (by D_uni = ``unigram_discount``) and interpolated with the uniform distribution over the
    V = ``vocabulary_size`` predictable words (every word, ``<unk>``, ``</s>``; not ``<s>``):

        p(w)     = max(N1+(. w) - D_uni, 0) / N1+(. .)  +  D_uni * |{w: N1+(. w) > 0}| / N1+(. .) * 1 / V
        p(w | v) = max(c(v, w) - D_bi, 0) / c(v)        +  D_bi * N1+(v .) / c(v) * p(w)

    (D_uni and D_bi are one discount per order, not the D1, D2, D3+ per count of modified Kneser-Ney.)
    With D_uni = 0 it is :func:`interpolated_kn_probability` again.
    """
    if word == BOS:
        return 0.0
    bigram_types = sum(1 for count in bigram_counts.values() if count > 0)
    continued = {second for (_, second), count in bigram_counts.items() if count > 0}
    if bigram_types == 0:
        unigram = 1.0 / vocabulary_size
    else:
        unigram = (max(continuation_count(bigram_counts, word) - unigram_discount, 0.0) / bigram_types
                   + unigram_discount * len(continued) / bigram_types / vocabulary_size)
    seen = followers(bigram_counts, context)
    total = sum(seen.values())
    if total == 0:
        return unigram
    return (max(seen.get(word, 0) - bigram_discount, 0.0) / total
            + bigram_discount * len(seen) / total * unigram)
