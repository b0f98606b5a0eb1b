"""``lmcourse grade LESSON``: score a learner's exercises against the library's reference answers.

    lmcourse grade 00                          # the lesson folder's exercises.py (see below)
    lmcourse grade 00 --file my_exercises.py   # another file
    lmcourse grade 00 --reference              # the answer key itself (full points, or the grader is wrong)
    lmcourse grade 00 --submissions DIR        # every DIR/*.py (one per learner) into a CSV

The file graded by default is ``exercises.py`` of the current folder when that is the lesson's folder (or
a copy of it: it holds ``test_grade_lesson_XX.py``), else the one in this checkout's lesson folder; the
first line printed names it.

Exit codes: 0 when every exercise got full points (every learner's, with ``--submissions``), 1 when one
did not, 2 for bad input (an unknown lesson, a missing file or folder, an ``--out`` that cannot be
written). ``--no-fail`` exits 0 whatever the scores (for batch use).

With ``--submissions``, each learner's row is appended to the CSV (and synced to disk) as soon as it is
graded, so a grader that is stopped half-way keeps the rows it has; at the end the CSV is rewritten whole.
Every learner's file is read into memory before any learner code runs, and written to a fresh private
folder of its own only while it is graded (a learner deleting or rewriting a classmate's file, in the
folder or in the grader's copies, changes nothing); an entry that cannot be read (a folder, a broken link)
scores 0 with the reason. Learner code runs in a scratch working folder, never in the current one.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError
from lmcourse.files import atomic_output
from lmcourse.grading.lessons import LESSONS, get_lesson

# = lmcourse.grading.runner.DEFAULT_TIMEOUT / DEFAULT_MEMORY_LIMIT (the runner imports Hypothesis: loaded in run())
DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_GIB = 2.0
MIN_TIMEOUT = 0.5  # seconds: below this not even an empty file imports


def register(subparsers) -> None:
    grade = subparsers.add_parser(
        "grade", help="grade a lesson's exercises (a score table, or a CSV of learners)",
        description="Grade a lesson's exercises against the library's reference answers.",
        epilog="Exit code: 0 when every exercise got full points, 1 when one did not (0 with --no-fail), "
               "2 for bad input. Limits per exercise: --timeout, --memory-limit; one answer may be at most "
               "16 MiB pickled; a learner's prints show up to 64 KiB.")
    grade.add_argument("lesson", help=f"the lesson id: {', '.join(LESSONS)}")
    which = grade.add_mutually_exclusive_group()
    which.add_argument("--file", help="the exercises file to grade (default: exercises.py of the current folder "
                       "if it is the lesson's folder, else of this checkout's lesson folder)")
    which.add_argument("--reference", action="store_true",
                       help="grade the library's reference solutions (they must get full points)")
    which.add_argument("--submissions", metavar="DIR",
                       help="grade every DIR/*.py, one learner per file (alice.py, bob.py, ...), into a CSV")
    grade.add_argument("--out", metavar="CSV", help="with --submissions: the CSV to write "
                       "(default: DIR/grades_lesson_LESSON.csv), checked before grading starts")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                       help=f"seconds each exercise may run before it scores 0 (default {DEFAULT_TIMEOUT:g})")
    grade.add_argument("--memory-limit", type=float, default=DEFAULT_MEMORY_GIB, metavar="GIB",
                       help=f"GiB of memory (address space) the learner's code may use; beyond it, a MemoryError "
                       f"(default {DEFAULT_MEMORY_GIB:g}; 0: no limit)")
    grade.add_argument("--no-fail", action="store_true",
                       help="exit 0 even when an exercise did not get full points (for batch use)")
    grade.add_argument("--json", action="store_true", help="print one JSON object")
    grade.set_defaults(func=run)


def limits_from(args: argparse.Namespace):
    from lmcourse.grading.runner import Limits

    if not (math.isfinite(args.timeout) and args.timeout >= MIN_TIMEOUT):  # refuses nan and inf too
        raise UserError(f"--timeout must be at least {MIN_TIMEOUT:g} seconds, got {args.timeout:g}")
    if not (math.isfinite(args.memory_limit) and args.memory_limit >= 0):
        raise UserError(f"--memory-limit must be a number of GiB (0: no limit), got {args.memory_limit:g}")
    if 0 < args.memory_limit < 0.25:
        raise UserError(f"--memory-limit {args.memory_limit:g} GiB is too little for Python to start: "
                        "give 0.25 or more")
    memory = int(args.memory_limit * 2**30) if args.memory_limit > 0 else None
    return Limits(timeout=args.timeout, memory=memory)


def exit_code(all_passed: bool, args: argparse.Namespace) -> int:
    return 0 if all_passed or args.no_fail else 1


def run(args: argparse.Namespace) -> int:
    from lmcourse.grading.runner import Target, grade_target, prepare, score_table, summary

    lesson = get_lesson(args.lesson)
    limits = limits_from(args)
    if args.out and not args.submissions:
        raise UserError("--out goes with --submissions DIR (a single learner's grade is printed, not written)")
    if args.submissions:
        return run_submissions(args, lesson, limits)

    if args.reference:
        target = Target.from_module(lesson.reference_module)
    else:
        path = Path(args.file) if args.file else lesson_file(lesson)
        if not path.is_file():
            raise UserError(f"no exercises file at {path}: pass --file PATH (or run from the lmcourse checkout)")
        target = Target.from_file(path)
    log(f"grading {target.describe()} (lesson {lesson.id}, {lesson.title})")
    results = grade_target(target, prepare(lesson.exercises()), limits=limits)
    result = {"lesson": lesson.id, "target": target.describe(), **summary(results)}
    emit(result, args.json, [f"lesson {lesson.id}, {lesson.title}: {target.describe()}", "", *score_table(results)])
    return exit_code(all(r.passed for r in results), args)


def lesson_file(lesson) -> Path:
    """``exercises.py`` of the current folder if it is the lesson's folder or a copy of it, else the checkout's."""
    here = Path.cwd()
    if (here / f"test_grade_lesson_{lesson.id}.py").is_file():
        return here / "exercises.py"
    return lesson.default_file()


# -- a folder of learners ------------------------------------------------------------------------------------
def open_csv(out: Path):
    """``out`` opened for writing, or a one-line error (before any grading) if it cannot be."""
    if out.is_dir():
        raise UserError(f"--out {out} is a folder: give a file name, e.g. {out / 'grades.csv'}")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist (create it first)")
    try:
        return open(out, "w", newline="", encoding="utf-8")
    except OSError as error:
        raise UserError(f"--out {out} cannot be written ({error.strerror or error}): choose another place") from None


def snapshot(files: list[Path]) -> dict[str, bytes | str]:
    """Each learner's file read into memory (learner -> its bytes, or why it cannot be read), before any
    learner code runs."""
    contents: dict[str, bytes | str] = {}
    for path in files:
        try:
            if not path.is_file():
                kind = "a broken link" if path.is_symlink() and not path.exists() else "not a regular file"
                raise OSError(f"{kind}")
            contents[path.stem] = path.read_bytes()
        except OSError as error:
            contents[path.stem] = f"{path.name} could not be read ({error.strerror or error}): submit one .py file"
    return contents


def grade_learner(name: str, content: bytes | str, prepared, limits) -> list:
    """One learner's results: the file written to a private folder of its own, graded, then removed (so no
    learner's code ever finds a classmate's copy)."""
    from lmcourse.grading.runner import ExerciseResult, Target, grade_target

    if isinstance(content, str):
        return [ExerciseResult(p.exercise.name, 0, p.exercise.points, content, 0) for p in prepared]
    private = Path(tempfile.mkdtemp(prefix="lmcourse-submission-"))
    try:
        copy = private / f"{name}.py"
        copy.write_bytes(content)
        return grade_target(Target.from_file(copy), prepared, limits=limits)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def csv_row(learner: dict) -> list:
    points = [e["points"] for e in learner["exercises"]]
    reasons = "; ".join(f"{e['name']}: {e['reason']}" for e in learner["exercises"] if e["reason"])
    return [learner["learner"], *points, learner["total"], reasons]


def run_submissions(args: argparse.Namespace, lesson, limits) -> int:
    from lmcourse.grading.runner import prepare, summary

    folder = Path(args.submissions)
    if not folder.is_dir():
        raise UserError(f"--submissions {folder}: not a folder (it should hold one .py file per learner)")
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))
    if not files:
        raise UserError(f"--submissions {folder}: no .py files in it (one exercises file per learner, e.g. alice.py)")
    out = Path(args.out) if args.out else folder / f"grades_lesson_{lesson.id}.csv"
    stream = open_csv(out)

    prepared = prepare(lesson.exercises())
    names = [p.exercise.name for p in prepared]
    header = ["learner", *names, "total", "reasons"]
    learners = []
    with stream:
        writer = csv.writer(stream)

        def write(row: list) -> None:  # each row on disk as soon as it is graded
            writer.writerow(row)
            stream.flush()
            os.fsync(stream.fileno())

        write(header)
        contents = snapshot(files)
        for index, (learner, content) in enumerate(contents.items(), start=1):
            log(f"[{index}/{len(contents)}] grading {learner}")
            results = grade_learner(learner, content, prepared, limits)
            learners.append({"learner": learner, **summary(results)})
            write(csv_row(learners[-1]))
    try:  # the whole CSV once more, in case a learner's code got at the file meanwhile
        with atomic_output(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as final:
            csv.writer(final).writerows([header, *(csv_row(learner) for learner in learners)])
    except OSError as error:
        print(f"lmcourse: warning: could not rewrite {out} at the end ({error}); the rows written as graded "
              "are there", file=sys.stderr)

    max_total = sum(p.exercise.points for p in prepared)
    width = max(len("learner"), *(len(learner["learner"]) for learner in learners))
    lines = [f"lesson {lesson.id}, {lesson.title}: {len(learners)} submissions in {folder}", "",
             f"{'learner':<{width}}  {'total':>7}"]
    for learner in learners:
        score = f"{learner['total']}/{max_total}"
        lines.append(f"{learner['learner']:<{width}}  {score:>7}")
    lines += ["", f"wrote {out}"]
    emit({"lesson": lesson.id, "csv": str(out), "max_total": max_total, "learners": learners}, args.json, lines)
    return exit_code(all(learner["total"] == max_total for learner in learners), args)
