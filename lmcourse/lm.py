"""The one interface every language model of the course has, counted or neural.

A model predicts, given a context, a distribution over the *predictable* ids: every word, ``<unk>`` and
``</s>`` (``<s>`` is context only and has probability 0). Every model is used the same way::

    model.fit(corpus)                           # learn from the train split; returns the model
    model.log_probs(split)                      # natural-log p of every predicted token of split.tokens
    model.sentence_log_probs(split)             # log p(sentence) of each sentence, each read from <s>
    model.evaluate(split)                       # perplexity, bits per token (lmcourse.evaluation)
    model.perplexity(split)                     # exp(-mean log p)
    model.score("cat", ["the"])                 # p(cat | the)
    model.logscore("cat", ["the"])              # log2 p(cat | the), as in nltk.lm
    model.distribution(["the"])                 # p(. | the) over all ids; sums to 1
    model.generate(seed=0, temperature=0.8)     # one sampled sentence (a list of words)
    model.describe()                            # settings and sizes, for the CLI and the comparison

A subclass writes ``fit``, ``log_probs`` and ``log_distribution``; everything else is written once here
(the design of ``nltk.lm``, whose models implement one scoring method and inherit the rest). The command
line and ``lmcourse compare`` call every model through these methods only.
"""

from __future__ import annotations

import math

import numpy as np

from lmcourse.data.vocabulary import BOS_ID, EOS_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.evaluation import evaluate_log_probs


class LanguageModel:
    """Base class: scoring by word, by split, perplexity and sampling on top of two methods.

    ``log_probs(split)`` scores a whole split at once (fast); ``log_distribution(context)`` gives the next-
    token distribution after one context (used by ``score``, ``distribution`` and ``generate``).
    """

    #: False for scores that are not probabilities (stupid backoff): no perplexity then.
    normalized: bool = True

    def __init__(self) -> None:
        self.vocab: Vocabulary | None = None
        #: "word" or "char": the corpus's level, stored by ``fit``; char models also report bits per character
        self.level = "word"

    # -- what a subclass writes --------------------------------------------------------------------------
    def fit(self, corpus) -> LanguageModel:
        raise NotImplementedError

    def log_probs(self, split) -> np.ndarray:
        """Natural-log probability of every predicted token of ``split`` (aligned with ``split.tokens``)."""
        raise NotImplementedError

    def log_distribution(self, context=None) -> np.ndarray:
        """Natural-log p(w | context) for every id w (``-inf`` for ``<s>``)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Settings and fitted sizes as a plain dict (for ``--json`` and the comparison table)."""
        return {"model": type(self).__name__}

    def extra_figures(self, split) -> dict:
        """The figures besides perplexity this model is judged by on ``split`` (none for a language model; a
        masked LM's masked-token accuracy and pseudo-perplexity)."""
        return {}

    # -- written once ------------------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not self.is_fitted():
            raise UserError(f"{type(self).__name__} is not fitted yet: call fit(corpus) first")

    def is_fitted(self) -> bool:
        raise NotImplementedError

    def _id(self, word) -> int:
        """The id of a word (a string, or already an id); a word outside the vocabulary is ``<unk>``."""
        if isinstance(word, (int, np.integer)):
            return int(word)
        if self.vocab is None:
            raise UserError("this model has no vocabulary: score with ids, or fit with vocab=...")
        return self.vocab.lookup(word)

    def _check_context(self, context) -> None:
        """On a word corpus a plain string is refused: ``"the cat"`` would otherwise be read as its letters."""
        if isinstance(context, str) and self.level != "char":
            raise UserError(f"the context must be a list of words, not the string {context!r}: "
                            f"write {context.split()!r}")

    def _sentence_ids(self, context) -> list[int]:
        """Ids of ``context`` from its last ``<s>`` on (that ``<s>`` included), or all of it where it has none:
        what came before a sentence start does not condition the next word."""
        self._check_context(context)
        ids = [self._id(w) for w in (context or [])]
        if BOS_ID in ids:
            ids = ids[len(ids) - 1 - ids[::-1].index(BOS_ID):]
        return ids

    def distribution(self, context=None) -> np.ndarray:
        """p(w | context) for every id w; sums to 1 over the predictable ids (``<s>`` has 0)."""
        with np.errstate(under="ignore"):
            return np.exp(self.log_distribution(context))

    def score(self, word, context=None) -> float:
        """p(word | context); ``word`` and ``context`` as strings or ids (out-of-vocabulary words: ``<unk>``)."""
        return float(np.exp(self.log_distribution(context)[self._id(word)]))

    def logscore(self, word, context=None) -> float:
        """log2 p(word | context), as ``nltk.lm``'s ``logscore`` (``-inf`` for probability 0)."""
        return float(self.log_distribution(context)[self._id(word)] / math.log(2))

    def sentence_log_probs(self, split) -> np.ndarray:
        """Natural-log p(sentence) of every sentence of ``split``, each scored on its own from ``<s>``:
        log p(w_1 ... w_n </s>) = sum_i log p(w_i | <s> w_1 ... w_{i-1}), ``</s>`` included.

        Here the sentences of ``log_probs(split)`` summed (an N-gram model restarts at every ``<s>``); a model
        that carries context across sentences (a neural stream) overrides it to start each sentence afresh.
        """
        return self._sum_by_sentence(self.log_probs(split), split)

    @staticmethod
    def _sum_by_sentence(log_p: np.ndarray, split) -> np.ndarray:
        if split.num_sentences == 0:
            return np.zeros(0)
        return np.add.reduceat(np.asarray(log_p, dtype=np.float64), split.sentence_starts[:-1])  # each has </s>

    def evaluate(self, split, log_probs: np.ndarray | None = None) -> dict:
        """The course's figures for a split: ``evaluate_log_probs(self.log_probs(split), level=self.level)``
        (a model fitted on a character corpus also reports ``bits_per_character``). ``log_probs``: this
        split's ``log_probs(split)``, when the caller has computed them already (not scored twice)."""
        if not self.normalized:
            raise UserError(f"{type(self).__name__} gives scores, not probabilities: it has no perplexity")
        with np.errstate(divide="ignore"):
            return evaluate_log_probs(self.log_probs(split) if log_probs is None else log_probs, level=self.level)

    def perplexity(self, split) -> float:
        """exp(-mean natural-log p) over the predicted tokens of ``split`` (``inf`` if one has p = 0)."""
        return float(self.evaluate(split)["perplexity"])

    def generate(self, max_words: int = 50, seed: int | None = None, temperature: float = 1.0,
                 context=None, rng: np.random.Generator | None = None, top_k: int | None = None,
                 top_p: float | None = None) -> list[str] | list[int]:
        """Sample one sentence word by word until ``</s>`` (or ``max_words``); words without the ``</s>``.

        At temperature T each step samples from p(w | h)^(1/T), renormalized (T < 1 sharper, T > 1 flatter),
        then keeps only the ``top_k`` most probable words and / or the nucleus of mass ``top_p``
        (:func:`filter_top_k_top_p`). Returns strings if the model has a vocabulary, else ids. ``seed``
        makes it reproducible.
        """
        self._require_fitted()
        check_temperature(temperature)
        rng = rng if rng is not None else np.random.default_rng(seed)
        history = [BOS_ID] + [self._id(w) for w in (context or [])]
        sentence: list[int] = []
        for _ in range(max_words):
            word = sample_from_log_probs(self.log_distribution(history), temperature, rng, top_k, top_p)
            if word is None or word == EOS_ID:
                break
            sentence.append(word)
            history.append(word)
        return self.vocab.decode(sentence) if self.vocab is not None else sentence

    def sample_sentences(self, n: int = 5, seed: int | None = 0, temperature: float = 1.0,
                         max_words: int = 50, top_k: int | None = None, top_p: float | None = None,
                         context=None) -> list[str]:
        """``n`` sampled sentences as space-joined strings (one random stream, so ``seed`` fixes them all)."""
        rng = np.random.default_rng(seed)
        return [" ".join(map(str, self.generate(max_words=max_words, temperature=temperature, rng=rng,
                                                top_k=top_k, top_p=top_p, context=context)))
                for _ in range(n)]


def filter_top_k_top_p(log_p: np.ndarray, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """log p with every id outside the top-k and the nucleus set to -inf, renormalized (a new array).

    top-k (Fan et al. 2018) keeps the k most probable ids; top-p, the nucleus (Holtzman et al. 2020), keeps
    the smallest set of most probable ids whose probabilities sum to at least p (the id that crosses p is
    kept). Both together: top-k first, then the nucleus of what is left. Ties at the k-th value are broken
    by id (the lower id is kept), so the result is deterministic. ``None`` turns a filter off.
    """
    log_p = np.array(log_p, dtype=np.float64)
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and top_k >= 1):
        raise UserError(f"top-k must be an integer >= 1 (got {top_k!r})")
    if top_p is not None and not (0 < top_p <= 1):
        raise UserError(f"top-p must be in (0, 1] (got {top_p!r})")
    order = np.argsort(-log_p, kind="stable")               # most probable first; equal values by id
    keep = np.zeros(len(log_p), dtype=bool)
    kept = order[: top_k] if top_k is not None else order
    kept = kept[np.isfinite(log_p[kept])]
    if top_p is not None and len(kept):
        probs = np.exp(log_p[kept] - np.logaddexp.reduce(log_p[kept]))
        before = np.cumsum(probs) - probs                  # mass of the ids more probable than each one
        kept = kept[before < top_p]
    keep[kept] = True
    log_p[~keep] = -np.inf
    if keep.any():
        log_p[keep] -= np.logaddexp.reduce(log_p[keep])
    return log_p


def sample_from_log_probs(log_p: np.ndarray, temperature: float, rng: np.random.Generator,
                          top_k: int | None = None, top_p: float | None = None) -> int | None:
    """Draw one id from p^(1/T), renormalized, after the top-k / top-p filters (:func:`filter_top_k_top_p`);
    ``<s>`` is never drawn. None when no id has p > 0."""
    log_p = np.array(log_p, dtype=np.float64) / temperature
    log_p[BOS_ID] = -np.inf
    if top_k is not None or top_p is not None:
        log_p = filter_top_k_top_p(log_p, top_k, top_p)
    finite = np.isfinite(log_p)
    if not finite.any():
        return None
    weights = np.zeros_like(log_p)
    weights[finite] = np.exp(log_p[finite] - log_p[finite].max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def check_temperature(temperature: float) -> None:
    """Refuse a sampling temperature that is not a finite number > 0 (NaN and inf give no distribution)."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise UserError(f"temperature must be a finite number > 0 (got {temperature}): 1 samples the model "
                        "as it is, lower is sharper, higher is flatter")
