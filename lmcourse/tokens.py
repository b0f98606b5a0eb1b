"""Tokens, types and vocabularies: the answer key of lesson 00.

A *token* is one occurrence of a word in running text; a *type* is a distinct word. "the cat saw the dog"
has 5 tokens and 4 types. Word frequencies follow Zipf's law: the r-th most frequent type occurs about
C / r**s times with s close to 1 (Zipf 1935, *The Psycho-Biology of Language*; Manning & Schütze 1999,
section 1.4.3), so a few types cover most tokens and a long tail of types is seen once. A model cannot
store every type it might meet, so it keeps a vocabulary of frequent types and maps the rest to ``<unk>``;
the out-of-vocabulary (OOV) rate on held-out text says how much that costs.

These functions are the reference solutions of ``lessons/00_tokens_and_vocabularies/exercises.py``;
the grader (``lmcourse grade 00``) compares a learner's functions with them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from lmcourse.data.vocabulary import Vocabulary

# A token is, in the lowercased text, one of:
#   a run of letters a-z, possibly with inner apostrophes   don't, o'clock, rock'n'roll
#   a run of digits                                          1999 (and "3.14" is 3 . 14)
#   any other single character that is not white space      , . ! ? " - $ ( ' ...
TOKEN_PATTERN = re.compile(r"[a-z]+(?:'[a-z]+)*|[0-9]+|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lowercase ``text`` and split it into the tokens of :data:`TOKEN_PATTERN`, left to right.

    >>> tokenize("Don't panic: it's 4 o'clock!")
    ["don't", 'panic', ':', "it's", '4', "o'clock", '!']
    """
    return TOKEN_PATTERN.findall(text.lower())


def count_types_and_tokens(sentences: Iterable[Sequence[str]]) -> tuple[int, int]:
    """``(number of types, number of tokens)`` of tokenized ``sentences``.

    Tokens: every word of every sentence. Types: distinct words (compared exactly, case-sensitive).
    """
    counts: Counter = Counter()
    for sentence in sentences:
        counts.update(sentence)
    return len(counts), sum(counts.values())


def zipf_slope(counts: Sequence[int]) -> float:
    """The slope of the least-squares line through ``(log rank, log frequency)`` of word ``counts``.

    ``counts`` are the frequencies of the types, in any order. Sort them in descending order, give them
    ranks r = 1, 2, ..., n, and fit ``log f_r = a + b log r`` by ordinary least squares:

        b = sum((x - mean x)(y - mean y)) / sum((x - mean x)**2),   x = log r,  y = log f_r

    Zipf's law predicts b close to -1. The base of the logarithm does not change b. Needs n >= 2.
    """
    frequencies = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    if frequencies.size < 2:
        raise ValueError("zipf_slope needs at least two counts")
    log_rank = np.log(np.arange(1, frequencies.size + 1))
    log_frequency = np.log(frequencies)
    centered_rank = log_rank - log_rank.mean()
    slope = np.dot(centered_rank, log_frequency - log_frequency.mean()) / np.dot(centered_rank, centered_rank)
    return float(slope)


def build_vocabulary(
    sentences: Iterable[Sequence[str]], max_size: int | None = None, min_count: int = 1
) -> list[str]:
    """The vocabulary's words (without the special tokens), most frequent first.

    Count every word of ``sentences``; keep the words seen at least ``min_count`` times; order them by
    count, descending, and words with equal counts alphabetically (Python's ``<`` on strings); keep the
    first ``max_size`` (all if ``None``). The special tokens ``<unk>``, ``<s>``, ``</s>`` are never
    words. This is the order of :meth:`lmcourse.data.Vocabulary.from_counts` (ids 3, 4, ...).
    """
    return Vocabulary.from_sentences(sentences, max_size=max_size, min_count=min_count).words


def oov_rate(sentences: Iterable[Sequence[str]], vocabulary: Collection[str]) -> float:
    """The fraction of tokens of ``sentences`` that are not in ``vocabulary`` (0.0 if there are none).

    Tokens are counted, not types: a missing word seen 3 times counts 3 times.
    """
    known = set(vocabulary)
    total = 0
    missing = 0
    for sentence in sentences:
        total += len(sentence)
        missing += sum(1 for word in sentence if word not in known)
    return missing / total if total else 0.0
