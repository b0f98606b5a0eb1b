"""Text-classification tasks, for the last lesson: pre-train a language model, then fine-tune it on one.

    >>> from lmcourse.tasks import get_task
    >>> task = get_task("movie_reviews")
    >>> documents = task.load_documents()          # list of Document: fileid, label, sentences
    >>> split = task.split(documents)              # {"train", "valid", "test"}: lists of Document

- :mod:`lmcourse.tasks.movie_reviews`  the data: Pang & Lee's 2,000 film reviews, its split and its folds
- :mod:`lmcourse.tasks.metrics`        accuracy, its bootstrap interval, per-class precision / recall / F1
- :mod:`lmcourse.tasks.baselines`      Naive Bayes and logistic regression on N-gram counts, to beat
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lmcourse.errors import UserError
from lmcourse.tasks import movie_reviews
from lmcourse.tasks.movie_reviews import Document


@dataclass(frozen=True)
class Task:
    """A classification task: how to load its documents, its fixed split and its cross-validation folds."""

    name: str
    labels: tuple[str, ...]  # label i is labels[i]
    load_documents: Callable[[], list[Document]]
    split: Callable[[Sequence[Document]], dict[str, list[Document]]]
    folds: Callable[[Sequence[Document], int], list[list[Document]]]


TASKS: dict[str, Task] = {
    "movie_reviews": Task("movie_reviews", movie_reviews.LABELS, movie_reviews.load_documents,
                          movie_reviews.task_split, movie_reviews.folds),
}


def get_task(name: str) -> Task:
    """The task called ``name``, or a one-line :class:`UserError` naming the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}: use one of {', '.join(TASKS)}") from None
