"""Writing files safely: no half-written file, special files written in place, links followed."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys

from lmcourse.files import atomic_write_text


def test_a_device_or_fifo_is_written_directly_never_replaced(tmp_path):
    atomic_write_text("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    atomic_write_text(fifo, "through the pipe")
    assert reader.communicate(timeout=10)[0] == b"through the pipe"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_text("old")
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_file_size_limit_is_a_one_line_error_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "train.txt"

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run([sys.executable, "-m", "lmcourse", "data", "export", "synthetic", "--split", "train",
                           "--out", str(out)], capture_output=True, text=True, preexec_fn=limit_file_size,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("lmcourse: error: File too large")
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
