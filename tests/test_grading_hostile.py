"""A hostile learner's file cannot forge points, hold the grader past its timeout, or exhaust its memory.

Each test plants what a learner could write into ``exercises.py`` and checks that the grader stays honest
(0 points, with a reason) and in control (fast, small). The limits are small so that the tests are fast.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_grading_harness import DOUBLE, HALF

from lmcourse.grading.runner import Limits, Target, grade_target, prepare

TIMEOUT = 60.0  # generous where a test does not time out on purpose (a busy machine must not fail it)
SHORT = 2.0  # where it does


@pytest.fixture(scope="module")
def prepared():
    return prepare([DOUBLE, HALF])


def grade_source(folder, source: str, prepared, **limits) -> dict:
    path = folder / "exercises.py"
    path.write_text(textwrap.dedent(source))
    limits.setdefault("timeout", TIMEOUT)
    return {r.name: r for r in grade_target(Target.from_file(path), prepared, limits=Limits(**limits))}


# -- forged answers ------------------------------------------------------------------------------------------
# Each forger knows one trivial right answer (double(1) == 2, the first case) and tries to make it count for
# every case, through the worker's own objects or straight onto its answer channel.
FORGERS = {
    "the worker's send() found on the call stack, one answer repeated, then done": """
        import os, pickle, sys

        def double(n):
            frame = sys._getframe()
            while "send" not in frame.f_locals:
                frame = frame.f_back
            send, job = frame.f_locals["send"], frame.f_locals["job"]
            for _ in job["cases"]:
                send("result", 0, pickle.dumps(2), "int", None)
            send("done")
            os._exit(0)
    """,
    "messages written on every open descriptor (found in /proc/self/fd)": """
        import os, pickle, struct

        def frame(*message):
            data = pickle.dumps(message)
            return struct.pack(">Q", len(data)) + data

        def double(n):
            forged = frame("result", 0, pickle.dumps(2), "int", None) * 30 + frame("done")
            for fd in range(3, 1024):
                try:
                    os.write(fd, forged)
                except OSError:
                    pass
            os._exit(0)
    """,
    "the cases swapped for copies of the first (found with gc)": """
        import gc

        for thing in gc.get_objects():
            if isinstance(thing, dict) and "cases" in thing and thing.get("function") == "double":
                thing["cases"] = [thing["cases"][0]] * len(thing["cases"])

        def double(n):
            return 2
    """,
    "a 'done' sent in the middle of the first case": """
        import sys

        def double(n):
            frame = sys._getframe()
            while "send" not in frame.f_locals:
                frame = frame.f_back
            frame.f_locals["send"]("done")
            return 2
    """,
    "pickle.dumps patched in the worker so that every answer reads as 2": """
        import pickle

        real_dumps = pickle.dumps
        pickle.dumps = lambda value, *args, **kwargs: real_dumps(2 if isinstance(value, int) else value)

        def double(n):
            return -1
    """,
}


@pytest.mark.parametrize("source", FORGERS.values(), ids=list(FORGERS))
def test_a_forged_answer_scores_nothing(tmp_path, prepared, source):
    results = grade_source(tmp_path, source, prepared)
    assert results["double"].points == 0, results["double"].reason
    assert results["double"].reason


def test_a_forging_file_scores_nothing_in_batch_mode(tmp_path, capsys):
    """The stack trick, for every exercise of lesson 00 (the first case answered by the answer key, then
    repeated), in ``lmcourse grade 00 --submissions``."""
    from lmcourse.cli import main

    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "mallory.py").write_text(textwrap.dedent("""
        import os, pickle, sys
        import lmcourse.tokens as key

        def __getattr__(name):
            def forged(*args, **kwargs):
                frame = sys._getframe()
                while "send" not in frame.f_locals:
                    frame = frame.f_back
                send, job = frame.f_locals["send"], frame.f_locals["job"]
                first = job["cases"][0]
                answer = getattr(key, name)(*first.args, **first.kwargs)
                for _ in job["cases"]:
                    send("result", 0, pickle.dumps(answer), type(answer).__name__, None)
                send("done")
                os._exit(0)
            return forged
    """))
    out = tmp_path / "grades.csv"
    main(["grade", "00", "--submissions", str(folder), "--out", str(out)])
    capsys.readouterr()
    [row] = list(csv.DictReader(out.open()))
    assert row["learner"] == "mallory" and row["total"] == "0"
    assert "message out of place" in row["reasons"]


# -- past the timeout, memory, size --------------------------------------------------------------------------
def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("function_body", [
    "return 2 * n",
    "while True: pass",
    "os.kill(os.getppid(), 9); return 2 * n",  # the guard gone, the sleeper is the grader's to kill
], ids=["answers", "loops", "kills its guard"])
def test_a_double_forked_sleeper_does_not_hold_the_grader(tmp_path, prepared, function_body):
    pids = tmp_path / "pids"
    start = time.monotonic()
    results = grade_source(tmp_path, f"""
        import os, time

        ready, told = os.pipe()
        if os.fork() == 0:            # a grandchild in a session of its own, holding the answer pipe
            os.setsid()
            if os.fork() == 0:
                with open({str(pids)!r}, "a") as stream:
                    stream.write(f"{{os.getpid()}}\\n")
                os.write(told, b"!")
                time.sleep(120)
            os._exit(0)
        os.read(ready, 1)             # it is running

        def double(n):
            {function_body}
    """, prepared, timeout=SHORT)
    elapsed = time.monotonic() - start
    assert elapsed < 3 * SHORT + 4, f"grading took {elapsed:.1f} s"  # import check, double, half
    if "kill" not in function_body:
        assert results["double"].points == (2 if "return" in function_body else 0)
    if sys.platform.startswith("linux"):  # the guard and the grader are child subreapers: the sleepers are killed
        time.sleep(0.2)
        started = [int(line) for line in pids.read_text().split()]
        assert started and not [pid for pid in started if alive(pid)]


def test_learner_memory_is_capped(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return len(bytearray(1024 * 2**20)) and 2 * n
    """, prepared, memory=512 * 2**20)
    assert results["double"].points == 0
    assert "raised MemoryError" in results["double"].reason
    assert "memory limit is 0.5 GiB: lmcourse grade --memory-limit" in results["double"].reason


def test_an_answer_above_the_size_limit_is_refused(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return [n] * 2**20
    """, prepared, answer=2**20)
    assert results["double"].points == 0
    assert results["double"].reason.startswith("fixed case 1: double(1) returned a list, which is ")
    assert "above the limit of 1,048,576 bytes for one answer" in results["double"].reason


def test_a_huge_message_forged_on_the_channel_is_refused_unread(tmp_path, prepared):
    results = grade_source(tmp_path, """
        import os, struct

        def double(n):
            for fd in range(3, 1024):
                try:
                    os.write(fd, struct.pack(">Q", 2**40))
                except OSError:
                    pass
            return 2 * n
    """, prepared, answer=2**20)
    assert results["double"].points == 0
    assert "bytes in one message, above the limit of 1,048,576 bytes" in results["double"].reason


def test_learner_output_is_bounded(tmp_path, prepared, capfd):
    results = grade_source(tmp_path, """
        import sys

        def double(n):
            print("x" * 100_000)
            sys.stderr.write("y" * 100_000)
            return 2 * n
    """, prepared, output=1000)
    assert results["double"].points == 2
    err = capfd.readouterr().err
    assert len(err) < 10_000
    assert "more bytes of the learner's output not shown" in err


def test_killing_the_parent_process_does_not_stop_the_grader(tmp_path, prepared):
    results = grade_source(tmp_path, """
        import os, signal

        def double(n):
            os.kill(os.getppid(), signal.SIGKILL)

        def half(x):
            return x / 2
    """, prepared)
    assert results["double"].points == 0  # it killed the guard process, not the grader
    assert results["half"].points == 1


def test_learner_code_runs_in_a_scratch_folder(tmp_path, prepared, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    results = grade_source(tmp_path, """
        import os

        for name in os.listdir("."):
            os.remove(name)

        def double(n):
            return 2 * n
    """, prepared)
    assert results["double"].points == 2
    assert (tmp_path / "notes.txt").read_text() == "keep me"


# -- one learner must not cost the others their grades (--submissions) --------------------------------------
CORRECT = "from lmcourse.tokens import *  # noqa: F403\n"  # lesson 00's answer key: full points


def grade_folder(folder, *options: str) -> tuple[int, dict]:
    """``lmcourse grade 00 --submissions folder``; the exit code and the CSV's rows by learner."""
    from lmcourse.cli import main

    code = main(["grade", "00", "--submissions", str(folder), "--no-fail", "--timeout", "20", *options])
    out = folder / "grades_lesson_00.csv"
    with open(out, newline="") as stream:
        return code, {row["learner"]: row for row in csv.DictReader(stream)}


def test_a_learner_killing_the_grader_process_loses_no_rows(tmp_path):
    """alice kills her parent (the guard process: her grade is 0, the others' are graded); mallory, graded
    last, finds the grader itself and kills it: the rows graded before are on disk."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text("import os\nos.kill(os.getppid(), 9)\n" + CORRECT)
    (folder / "bob.py").write_text(CORRECT)
    (folder / "mallory.py").write_text(textwrap.dedent("""
        import os
        guard = os.getppid()
        with open(f"/proc/{guard}/stat") as stream:
            grader = int(stream.read().rsplit(")", 1)[1].split()[1])
        os.kill(grader, 9)
    """))
    run = subprocess.run([sys.executable, "-c", "import sys; from lmcourse.cli import main; sys.exit(main())",
                          "grade", "00", "--submissions", str(folder), "--no-fail"],
                         capture_output=True, text=True, timeout=300)
    if sys.platform.startswith("linux"):
        assert run.returncode == -9  # mallory got the grader
    with open(folder / "grades_lesson_00.csv", newline="") as stream:
        rows = {row["learner"]: row for row in csv.DictReader(stream)}
    assert rows["alice"]["total"] == "0"  # her kill hit the guard process, not the grader
    assert "killed by signal 9" in rows["alice"]["reasons"]
    assert rows["bob"]["total"] == "10"


def test_a_learner_deleting_classmates_and_the_csv_changes_no_grade(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "aaron.py").write_text(CORRECT + textwrap.dedent(f"""
        import pathlib
        for path in pathlib.Path({str(folder)!r}).iterdir():
            path.unlink()
    """))
    (folder / "bob.py").write_text(CORRECT)
    code, rows = grade_folder(folder)
    assert code == 0
    assert rows["aaron"]["total"] == "10" and rows["bob"]["total"] == "10"


def test_a_learner_tampering_with_the_grader_copies_of_classmates_changes_no_grade(tmp_path):
    """The copies the grader makes are out of reach too: aaron, graded first, looks for his classmates' files
    in the grader's temporary folders, gives bobby's the answer key and deletes cleo's."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "aaron.py").write_text(CORRECT + textwrap.dedent("""
        import pathlib, tempfile
        for path in pathlib.Path(tempfile.gettempdir()).glob("lmcourse-*/**/*.py"):
            if path.name == "bobby.py":
                path.write_text("from lmcourse.tokens import *")
            elif path.name == "cleo.py":
                path.unlink()
    """))
    (folder / "bobby.py").write_text("def tokenize(text):\n    return []\n")  # 0 points, whatever aaron does
    (folder / "cleo.py").write_text(CORRECT)
    code, rows = grade_folder(folder)
    assert code == 0 and list(rows) == ["aaron", "bobby", "cleo"]
    assert rows["aaron"]["total"] == "10" and rows["bobby"]["total"] == "0" and rows["cleo"]["total"] == "10"


def test_entries_that_are_not_files_score_zero_with_a_reason(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").mkdir()
    (folder / "carol.py").symlink_to(tmp_path / "nowhere.py")
    code, rows = grade_folder(folder)
    assert code == 0 and list(rows) == ["alice", "bob", "carol"]
    assert rows["alice"]["total"] == "10"
    assert rows["bob"]["total"] == "0" and "bob.py could not be read (not a regular file)" in rows["bob"]["reasons"]
    assert rows["carol"]["total"] == "0" and "carol.py could not be read (a broken link)" in rows["carol"]["reasons"]


@pytest.mark.parametrize("where", ["a folder", "a missing folder", "a read-only place"])
def test_out_is_checked_before_grading(tmp_path, capsys, where):
    from lmcourse.cli import main

    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text("import time\ntime.sleep(60)\n")  # never graded: it would take a minute
    if where == "a folder":
        out = tmp_path
    elif where == "a missing folder":
        out = tmp_path / "missing" / "grades.csv"
    elif os.geteuid() != 0:
        (tmp_path / "locked").mkdir(mode=0o500)
        out = tmp_path / "locked" / "grades.csv"
    elif sys.platform.startswith("linux"):
        out = Path("/proc/lmcourse-grades.csv")  # root can write anywhere else
    else:
        pytest.skip("no read-only place for root here")
    start = time.monotonic()
    assert main(["grade", "00", "--submissions", str(folder), "--out", str(out)]) == 2
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"lmcourse: error: --out {out}")
