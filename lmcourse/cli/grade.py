"""``lmcourse grade LESSON``: score a learner's exercises against the library's reference answers.

    lmcourse grade 00                          # lessons/00_.../exercises.py of this checkout
    lmcourse grade 00 --file my_exercises.py   # another file
    lmcourse grade 00 --reference              # the answer key itself (full points, or the grader is wrong)
    lmcourse grade 00 --submissions DIR        # every DIR/*.py (one per learner) into a CSV

The exit code is 0 whenever grading ran, whatever the score; 2 for bad input (an unknown lesson, a
missing file or folder).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError
from lmcourse.files import atomic_output
from lmcourse.grading.lessons import LESSONS, get_lesson

DEFAULT_TIMEOUT = 10.0  # = lmcourse.grading.runner.DEFAULT_TIMEOUT, which imports Hypothesis: loaded in run()


def register(subparsers) -> None:
    grade = subparsers.add_parser("grade", help="grade a lesson's exercises (a score table, or a CSV of learners)")
    grade.add_argument("lesson", help=f"the lesson id: {', '.join(LESSONS)}")
    which = grade.add_mutually_exclusive_group()
    which.add_argument("--file", help="the exercises file to grade (default: the lesson folder's exercises.py)")
    which.add_argument("--reference", action="store_true",
                       help="grade the library's reference solutions (they must get full points)")
    which.add_argument("--submissions", metavar="DIR",
                       help="grade every DIR/*.py, one learner per file (alice.py, bob.py, ...), into a CSV")
    grade.add_argument("--out", metavar="CSV", help="with --submissions: the CSV to write "
                       "(default: DIR/grades_lesson_LESSON.csv)")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                       help=f"seconds each exercise may run before it scores 0 (default {DEFAULT_TIMEOUT:g})")
    grade.add_argument("--json", action="store_true", help="print one JSON object")
    grade.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lmcourse.grading.runner import Target, grade_target, prepare, score_table, summary

    lesson = get_lesson(args.lesson)
    if not (math.isfinite(args.timeout) and args.timeout > 0):  # refuses nan and inf too
        raise UserError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    if args.out and not args.submissions:
        raise UserError("--out goes with --submissions DIR (a single learner's grade is printed, not written)")
    if args.submissions:
        return run_submissions(args, lesson)

    if args.reference:
        target = Target.from_module(lesson.reference_module)
    else:
        path = Path(args.file) if args.file else lesson.default_file()
        if not path.is_file():
            raise UserError(f"no exercises file at {path}: pass --file PATH (or run from the lmcourse checkout)")
        target = Target.from_file(path)
    log(f"grading lesson {lesson.id} ({lesson.title}): {target.describe()}")
    results = grade_target(target, prepare(lesson.exercises()), timeout=args.timeout)
    result = {"lesson": lesson.id, "target": target.describe(), **summary(results)}
    emit(result, args.json, [f"lesson {lesson.id}, {lesson.title}: {target.describe()}", "", *score_table(results)])
    return 0


def run_submissions(args: argparse.Namespace, lesson) -> int:
    from lmcourse.grading.runner import Target, grade_target, prepare, summary

    folder = Path(args.submissions)
    if not folder.is_dir():
        raise UserError(f"--submissions {folder}: not a folder (it should hold one .py file per learner)")
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))
    if not files:
        raise UserError(f"--submissions {folder}: no .py files in it (one exercises file per learner, e.g. alice.py)")
    out = Path(args.out) if args.out else folder / f"grades_lesson_{lesson.id}.csv"

    prepared = prepare(lesson.exercises())
    names = [p.exercise.name for p in prepared]
    learners = []
    for index, path in enumerate(files, start=1):
        log(f"[{index}/{len(files)}] grading {path.name}")
        learners.append({"learner": path.stem, **summary(grade_target(Target.from_file(path), prepared, args.timeout))})

    with atomic_output(out) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["learner", *names, "total", "reasons"])
            for learner in learners:
                points = [e["points"] for e in learner["exercises"]]
                reasons = "; ".join(f"{e['name']}: {e['reason']}" for e in learner["exercises"] if e["reason"])
                writer.writerow([learner["learner"], *points, learner["total"], reasons])

    max_total = sum(p.exercise.points for p in prepared)
    width = max(len("learner"), *(len(learner["learner"]) for learner in learners))
    lines = [f"lesson {lesson.id}, {lesson.title}: {len(learners)} submissions", "",
             f"{'learner':<{width}}  {'total':>7}"]
    for learner in learners:
        score = f"{learner['total']}/{max_total}"
        lines.append(f"{learner['learner']:<{width}}  {score:>7}")
    lines += ["", f"wrote {out}"]
    emit({"lesson": lesson.id, "csv": str(out), "max_total": max_total, "learners": learners}, args.json, lines)
    return 0
