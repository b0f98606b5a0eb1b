"""Grades ``exercises.py`` of this folder: one test per exercise, then a score table.

    pytest lessons/01_ngram_counting                # your exercises
    lmcourse grade 01                               # the same, as a table only
"""

from lmcourse.grading.lesson_tests import exercise_tests

test_exercise = exercise_tests("01")
