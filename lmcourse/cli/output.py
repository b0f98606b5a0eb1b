"""Printing results: one JSON object on stdout with ``--json``, readable lines otherwise.

Progress and logs always go to stderr, so that ``lmcourse ... --json | python -m json.tool`` works.
"""

from __future__ import annotations

import errno
import json
import math
import sys
from collections.abc import Sequence


def json_safe(value):
    """Replace non-finite floats (``inf`` perplexity of an unsmoothed model) with ``None`` for JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_safe(value.item())
    return value


def emit(result: dict, as_json: bool, human_lines: Sequence[str]) -> None:
    if as_json:
        write_stdout(json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n")
    else:
        write_stdout("".join(line + "\n" for line in human_lines))


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout in full, or raise ``OSError``.

    Python's text stdout ignores a short write of the file underneath (a file-size limit reached: the rest is
    silently dropped and the command exits 0), so the bytes go through ``sys.stdout.buffer`` here, written
    until all are out; a write that makes no progress is the file-size error it is.
    """
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout (a notebook, a test's capture): its own write
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    sys.stdout.flush()
    data = memoryview(text.encode(sys.stdout.encoding or "utf-8", errors=sys.stdout.errors or "strict"))
    while data:
        written = buffer.write(data)
        buffer.flush()  # a short write shows here, not in a later call
        if not written:
            raise OSError(errno.EFBIG, "File too large", "<stdout>")
        data = data[written:]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
