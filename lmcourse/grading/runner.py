"""Grading: run a learner's functions in a child process and score them against the reference.

Every exercise runs in its own child process (``python -m lmcourse.grading.worker``, see there), in a
scratch working folder of its own, so nothing a learner's code does can crash the grader: a file that
does not import, a function that raises, returns the wrong type or loops forever scores 0 for that
exercise, with a one-line reason. The parent draws the cases and the reference's answers, sends the
cases, and compares the answers that come back. The expected answers never leave the parent, and it takes
exactly one answer per case, in order: a file scores only by returning right answers.

Limits (:class:`Limits`; ``lmcourse grade --timeout/--memory-limit``):

- ``timeout`` (10 s): for importing the file and running all the cases of one exercise. At the timeout the
  child and every process it started are killed, and reading its answers stops (a process left behind
  cannot hold the grader). On Linux the grader is a child subreaper while a child runs: if a learner kills
  the guard process (see :mod:`lmcourse.grading.worker`), what the guard left behind (even a process in a
  session of its own) becomes the grader's child and is killed when the exercise ends, so nothing of one
  learner outlives their grading (a process that another thread of the grader starts during a run would be
  taken for one of them).
- ``memory`` (2 GiB): the child's address space (``RLIMIT_AS``); past it the learner's code gets a
  ``MemoryError``.
- ``answer`` (16 MiB): the size of one answer, pickled; a larger one scores 0, with its size as the reason.
- ``output`` (64 KiB): what a learner's prints may show on the grader's stderr per exercise; the rest is
  counted, not shown.

POSIX only (Linux, macOS). The child runs as the grader's user: this keeps grades honest against what a
learner's file can do to its own process (forged messages, processes left behind, runaway memory or
output), not against code that attacks the grader's process itself (``ptrace``, ``/proc/PID/mem``, or an
answer built to be slow to compare, such as deeply shared nested tuples). For a batch of untrusted files,
run the grader as a user of its own, or in a container.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import lmcourse
from lmcourse.errors import UserError
from lmcourse.grading.case import short_repr
from lmcourse.grading.exercise import CheckedCase, Exercise, checked_cases, type_name
from lmcourse.grading.worker import HEADER, children, kill_all

DEFAULT_TIMEOUT = 10.0  # seconds per exercise: importing the file and running all its cases
DEFAULT_MEMORY_LIMIT = 2 * 2**30  # bytes of address space for the learner's process
DEFAULT_ANSWER_LIMIT = 16 * 2**20  # bytes for one answer, pickled
DEFAULT_OUTPUT_LIMIT = 64 * 2**10  # bytes of a learner's prints shown per exercise


@dataclass(frozen=True)
class Limits:
    """What one exercise's child process may use (see the module's docstring)."""

    timeout: float = DEFAULT_TIMEOUT
    memory: int | None = DEFAULT_MEMORY_LIMIT  # None: no limit
    answer: int = DEFAULT_ANSWER_LIMIT
    output: int = DEFAULT_OUTPUT_LIMIT


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


def set_subreaper(on: bool) -> bool | None:
    """Linux: make this process a child subreaper (orphans below it become its children) or not; whether it
    was one before, or None where this cannot be done (another system, or prctl refused)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        before = ctypes.c_int(0)
        if prctl(37, ctypes.byref(before), 0, 0, 0) != 0:  # PR_GET_CHILD_SUBREAPER
            return None
        if prctl(36, int(on), 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
            return None
    except (OSError, AttributeError):
        return None
    return bool(before.value)


def kill_adopted(keep: set[int], patience: float = 2.0) -> None:
    """Kill and reap every child of this process not in ``keep``, in rounds (a killed process hands its own
    children on to us), for at most ``patience`` seconds."""
    end = time.monotonic() + patience
    while time.monotonic() < end:
        adopted = [pid for pid in children() if pid not in keep]
        if not adopted:
            return
        kill_all(adopted)
        for pid in adopted:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.005)


class WorkerRun:
    """One child process: ``with WorkerRun(...) as run: for message in run.messages(): ...``.

    :meth:`messages` yields the worker's messages as they come, and stops at the timeout, when the
    child has ended (then :attr:`ending` says how: ``"done"``, ``"exit N"``, ``"killed by signal N"``,
    ``"timeout"``), or at a message larger than the answer limit (:attr:`problem` says so). Leaving the
    ``with`` kills the child and everything it started, whatever state it is in.
    """

    def __init__(self, target: Target, function: str | None, cases: Sequence, limits: Limits,
                 helpers: dict | None = None):
        self.limits = limits
        self.ending = ""
        self.problem = ""
        self.job = pickle.dumps({"target": target.job(), "function": function, "cases": list(cases),
                                 "memory_limit": limits.memory, "answer_limit": limits.answer,
                                 "helpers": dict(helpers or {})})
        self.output_seen = 0

    def __enter__(self) -> WorkerRun:
        env = dict(os.environ)
        package_root = str(Path(lmcourse.__file__).resolve().parents[1])
        env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the learner's folder
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, "1")  # one thread: less address space under the memory limit, fair timing
        self.scratch = tempfile.mkdtemp(prefix="lmcourse-grade-")  # the child's working folder
        self.children_before = set(children())
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lmcourse.grading.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.scratch,
            start_new_session=True,  # its own process group and session, killed as a whole
        )
        # No learner code runs before the job is sent: from here on, what a killed guard leaves behind is ours
        self.was_subreaper = set_subreaper(True)
        try:
            self.process.stdin.write(self.job)  # the worker reads it whole before any learner code runs
            self.process.stdin.close()
        except OSError:  # the child is already gone: messages() says how it ended
            pass
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        hidden = self.output_seen - self.limits.output
        if hidden > 0:
            sys.stderr.write(f"\n[{hidden:,} more bytes of the learner's output not shown]\n")
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def exit_status(self) -> str | None:
        """How the child ended (``"done"``, ``"exit N"``, ``"killed by signal N"``), None while it runs;
        the child is not reaped, so that its process group still exists for :meth:`stop`."""
        if not hasattr(os, "waitid"):  # macOS before Python 3.13: reaped at once
            code = self.process.poll()
            if code is None:
                return None
            return "done" if code == 0 else f"exit {code}" if code > 0 else f"killed by signal {-code}"
        info = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None or info.si_pid == 0:
            return None
        if info.si_code == os.CLD_EXITED:
            return "done" if info.si_status == 0 else f"exit {info.si_status}"
        return f"killed by signal {info.si_status}"

    def stop(self) -> None:
        """Stop the child: SIGTERM to the guard (it kills the worker and all below it), then SIGKILL to
        the process group for anything left."""
        if self.exit_status() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = time.monotonic() + 2.0
            while self.exit_status() is None and time.monotonic() < end:
                time.sleep(0.005)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.was_subreaper is not None:  # a killed guard's orphans, now ours
            kill_adopted(self.children_before)
            if not self.was_subreaper:
                set_subreaper(False)
            self.was_subreaper = None

    def show_output(self, data: bytes) -> None:
        """Pass the learner's prints on to stderr, up to the output limit."""
        room = self.limits.output - self.output_seen
        self.output_seen += len(data)
        if room > 0:
            sys.stderr.write(data[:room].decode("utf-8", errors="replace"))
            sys.stderr.flush()

    def messages(self) -> Iterator[tuple]:
        deadline = self.started + self.limits.timeout
        largest = self.limits.answer + 2**16  # an answer, plus its message's few fields
        channel, output = self.process.stdout.fileno(), self.process.stderr.fileno()
        reading = {channel, output}
        buffer = bytearray()
        while True:
            ended = self.exit_status()
            if ended is None and time.monotonic() >= deadline:
                self.ending = "timeout"
                return
            wait = 0 if ended is not None else min(0.05, max(0.0, deadline - time.monotonic()))
            ready = select.select(sorted(reading), [], [], wait)[0] if reading else []
            if not ready and ended is not None:  # ended, and everything it sent has been read
                self.ending = ended
                return
            for fd in ready:
                data = os.read(fd, 2**16)
                if not data:
                    reading.discard(fd)
                elif fd == output:
                    self.show_output(data)
                else:
                    buffer += data
            while len(buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(buffer)
                if size > largest:
                    self.problem = (f"the child sent {size:,} bytes in one message, above the limit of "
                                    f"{self.limits.answer:,} bytes for one answer")
                    self.ending = "too large"
                    return
                if len(buffer) < HEADER.size + size:
                    break
                data = bytes(buffer[HEADER.size:HEADER.size + size])
                del buffer[:HEADER.size + size]
                try:
                    message = load_data(data)
                except Exception:  # noqa: BLE001 -- not written by the worker
                    message = ("unreadable",)
                yield message if isinstance(message, tuple) and message else ("unreadable",)


def import_problem(target: Target, limits: Limits) -> str | None:
    """Why ``target`` cannot be imported (within the time limit), or None if it imports."""
    with WorkerRun(target, None, [], limits) as run:
        for message in run.messages():
            if message[0] == "import_error" and len(message) == 2 and isinstance(message[1], str):
                return message[1]
            if message[0] == "imported":
                return None
            break
    name = target.file.name if target.file is not None else target.module
    if run.ending == "timeout":
        return (f"importing {name} did not finish within {limits.timeout:g} s (an endless loop at the top of "
                "the file?)")
    return f"importing {name} stopped the Python process ({run.ending or 'an unexpected message'})"


def score_exercise(target: Target, prepared: PreparedExercise, limits: Limits | None = None) -> ExerciseResult:
    """Run one exercise of ``target`` on all its cases; full points if every answer agrees."""
    exercise, cases = prepared.exercise, prepared.cases
    limits = limits or Limits()
    with WorkerRun(target, exercise.name, [c.case for c in cases], limits, exercise.helpers) as run:
        try:
            result = judge(exercise, cases, run)
        except Exception as error:  # noqa: BLE001 -- messages not as the worker writes them: never crash
            return ExerciseResult(exercise.name, 0, exercise.points, f"could not read the answers back "
                                  f"({error!r})", len(cases))
    if result.reason and exercise.helpers:
        result.reason += f" (graded with the library's {' and '.join(exercise.helpers)} in place of yours)"
    return result


INLINE_CALL = 400  # characters: a longer call is shown cut, and written in full to a file the reason names


def case_folder() -> Path:
    """Where those files go: one folder per user in the temporary directory, reused by every grading run
    (a file is named by its contents' digest, so runs neither multiply folders nor overwrite each other)."""
    folder = Path(tempfile.gettempdir()) / f"lmcourse-cases-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def case_text(name: str, checked: CheckedCase) -> str:
    """``fixed case 2: name(args)``: the call in full, or cut, with a script that makes it in full."""
    call = checked.case.full_call(name)
    if len(call) <= INLINE_CALL:
        return f"{checked.label}: {call}"
    script = reproduction_script(name, checked)
    return f"{checked.label}: {checked.case.describe(name)} (the full call: python {script} YOUR_FILE.py)"


def reproduction_script(name: str, checked: CheckedCase) -> Path:
    """A script that calls ``name`` from a learner's file on ``checked``'s arguments, exactly as graded."""
    arguments = pickle.dumps((checked.case.args, dict(checked.case.kwargs)))
    digest = hashlib.sha256(name.encode() + b"\0" + arguments).hexdigest()[:16]
    path = case_folder() / f"{name}_{checked.label.replace(' ', '_')}_{digest}.py"
    text = (
        f"# {checked.label} of {name}, exactly as the grader called it. Run it with your file:\n"
        f"#     python {path} exercises.py\n"
        f"# The call: {checked.case.full_call(name)}\n\n"
        "import pickle\nimport runpy\nimport sys\n\n"
        f"args, kwargs = pickle.loads({arguments!r})\n"
        f'function = runpy.run_path(sys.argv[1] if len(sys.argv) > 1 else "exercises.py")[{name!r}]\n'
        f'print({name + "(...) returned"!r}, repr(function(*args, **kwargs)))\n'
    )
    if not path.is_file():  # written whole, then renamed: a concurrent grading never reads half a file
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    return path


def judge(exercise: Exercise, cases: Sequence[CheckedCase], run: WorkerRun) -> ExerciseResult:
    """Score the worker's messages: the first answer that is missing, of the wrong type, or wrong.

    The messages must be exactly what an honest worker sends: ``start 0``, then the answer to case 0
    (``result 0`` or ``raised 0``), ``start 1``, ..., then ``done`` after the last case. Anything else
    (an answer repeated, out of order, for a case not asked, a "done" too early) scores 0: it can only
    come from learner code writing on the answer channel.
    """

    def result(reason: str) -> ExerciseResult:
        points = exercise.points if not reason else 0
        return ExerciseResult(exercise.name, points, exercise.points, reason, len(cases))

    def where(index: int) -> str:
        return case_text(exercise.name, cases[index])

    started = None  # the case being run
    answered = 0  # cases answered right so far; the next case is cases[answered]
    for message in run.messages():
        kind, fields = message[0], message[1:]
        if kind in ("import_error", "missing") and answered == 0 and started is None and len(fields) == 1:
            return result(str(fields[0]))
        if kind == "start" and started is None and fields == (answered,) and answered < len(cases):
            started = answered
        elif kind == "raised" and started is not None and len(fields) == 2 and fields[0] == started:
            return result(f"{where(started)} raised {fields[1]}")
        elif kind == "result" and started is not None and len(fields) == 4 and fields[0] == started:
            _, payload, answer_type, problem = fields
            if problem is not None:
                return result(f"{where(started)} returned a {answer_type}, which {problem}")
            try:
                answer = load_data(payload)
            except Exception:  # noqa: BLE001 -- e.g. an instance of a class defined in the learner's file
                return result(f"{where(started)} returned type {answer_type}, expected {type_name(exercise.returns)}")
            if not isinstance(answer, exercise.returns):
                return result(f"{where(started)} returned type {answer_type}, expected {type_name(exercise.returns)}")
            try:
                mismatch = exercise.compare(cases[started].expected, answer)
            except Exception as error:  # noqa: BLE001
                mismatch = f"returned {short_repr(answer)}, which cannot be compared ({type(error).__name__})"
            if mismatch is not None:
                return result(f"{where(started)} {mismatch}")
            answered, started = answered + 1, None
        elif kind == "done" and started is None and not fields and answered == len(cases):
            return result("")
        else:
            return result(f"the grader's answer channel got a message out of place ({short_repr(kind, 20)} "
                          f"after {answered} of {len(cases)} answers): only answers the function returns count")
    during = f" during {cases[started].label}" if started is not None else ""
    if run.ending == "timeout":
        if started is None and answered == 0:
            return result(f"importing the file did not finish within {run.limits.timeout:g} s")
        if started is None:
            return result(f"the Python process did not finish within {run.limits.timeout:g} s after "
                          f"{answered} of {len(cases)} answers")
        return result(f"{where(started)} did not finish within {run.limits.timeout:g} s (an endless loop?)")
    if run.ending == "too large":
        return result(f"{run.problem}{during}")
    if run.ending == "done":  # exited with code 0 without answering: os._exit(0), or sys.exit() swallowed
        return result(f"the Python process exited (code 0) before answering{during}")
    return result(f"the Python process stopped ({run.ending}){during}")


def grade_target(
    target: Target, prepared: Sequence[PreparedExercise], timeout: float | None = None,
    limits: Limits | None = None,
) -> list[ExerciseResult]:
    """Score every exercise of ``target``; a file that does not import scores 0 everywhere, once.

    ``limits`` (default :class:`Limits`); ``timeout``, if given, replaces its timeout.
    """
    limits = limits or Limits()
    if timeout is not None:
        limits = replace(limits, timeout=timeout)
    problem = import_problem(target, limits)
    if problem is not None:
        return [ExerciseResult(p.exercise.name, 0, p.exercise.points, problem, 0) for p in prepared]
    return [score_exercise(target, p, limits) for p in prepared]


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

