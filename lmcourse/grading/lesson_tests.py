"""The test a lesson folder runs with pytest: one test per exercise of the lesson, graded as a learner's file.

A lesson folder's ``test_grade_lesson_XX.py`` is two lines::

    from lmcourse.grading.lesson_tests import exercise_tests

    test_exercise = exercise_tests("01")

``pytest lessons/01_ngram_counting`` then shows one passed or failed test per exercise, each failure with the
grader's reason, and ``lessons/conftest.py`` prints the score table at the end (it also provides the
``lesson_grades`` fixture, which grades the lesson once per session). This module imports pytest, which
``lmcourse grade`` does not need: only pytest imports it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lmcourse.grading.lessons import get_lesson


def exercise_tests(lesson_id: str) -> Callable:
    """A pytest test function, parametrized with one case per exercise of lesson ``lesson_id``.

    Each case fails, with ``name: points/max points. reason`` and no traceback, unless the exercise got
    full points.
    """
    exercises = get_lesson(lesson_id).exercises()

    @pytest.mark.parametrize("exercise", exercises, ids=[exercise.name for exercise in exercises])
    def test_exercise(exercise, lesson_grades) -> None:
        result = lesson_grades(lesson_id)[exercise.name]
        if not result.passed:
            pytest.fail(f"{exercise.name}: {result.points}/{result.max_points} points. {result.reason}",
                        pytrace=False)

    return test_exercise
