"""Counting every N-gram of orders 1..N at once, with integer keys and numpy.

Padding. Each sentence ``w1 .. wn`` is read as ``<s> w1 .. wn </s>``: one ``<s>`` in front (context only, never
predicted) and the ``</s>`` that the encoded stream already carries. The N-grams of order k are all windows of
k tokens of that padded sentence that do not start before the ``<s>`` and do not end on it. So the first word
of a sentence is counted in the bigram ``<s> w1`` and the trigram window simply does not exist there: near the
start of a sentence the longest context is shorter than N-1 (this is KenLM's convention too).

Keys. An order-k N-gram is stored as one int64 key

    key = (index of its (k-1)-gram context in the sorted table of order k-1) * V + word

where V = len(vocab). The unigram table is dense: the "index" of a word is its id. Because a context index is
smaller than the number of distinct contexts (at most the corpus length), a key always fits in int64, at any
order. Each order's table is the sorted array of distinct keys (``np.unique``), so

    * the N-grams that share a context h are one contiguous run of keys, [h * V, (h+1) * V);
    * looking an N-gram up is one ``np.searchsorted`` per order for a whole split at once.

Besides the raw counts c(g), each table keeps, for an N-gram g = (v, ..., w) of order k:

    context(g) = keys // V   the index of (v, ..., ) in order k-1       ("what came before w")
    word(g)    = keys %  V   the predicted word w
    suffix(g)               the index of its suffix (..., w) in order k-1  (g minus its first word)

From ``suffix`` come the *continuation counts* of Kneser-Ney: the number of distinct words seen to the left of
an N-gram, N1+(. g) = number of (k+1)-grams whose suffix is g (Kneser & Ney 1995; Chen & Goodman 1998, sec. 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmcourse.data.vocabulary import BOS_ID

# Positions in a lookup that have no N-gram of that order:
SENTENCE_TOO_SHORT = -1  # the sentence start is nearer than k-1 tokens: this context length does not exist
NOT_IN_MODEL = -2  # the context (or N-gram) exists in the text but was never seen in training


@dataclass
class OrderTable:
    """All distinct N-grams of one order k, sorted by key, with their raw counts."""

    order: int
    keys: np.ndarray  # int64, sorted, distinct; key = context_index * V + word (order 1: key = word id)
    counts: np.ndarray  # int64, raw counts c(g) (order 1: dense over the vocabulary, c(<s>) = 0)
    suffix: np.ndarray  # int64, index of the suffix (k-1)-gram in order k-1 (order 1: -1)
    starts_with_bos: np.ndarray  # bool, whether the N-gram's first token is <s>
    vocab_size: int

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def contexts(self) -> np.ndarray:
        """Index of each N-gram's context (its first k-1 tokens) in the table of order k-1."""
        if self.order == 1:
            return np.zeros(len(self.keys), dtype=np.int64)
        return self.keys // self.vocab_size

    @property
    def words(self) -> np.ndarray:
        """The last (predicted) word of each N-gram."""
        return self.keys % self.vocab_size


@dataclass
class SplitLookup:
    """For every predicted token of a split, which N-gram (and which context) of each order it uses.

    ``ngram[k][i]`` is the row of the order-k table holding the k-gram that ends at token i, and
    ``context[k][i]`` the row of the order-(k-1) table holding its context (the k-1 tokens before token i);
    both are SENTENCE_TOO_SHORT (-1) where the sentence start is too near, NOT_IN_MODEL (-2) where the text
    has it but training did not. ``context[1]`` is all zeros (the empty context) and ``ngram[1]`` the ids.
    """

    tokens: np.ndarray
    ngram: dict[int, np.ndarray]
    context: dict[int, np.ndarray]


def padded_stream(tokens: np.ndarray, sentence_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insert ``<s>`` before every sentence of a flat ``</s>``-terminated stream.

    Returns ``(padded, depth, is_predicted)``: the padded ids (int64), each position's distance from its
    sentence's ``<s>`` (0 on the ``<s>`` itself), and the mask of the original (predicted) positions.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    starts = np.asarray(sentence_starts, dtype=np.int64)
    num_sentences = len(starts) - 1
    lengths = np.diff(starts) + 1  # each sentence plus its <s>
    bos_positions = starts[:-1] + np.arange(num_sentences)
    padded = np.empty(len(tokens) + num_sentences, dtype=np.int64)
    is_predicted = np.ones(len(padded), dtype=bool)
    is_predicted[bos_positions] = False
    padded[bos_positions] = BOS_ID
    padded[is_predicted] = tokens
    depth = np.arange(len(padded), dtype=np.int64) - np.repeat(bos_positions, lengths)
    return padded, depth, is_predicted


def unigram_table(tokens: np.ndarray, vocab_size: int) -> OrderTable:
    """Order 1 is dense: row = word id, c(w) = how often w is predicted (c(<s>) = 0)."""
    counts = np.bincount(np.asarray(tokens, dtype=np.int64), minlength=vocab_size).astype(np.int64)
    return OrderTable(1, np.arange(vocab_size, dtype=np.int64), counts, np.full(vocab_size, -1, dtype=np.int64),
                      np.arange(vocab_size) == BOS_ID, vocab_size)


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Positions where a new key begins in a sorted array (its distinct keys are ``sorted_keys[starts]``)."""
    first = np.ones(len(sorted_keys), dtype=bool)
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    return np.flatnonzero(first)


def sort_with_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(keys[order], order)`` for an ``order`` that sorts non-negative int64 keys.

    Where a key and its position fit in 63 bits together, both go into one int64, key above position,
    ``packed = key * 2**b + position``, and one ``np.sort`` of those sorts the keys and carries their
    positions along: cheaper than ``np.argsort`` and the gather ``keys[order]`` after it.
    """
    position_bits = max((len(keys) - 1).bit_length(), 1)
    if len(keys) and int(keys.max()).bit_length() + position_bits <= 63:
        packed = np.left_shift(keys, position_bits)
        packed |= np.arange(len(keys), dtype=np.int64)
        packed.sort()
        return packed >> position_bits, packed & ((1 << position_bits) - 1)
    order = np.argsort(keys)  # keys too wide to carry their positions
    return keys[order], order


def sorted_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True, return_counts=True)``, built from one sort.

    distinct = the sorted distinct keys; inverse[i] = row of keys[i] in distinct; counts = run lengths.
    (numpy's own ``unique`` does more work for the inverse; this is several times faster on large streams.)
    """
    ordered, order = sort_with_order(keys)
    starts = run_starts(ordered)
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = rows_of_sorted(starts, len(keys))
    return ordered[starts], inverse, np.diff(np.append(starts, len(keys)))


def rows_of_sorted(starts: np.ndarray, length: int) -> np.ndarray:
    """For each position of a sorted array whose runs of equal keys begin at ``starts``: its run's number."""
    group = np.zeros(length, dtype=np.int64)
    group[starts[1:]] = 1
    return np.cumsum(group, out=group)


def ngram_keys(padded: np.ndarray, depth: np.ndarray, previous_rows: np.ndarray, k: int,
               V: int) -> tuple[np.ndarray, np.ndarray]:
    """The key (context row * V + word) of every k-gram of a padded stream, and the position it ends at.
    ``previous_rows[p]`` is the row, in the table of order k-1, of the (k-1)-gram ending at position p."""
    ends = np.flatnonzero(depth >= k - 1)  # positions where a k-gram ends
    return np.multiply(previous_rows[ends - 1], V, dtype=np.int64) + padded[ends], ends


def in_memory_bytes(num_tokens: int, num_sentences: int) -> int:
    """About what :meth:`NgramCounts.from_stream` needs at once to count all in memory (measured on brown
    and synthetic text: about 100 bytes per token, the tables included)."""
    return 100 * (int(num_tokens) + int(num_sentences))


class NgramCounts:
    """The counts of every N-gram of orders 1..N in a training split (see the module docstring).

    >>> counts = NgramCounts.from_split(corpus.split("train"), order=3, vocab_size=len(corpus.vocab))
    >>> counts.tables[2].counts          # raw bigram counts, aligned with counts.tables[2].keys
    """

    def __init__(self, tables: dict[int, OrderTable], vocab_size: int, num_sentences: int,
                 counted_in_chunks: bool = False):
        self.tables = tables
        self.counted_in_chunks = counted_in_chunks  # whether the memory budget made from_stream use chunks
        self.order = max(tables)
        self.vocab_size = vocab_size
        self.num_sentences = num_sentences

    # -- counting ----------------------------------------------------------------------------------------
    @classmethod
    def from_split(cls, split, order: int, vocab_size: int, memory: int | None = None) -> NgramCounts:
        """Count all N-grams of orders 1..``order`` of an EncodedSplit (any object with ``tokens`` and
        ``sentence_starts``); ``memory`` as in :meth:`from_stream`."""
        return cls.from_stream(split.tokens, split.sentence_starts, order, vocab_size, memory=memory)

    @classmethod
    def from_stream(cls, tokens: np.ndarray, sentence_starts: np.ndarray, order: int, vocab_size: int,
                    memory: int | None = None) -> NgramCounts:
        """Count every N-gram of orders 1..``order`` of a flat stream (see the module docstring).

        ``memory`` (bytes) bounds the working memory of the counting: a stream whose counting would need more
        is counted in chunks, as sorted runs merged on disk (:mod:`lmcourse.ngram.chunked_counting`, the same
        tables to the last bit). ``None``: all at once, in memory (the code below).
        """
        if order < 1:
            raise ValueError("the order of an N-gram model must be at least 1")
        if memory is not None and in_memory_bytes(len(tokens), len(sentence_starts)) > memory:
            from lmcourse.ngram.chunked_counting import count_in_chunks

            tables = count_in_chunks(tokens, sentence_starts, order, vocab_size, memory)
            return cls(tables, int(vocab_size), len(sentence_starts) - 1, counted_in_chunks=True)
        padded, depth, is_predicted = padded_stream(tokens, sentence_starts)
        V = int(vocab_size)
        tables = {1: unigram_table(tokens, V)}
        # index_at[p]: row, in the current order's table, of the N-gram ending at padded position p
        index_at = padded
        for k in range(2, order + 1):
            keys_at, ends = ngram_keys(padded, depth, index_at, k, V)
            ordered, by_key = sort_with_order(keys_at)     # keys_at[by_key] = ordered
            starts = run_starts(ordered)                   # where each distinct key's run begins
            keys, counts = ordered[starts], np.diff(np.append(starts, len(ordered)))
            suffix = index_at[ends[by_key[starts]]]        # the (k-1)-gram ending where the k-gram ends
            tables[k] = OrderTable(k, keys, counts, suffix, tables[k - 1].starts_with_bos[keys // V], V)
            index_at = np.full(len(padded), SENTENCE_TOO_SHORT, dtype=np.int64)
            index_at[ends[by_key]] = rows_of_sorted(starts, len(ordered))
        return cls(tables, V, len(sentence_starts) - 1)

    # -- statistics --------------------------------------------------------------------------------------
    def ngram_counts(self) -> dict[int, int]:
        """Number of distinct N-grams per order (order 1: the whole vocabulary, as in an ARPA file)."""
        return {k: len(table) for k, table in self.tables.items()}

    def context_totals(self, k: int, counts: np.ndarray | None = None) -> np.ndarray:
        """sum_w c(h, w) for every context h of order k (rows of order k-1); ``counts`` defaults to raw."""
        table = self.tables[k]
        counts = table.counts if counts is None else counts
        if k == 1:
            return np.array([counts.sum()], dtype=np.float64)
        return np.bincount(table.contexts, weights=counts, minlength=len(self.tables[k - 1])).astype(np.float64)

    def continuation_counts(self, k: int) -> np.ndarray:
        """N1+(. g) for every k-gram g: the number of distinct (k+1)-grams whose suffix is g (k < N)."""
        higher = self.tables[k + 1]
        return np.bincount(higher.suffix, minlength=len(self.tables[k])).astype(np.int64)

    def kneser_ney_counts(self) -> dict[int, np.ndarray]:
        """KenLM's adjusted counts a(g) (Chen & Goodman 1998; Heafield et al. 2013, sec. 3.2):

            order N:                        a(g) = c(g)                      (raw count)
            order k < N, g starts with <s>: a(g) = c(g)                      (nothing can precede <s>)
            order k < N, otherwise:         a(g) = N1+(. g)                  (continuation count)
            the unigram <s>:                a(<s>) = 0                       (never predicted)
        """
        adjusted = {self.order: self.tables[self.order].counts.copy()}
        for k in range(1, self.order):
            table = self.tables[k]
            adjusted[k] = np.where(table.starts_with_bos, table.counts, self.continuation_counts(k))
        adjusted[1] = adjusted[1].copy()
        adjusted[1][BOS_ID] = 0
        return adjusted

    @staticmethod
    def count_of_counts(counts: np.ndarray, up_to: int = 4) -> np.ndarray:
        """n_r = number of N-grams with count exactly r, for r = 0..up_to."""
        counts = np.asarray(counts)
        return np.bincount(np.minimum(counts, up_to + 1), minlength=up_to + 2)[: up_to + 1].astype(np.int64)

    # -- looking up a split ------------------------------------------------------------------------------
    def lookup(self, tokens: np.ndarray, sentence_starts: np.ndarray) -> SplitLookup:
        """Find, for every predicted token, its N-gram and context of each order (see SplitLookup)."""
        return lookup_stream(self.tables, self.vocab_size, tokens, sentence_starts)


def lookup_stream(tables: dict[int, OrderTable], vocab_size: int, tokens: np.ndarray,
                  sentence_starts: np.ndarray) -> SplitLookup:
    """Vectorized lookup of every position's N-grams in sorted key tables (one searchsorted per order)."""
    padded, depth, is_predicted = padded_stream(tokens, sentence_starts)
    V = int(vocab_size)
    order = max(tables)
    ids = padded[is_predicted]
    ngram = {1: ids.copy()}
    context = {1: np.zeros(len(ids), dtype=np.int64)}
    index_at = padded.copy()
    index_at[padded >= V] = NOT_IN_MODEL  # ids the model does not know (an ARPA model's smaller vocabulary)
    for k in range(2, order + 1):
        previous = np.full(len(padded), SENTENCE_TOO_SHORT, dtype=np.int64)
        previous[1:] = np.where(depth[1:] >= k - 1, index_at[:-1], SENTENCE_TOO_SHORT)
        found_context = previous >= 0
        keys = tables[k].keys
        current = np.where(previous == NOT_IN_MODEL, NOT_IN_MODEL, SENTENCE_TOO_SHORT).astype(np.int64)
        query = previous[found_context] * V + padded[found_context]
        rows = np.searchsorted(keys, query)
        rows_clipped = np.minimum(rows, max(len(keys) - 1, 0))
        hit = (rows < len(keys)) & (keys[rows_clipped] == query) if len(keys) else np.zeros(len(query), bool)
        current[found_context] = np.where(hit, rows_clipped, NOT_IN_MODEL)
        ngram[k] = current[is_predicted]
        context[k] = previous[is_predicted]
        index_at = current
    return SplitLookup(tokens=np.asarray(tokens, dtype=np.int64), ngram=ngram, context=context)


def lookup_context(tables: dict[int, OrderTable], vocab_size: int, context_ids) -> dict[int, int]:
    """For a context (ids, oldest first, possibly starting with <s>), the row of its last k-1 tokens in the
    table of order k-1, for each order k >= 2 it is long enough for: {k: row or NOT_IN_MODEL}."""
    V = int(vocab_size)
    context_ids = [int(i) for i in context_ids]
    result: dict[int, int] = {}
    for k in range(2, max(tables) + 1):
        if len(context_ids) < k - 1:
            break
        suffix = context_ids[len(context_ids) - (k - 1):]
        row = suffix[0] if 0 <= suffix[0] < V else NOT_IN_MODEL
        for j, word in enumerate(suffix[1:], start=2):
            if row < 0 or not 0 <= word < V:
                row = NOT_IN_MODEL
                break
            keys = tables[j].keys
            key = row * V + word
            position = int(np.searchsorted(keys, key))
            row = position if position < len(keys) and keys[position] == key else NOT_IN_MODEL
        result[k] = row
    return result
