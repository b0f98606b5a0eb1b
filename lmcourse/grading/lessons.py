"""The lessons that have graded exercises: where each lesson's folder is and what its exercises are.

To give a lesson a grader:

1. put the reference answers in the library (lesson 00: :mod:`lmcourse.tokens`);
2. write ``lmcourse/grading/lesson_XX.py`` with ``EXERCISES``, a list of
   :class:`~lmcourse.grading.exercise.Exercise` (fixed cases, a Hypothesis strategy, points);
3. add a :class:`Lesson` to :data:`LESSONS` below;
4. in the lesson folder: ``exercises.py`` (stubs that raise ``NotImplementedError``) and
   ``test_grade_lesson_XX.py`` (copy lesson 00's; the file name must be unique across lessons);
5. in ``tests/``: ``test_grading_lesson_XX.py`` with the reference, the stubs and planted bugs (the checks
   every lesson shares are in ``tests/lesson_checks.py``).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import lmcourse
from lmcourse.errors import UserError


@dataclass(frozen=True)
class Lesson:
    id: str
    folder: str  # under lessons/
    title: str
    exercises_module: str  # defines EXERCISES
    reference_module: str  # the answer key, graded by ``lmcourse grade ID --reference``

    def exercises(self) -> list:
        return list(importlib.import_module(self.exercises_module).EXERCISES)

    def default_file(self) -> Path:
        """The learner's ``exercises.py`` in this checkout's lesson folder."""
        return lessons_dir() / self.folder / "exercises.py"


LESSONS: dict[str, Lesson] = {
    lesson.id: lesson
    for lesson in [
        Lesson("00", "00_tokens_and_vocabularies", "tokens and vocabularies", "lmcourse.grading.lesson_00",
               "lmcourse.tokens"),
        Lesson("01", "01_ngram_counting", "N-gram counting", "lmcourse.grading.lesson_01", "lmcourse.ngram.by_hand"),
        Lesson("02", "02_smoothing", "smoothing", "lmcourse.grading.lesson_02", "lmcourse.ngram.by_hand"),
        Lesson("03", "03_rnn_lstm", "recurrent networks", "lmcourse.grading.lesson_03", "lmcourse.neural.by_hand"),
        Lesson("04", "04_transformer", "Transformers", "lmcourse.grading.lesson_04",
               "lmcourse.neural.by_hand_attention"),
        Lesson("05", "05_comparison", "reading a comparison", "lmcourse.grading.lesson_05",
               "lmcourse.compare.stats"),
        Lesson("06", "06_pretrain_finetune", "pre-train, then fine-tune", "lmcourse.grading.lesson_06",
               "lmcourse.neural.by_hand_pretrain"),
    ]
}


def lessons_dir() -> Path:
    """``$LMCOURSE_LESSONS``, else the ``lessons/`` folder of this checkout, else ``./lessons``."""
    if os.environ.get("LMCOURSE_LESSONS"):
        return Path(os.environ["LMCOURSE_LESSONS"])
    beside_package = Path(lmcourse.__file__).resolve().parents[1] / "lessons"
    return beside_package if beside_package.is_dir() else Path.cwd() / "lessons"


def get_lesson(lesson_id: str) -> Lesson:
    """The lesson ``lesson_id`` ("00", or "0"); a clear error listing the known lessons otherwise."""
    key = lesson_id.strip()
    if key.isdigit():
        key = key.zfill(2)
    if key not in LESSONS:
        known = ", ".join(f"{lesson.id} ({lesson.title})" for lesson in LESSONS.values())
        raise UserError(f"unknown lesson {lesson_id!r}: graded lessons are {known}")
    return LESSONS[key]
