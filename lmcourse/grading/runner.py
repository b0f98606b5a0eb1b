"""Grading: run a learner's functions in a child process and score them against the reference.

Every exercise runs in its own child process (``python -m lmcourse.grading.worker``), so nothing a
learner's code does can crash the grader: a file that does not import, a function that raises, returns
the wrong type or loops forever (the child is killed after ``timeout`` seconds) scores 0 for that
exercise, with a one-line reason. The parent draws the cases and the reference's answers, sends the
cases, and compares the answers that come back.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lmcourse
from lmcourse.errors import UserError
from lmcourse.grading.case import short_repr
from lmcourse.grading.exercise import CheckedCase, Exercise, checked_cases, type_name

DEFAULT_TIMEOUT = 10.0  # seconds per exercise: importing the file and running all its cases


@dataclass(frozen=True)
class Target:
    """What is graded: a learner's file, or (to check the answer key itself) a library module."""

    file: Path | None = None
    module: str | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Target:
        path = Path(path).resolve()
        if not path.is_file():
            raise UserError(f"no exercises file at {path}: check the path (a .py file holding your functions)")
        return cls(file=path)

    @classmethod
    def from_module(cls, name: str) -> Target:
        return cls(module=name)

    def describe(self) -> str:
        return str(self.file) if self.file is not None else f"{self.module} (reference)"

    def job(self) -> dict:
        return {"file": str(self.file)} if self.file is not None else {"module": self.module}


@dataclass
class ExerciseResult:
    """The score of one exercise; ``reason`` is empty when it passed."""

    name: str
    points: int
    max_points: int
    reason: str
    cases_checked: int

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class PreparedExercise:
    """An exercise with its cases drawn and the reference's answers computed (once for many learners)."""

    exercise: Exercise
    cases: list[CheckedCase]


def prepare(exercises: Sequence[Exercise]) -> list[PreparedExercise]:
    return [PreparedExercise(exercise, checked_cases(exercise)) for exercise in exercises]


# -- the child process ---------------------------------------------------------------------------------------
def run_worker(target: Target, function: str | None, cases: Sequence, timeout: float) -> tuple[list[tuple], str]:
    """Run the worker; return the messages it sent and how it ended ("done", "timeout", "exit N", ...)."""
    env = dict(os.environ)
    package_root = str(Path(lmcourse.__file__).resolve().parents[1])
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the learner's folder
    job = pickle.dumps({"target": target.job(), "function": function, "cases": list(cases)})
    process = subprocess.Popen(
        [sys.executable, "-m", "lmcourse.grading.worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        start_new_session=(os.name == "posix"),  # its own process group, killed as a whole on timeout
    )
    try:
        output, _ = process.communicate(job, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        output, _ = process.communicate()
        return read_messages(output), "timeout"
    except BaseException:  # Ctrl-C: the child is in its own session, so it must be stopped here
        kill(process)
        process.wait()
        raise
    code = process.returncode
    ending = "done" if code == 0 else f"exit {code}" if code > 0 else f"killed by signal {-code}"
    return read_messages(output), ending


# What may come back from the child: plain data and numpy arrays/scalars, nothing that runs code when it is
# unpickled. (The child runs the learner's code; its answers must not run code in the grader.)
SAFE_GLOBALS = {
    ("builtins", name) for name in ("list", "tuple", "dict", "set", "frozenset", "str", "bytes", "int", "float",
                                    "complex", "bool", "slice", "range")
} | {
    ("collections", "Counter"), ("collections", "OrderedDict"), ("collections", "defaultdict"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
}


class DataOnlyUnpickler(pickle.Unpickler):
    """An unpickler that accepts only :data:`SAFE_GLOBALS`."""

    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not plain data")
        return super().find_class(module, name)


def load_data(data: bytes):
    """Unpickle plain data (see :data:`SAFE_GLOBALS`)."""
    return DataOnlyUnpickler(io.BytesIO(data)).load()


def kill(process: subprocess.Popen) -> None:
    """Kill the child and anything it started."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        process.kill()


def read_messages(output: bytes) -> list[tuple]:
    """The complete messages in ``output`` (the last one may be cut short by a kill)."""
    stream = io.BytesIO(output)
    messages = []
    while stream.tell() < len(output):
        try:
            message = DataOnlyUnpickler(stream).load()
        except Exception:  # noqa: BLE001 -- a message cut in half
            break
        if not isinstance(message, tuple) or not message:
            break
        messages.append(message)
    return messages


def import_problem(target: Target, timeout: float) -> str | None:
    """Why ``target`` cannot be imported (within ``timeout`` seconds), or None if it imports."""
    messages, ending = run_worker(target, None, [], timeout)
    for message in messages:
        if message[0] == "import_error":
            return message[1]
        if message[0] == "imported":
            return None
    name = target.file.name if target.file is not None else target.module
    if ending == "timeout":
        return f"importing {name} did not finish within {timeout:g} s (an endless loop at the top of the file?)"
    return f"importing {name} stopped the Python process ({ending})"


def score_exercise(target: Target, prepared: PreparedExercise, timeout: float = DEFAULT_TIMEOUT) -> ExerciseResult:
    """Run one exercise of ``target`` on all its cases; full points if every answer agrees."""
    exercise, cases = prepared.exercise, prepared.cases
    messages, ending = run_worker(target, exercise.name, [c.case for c in cases], timeout)
    try:
        return judge(exercise, cases, messages, ending, timeout)
    except Exception as error:  # noqa: BLE001 -- messages not as the worker writes them: never crash the grader
        return ExerciseResult(exercise.name, 0, exercise.points, f"could not read the answers back ({error!r})",
                              len(cases))


def judge(exercise: Exercise, cases: Sequence[CheckedCase], messages: list[tuple], ending: str,
          timeout: float) -> ExerciseResult:
    """Score the worker's ``messages``: the first answer that is missing, of the wrong type, or wrong."""

    def result(reason: str) -> ExerciseResult:
        points = exercise.points if not reason else 0
        return ExerciseResult(exercise.name, points, exercise.points, reason, len(cases))

    started = None
    answered = 0
    for message in messages:
        kind = message[0]
        if kind in ("import_error", "missing"):
            return result(message[1])
        if kind == "start":
            started = message[1]
        elif kind == "raised":
            checked = cases[message[1]]
            return result(f"{checked.label}: {checked.case.describe(exercise.name)} raised {message[2]}")
        elif kind == "result":
            index, payload, answer_type, problem = message[1:]
            checked = cases[index]
            where = f"{checked.label}: {checked.case.describe(exercise.name)}"
            if problem is not None:
                return result(f"{where} returned a {answer_type}, which {problem}")
            try:
                answer = load_data(payload)
            except Exception:  # noqa: BLE001 -- e.g. an instance of a class defined in the learner's file
                return result(f"{where} returned type {answer_type}, expected {type_name(exercise.returns)}")
            if not isinstance(answer, exercise.returns):
                return result(f"{where} returned type {answer_type}, expected {type_name(exercise.returns)}")
            try:
                mismatch = exercise.compare(checked.expected, answer)
            except Exception as error:  # noqa: BLE001
                mismatch = f"returned {short_repr(answer)}, which cannot be compared ({type(error).__name__})"
            if mismatch is not None:
                return result(f"{where} {mismatch}")
            answered += 1
        elif kind == "done":
            return result("" if answered == len(cases) else f"only {answered} of {len(cases)} cases answered")
    if ending == "timeout":
        if started is None:
            return result(f"importing the file did not finish within {timeout:g} s")
        checked = cases[started]
        return result(f"{checked.label}: {checked.case.describe(exercise.name)} did not finish within "
                      f"{timeout:g} s (an endless loop?)")
    during = f" during {cases[started].label}" if started is not None else ""
    if ending == "done":  # exited with code 0 without answering: os._exit(0), or sys.exit() swallowed
        return result(f"the Python process exited (code 0) before answering{during}")
    return result(f"the Python process stopped ({ending}){during}")


def grade_target(
    target: Target, prepared: Sequence[PreparedExercise], timeout: float = DEFAULT_TIMEOUT
) -> list[ExerciseResult]:
    """Score every exercise of ``target``; a file that does not import scores 0 everywhere, once."""
    problem = import_problem(target, timeout)
    if problem is not None:
        return [ExerciseResult(p.exercise.name, 0, p.exercise.points, problem, 0) for p in prepared]
    return [score_exercise(target, p, timeout) for p in prepared]


# -- reports -------------------------------------------------------------------------------------------------
def summary(results: Sequence[ExerciseResult]) -> dict:
    """The JSON form: ``{"exercises": [{name, points, max, reason}], "total", "max_total"}``."""
    return {
        "exercises": [{"name": r.name, "points": r.points, "max": r.max_points, "reason": r.reason,
                       "cases_checked": r.cases_checked} for r in results],
        "total": sum(r.points for r in results),
        "max_total": sum(r.max_points for r in results),
    }


def score_table(results: Sequence[ExerciseResult]) -> list[str]:
    """A table of the scores: exercise, points, and the reason for each failure."""
    width = max([len("exercise"), *(len(r.name) for r in results)])
    lines = [f"{'exercise':<{width}}  {'points':>6}  result", f"{'-' * width}  {'-' * 6}  {'-' * 6}"]
    for r in results:
        verdict = f"ok ({r.cases_checked} cases)" if r.passed else r.reason
        lines.append(f"{r.name:<{width}}  {f'{r.points}/{r.max_points}':>6}  {verdict}")
    total, max_total = sum(r.points for r in results), sum(r.max_points for r in results)
    lines.append(f"{'total':<{width}}  {f'{total}/{max_total}':>6}")
    return lines

