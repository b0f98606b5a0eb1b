"""Readers: how each corpus's raw files become tokenized sentences, split into train/valid/test.

Every reader returns a :class:`RawCorpus`: for each split a list of sentences (lists of token strings),
or ``None`` with the reason where the split's files are not there. Readers do no vocabulary work: the
registry chooses the vocabulary on train and encodes (see :mod:`lmcourse.data.registry`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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

    from lmcourse.data.paths import find_nltk_corpus

    if find_nltk_corpus(name) is None:
        raise UserError(
            f"corpus {name!r} is not downloaded: run `lmcourse data fetch {name}` "
            f"(or set NLTK_DATA to a folder holding corpora/{name}.zip)"
        )
    return getattr(nltk.corpus, name)


def read_brown() -> RawCorpus:
    """NLTK's Brown corpus: 500 documents in fileid order, every token lowercased."""
    brown = nltk_corpus_reader("brown")
    documents = [
        [[word.lower() for word in sentence] for sentence in brown.sents(fileid)]
        for fileid in sorted(brown.fileids())
    ]
    return split_documents(documents)


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
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


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
        sentences = [line.split() for line in text.splitlines() if line.strip()]
        if sentences:
            splits[split_name] = sentences
        else:
            splits[split_name] = None
            missing[split_name] = f"{found} has no sentences"
    return RawCorpus(splits, missing)
