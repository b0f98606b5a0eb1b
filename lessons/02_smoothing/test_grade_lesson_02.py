"""Grades ``exercises.py`` of this folder: one test per exercise, then a score table.

    pytest lessons/02_smoothing                     # your exercises
    lmcourse grade 02                               # the same, as a table only
"""

import pytest

from lmcourse.grading import get_lesson

EXERCISES = get_lesson("02").exercises()


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_exercise(exercise, lesson_grades):
    result = lesson_grades("02")[exercise.name]
    if not result.passed:
        pytest.fail(f"{exercise.name}: {result.points}/{result.max_points} points. {result.reason}", pytrace=False)
