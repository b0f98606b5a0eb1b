"""Running ``lmcourse`` in-process in the CLI tests: a JSON result, or a refusal before any work."""

from __future__ import annotations

import json

from lmcourse.cli import main


def run_json(capsys, argv) -> dict:
    """Run a command that must succeed with ``--json``; return its one JSON object."""
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def refused(capsys, argv) -> str:
    """Run a command that must fail with exit 2 before any work (fitting, training); return its one-line error."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "fitting" not in captured.err and "training" not in captured.err  # refused before any work
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmcourse: error: "), captured.err
    return lines[0]
