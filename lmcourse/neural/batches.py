"""From an encoded split to the batches a neural language model reads.

Training: truncated backpropagation through time (Williams & Peng 1990; the released PTB setup of Mikolov
et al. 2010, PyTorch's ``word_language_model``). The split's stream, started with ``<s>`` (sentence ends
are the ``</s>`` tokens inside it), is cut into ``batch`` contiguous columns of L = len // batch tokens (the
remainder is dropped) and read in windows of ``bptt`` steps::

    stream   = <s> w1 w2 </s> w3 ...                      (len N + 1)
    columns  = stream[:batch * L].reshape(batch, L)       column b = stream[b*L : (b+1)*L]
    window t = inputs columns[:, t : t+bptt],  targets columns[:, t+1 : t+1+bptt]   (t = 0, bptt, 2*bptt, ...)

A window needs one target at least, so the last one may be shorter. The hidden state is carried from one
window to the next (detached: gradients stop at the window's edge). This is ``batchify_stream`` of
:mod:`lmcourse.neural.by_hand`, which the tests compare with it.

Evaluation must score **every** predicted token exactly once (PyTorch's example drops the tail that does not
fill a column: we do not). The inputs are ``<s>`` followed by every token but the last, the targets are
the tokens themselves; both are cut into ``batch`` columns of ceil(N / batch) and the end is padded, with a
mask that drops the padding. Each column starts from a fresh state; with a few columns over a long split
that loses very little context.

A sentence on its own (``per_sentence`` scoring, which the minimal-pair evaluation needs, and sampling)
starts from a fresh state with the input ``</s>``, not ``<s>``: in the stream every sentence but the first
follows a ``</s>``, so that is the token a recurrent model learns as "a sentence starts here" (``<s>`` is
read once per epoch). Gulordava et al. (2018) start their sentences with ``<eos>`` for the same reason.
Measured on ``synthetic`` (a 1-layer LSTM, 300 steps): test perplexity 46.9 as one stream, 46.8 sentence by
sentence from ``</s>``, 78.5 from ``<s>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lmcourse.data.vocabulary import BOS_ID, EOS_ID

#: the input before the first word of a sentence read on its own (see the module docstring)
SENTENCE_START_INPUT = EOS_ID


def training_stream(tokens: np.ndarray) -> np.ndarray:
    """``<s>`` followed by the split's tokens: the one stream training reads."""
    return np.concatenate([[BOS_ID], np.asarray(tokens, dtype=np.int64)])


def stream_columns(stream: np.ndarray, batch: int) -> np.ndarray:
    """(batch, L) with L = len(stream) // batch: row b is the contiguous piece stream[b*L:(b+1)*L]."""
    length = len(stream) // batch
    return np.asarray(stream[: batch * length], dtype=np.int64).reshape(batch, length)


def window_starts(length: int, bptt: int) -> list[int]:
    """Start of every window over columns of ``length`` tokens (each window has one target at least)."""
    return list(range(0, length - 1, bptt))


def window(columns: np.ndarray, start: int, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs columns[:, t:t+bptt] and targets columns[:, t+1:t+1+bptt] (both (batch, <= bptt))."""
    size = min(bptt, columns.shape[1] - 1 - start)
    return columns[:, start:start + size], columns[:, start + 1:start + 1 + size]


@dataclass
class EvaluationColumns:
    """Every predicted token of a split, once, in (batch, L) columns; ``valid`` marks the real ones."""

    inputs: np.ndarray   # (batch, L): <s>, then every token but the last
    targets: np.ndarray  # (batch, L): the split's tokens
    valid: np.ndarray    # (batch, L) bool: False for the padding at the end
    count: int           # N, the split's predicted tokens

    def scatter(self, log_probs: np.ndarray) -> np.ndarray:
        """(batch, L) scores back to stream order: one entry per predicted token (length N)."""
        return log_probs.reshape(-1)[: self.count]


def evaluation_columns(tokens: np.ndarray, batch: int) -> EvaluationColumns:
    """Cut the whole split into ``batch`` columns of ceil(N / batch); fewer columns if the split is short."""
    tokens = np.asarray(tokens, dtype=np.int64)
    count = len(tokens)
    batch = max(1, min(batch, count))
    length = -(-count // batch)
    padded = batch * length
    inputs = np.full(padded, EOS_ID, dtype=np.int64)
    targets = np.full(padded, EOS_ID, dtype=np.int64)
    inputs[0], inputs[1:count] = BOS_ID, tokens[:-1]
    targets[:count] = tokens
    valid = np.arange(padded) < count
    shape = (batch, length)
    return EvaluationColumns(inputs.reshape(shape), targets.reshape(shape), valid.reshape(shape), count)


def sentence_batches(tokens: np.ndarray, sentence_starts: np.ndarray,
                     batch: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Sentences scored each from a fresh state and ``SENTENCE_START_INPUT``.

    Yields (inputs, targets, valid, positions), all (b, T_max).

    Sentences are grouped by length (little padding); ``positions`` are the targets' indices in ``tokens``
    (-1 for padding), so the caller puts every score back in stream order.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    starts, ends = sentence_starts[:-1], sentence_starts[1:]
    order = np.argsort(ends - starts, kind="stable")
    for first in range(0, len(order), batch):
        chosen = order[first:first + batch]
        longest = int((ends[chosen] - starts[chosen]).max())
        positions = np.full((len(chosen), longest), -1, dtype=np.int64)
        for row, sentence in enumerate(chosen):
            positions[row, : ends[sentence] - starts[sentence]] = np.arange(starts[sentence], ends[sentence])
        valid = positions >= 0
        targets = np.where(valid, tokens[np.maximum(positions, 0)], EOS_ID)
        inputs = np.full_like(targets, EOS_ID)
        inputs[:, 0] = SENTENCE_START_INPUT
        inputs[:, 1:] = targets[:, :-1]
        yield inputs, targets, valid, positions
