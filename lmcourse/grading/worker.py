"""The child side of the grader: import the learner's file and call one function on the cases.

Run as ``python -m lmcourse.grading.worker``. It reads one pickled job from stdin::

    {"target": {"file": "/path/exercises.py"} or {"module": "lmcourse.tokens"},
     "function": "tokenize" or None (only import and list the functions),
     "cases": [Case, ...]}

and writes pickled messages to its stdout, one after another, flushing each, so that the parent still
reads every message sent before it had to kill a child that looped forever::

    ("imported", [function names])        ("import_error", reason)       ("missing", reason)
    ("start", i)   ("result", i, pickled answer or None, type name, reason)   ("raised", i, reason)
    ("done",)

Whatever the learner's code prints goes to stderr, so it can never corrupt the messages (nor the one
JSON object of ``lmcourse grade --json``). Only the standard library is imported here, before the target.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import sys
import traceback
from pathlib import Path

LEARNER_MODULE = "learner_exercises"


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


def main() -> None:
    job = pickle.load(sys.stdin.buffer)
    # Messages go to the real stdout; everything else printed (by the learner too) goes to stderr.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a stray input() in the learner's file gets EOF instead of waiting forever
    sys.dont_write_bytecode = True

    def send(*message) -> None:
        pickle.dump(message, channel)
        channel.flush()

    target = job["target"]
    learner_file = str(Path(target["file"]).resolve()) if "file" in target else None
    shown_name = Path(learner_file).name if learner_file else target["module"]
    try:
        module = import_target(target)
    except BaseException as error:  # noqa: BLE001 -- a learner's file may raise anything, even SystemExit
        send("import_error", f"could not import {shown_name}: {one_line(error, learner_file)}")
        return

    name = job["function"]
    if name is None:
        send("imported", sorted(n for n, v in vars(module).items() if callable(v)))
        return
    function = getattr(module, name, None)
    if function is None or not callable(function):
        send("missing", f"{shown_name} has no function named {name}")
        return

    for index, case in enumerate(job["cases"]):
        send("start", index)
        try:
            answer = case.call(function)
        except BaseException as error:  # noqa: BLE001
            send("raised", index, one_line(error, learner_file))
            return
        try:
            payload = pickle.dumps(answer)
            send("result", index, payload, type(answer).__name__, None)
        except Exception as error:  # noqa: BLE001 -- e.g. a generator or a lambda cannot be sent back
            send("result", index, None, type(answer).__name__, f"cannot be sent back ({one_line(error)})")
    send("done")


if __name__ == "__main__":
    main()
