"""Grades ``exercises.py`` of this folder: one test per exercise, then a score table.

    pytest lessons/06_pretrain_finetune             # your exercises
    lmcourse grade 06                               # the same, as a table only
"""

from lmcourse.grading.lesson_tests import exercise_tests

test_exercise = exercise_tests("06")
