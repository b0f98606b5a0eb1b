"""The child side of the grader: import the learner's file and call one function on the cases.

Run as ``python -m lmcourse.grading.worker``. Two processes come out of it:

- the **guard** (the process the grader started) forks the worker, waits for it, then kills whatever the
  worker left behind (on Linux it is a "child subreaper", so even a grandchild that double-forked into a
  new session is its child, and is killed). On ``SIGTERM`` from the grader (a timeout) it kills the
  worker and everything below it at once. It never runs learner code. On Linux the worker dies with it
  (``PR_SET_PDEATHSIG``), and if a learner kills it, what it leaves behind goes to the grader, which is a
  child subreaper while the run lasts, and is killed there (:class:`lmcourse.grading.runner.WorkerRun`);
- the **worker** reads one pickled job from stdin::

      {"target": {"file": "/path/exercises.py"} or {"module": "lmcourse.tokens"},
       "function": "tokenize" or None (only import and list the functions),
       "cases": [Case, ...], "memory_limit": bytes or None, "answer_limit": bytes,
       "helpers": {name: the library's function}: set in the learner's module in place of its own}

  caps its memory (``RLIMIT_AS``), imports the target and calls the function on each case in turn.

The worker writes its messages on the *answer channel* (the pipe that was its stdout, moved to a
random high file descriptor; stdout itself then goes to stderr, so a learner's ``print`` never reaches
the channel). Each message is an 8-byte length, then a pickle::

    ("imported", [function names])        ("import_error", reason)       ("missing", reason)
    ("start", i)   ("result", i, pickled answer or None, type name, reason)   ("raised", i, reason)
    ("done",)

A learner's code runs in this process, so it *can* reach the channel (nothing in one process is hidden
from code running in it). That is why the grader does not trust the channel: it keeps the expected answers
to itself and takes exactly one answer per case, in order (see :func:`lmcourse.grading.runner.judge`).
Whatever writes on the channel, a case scores only if the answer for that case is right.

Only the standard library is imported here, before the target.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import pickle
import random
import signal
import struct
import sys
import time
import traceback
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no memory limit
    resource = None

LEARNER_MODULE = "learner_exercises"
HEADER = struct.Struct(">Q")  # the length of each message on the answer channel


def one_line(error: BaseException, learner_file: str | None = None) -> str:
    """``ErrorType: message``, plus where in the learner's file it happened, on one line."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if len(text) > 150:
        text = text[:147] + "..."
    if learner_file is not None and not isinstance(error, SyntaxError):
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == learner_file]
        if frames:
            text += f" ({Path(learner_file).name}, line {frames[-1].lineno})"
    return text


def import_target(target: dict):
    """The learner's module (from a file) or a library module (by name)."""
    if "module" in target:
        return importlib.import_module(target["module"])
    path = Path(target["file"]).resolve()
    sys.path.insert(0, str(path.parent))  # so that the learner's own helper modules import
    spec = importlib.util.spec_from_file_location(LEARNER_MODULE, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[LEARNER_MODULE] = module
    spec.loader.exec_module(module)
    return module


def gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:g} GiB"


# -- the worker ----------------------------------------------------------------------------------------------
def private_channel():
    """The answer channel: stdout's pipe moved to a random high descriptor, not inherited by programs the
    learner starts; stdout then goes to stderr and stdin reads /dev/null (``input()`` gets EOF at once)."""
    fd = os.dup(1)
    for number in random.sample(range(256, 1024), 16):
        try:
            os.fstat(number)
        except OSError:  # a free number (or above the descriptor limit: then the dup2 fails, fd stays)
            try:
                os.dup2(fd, number, inheritable=False)
            except OSError:
                break
            os.close(fd)
            fd = number
            break
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return os.fdopen(fd, "wb")


def limit_memory(limit: int | None) -> None:
    """Cap the worker's address space at ``limit`` bytes (a learner's ``MemoryError`` instead of the
    machine's memory); the grader's memory is its own."""
    if limit is None or resource is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve() -> None:
    job = pickle.load(sys.stdin.buffer)
    channel = private_channel()
    sys.dont_write_bytecode = True
    answer_limit = job["answer_limit"]

    def send(*message) -> None:
        data = pickle.dumps(message)
        channel.write(HEADER.pack(len(data)) + data)
        channel.flush()

    target = job["target"]
    learner_file = str(Path(target["file"]).resolve()) if "file" in target else None
    shown_name = Path(learner_file).name if learner_file else target["module"]

    def reason(error: BaseException) -> str:
        text = one_line(error, learner_file)
        if isinstance(error, MemoryError) and job["memory_limit"] is not None:
            text += f" (the memory limit is {gib(job['memory_limit'])}: lmcourse grade --memory-limit)"
        return text

    limit_memory(job["memory_limit"])
    try:
        module = import_target(target)
    except BaseException as error:  # noqa: BLE001 -- a learner's file may raise anything, even SystemExit
        send("import_error", f"could not import {shown_name}: {reason(error)}")
        return

    name = job["function"]
    if name is None:
        send("imported", sorted(n for n, v in vars(module).items() if callable(v)))
        return
    function = getattr(module, name, None)
    if function is None or not callable(function):
        send("missing", f"{shown_name} has no function named {name}")
        return
    for helper, reference in job.get("helpers", {}).items():  # the library's helpers stand in for the learner's
        setattr(module, helper, reference)

    for index, case in enumerate(job["cases"]):
        send("start", index)
        try:
            answer = case.call(function)
        except BaseException as error:  # noqa: BLE001
            send("raised", index, reason(error))
            return
        try:
            payload = pickle.dumps(answer)
        except Exception as error:  # noqa: BLE001 -- e.g. a generator or a lambda cannot be sent back
            send("result", index, None, type(answer).__name__, f"cannot be sent back ({one_line(error)})")
            continue
        if len(payload) > answer_limit:
            send("result", index, None, type(answer).__name__,
                 f"is {len(payload):,} bytes, above the limit of {answer_limit:,} bytes for one answer")
            continue
        send("result", index, payload, type(answer).__name__, None)
    send("done")


# -- the guard -----------------------------------------------------------------------------------------------
def become_subreaper() -> None:
    """Linux: orphans below this process (a double fork, ``setsid``) become its children, not init's."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


def die_with_parent(parent: int) -> None:
    """Linux: this process is killed when ``parent`` dies (``PR_SET_PDEATHSIG``), so that a learner who kills
    the guard cannot go on running cases as the grader's adopted child (where ``os.getppid()`` would be the
    grader's process)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # it died before the call
            os._exit(1)


def children() -> list[int]:
    """The pids of this process's children (from ``/proc``; empty where there is none)."""
    me, found = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found


def kill_all(pids) -> None:
    """SIGKILL each of ``pids``; one that has already gone is no error."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_below(*first: int) -> None:
    """Kill ``first`` and every child of this process, in rounds (a killed parent hands its children on)."""
    kill_all([*first, *children()])
    for _ in range(100):
        while True:  # reap
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
        left = children()
        if not left:
            return
        kill_all(left)
        time.sleep(0.01)


def guard() -> None:
    become_subreaper()
    guard_pid = os.getpid()
    worker = os.fork()
    if worker == 0:
        try:
            die_with_parent(guard_pid)
            serve()
        finally:
            os._exit(0)  # no atexit handlers, no buffered learner output after the answers
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the guard holds neither the job nor the channel
        os.dup2(devnull, fd)

    def stop(signum, frame) -> None:  # the grader's timeout
        kill_below(worker)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    _, status = os.waitpid(worker, 0)
    kill_below()
    if os.WIFSIGNALED(status):  # die the same way, so that the grader can say "killed by signal N"
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    if hasattr(os, "fork"):
        guard()
    else:  # Windows: no guard
        serve()
