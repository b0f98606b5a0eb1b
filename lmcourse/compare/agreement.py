"""Minimal-pair accuracy: does a model prefer the grammatical sentence of each pair?

A pair is a good sentence and a bad one that differ in the number of the main verb
(:mod:`lmcourse.synthetic.pairs` makes them from the grammar; any TSV of ``good<TAB>bad`` works). Each
sentence is scored on its own from ``<s>``, ``</s>`` included (``model.sentence_log_probs``)::

    log p(w_1 ... w_n) = sum_{i=1}^{n+1} log p(w_i | <s> w_1 ... w_{i-1}),    w_{n+1} = </s>

and the pair is *correct* iff log p(good) > log p(bad), strictly: a tie (both ``-inf`` for a model that gives
either sentence probability 0, or the same score because the model cannot see the difference) counts as
wrong and is reported. Accuracy = correct / pairs, overall and by subject-verb distance and by the number
of attractors where the file gives them. Chance is 0.5: a model that ignores the subject scores about
that on pairs whose head noun is out of its reach.

The pairs file has one pair a line, tab-separated: ``good``, ``bad``, then optionally ``attractors`` and
``distance`` (non-negative integers), the columns ``lmcourse data pairs`` writes. A first line
``good<TAB>bad...`` is taken as a header and skipped; blank lines are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lmcourse.data.corpus import EncodedSplit
from lmcourse.data.vocabulary import BOS, EOS, UNK_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.synthetic.pairs import MinimalPair

PAIR_COLUMNS = ("good", "bad", "attractors", "distance")


def read_pairs_tsv(path: str | os.PathLike) -> list[MinimalPair]:
    """The minimal pairs of a TSV file; a one-line UserError naming the file (and line) for anything wrong."""
    path = Path(path)
    lines = read_text_lines(path)
    if lines and lines[0].split("\t")[:2] == ["good", "bad"]:
        lines[0] = ""  # a header line
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise UserError(f"pairs file {path} is empty: write one pair a line, good<TAB>bad[<TAB>attractors"
                        "<TAB>distance] (`lmcourse data pairs synthetic --out FILE` makes one)")
    pairs = [parse_pair_line(line, f"{path}, line {number}") for number, line in numbered]
    widths = {number: len(line.split("\t")) for number, line in numbered}
    first = numbered[0][0]
    for number, width in widths.items():
        if width != widths[first]:
            raise UserError(f"{path}, line {number}: {width} columns, but line {first} has {widths[first]}: "
                            "give every line the same columns (good, bad[, attractors[, distance]])")
    return pairs


def read_text_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file (a byte-order mark and ``\\r\\n`` endings allowed)."""
    if not path.exists():
        raise UserError(f"pairs file {path} does not exist: give a TSV of good<TAB>bad pairs")
    if path.is_dir():
        raise UserError(f"pairs file {path} is a folder: give a TSV file of good<TAB>bad pairs")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read pairs file {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(f"pairs file {path} is not UTF-8 (byte {data[error.start]:#04x} on line {line}): "
                        "save it as UTF-8") from None
    return [line.removesuffix("\r") for line in text.split("\n")]


def parse_pair_line(line: str, where: str) -> MinimalPair:
    """One ``good<TAB>bad[<TAB>attractors[<TAB>distance]]`` line; ``where`` ("FILE, line N") for errors."""
    fields = line.split("\t")
    if len(fields) < 2:
        raise UserError(f"{where}: no tab; write the good and the bad sentence separated by a tab")
    if len(fields) > len(PAIR_COLUMNS):
        raise UserError(f"{where}: {len(fields)} columns; at most {len(PAIR_COLUMNS)} "
                        f"({', '.join(PAIR_COLUMNS)})")
    good, bad = (" ".join(sentence.split()) for sentence in fields[:2])
    for name, sentence in (("good", good), ("bad", bad)):
        if not sentence:
            raise UserError(f"{where}: the {name} sentence is empty")
        if {BOS, EOS} & set(sentence.split()):
            raise UserError(f"{where}: the {name} sentence holds {BOS} or {EOS}, the marks the models add; "
                            "remove them")
    if good == bad:
        raise UserError(f"{where}: the good and the bad sentence are the same; a pair must differ")
    counts = [parse_count(value, column, where) for column, value in zip(PAIR_COLUMNS[2:], fields[2:])]
    attractors, distance = (counts + [None, None])[:2]
    return MinimalPair(good, bad, distance=distance, attractors=attractors)


def parse_count(value: str, column: str, where: str) -> int:
    """A column of non-negative integers (attractors, distance)."""
    try:
        number = int(value.strip())
    except ValueError:
        raise UserError(f"{where}: the {column} column is {value!r}, not an integer") from None
    if number < 0:
        raise UserError(f"{where}: the {column} column is {number}; it must be >= 0")
    return number


def pairs_split(pairs: Sequence[MinimalPair], vocab: Vocabulary) -> EncodedSplit:
    """All sentences in one split, interleaved: sentence 2i is pair i's good one, 2i + 1 its bad one."""
    sentences = [sentence.split() for pair in pairs for sentence in (pair.good, pair.bad)]
    return EncodedSplit.from_sentences(sentences, vocab)


def score_pairs(model, pairs: Sequence[MinimalPair], vocab: Vocabulary) -> dict:
    """Accuracy of ``model`` on ``pairs`` (correct iff log p(good) > log p(bad)), overall and by distance and
    attractors; words outside ``vocab`` are scored as ``<unk>`` and counted.

    Returns ``{"pairs", "accuracy", "correct", "by_distance", "by_attractors", "unk_words", "pairs_with_unk",
    "ties"}``; ``by_distance`` maps ``str(distance)`` to ``{"pairs", "accuracy"}`` (empty where the pairs
    have no distances), ``by_attractors`` likewise.
    """
    if not pairs:
        raise UserError("no minimal pairs to score")
    if getattr(model, "level", "word") == "char":
        raise UserError("minimal pairs are scored word by word: use a word-level model, not a character one")
    split = pairs_split(pairs, vocab)
    log_p = np.asarray(model.sentence_log_probs(split), dtype=np.float64)
    good, bad = log_p[0::2], log_p[1::2]
    correct = good > bad
    unk_per_sentence = np.add.reduceat((split.tokens == UNK_ID).astype(np.int64), split.sentence_starts[:-1])
    return {
        "pairs": len(pairs),
        "accuracy": float(correct.mean()),
        "correct": int(correct.sum()),
        "by_distance": accuracy_by([p.distance for p in pairs], correct),
        "by_attractors": accuracy_by([p.attractors for p in pairs], correct),
        "unk_words": int(unk_per_sentence.sum()),
        "pairs_with_unk": int(np.count_nonzero(unk_per_sentence.reshape(-1, 2).sum(axis=1))),
        "ties": int(np.count_nonzero(good == bad)),
    }


def accuracy_by(groups: Sequence[int | None], correct: np.ndarray) -> dict[str, dict]:
    """``{str(g): {"pairs": k, "accuracy": correct / k}}`` for each group value ``g``, in increasing order;
    pairs whose group is ``None`` are left out."""
    known = np.array([g is not None for g in groups], dtype=bool)
    if not known.any():
        return {}
    values = np.array([g for g in groups if g is not None], dtype=np.int64)
    keys, which = np.unique(values, return_inverse=True)
    totals = np.bincount(which, minlength=len(keys))
    hits = np.bincount(which, weights=correct[known].astype(np.float64), minlength=len(keys))
    return {str(int(key)): {"pairs": int(total), "accuracy": float(hit / total)}
            for key, total, hit in zip(keys, totals, hits)}
