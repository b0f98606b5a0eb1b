"""pytest support for grading lessons: ``pytest lessons/00_tokens_and_vocabularies`` grades your exercises.

Each lesson folder's ``test_grade_lesson_XX.py`` has one test per exercise
(:func:`lmcourse.grading.lesson_tests.exercise_tests`), which grades the ``exercises.py`` beside it (one
grading run per lesson, in child processes, see :mod:`lmcourse.grading.runner`). At the end pytest prints
the score table. ``LMCOURSE_GRADE_REFERENCE=1`` grades the library's reference solutions instead of your
``exercises.py`` (that is how CI checks the graders themselves).
"""

from __future__ import annotations

from lmcourse.grading.lesson_tests import SCORE_TABLES


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for lesson_id, lines in config.stash.get(SCORE_TABLES, {}).items():
        terminalreporter.write_sep("=", f"score table, lesson {lesson_id}")
        for line in lines:
            terminalreporter.write_line(line)
