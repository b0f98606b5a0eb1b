"""An encoded corpus: one flat stream of token ids per split, the form every model reads.

For the sentences ``["the", "cat"]`` and ``["a", "dog", "ran"]`` a split's stream is::

    tokens          = [the, cat, </s>, a, dog, ran, </s>]      (ids, int32)
    sentence_starts = [0, 3, 7]                                 (sentence i = tokens[starts[i]:starts[i+1]])

Every position of ``tokens`` is a *predicted token*: each word and one ``</s>`` per sentence. ``<s>`` never
appears in the stream: it is context only, added by the models that need it (an N-gram model pads each
sentence with ``<s>``; a neural model starts from it). This is the evaluation convention of
:mod:`lmcourse.evaluation`: every model gives one log-probability per position of ``tokens``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from lmcourse.data.vocabulary import BOS, BOS_ID, EOS, EOS_ID, UNK_ID, Vocabulary
from lmcourse.errors import UserError

SPLITS = ("train", "valid", "test")


@dataclass
class EncodedSplit:
    """One split as a flat id stream with ``</s>`` closing every sentence."""

    tokens: np.ndarray
    sentence_starts: np.ndarray

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sequence[str]], vocab: Vocabulary) -> EncodedSplit:
        """Encode token sentences (out-of-vocabulary words become ``<unk>``), appending ``</s>`` to each.

        ``<s>`` and ``</s>`` written in the text itself are refused: they are the sentence marks the models add,
        and inside a sentence they would silently end or restart it. ``<unk>`` in the text (as in the PTB and
        WikiText files) is the unknown word, as it should be.
        """
        words = vocab.encode(list(chain.from_iterable(sentences)))  # every sentence's words, one stream
        if np.any((words == BOS_ID) | (words == EOS_ID)):  # every vocabulary has <s> and </s>, at ids 1 and 2
            check_no_sentence_marks(sentences)  # the error, naming the sentence
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        return cls.from_word_ids(words, lengths)

    @classmethod
    def from_word_ids(cls, words: np.ndarray, lengths: np.ndarray) -> EncodedSplit:
        """The stream of sentences given as their words' ids (one flat array) and their lengths in words:
        ``</s>`` appended to each (the ids are not checked for sentence marks: see :meth:`from_sentences`)."""
        sentence_starts = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.asarray(lengths, dtype=np.int64) + 1, out=sentence_starts[1:])  # + </s>
        tokens = np.full(int(sentence_starts[-1]), EOS_ID, dtype=np.int32)
        is_word = np.ones(len(tokens), dtype=bool)
        is_word[sentence_starts[1:] - 1] = False
        tokens[is_word] = words
        return cls(tokens=tokens, sentence_starts=sentence_starts)

    @property
    def num_sentences(self) -> int:
        return len(self.sentence_starts) - 1

    @property
    def num_predicted(self) -> int:
        """Predicted tokens: every word plus one ``</s>`` per sentence."""
        return len(self.tokens)

    @property
    def num_words(self) -> int:
        return self.num_predicted - self.num_sentences

    @property
    def unk_rate(self) -> float:
        """The fraction of words that are ``<unk>``."""
        return float(np.count_nonzero(self.tokens == UNK_ID)) / max(self.num_words, 1)

    def sentences(self) -> Iterator[np.ndarray]:
        """Each sentence's ids, ending with ``</s>``."""
        for start, end in zip(self.sentence_starts[:-1], self.sentence_starts[1:]):
            yield self.tokens[start:end]

    def summary(self) -> dict:
        return {
            "sentences": self.num_sentences,
            "words": self.num_words,
            "predicted_tokens": self.num_predicted,
            "unk_rate": round(self.unk_rate, 6),
        }


def check_no_sentence_marks(sentences: Sequence[Sequence[str]]) -> None:
    """A one-line error naming the first sentence that holds ``<s>`` or ``</s>`` as a word."""
    marks = {BOS, EOS}
    for number, sentence in enumerate(sentences, start=1):
        if not marks.isdisjoint(sentence):
            raise sentence_mark_error(number, next(word for word in sentence if word in marks))


def check_no_sentence_mark_ids(words: np.ndarray, lengths: np.ndarray) -> None:
    """:func:`check_no_sentence_marks` for sentences given as word ids and lengths (``<s>`` = 1, ``</s>`` = 2)."""
    found = np.flatnonzero((words == BOS_ID) | (words == EOS_ID))
    if len(found):
        number = int(np.searchsorted(np.cumsum(lengths), found[0], side="right")) + 1
        raise sentence_mark_error(number, BOS if words[found[0]] == BOS_ID else EOS)


def sentence_mark_error(number: int, mark: str) -> UserError:
    return UserError(f"sentence {number} holds the token {mark!r}, which lmcourse reserves for sentence "
                     f"boundaries (one sentence a line, no marks): remove it, or write it differently "
                     f"(e.g. {mark.replace('<', '&lt;').replace('>', '&gt;')!r})")


@dataclass
class Corpus:
    """A named corpus: its vocabulary (chosen on train) and its encoded splits.

    A split that is not available is ``None`` in ``splits`` with the reason in ``missing``.
    """

    name: str
    vocab: Vocabulary
    splits: dict[str, EncodedSplit | None]
    missing: dict[str, str] = field(default_factory=dict)
    level: str = "word"

    def split(self, name: str) -> EncodedSplit:
        """The encoded split ``name`` ("train", "valid" or "test"); a clear error if it is missing."""
        if name not in SPLITS:
            raise UserError(f"unknown split {name!r}: use one of {', '.join(SPLITS)}")
        encoded = self.splits.get(name)
        if encoded is None:
            reason = self.missing.get(name, "not available")
            raise UserError(f"corpus {self.name!r} has no {name} split ({reason})")
        return encoded

    @property
    def vocab_size(self) -> int:
        """Words in the vocabulary plus ``<unk>`` (``<s>`` and ``</s>`` not counted)."""
        return len(self.vocab.words) + 1

    def info(self) -> dict:
        """Sizes per split, as ``lmcourse data info --json`` prints them."""
        result: dict = {"name": self.name, "level": self.level, "vocab_size": self.vocab_size}
        for split_name in SPLITS:
            encoded = self.splits.get(split_name)
            result[split_name] = encoded.summary() if encoded is not None else None
        if self.missing:
            result["missing"] = dict(self.missing)
        return result

    @classmethod
    def from_sentences(
        cls,
        name: str,
        sentences_by_split: Mapping[str, Sequence[Sequence[str]] | None],
        vocab: Vocabulary | None = None,
        min_count: int = 1,
        max_size: int | None = None,
        level: str = "word",
        missing: Mapping[str, str] | None = None,
    ) -> Corpus:
        """Encode sentences per split; the vocabulary, if not given, is chosen on the train sentences.

        A split given as ``None`` is missing, for the reason in ``missing`` (default "not provided").
        """
        if vocab is None:
            train = sentences_by_split.get("train")
            if train is None:
                raise UserError(f"corpus {name!r}: a vocabulary needs a train split")
            vocab = Vocabulary.from_sentences(train, max_size=max_size, min_count=min_count)
        splits: dict[str, EncodedSplit | None] = {}
        reasons, missing = dict(missing or {}), {}
        for split_name in SPLITS:
            sentences = sentences_by_split.get(split_name)
            if sentences is None:
                splits[split_name] = None
                missing[split_name] = reasons.get(split_name, "not provided")
            else:
                splits[split_name] = EncodedSplit.from_sentences(sentences, vocab)
        return cls(name=name, vocab=vocab, splits=splits, missing=missing, level=level)
