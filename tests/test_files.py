"""Writing files safely: no half-written file, special files written in place, links followed."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lmcourse.errors import UserError
from lmcourse.files import atomic_write_text, check_output_path


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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: a folder where no file can be made")
def test_a_folder_where_no_file_can_be_made_is_refused_before_any_work():
    """Not only the permission bits (root passes those everywhere): a file must really be creatable there."""
    with pytest.raises(UserError, match=r"^cannot write --out /proc/lmcourse-test.txt: permission denied; choose "):
        check_output_path("/proc/lmcourse-test.txt", "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_writable_file_in_a_read_only_folder_is_refused(tmp_path):
    """The new file is written beside the old one and renamed onto it: the folder must be writable too."""
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "out.txt").write_text("old")
    locked.chmod(0o500)
    try:
        with pytest.raises(UserError, match="permission denied"):
            check_output_path(locked / "out.txt", "--out")
    finally:
        locked.chmod(0o700)


def test_a_special_file_needs_only_to_be_writable_itself():
    assert check_output_path("/dev/null", "--out") == Path("/dev/null")
