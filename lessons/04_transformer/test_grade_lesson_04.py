"""Grades ``exercises.py`` of this folder: one test per exercise, then a score table.

    pytest lessons/04_transformer                   # your exercises
    lmcourse grade 04                               # the same, as a table only
"""

from lmcourse.grading.lesson_tests import exercise_tests

test_exercise = exercise_tests("04")
