"""The interface every N-gram model shares, and the backoff form most of them are stored in.

Every model predicts, given a context, a distribution over the *predictable* ids: every word, ``<unk>`` and
``</s>``; ``<s>`` is context only and always has probability 0. A model is used like ``nltk.lm``:

    model = KneserNey(order=3).fit(corpus)              # a Corpus (its train split) or an EncodedSplit
    model.score("cat", ["the"])                         # p(cat | the)
    model.logscore("cat", ["the"])                      # log2 p(cat | the), as in nltk.lm
    model.log_probs(corpus.split("test"))               # natural-log p of every predicted token (vectorized)
    model.perplexity(corpus.split("test"))              # exp(-mean log p), lmcourse.evaluation's convention
    model.distribution(["the"])                         # p(. | the) over all ids, sums to 1
    model.generate(seed=0, temperature=1.0)             # one sampled sentence (a list of words)

The backoff form. Most smoothing methods can be written as one table per order k of
``log p(w | h)`` for the N-grams (h, w) seen in training, plus one *backoff weight* ``log b(h)`` per context:

    p(w | h) = p*(h, w)                  if (h, w) is in the table
             = b(h) * p(w | h')          otherwise, where h' is h without its first word
                                         (and b(h) = 1 when h itself was never seen)

This is the ARPA file format (Katz 1987; SRILM; KenLM). Interpolated models (Jelinek-Mercer, Kneser-Ney)
fit it too: for a seen N-gram store the interpolated probability, and let b(h) be the interpolation weight of
the lower order. :class:`BackoffModel` scores any such table set, a whole split at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmcourse.data.vocabulary import BOS_ID, EOS_ID, UNK_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.lm import LanguageModel
from lmcourse.ngram.counting import (
    NOT_IN_MODEL,
    NgramCounts,
    OrderTable,
    lookup_context,
    lookup_stream,
)


def split_and_vocab(data, vocab: Vocabulary | None):
    """What ``fit`` accepts: a Corpus (its train split + its vocabulary) or an EncodedSplit (+ a vocabulary).

    Returns ``(split, vocab)``.
    """
    if hasattr(data, "split") and hasattr(data, "vocab"):
        return data.split("train"), data.vocab
    if hasattr(data, "tokens") and hasattr(data, "sentence_starts"):
        return data, vocab
    raise TypeError("fit() takes a Corpus or an EncodedSplit (with vocab=...)")


class NgramModel(LanguageModel):
    """Base class of the N-gram models: fitting by counting; scoring and sampling come from
    :class:`lmcourse.lm.LanguageModel`.

    Subclasses implement :meth:`_fit_counts`, :meth:`log_probs` and :meth:`log_distribution`.
    """

    #: short name used by the CLI (``--smoothing``)
    smoothing: str = ""

    def __init__(self, order: int):
        super().__init__()
        if int(order) < 1:
            raise UserError(f"N-gram order must be at least 1 (got {order})")
        self.order = int(order)
        self.vocab_size = 0
        self.counts: NgramCounts | None = None

    def __repr__(self) -> str:
        state = f"V={self.vocab_size}" if self.vocab_size else "not fitted"
        return f"{type(self).__name__}(order={self.order}, {state})"

    # -- fitting -----------------------------------------------------------------------------------------
    def fit(self, data, vocab: Vocabulary | None = None, vocab_size: int | None = None,
            memory: int | None = None) -> NgramModel:
        """Count the N-grams of ``data`` (a Corpus: its train split; or an EncodedSplit) and estimate.

        ``memory``: a budget in bytes for the counting (``lmcourse ngram --memory``); a corpus too large for it
        is counted in chunks merged on disk, with the same result (:mod:`lmcourse.ngram.chunked_counting`).
        """
        split, vocab = split_and_vocab(data, vocab)
        self.level = getattr(data, "level", "word")  # a Corpus knows its level; an EncodedSplit does not
        if vocab is not None:
            vocab_size = len(vocab)
        if vocab_size is None:
            vocab_size = max(int(np.max(split.tokens, initial=EOS_ID)) + 1, EOS_ID + 1)
        self.vocab, self.vocab_size = vocab, int(vocab_size)
        if len(split.tokens) == 0:
            raise UserError("cannot fit an N-gram model on an empty split")
        self.counts = NgramCounts.from_split(split, self.order, self.vocab_size, memory=memory)
        self._fit_counts(self.counts)
        return self

    def _fit_counts(self, counts: NgramCounts) -> None:
        raise NotImplementedError

    def is_fitted(self) -> bool:
        return bool(self.vocab_size)

    # -- ids and contexts --------------------------------------------------------------------------------
    def _context_ids(self, context) -> list[int]:
        """Ids of the context, cut after the last ``<s>`` (a sentence start), then to the last N-1 tokens.

        A context without ``<s>`` is taken to be the middle of a sentence (like nltk.lm); pass
        ``["<s>", ...]`` to condition on a sentence start. Words outside the vocabulary are ``<unk>``.
        On a word corpus a plain string is refused: ``"the cat"`` would otherwise be read as its letters.
        """
        ids = self._sentence_ids(context)
        return ids[max(len(ids) - (self.order - 1), 0):] if self.order > 1 else []

    # -- description -------------------------------------------------------------------------------------
    def ngram_counts(self) -> dict[int, int]:
        """Distinct N-grams per order that the model stores."""
        self._require_fitted()
        return self.counts.ngram_counts() if self.counts is not None else {}

    def describe(self) -> dict:
        """Settings and fitted parameters as a plain dict (for ``--json``)."""
        return {"model": type(self).__name__, "smoothing": self.smoothing, "order": self.order}


@dataclass
class BackoffTables:
    """A model in backoff form (see the module docstring), natural logs, one entry per order k = 1..N.

    ``tables[k]`` gives the keys of the stored k-grams (same key scheme as :mod:`counting`); ``log_prob[k]``
    is log p*(h, w) for each of them and ``log_backoff[k]`` is log b(g) for each k-gram g used as a context
    (k < N). ``unseen_context_log_backoff`` is log b(h) for a context that is not stored (0: b = 1).
    """

    tables: dict[int, OrderTable]
    log_prob: dict[int, np.ndarray]
    log_backoff: dict[int, np.ndarray]
    vocab_size: int
    unseen_context_log_backoff: float = 0.0

    @property
    def order(self) -> int:
        return max(self.tables)


class BackoffModel(NgramModel):
    """A model stored as :class:`BackoffTables`; subclasses build them in :meth:`_estimate`."""

    def __init__(self, order: int):
        super().__init__(order)
        self.backoff: BackoffTables | None = None

    def _fit_counts(self, counts: NgramCounts) -> None:
        self.backoff = self._estimate(counts)

    def _estimate(self, counts: NgramCounts) -> BackoffTables:
        raise NotImplementedError

    def ngram_counts(self) -> dict[int, int]:
        self._require_fitted()
        return {k: len(t) for k, t in self.backoff.tables.items()}

    def log_probs(self, split) -> np.ndarray:
        """Score every predicted token at once: one searchsorted per order, then the backoff recursion

            log p_1 = log p*(w);   log p_k = log p*(h, w) if (h, w) stored else log b(h) + log p_{k-1}
        """
        self._require_fitted()
        tables = self.backoff
        lookup = lookup_stream(tables.tables, tables.vocab_size, split.tokens, split.sentence_starts)
        ids = lookup.ngram[1]
        known = (ids >= 0) & (ids < tables.vocab_size)
        log_p = np.full(len(ids), -np.inf)
        log_p[known] = tables.log_prob[1][ids[known]]
        if not known.all():  # ids beyond an ARPA model's vocabulary are scored as <unk>
            log_p[~known] = tables.log_prob[1][UNK_ID]
        for k in range(2, tables.order + 1):
            ngram, context = lookup.ngram[k], lookup.context[k]
            backoff = np.zeros(len(ids))
            stored_context = context >= 0
            backoff[stored_context] = tables.log_backoff[k - 1][context[stored_context]]
            backoff[context == NOT_IN_MODEL] = tables.unseen_context_log_backoff
            with np.errstate(invalid="ignore"):
                log_p = log_p + backoff
            seen = ngram >= 0
            log_p[seen] = tables.log_prob[k][ngram[seen]]
        return log_p

    def log_distribution(self, context=None) -> np.ndarray:
        """log p(. | context) for all ids: start from the unigrams, then for each longer stored context
        add its backoff weight and overwrite the words seen after it (one contiguous run of keys)."""
        self._require_fitted()
        tables = self.backoff
        V = tables.vocab_size
        log_p = tables.log_prob[1].astype(np.float64).copy()
        context_ids = self._context_ids(context)
        rows = lookup_context(tables.tables, V, context_ids)
        for k in range(2, tables.order + 1):
            if k not in rows:
                break
            row = rows[k]
            if row == NOT_IN_MODEL:
                log_p = log_p + tables.unseen_context_log_backoff
                continue
            with np.errstate(invalid="ignore"):
                log_p = log_p + tables.log_backoff[k - 1][row]
            keys = tables.tables[k].keys
            lo, hi = np.searchsorted(keys, [row * V, (row + 1) * V])
            log_p[keys[lo:hi] - row * V] = tables.log_prob[k][lo:hi]
        log_p[BOS_ID] = -np.inf
        return log_p


def lower_order_probs(table: OrderTable, lower_prob: np.ndarray | None) -> np.ndarray:
    """p(w | h') for every N-gram (h, w) of ``table``, h' being h without its first word: the probability
    the order below gives the N-gram's suffix (``lower_prob`` is indexed by the rows of that order), and for
    the unigrams the uniform distribution 1 / (V - 1) over the predictable ids."""
    if table.order == 1:
        return np.full(len(table), unigram_uniform(table.vocab_size))
    return lower_prob[table.suffix]


def backoff_weights(contexts: np.ndarray, left: np.ndarray, seen_lower: np.ndarray,
                    num_contexts: int) -> tuple[np.ndarray, np.ndarray]:
    """The weight b(h) that makes each context's backoff distribution sum to 1 (Katz 1987):

        b(h) = (1 - sum_{w seen after h} p*(w | h)) / (1 - sum_{w seen after h} p(w | h'))
             =            left(h)                   /               room(h)

    ``contexts`` is the context row of every stored N-gram (h, w), ``seen_lower`` its p(w | h') (0 for an
    N-gram that is stored but not seen), and ``left`` the mass 1 - sum p*(w | h) each of the ``num_contexts``
    contexts leaves for unseen words. The special case: if every predictable word was seen after h then
    room(h) = 0 and there is nothing to back off to; b(h) is then 0, and the caller decides where ``left``
    goes (Katz and backoff KN spread it over the seen words in proportion to p(w | h')).

    Returns ``(b, every_word_seen)``, one entry per context.
    """
    room = 1.0 - np.bincount(contexts, weights=seen_lower, minlength=num_contexts)
    every_word_seen = room <= 1e-12
    weight = np.maximum(left, 0.0) / np.where(every_word_seen, 1.0, room)
    return np.where(every_word_seen, 0.0, weight), every_word_seen


def safe_log(x: np.ndarray) -> np.ndarray:
    """Natural log with log(0) = -inf and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=np.float64))


def unigram_uniform(vocab_size: int) -> float:
    """1 / (number of predictable ids): every id but ``<s>`` (KenLM: "includes <unk> but excludes <s>")."""
    return 1.0 / (vocab_size - 1)

