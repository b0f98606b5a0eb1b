"""Grades ``exercises.py`` of this folder: one test per exercise, then a score table.

    pytest lessons/05_comparison                    # your exercises
    lmcourse grade 05                               # the same, as a table only
"""

from lmcourse.grading.lesson_tests import exercise_tests

test_exercise = exercise_tests("05")
