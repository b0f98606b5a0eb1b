"""Lesson 00 exercises: tokens, types and vocabularies.

Write the five functions below (replace each ``raise NotImplementedError``), then grade them:

    lmcourse grade 00                              # a score table: points and a reason for each failure
    pytest lessons/00_tokens_and_vocabularies      # the same checks, as pytest tests

Each function is checked against the library's answer on fixed cases and on a few dozen generated
inputs. Standard library and numpy only; read the notebook of this lesson first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens (2 points).

    First lowercase the text. Then, reading left to right, a token is the longest match of one of:

    - a run of letters a-z that may contain apostrophes *between* letters: ``don't``, ``o'clock``,
      ``rock'n'roll`` are one token each, but in ``'tis`` the first ``'`` is a token of its own;
    - a run of digits 0-9: ``3.14`` is three tokens ``3``, ``.``, ``14``;
    - any other single character that is not white space: ``,`` ``.`` ``!`` ``$`` ``'`` ...

    White space (spaces, tabs, newlines) separates tokens and is never part of one. Only ASCII letters
    count as letters. Return a ``list`` of ``str``.

    >>> tokenize("Don't panic: it's 4 o'clock!")
    ["don't", 'panic', ':', "it's", '4', "o'clock", '!']

    Hint: one regular expression and ``re.findall``.
    """
    raise NotImplementedError("write tokenize")


def count_types_and_tokens(sentences: Iterable[Sequence[str]]) -> tuple[int, int]:
    """Return the ``tuple`` ``(number of types, number of tokens)`` of tokenized sentences (1 point).

    ``sentences`` is a list of sentences, each a list of words. Every word of every sentence is a token;
    the types are the distinct words, compared exactly (``"The"`` and ``"the"`` are two types).

    >>> count_types_and_tokens([["the", "cat", "saw", "the", "dog"]])
    (4, 5)
    """
    raise NotImplementedError("write count_types_and_tokens")


def zipf_slope(counts: Sequence[int]) -> float:
    """Fit Zipf's law to word frequencies and return the slope, a ``float`` (2 points).

    ``counts`` holds the frequency of each type, in any order (at least two of them). Sort them from
    most to least frequent and give them ranks r = 1, 2, ..., n. With x = log(rank) and y = log(frequency),
    return the slope b of the least-squares line y = a + b x:

        b = sum((x - mean(x)) * (y - mean(y))) / sum((x - mean(x)) ** 2)

    Zipf's law says b is close to -1. (The base of the logarithm does not change b.)

    >>> round(zipf_slope([60, 30, 20, 15, 12]), 6)   # the counts are 60 / r exactly
    -1.0
    """
    raise NotImplementedError("write zipf_slope")


def build_vocabulary(
    sentences: Iterable[Sequence[str]], max_size: int | None = None, min_count: int = 1
) -> list[str]:
    """Choose a vocabulary: the ``list`` of kept words, most frequent first (3 points).

    Count how often each word occurs in ``sentences``, leaving out the special tokens ``"<unk>"``,
    ``"<s>"`` and ``"</s>"`` (they are never vocabulary words, even if they occur in the text). Keep the
    words seen at least ``min_count`` times. Order them by count, highest first; words with the same count
    in alphabetical order (Python's ``<`` on strings, so ``"B" < "a" < "b"``). Then keep only the first
    ``max_size`` words (all of them if ``max_size`` is None).

    >>> build_vocabulary([["b", "a", "c", "a", "b", "a"]], max_size=2)
    ['a', 'b']
    """
    raise NotImplementedError("write build_vocabulary")


def oov_rate(sentences: Iterable[Sequence[str]], vocabulary: Collection[str]) -> float:
    """The out-of-vocabulary rate: the fraction of *tokens* not in ``vocabulary``, a ``float`` (2 points).

    A missing word that occurs 3 times counts 3 times. Return 0.0 if ``sentences`` has no tokens at all.
    ``vocabulary`` may be a list or a set of words.

    >>> oov_rate([["x", "x", "x", "y"]], ["y"])
    0.75
    """
    raise NotImplementedError("write oov_rate")
