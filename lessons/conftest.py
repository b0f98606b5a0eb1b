"""pytest support for grading lessons: ``pytest lessons/00_tokens_and_vocabularies`` grades your exercises.

Each lesson folder's ``test_grade_lesson_XX.py`` has one test per exercise
(:func:`lmcourse.grading.lesson_tests.exercise_tests`), which asks the ``lesson_grades`` fixture below for
its results (one grading run per lesson, in child processes, see :mod:`lmcourse.grading.runner`). At the end
pytest prints the score table. ``LMCOURSE_GRADE_REFERENCE=1`` grades the library's
reference solutions instead of your ``exercises.py`` (that is how CI checks the graders themselves).
"""

from __future__ import annotations

import os

import pytest

from lmcourse.grading import get_lesson, grade_lesson, score_table

SCORE_TABLES = pytest.StashKey[dict]()


def grading_reference() -> bool:
    return os.environ.get("LMCOURSE_GRADE_REFERENCE", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def lesson_grades(request):
    """``lesson_grades("00")``: the lesson's results by exercise name, graded once per session."""
    tables = request.config.stash.setdefault(SCORE_TABLES, {})
    graded: dict[str, dict] = {}

    def grades(lesson_id: str) -> dict:
        if lesson_id not in graded:
            lesson = get_lesson(lesson_id)
            reference = grading_reference()
            results = grade_lesson(lesson_id, reference=reference)
            graded[lesson_id] = {r.name: r for r in results}
            target = lesson.reference_module + " (reference)" if reference else str(lesson.default_file())
            tables[lesson_id] = [f"lesson {lesson.id}, {lesson.title}: {target}", *score_table(results)]
        return graded[lesson_id]

    return grades


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for lesson_id, lines in config.stash.get(SCORE_TABLES, {}).items():
        terminalreporter.write_sep("=", f"score table, lesson {lesson_id}")
        for line in lines:
            terminalreporter.write_line(line)
