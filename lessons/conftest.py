"""pytest support for grading lessons: ``pytest lessons/00_tokens_and_vocabularies`` grades your exercises.

Each lesson folder's ``test_grade_lesson_XX.py`` has one test per exercise
(:func:`lmcourse.grading.lesson_tests.exercise_tests`), which grades the ``exercises.py`` beside it (one
grading run per lesson, in child processes, see :mod:`lmcourse.grading.runner`). At the end pytest prints
the score table (:class:`lmcourse.grading.lesson_tests.ScoreTables`: nothing in this file is needed for it,
so a copy of a single lesson folder prints it too). ``LMCOURSE_GRADE_REFERENCE=1`` grades the library's
reference solutions instead of your ``exercises.py`` (that is how CI checks the graders themselves).
"""
