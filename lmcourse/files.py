"""Writing files safely: a reader sees the old file or the whole new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lmcourse.errors import UserError


@contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, on error delete it.

    ``suffix`` lets writers that insist on an extension (``np.savez`` wants ``.npz``) have one. A symbolic
    link is followed (its target is replaced, the link stays); a special file that exists (``/dev/null``, a
    FIFO, a device) is written directly, never replaced by a regular file.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file() and not path.is_dir():
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a finished file gets the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        if error.filename is None:  # a failed write names no file: name the one being written
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_path(path: str | os.PathLike, what: str) -> Path:
    """Refuse, before any work, an output path that is a folder, whose folder does not exist, or that cannot
    be written; ``what`` names the output in the message ("ARPA file", "--out").

    As :func:`atomic_output` writes it: a special file (a device, a FIFO) must be writable itself; anything
    else is written beside its target (a link's target) and renamed onto it, so a file must really be
    creatable in that folder (tried, not read off the permission bits, which root passes everywhere).
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"cannot write {what} {path}: it is a folder; give a file name inside it")
    target = path.resolve() if path.is_symlink() else path
    parent = target.parent
    if not parent.is_dir():
        raise UserError(f"cannot write {what} {path}: the folder {parent} does not exist (create it first)")
    if target.exists() and not target.is_file():
        writable = os.access(target, os.W_OK)
    else:
        writable = (not target.exists() or os.access(target, os.W_OK)) and can_create_file_in(parent)
    if not writable:
        raise UserError(f"cannot write {what} {path}: permission denied; choose a folder you can write to")
    return path


def can_create_file_in(folder: Path) -> bool:
    """Whether a new file can be made in ``folder`` (one is made and removed at once)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".lmcourse-check-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True
