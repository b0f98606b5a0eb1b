"""The sentiment task: NLTK's ``movie_reviews``, Pang & Lee's sentiment polarity dataset v2.0.

2,000 film reviews from the rec.arts.movies.reviews newsgroup, 1,000 positive and 1,000 negative, labelled
from the reviewer's own rating (Pang & Lee 2004, "A Sentimental Education: Sentiment Analysis Using
Subjectivity Summarization Based on Minimum Cuts"). File ids look like ``neg/cv000_29416.txt``: the folder is
the label, ``cvNNN`` the review's number (0-999) within its class, the rest the original HTML file.

Each line of a file is one sentence, lowercased; its tokens are NLTK's (``movie_reviews.words()``: the line
cut by ``nltk.tokenize.wordpunct_tokenize``), kept as they are (:func:`lmcourse.data.sources.read_movie_review_files`).
Eight reviews write a curly quote as an ASCII control character (``today\\x12s``), which stays a token.
A review is 20 to 2,938 tokens long (words and one ``</s>`` per sentence; median 776.5), 1 to 112 sentences
(median 30). Two valid reviews are near-copies of train reviews (neg/cv118 of neg/cv361, pos/cv778 of
pos/cv494); a test review shares at most two long sentences (a reviewer's signature) with the train reviews.

Two ways to evaluate
--------------------
- The fixed split (:func:`task_split`), which the course uses to pre-train and then fine-tune::

      NNN % 10 == 8  ->  valid          NNN % 10 == 9  ->  test          otherwise  ->  train

  800 / 100 / 100 reviews per class, so every split is balanced.
- Pang & Lee's 10-fold cross-validation (:func:`folds`), which the published figures use: fold ``f`` holds
  the reviews with ``NNN * k // 1000 == f``; for k = 10, cv000-cv099 of both classes is fold 0 (the README
  of the dataset lists these folds). A figure is the mean accuracy over the k folds, each fold scored by a
  model trained on the other k - 1.

:func:`read_movie_reviews_lm` is the same reviews as a language-modelling corpus (``load_corpus("movie_reviews")``),
split exactly as :func:`task_split`, so that a model pre-trained on its train split has never seen a test
review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lmcourse.data.sources import (
    movie_review_fileid_parts,
    movie_review_split,
    read_movie_review_files,
    read_movie_reviews_lm,
)
from lmcourse.errors import UserError

__all__ = ["LABELS", "REVIEWS_PER_CLASS", "Document", "load_documents", "task_split", "folds", "review_number",
           "read_movie_reviews_lm"]

LABELS = ("neg", "pos")  # label 0 is negative, 1 positive
REVIEWS_PER_CLASS = 1000


@dataclass(frozen=True)
class Document:
    """One review: its NLTK file id, its label (0 neg, 1 pos) and its sentences of tokens."""

    fileid: str
    label: int
    sentences: tuple[tuple[str, ...], ...]

    @property
    def words(self) -> list[str]:
        """Every token of the review, sentence after sentence."""
        return [word for sentence in self.sentences for word in sentence]


def review_number(fileid: str) -> int:
    """NNN of ``cvNNN``: ``review_number("pos/cv042_10982.txt") == 42``."""
    return movie_review_fileid_parts(fileid)[1]


def load_documents() -> list[Document]:
    """The 2,000 reviews in file id order (every ``neg/`` file, then every ``pos/``).

    A corpus that is not downloaded is a one-line error naming ``lmcourse data fetch movie_reviews``.
    """
    documents = []
    for fileid, sentences in read_movie_review_files():
        label_name, _ = movie_review_fileid_parts(fileid)
        documents.append(Document(fileid, LABELS.index(label_name), tuple(tuple(s) for s in sentences)))
    per_class = Counter(document.label for document in documents)
    if [per_class[label] for label in range(len(LABELS))] != [REVIEWS_PER_CLASS] * len(LABELS):
        raise UserError(f"movie_reviews holds {per_class[0]} neg and {per_class[1]} pos reviews, not "
                        f"{REVIEWS_PER_CLASS} of each: the corpus is damaged; fetch it again with "
                        "`lmcourse data fetch movie_reviews`")
    return documents


def task_split(documents: Sequence[Document]) -> dict[str, list[Document]]:
    """{"train", "valid", "test"}: review cvNNN to valid if NNN % 10 == 8, to test if == 9, else to train.

    The order of ``documents`` is kept within each split.
    """
    splits: dict[str, list[Document]] = {"train": [], "valid": [], "test": []}
    for document in documents:
        splits[movie_review_split(document.fileid)].append(document)
    return splits


def folds(documents: Sequence[Document], k: int = 10) -> list[list[Document]]:
    """Pang & Lee's cross-validation folds: review cvNNN goes to fold ``NNN * k // 1000``.

    For k = 10 fold 0 is cv000-cv099 of both classes, fold 9 cv900-cv999: the folds of the literature.
    Any k from 2 to 1000 cuts the numbers 0-999 into k runs of consecutive numbers (sizes differing by at most
    one) and every fold holds as many neg as pos reviews.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= REVIEWS_PER_CLASS:
        raise UserError(f"the number of folds must be an integer from 2 to {REVIEWS_PER_CLASS}, got {k!r}: "
                        "use 10, as Pang & Lee")
    result: list[list[Document]] = [[] for _ in range(k)]
    for document in documents:
        result[review_number(document.fileid) * k // REVIEWS_PER_CLASS].append(document)
    return result
