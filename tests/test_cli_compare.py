"""``lmcourse compare`` on the command line: one JSON object with --json, the report and figures written, and
every bad option refused in one line before any work (and before any folder is made)."""

from __future__ import annotations

import os
import stat

import pytest
from cli_checks import refused, run_json


def test_json_is_one_object_and_the_report_is_written(tmp_path, capsys):
    out = tmp_path / "cmp"
    result = run_json(capsys, ["compare", "--budget", "tiny", "--models", "mkn-2,mkn-5,lstm", "--out", str(out),
                               "--json"])
    assert list(result["rows"]) == ["mkn-2", "mkn-5", "lstm"]
    report = (out / "results.md").read_text()
    assert "| model |" in report and "Unfinished" not in report
    for figure in ("perplexity_by_model.png", "perplexity_vs_order.png", "learning_curves.png", "agreement.png"):
        assert f"]({figure})" in report
        assert (out / figure).stat().st_size > 10_000
    assert not (out / "perplexity_vs_size.png").exists()  # no scaling rows asked for: no empty figure


def test_the_table_is_printed_without_json(tmp_path, capsys):
    from lmcourse.cli import main

    assert main(["compare", "--budget", "tiny", "--models", "mkn-1", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("| model |") and "modified Kneser-Ney, order 1" in captured.out
    assert "[1/1] modified Kneser-Ney, order 1 on synthetic" in captured.err  # progress on stderr


@pytest.mark.parametrize("argv, message", [
    (["--models", "bogus"], "--models: 'bogus'"),
    (["--budget", "huge"], "invalid choice"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--corpus", "no-such-corpus"], "no-such-corpus"),
    (["--resume"], "does not exist"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert message in refused(capsys, ["compare", "--out", str(out), *argv])
    assert not out.exists()


def test_an_out_that_is_a_file_or_cannot_be_made_is_refused_before_work(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert "is a file" in refused(capsys, ["compare", "--out", str(a_file)])
    assert "cannot be written" in refused(capsys, ["compare", "--out", str(a_file / "below")])
    assert "--out is empty" in refused(capsys, ["compare", "--out", ""])  # not the current folder
    if os.geteuid() != 0:  # root writes to read-only folders
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            assert "cannot be written" in refused(capsys, ["compare", "--out", str(locked / "out")])
        finally:
            locked.chmod(stat.S_IRWXU)


def test_a_failing_model_is_reported_after_the_partial_report_is_written(tmp_path, capsys, monkeypatch):
    from lmcourse.cli import main
    from lmcourse.compare.runner import Comparison
    from lmcourse.errors import UserError

    def refuse(self, run, data):
        raise UserError("the training split is too short for --batch 8: use a smaller batch")

    monkeypatch.setattr(Comparison, "_fit_neural", refuse)
    assert main(["compare", "--budget", "tiny", "--models", "mkn-1,lstm", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("lmcourse: error: the training split")
    report = (tmp_path / "results.md").read_text()
    assert "Unfinished run" in report and "modified Kneser-Ney, order 1" in report
