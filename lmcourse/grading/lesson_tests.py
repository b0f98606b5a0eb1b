"""The test a lesson folder runs with pytest: one test per exercise of the lesson, graded as a learner's file.

A lesson folder's ``test_grade_lesson_XX.py`` is two lines::

    from lmcourse.grading.lesson_tests import exercise_tests

    test_exercise = exercise_tests("01")

``pytest lessons/01_ngram_counting`` then shows one passed or failed test per exercise, each failure with the
grader's reason. The file graded is the ``exercises.py`` beside that test file, so a copy of the lesson
folder grades the copy's. It is graded once per pytest session (in child processes, see
:mod:`lmcourse.grading.runner`), and the score table, whose first line names the file graded, is printed at
the end (by :class:`ScoreTables`, registered with pytest by the first grading: no ``conftest.py`` is needed,
so a lone copy of a lesson folder prints it too).
``LMCOURSE_GRADE_REFERENCE=1`` grades the library's reference solutions instead (that is how CI checks the
graders themselves). This module imports pytest, which ``lmcourse grade`` does not need: only pytest
imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lmcourse.grading.lessons import get_lesson

SCORE_TABLES = pytest.StashKey[dict]()  # lesson id -> the lines of its score table, for lessons/conftest.py
GRADES = pytest.StashKey[dict]()  # (lesson id, graded file) -> results by exercise name


def grading_reference() -> bool:
    return os.environ.get("LMCOURSE_GRADE_REFERENCE", "").strip().lower() in ("1", "true", "yes")


class ScoreTables:
    """A pytest plugin that prints the score tables of the lessons graded in this session at the end."""

    name = "lmcourse-score-tables"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @classmethod
    def register(cls, config: pytest.Config) -> None:
        if not config.pluginmanager.has_plugin(cls.name):
            config.pluginmanager.register(cls(config), cls.name)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for lesson_id, lines in self.config.stash.get(SCORE_TABLES, {}).items():
            terminalreporter.write_sep("=", f"score table, lesson {lesson_id}")
            for line in lines:
                terminalreporter.write_line(line)


def lesson_grades(config: pytest.Config, lesson_id: str, exercises_file: Path) -> dict:
    """Lesson ``lesson_id``'s results by exercise name for ``exercises_file`` (or the reference), graded
    once per session."""
    from lmcourse.grading import grade_lesson, score_table

    reference = grading_reference()
    key = (lesson_id, None if reference else exercises_file)
    graded = config.stash.setdefault(GRADES, {})
    if key not in graded:
        lesson = get_lesson(lesson_id)
        if reference:
            results, target = grade_lesson(lesson_id, reference=True), f"{lesson.reference_module} (reference)"
        else:
            results, target = grade_lesson(lesson_id, file=str(exercises_file)), str(exercises_file)
        graded[key] = {r.name: r for r in results}
        ScoreTables.register(config)
        config.stash.setdefault(SCORE_TABLES, {})[lesson_id] = [
            f"lesson {lesson.id}, {lesson.title}: {target}", *score_table(results)]
    return graded[key]


def exercise_tests(lesson_id: str) -> Callable:
    """A pytest test function, parametrized with one case per exercise of lesson ``lesson_id``.

    Each case fails, with ``name: points/max points. reason`` and no traceback, unless the exercise got
    full points.
    """
    exercises = get_lesson(lesson_id).exercises()

    @pytest.mark.parametrize("exercise", exercises, ids=[exercise.name for exercise in exercises])
    def test_exercise(exercise, request) -> None:
        beside = Path(request.node.path).resolve().parent / "exercises.py"  # this test file's folder
        result = lesson_grades(request.config, lesson_id, beside)[exercise.name]
        if not result.passed:
            pytest.fail(f"{exercise.name}: {result.points}/{result.max_points} points. {result.reason}",
                        pytrace=False)

    return test_exercise
