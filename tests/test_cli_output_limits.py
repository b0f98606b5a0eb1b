"""A full disk or a file-size limit while writing a result: a one-line error and exit code 2, never a silently
cut file with exit 0 (Python's text stdout drops what a short write leaves out), never a traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT = 10_240  # bytes: far below the 1.2 MB of synthetic's train split


def lmcourse(args: list[str], stdout, limit: int | None = LIMIT) -> subprocess.CompletedProcess:
    def cap_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "lmcourse", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, preexec_fn=cap_file_size if limit else None, timeout=120)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmcourse: error: "), stderr
    return lines[0]


def test_stdout_redirected_to_a_file_past_the_size_limit(tmp_path):
    with open(tmp_path / "train.txt", "w") as out:
        done = lmcourse(["data", "export", "synthetic", "--split", "train"], out)
    assert done.returncode == 2
    assert "File too large writing to stdout: what was written there is incomplete" in one_error_line(done.stderr)


def test_out_past_the_size_limit_leaves_no_file(tmp_path):
    target = tmp_path / "train.txt"
    done = lmcourse(["data", "export", "synthetic", "--split", "train", "--out", str(target)], subprocess.PIPE)
    assert done.returncode == 2
    assert f"writing {target}: no partial file was kept" in one_error_line(done.stderr)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_stdout_on_a_full_device():
    with open("/dev/full", "w") as full:
        done = lmcourse(["data", "pairs", "synthetic", "--n", "50"], full, limit=None)
    assert done.returncode == 2
    assert "No space left on device writing to stdout" in one_error_line(done.stderr)


def test_a_small_result_under_the_limit_is_written_in_full(tmp_path):
    with open(tmp_path / "info.json", "w") as out:
        done = lmcourse(["data", "info", "synthetic", "--json"], out)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "info.json").read_text().rstrip().endswith("}")
    assert os.path.getsize(tmp_path / "info.json") < LIMIT
