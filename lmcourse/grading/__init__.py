"""The grader: a learner's exercise functions, checked against the library's reference answers.

- :mod:`lmcourse.grading.exercise`  what an exercise is (points, reference, fixed and generated cases)
- :mod:`lmcourse.grading.runner`    runs a learner's file in a child process and scores it
- :mod:`lmcourse.grading.worker`    the child process
- :mod:`lmcourse.grading.lessons`   which lessons have exercises, and where their folders are

    >>> from lmcourse.grading import grade_lesson, score_table
    >>> results = grade_lesson("00")               # the learner's lessons/00_.../exercises.py
    >>> print("\\n".join(score_table(results)))

``lmcourse grade 00`` does the same from the command line.
"""

from __future__ import annotations

import importlib

# Imported on first use, so that the grader's child process (``python -m lmcourse.grading.worker``) starts
# without loading Hypothesis.
_EXPORTS = {
    "LESSONS": "lessons", "Lesson": "lessons", "get_lesson": "lessons",
    "DEFAULT_TIMEOUT": "runner", "ExerciseResult": "runner", "Target": "runner", "grade_target": "runner",
    "prepare": "runner", "score_table": "runner", "summary": "runner",
    "Exercise": "exercise", "Case": "case",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"lmcourse.grading.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lmcourse.grading' has no attribute {name!r}")


def grade_lesson(lesson_id: str, file: str | None = None, reference: bool = False, timeout: float | None = None):
    """Grade lesson ``lesson_id``: the learner's ``exercises.py`` (or ``file``, or the reference).

    Returns a list of :class:`~lmcourse.grading.runner.ExerciseResult`.
    """
    from lmcourse.grading.lessons import get_lesson
    from lmcourse.grading.runner import DEFAULT_TIMEOUT, Target, grade_target, prepare

    lesson = get_lesson(lesson_id)
    if reference:
        target = Target.from_module(lesson.reference_module)
    else:
        target = Target.from_file(file if file is not None else lesson.default_file())
    return grade_target(target, prepare(lesson.exercises()), timeout=timeout or DEFAULT_TIMEOUT)


__all__ = [*_EXPORTS, "grade_lesson"]
