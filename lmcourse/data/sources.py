"""Readers: how each corpus's raw files become tokenized sentences, split into train/valid/test.

Every reader returns a :class:`RawCorpus`: for each split a list of sentences (lists of token strings),
or ``None`` with the reason where the split's files are not there. Readers do no vocabulary work: the
registry chooses the vocabulary on train and encodes (see :mod:`lmcourse.data.registry`).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np

from lmcourse.data.corpus import SPLITS
from lmcourse.errors import UserError

Sentences = list[list[str]]

@dataclass
class RawCorpus:
    splits: dict[str, Sentences | None]
    missing: dict[str, str] = field(default_factory=dict)


def split_documents(documents: Sequence[Sentences]) -> RawCorpus:
    """Document ``i`` (in sorted order) goes to valid if ``i % 10 == 8``, to test if ``== 9``, else to train."""
    splits: dict[str, Sentences | None] = {name: [] for name in SPLITS}
    for index, sentences in enumerate(documents):
        name = "valid" if index % 10 == 8 else "test" if index % 10 == 9 else "train"
        splits[name].extend(sentences)
    return RawCorpus(splits)


def split_by_position(sentences: Sentences, train: float = 0.90, valid: float = 0.05) -> RawCorpus:
    """The first 90% of sentences train, the next 5% valid, the last 5% test."""
    n = len(sentences)
    train_end, valid_end = int(n * train), int(n * (train + valid))
    return RawCorpus({
        "train": sentences[:train_end],
        "valid": sentences[train_end:valid_end],
        "test": sentences[valid_end:],
    })


# -- NLTK corpora ------------------------------------------------------------------------------------------
def nltk_corpus_reader(name: str):
    """NLTK's lazy reader for corpus ``name`` (``brown``, ``treebank``), or a clear error if it is absent."""
    import nltk

    _nltk_corpus_path(name)  # the "not downloaded" error
    return getattr(nltk.corpus, name)


def _nltk_corpus_path(name: str) -> Path:
    """Where NLTK corpus ``name`` is (its folder or ``.zip``), or a one-line error saying how to fetch it."""
    from lmcourse.data.paths import find_nltk_corpus

    found = find_nltk_corpus(name)
    if found is None:
        raise UserError(
            f"corpus {name!r} is not downloaded: run `lmcourse data fetch {name}` "
            f"(or set NLTK_DATA to a folder holding corpora/{name}.zip)"
        )
    return found


def nltk_corpus_files(name: str, fileid_pattern: str) -> list[tuple[str, bytes]]:
    """(file id, bytes) of each file of NLTK corpus ``name`` whose id matches ``fileid_pattern``, by id.

    The files are read straight from the ``.zip`` that ``nltk.download`` leaves (entries ``NAME/FILEID``),
    or from the unzipped folder, each file once: the files, and ids, that NLTK's own reader would see.
    """
    found = _nltk_corpus_path(name)
    if found.is_dir():
        paths = {path.relative_to(found).as_posix(): path for path in found.rglob("*") if path.is_file()}
        return [(fileid, paths[fileid].read_bytes()) for fileid in _matching(paths, fileid_pattern)]
    try:
        with zipfile.ZipFile(found) as archive:
            prefix = f"{name}/"
            entries = {entry.removeprefix(prefix): entry for entry in archive.namelist() if entry.startswith(prefix)}
            return [(fileid, archive.read(entries[fileid])) for fileid in _matching(entries, fileid_pattern)]
    except (zipfile.BadZipFile, OSError) as error:
        raise UserError(f"cannot read {found} ({error}): the download is damaged; fetch it again with "
                        f"`lmcourse data fetch {name}`") from None


def _matching(fileids: Iterable[str], pattern: str) -> list[str]:
    """The ids that match ``pattern`` as a whole, sorted."""
    return sorted(fileid for fileid in fileids if re.fullmatch(pattern, fileid))


BROWN_FILEIDS = r"c[a-z]\d\d"  # the 500 documents, ca01 ... cr09 (NLTK's pattern; cats.txt, README are not text)
BROWN_TAG = re.compile(r"/[^/\s]*(?!\S)")  # a token's last "/" and its tag: "Fulton/np-tl" -> "Fulton"


def read_brown() -> RawCorpus:
    """NLTK's Brown corpus: 500 documents in fileid order, every token lowercased (see :func:`brown_sentences`)."""
    files = nltk_corpus_files("brown", BROWN_FILEIDS)
    return split_documents([brown_sentences(data.decode("ascii")) for _, data in files])


def brown_sentences(text: str) -> Sentences:
    """The sentences of a Brown file, lowercased, without their tags.

    A Brown file holds one sentence a line, as ``word/tag`` tokens (``The/at Fulton/np-tl County/nn-tl``),
    with blank lines between paragraphs. Each non-blank line is a sentence, and each word the token up to
    its last ``/``: what NLTK's ``brown.sents(fileid)`` gives (a test checks it), here with one regular
    expression for all the tags of the file, several times faster than NLTK's reader. (A token with an
    empty word, ``/nn``, would be dropped where NLTK keeps ``""``: Brown has none.)
    """
    words = BROWN_TAG.sub("", text.lower())
    return [sentence for sentence in map(str.split, words.splitlines()) if sentence]


def read_treebank() -> RawCorpus:
    """NLTK's 10% Penn Treebank sample: null elements (tag ``-NONE-``) dropped, tokens lowercased."""
    treebank = nltk_corpus_reader("treebank")
    documents = []
    for fileid in sorted(treebank.fileids()):
        sentences = []
        for tagged in treebank.tagged_sents(fileid):
            words = [word.lower() for word, tag in tagged if tag != "-NONE-"]
            if words:
                sentences.append(words)
        documents.append(sentences)
    return split_documents(documents)


# -- movie_reviews: Pang & Lee's sentiment polarity dataset v2.0 --------------------------------------------
# The file-id rules live here, not in lmcourse.tasks.movie_reviews (which uses them), because the corpus cache
# is keyed on this module's code: a change to them rebuilds the cached language-modelling corpus.
MOVIE_REVIEW_FILEID = re.compile(r"(neg|pos)/cv(\d{3})_\d+\.txt")


def movie_review_fileid_parts(fileid: str) -> tuple[str, int]:
    """(label, NNN) of a review's file id: ``"neg/cv042_13729.txt"`` gives ``("neg", 42)``."""
    match = MOVIE_REVIEW_FILEID.fullmatch(fileid)
    if match is None:
        raise UserError(f"unexpected movie_reviews file {fileid!r} (file ids look like neg/cv000_29416.txt): "
                        "the corpus is damaged; fetch it again with `lmcourse data fetch movie_reviews`")
    return match.group(1), int(match.group(2))


def movie_review_split(fileid: str) -> str:
    """The split of a review, by its number NNN: ``NNN % 10 == 8`` valid, ``== 9`` test, else train."""
    _, number = movie_review_fileid_parts(fileid)
    return "valid" if number % 10 == 8 else "test" if number % 10 == 9 else "train"


def read_movie_review_files() -> list[tuple[str, Sentences]]:
    """Every review of NLTK's ``movie_reviews`` as (file id, sentences), in file id order.

    The sentences are the release's own, one a line (Ratnaparkhi's MXTERMINATOR split them); the tokens are
    NLTK's, as ``movie_reviews.words(fileid)`` gives them: each line cut by ``wordpunct_tokenize`` (runs of
    letters and digits, runs of other non-space characters: "don't" is don ' t), already lowercased, kept as
    they are. A new text tokenized the same way (lowercased first) matches. (NLTK's ``sents()`` would split
    the sentences again, with Punkt, which needs a download of its own.)
    """
    from nltk.tokenize import wordpunct_tokenize

    reader = nltk_corpus_reader("movie_reviews")
    return [(fileid, [wordpunct_tokenize(line) for line in reader.raw(fileid).splitlines() if line.strip()])
            for fileid in sorted(reader.fileids())]


def read_movie_reviews_lm() -> RawCorpus:
    """The reviews' sentences as a language-modelling corpus, each review in the split of
    :func:`movie_review_split`: the same reviews as the classification task's train, valid and test."""
    splits: dict[str, Sentences | None] = {name: [] for name in SPLITS}
    for fileid, sentences in read_movie_review_files():
        splits[movie_review_split(fileid)].extend(sentences)
    return RawCorpus(splits)


# -- plain-text files --------------------------------------------------------------------------------------
def read_text(path: Path) -> str:
    """The UTF-8 text of a corpus file, a leading byte-order mark dropped.

    A file that cannot be read, or is not UTF-8 (UTF-16 included), is a one-line :class:`UserError` that
    names the file, the line and byte where the problem is, and the fix.
    """
    try:
        data = path.read_bytes()
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied; make it readable (chmod a+r)") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}; check the file") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UserError(f"{path} is UTF-16 (it starts with a UTF-16 byte-order mark): convert it to UTF-8, "
                        "e.g. `iconv -f UTF-16 -t UTF-8`")
    nul = data.find(b"\0")
    if nul >= 0:
        raise UserError(f"{path} line {_line_of(data, nul)} (byte {nul}) holds a NUL byte: the file is "
                        "UTF-16 or binary, not UTF-8 text; convert it, e.g. `iconv -f UTF-16 -t UTF-8`")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = f"line {_line_of(data, error.start)}, byte {error.start} (0x{data[error.start]:02x})"
        raise UserError(f"{path} is not UTF-8: {where}; convert it to UTF-8, "
                        "e.g. `iconv -f latin1 -t UTF-8`") from None
    return text.removeprefix("\ufeff")


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def nonempty_lines(path: Path) -> list[str]:
    """The lines of a corpus file, stripped of surrounding whitespace, blank ones dropped."""
    return [line for line in map(str.strip, read_text(path).splitlines()) if line]


class FirstSeenIds(dict):
    """word -> id, numbered in order of first appearance: looking up a new word gives it the next id.

    ``map(ids.__getitem__, words)`` then numbers a whole stream with the loop in C; Python runs only once
    per distinct word (``__missing__``)."""

    def __missing__(self, word: str) -> int:
        self[word] = new_id = len(self)
        return new_id


LINE_END = "\x00"  # marks the end of a line among the words (never in a corpus file: read_text refuses NUL)
LINE_END_ID = -1  # the id every lookup of line_file_ids gives LINE_END
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines breaks a line
LINE_BREAK_WORDS = {ord(c): f" {LINE_END} " for c in LINE_BREAKS}
OTHER_LINE_BREAK = re.compile(f"[{LINE_BREAKS[1:]}]")


def line_blocks(text: str, block_chars: int = 1 << 24) -> Iterator[list[str]]:
    """The words of a one-sentence-a-line text, each line followed by :data:`LINE_END`, ``block_chars``
    characters of lines at a time (one ``str.split`` per block, not one per line).

    Splitting on white space finds the same words as ``[line.split() for line in text.splitlines()]``: every
    line break of ``splitlines`` is white space to ``split``, and each is turned into a LINE_END word first.
    """
    start = 0
    while start < len(text):
        end = text.find("\n", start + block_chars)  # a block ends after a newline, so no line is cut
        end = len(text) if end < 0 else end + 1
        block = text[start:end]
        if OTHER_LINE_BREAK.search(block):
            block = block.translate(LINE_BREAK_WORDS)
        else:  # the usual case: only \n breaks lines, and str.replace is faster than str.translate
            block = block.replace("\n", f" {LINE_END} ")
        yield (block + f" {LINE_END}").split()  # the last line may have no newline
        start = end


def line_file_ids(path: Path, ids: Mapping[str, int], default: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A one-sentence-a-line file as ``(word_ids, lengths)``: the words of its non-blank lines as ``ids[word]``
    (``ids.get(word, default)`` if a default is given), one flat int32 array, and each line's number of words.
    ``ids`` must give :data:`LINE_END` the id :data:`LINE_END_ID`. Read once, a block of lines at a time; the
    lookups run in C (``map``), so a dict whose ``__missing__`` numbers new words sees Python once per word type.
    """
    id_blocks, length_blocks = [], []
    for words in line_blocks(read_text(path)):
        looked_up = map(ids.__getitem__, words) if default is None else map(ids.get, words, repeat(default))
        block = np.fromiter(looked_up, dtype=np.int32, count=len(words))
        is_end = block == LINE_END_ID
        lengths = np.diff(np.flatnonzero(is_end), prepend=-1) - 1  # words between line ends
        id_blocks.append(block[~is_end])
        length_blocks.append(lengths[lengths > 0])  # blank lines are no sentence
    if not id_blocks:
        return np.zeros(0, np.int32), np.zeros(0, np.int64)
    return np.concatenate(id_blocks), np.concatenate(length_blocks).astype(np.int64)


def read_tinyshakespeare_words(directory: Path) -> RawCorpus:
    """Every non-empty line a sentence, lowercased and tokenized by :func:`lmcourse.tokens.tokenize`."""
    from lmcourse.tokens import tokenize  # lesson 00's tokenizer (imported here: it imports lmcourse.data)

    lines = nonempty_lines(directory / "input.txt")
    return split_by_position([tokenize(line) for line in lines])


def read_tinyshakespeare_chars(directory: Path) -> RawCorpus:
    """Every non-empty line a sentence of characters (case and spaces kept); ``</s>`` plays the newline."""
    lines = nonempty_lines(directory / "input.txt")
    return split_by_position([list(line) for line in lines])


def read_split_files(directory: Path, filenames: dict[str, Sequence[str]]) -> RawCorpus:
    """One sentence a line, tokens separated by whitespace, empty lines skipped.

    ``filenames`` maps each split to the file names it may have (the first that exists is read).
    """
    splits: dict[str, Sentences | None] = {}
    missing: dict[str, str] = {}
    for split_name in SPLITS:
        candidates = [directory / filename for filename in filenames[split_name]]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            splits[split_name] = None
            missing[split_name] = f"no {' or '.join(filenames[split_name])} in {directory}"
            continue
        text = read_text(found)
        sentences = [words for words in map(str.split, text.splitlines()) if words]  # blank lines: no words
        if sentences:
            splits[split_name] = sentences
        else:
            splits[split_name] = None
            missing[split_name] = f"{found} has no sentences"
    return RawCorpus(splits, missing)
