"""Printing results: one JSON object on stdout with ``--json``, readable lines otherwise.

Progress and logs always go to stderr, so that ``lmcourse ... --json | python -m json.tool`` works.
"""

from __future__ import annotations

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
        print(json.dumps(json_safe(result), indent=2, allow_nan=False))
    else:
        for line in human_lines:
            print(line)
    sys.stdout.flush()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
