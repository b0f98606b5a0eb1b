"""The vocabulary: a bijection between token strings and integer ids.

Ids are fixed by construction so that every model agrees on them:

    0 = <unk>   (any word outside the vocabulary; an ordinary, predicted token)
    1 = <s>     (sentence start: context only, never predicted)
    2 = </s>    (sentence end: predicted once per sentence)
    3.. = words, most frequent first (ties broken by the word, ascending)

The vocabulary is chosen on the training split only, either as the ``max_size`` most frequent words or as
every word seen at least ``min_count`` times.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from lmcourse.files import atomic_write_text

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIAL_TOKENS = (UNK, BOS, EOS)


class Vocabulary:
    """Token <-> id mapping with ``<unk>``, ``<s>`` and ``</s>`` at ids 0, 1, 2."""

    def __init__(self, words: Iterable[str]):
        self.id_to_token: list[str] = list(SPECIAL_TOKENS)
        for word in words:
            if word not in SPECIAL_TOKENS:
                self.id_to_token.append(word)
        self.token_to_id: dict[str, int] = {tok: i for i, tok in enumerate(self.id_to_token)}
        if len(self.token_to_id) != len(self.id_to_token):
            raise ValueError("vocabulary words must be distinct")

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_counts(
        cls, word_counts: Counter | dict[str, int], max_size: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """Keep the words seen at least ``min_count`` times, at most ``max_size`` of them.

        Words are ranked by count (descending), ties by the word itself (ascending), so the choice is
        deterministic. The special tokens are never counted as words.
        """
        ranked = sorted(
            ((word, count) for word, count in word_counts.items() if word not in SPECIAL_TOKENS),
            key=lambda item: (-item[1], item[0]),
        )
        kept = [word for word, count in ranked if count >= min_count]
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept)

    @classmethod
    def from_sentences(
        cls, sentences: Iterable[Sequence[str]], max_size: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """Count the words of ``sentences`` and keep them as :meth:`from_counts` does."""
        counts = Counter(chain.from_iterable(sentences))  # every word of every sentence, in one pass
        return cls.from_counts(counts, max_size=max_size, min_count=min_count)

    # -- lookup ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.id_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.id_to_token == other.id_to_token

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens incl. <unk>, <s>, </s>)"

    @property
    def words(self) -> list[str]:
        """The ordinary words (everything but the three special tokens)."""
        return self.id_to_token[len(SPECIAL_TOKENS):]

    def lookup(self, token: str) -> int:
        """The id of ``token``, or the id of ``<unk>`` if it is out of the vocabulary."""
        return self.token_to_id.get(token, UNK_ID)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of ``tokens`` as an int32 array (out-of-vocabulary tokens become ``<unk>``).

        By definition ``[self.lookup(token) for token in tokens]``, computed without a Python loop: ``map``
        calls ``token_to_id.get(token, UNK_ID)`` for each token from C, and ``np.fromiter`` writes the ids
        straight into the array. (Sorting the tokens with ``np.unique`` to look each distinct word up once
        is several times slower: a dict lookup costs less than a string comparison in a sort.)
        """
        ids = map(self.token_to_id.get, tokens, repeat(UNK_ID))
        return np.fromiter(ids, dtype=np.int32, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Token strings of ``ids``."""
        return [self.id_to_token[int(i)] for i in ids]

    # -- persistence -------------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({"tokens": self.id_to_token}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        tokens = json.loads(text)["tokens"]
        if list(tokens[: len(SPECIAL_TOKENS)]) != list(SPECIAL_TOKENS):
            raise ValueError("not an lmcourse vocabulary: the first tokens must be <unk>, <s>, </s>")
        return cls(tokens[len(SPECIAL_TOKENS):])

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (atomically: a temp file, then a rename)."""
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

