"""The comparison runner (lmcourse.compare.runner) on the ``tiny`` budget: every row on the same predicted tokens,
rows equal to the single-model commands, each row saved as it finishes, SIGKILL / Ctrl-C / a failing model
leaving the finished rows, and ``--resume`` giving the same figures as a run that was never stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_checks import run_json
from conftest import requires_corpus

from lmcourse.compare.agreement import read_pairs_tsv
from lmcourse.compare.budgets import plan
from lmcourse.compare.runner import RESULTS_FILE, Comparison, safe_name, train_prefix
from lmcourse.data import load_corpus
from lmcourse.errors import UserError

FIGURES = ("valid_perplexity", "test_perplexity", "valid_cross_entropy_bits", "test_cross_entropy_bits")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "tiny"
    results = Comparison("synthetic", "tiny", out=out, progress_bar=False).run()
    return out, results


def test_every_row_of_the_budget_is_scored_on_the_same_tokens(tiny):
    _, results = tiny
    assert list(results["rows"]) == [run.name for run in plan("tiny")]
    corpus = load_corpus("synthetic")
    expected = {"valid": corpus.split("valid").num_predicted, "test": corpus.split("test").num_predicted}
    for name, row in results["rows"].items():
        assert row["predicted_tokens"] == expected, name
        if name.startswith("mle-") and name != "mle-1":   # unseen N-grams of test: p = 0
            assert row["test_perplexity"] is None and "infinite" in row["note"]
        else:
            assert row["test_perplexity"] > row["floor_perplexity"], name
    assert results["finished"]


def test_saved_results_equal_the_returned_ones(tiny):
    out, results = tiny
    saved = json.loads((out / RESULTS_FILE).read_text())
    assert saved["rows"].keys() == results["rows"].keys()
    for name in results["rows"]:
        for key in FIGURES:
            assert saved["rows"][name][key] == results["rows"][name][key]
    assert {"cores", "torch_threads", "device", "torch", "numpy", "lmcourse"} <= saved["machine"].keys()


def test_the_kn5_row_equals_lmcourse_ngram(tiny, capsys):
    _, results = tiny
    single = run_json(capsys, ["ngram", "--corpus", "synthetic", "--order", "5", "--smoothing", "mkn", "--json"])
    for key in FIGURES:
        assert results["rows"]["mkn-5"][key] == single[key]


@pytest.mark.parametrize("name", ["lstm", "transformer", "lstm@10%"])
def test_a_neural_row_equals_lmcourse_eval_on_its_checkpoint(tiny, capsys, name):
    out, results = tiny
    evaluated = run_json(capsys, ["eval", "--checkpoint", str(out / "checkpoints" / name), "--json"])
    for key in FIGURES:
        assert results["rows"][name][key] == evaluated[key]


def test_scaling_rows_train_on_a_prefix_with_the_same_vocabulary(tiny):
    _, results = tiny
    rows = results["rows"]
    corpus = load_corpus("synthetic")
    for base in ("mkn-5", "lstm", "transformer"):
        full = rows[base]["train_tokens"]
        assert full == corpus.split("train").num_predicted
        for share in (10, 30):
            assert rows[f"{base}@{share}%"]["train_tokens"] == pytest.approx(full * share / 100, rel=0.02)
    assert rows["mkn-5@10%"]["test_perplexity"] > rows["mkn-5@30%"]["test_perplexity"] > rows["mkn-5"][
        "test_perplexity"]


def test_train_prefix_cuts_whole_sentences():
    corpus = load_corpus("synthetic")
    prefix = train_prefix(corpus, 0.1).split("train")
    train = corpus.split("train")
    assert prefix.num_sentences == round(train.num_sentences * 0.1)
    assert np.array_equal(prefix.tokens, train.tokens[: len(prefix.tokens)])
    assert prefix.tokens[-1] == train.tokens[prefix.sentence_starts[-1] - 1]   # ends with a </s>
    assert train_prefix(corpus, 1.0) is corpus


def test_saved_log_probs_and_pairs(tiny):
    out, results = tiny
    for name, row in results["rows"].items():
        log_p = np.load(out / "log_probs" / f"{safe_name(name)}.npy")
        assert log_p.dtype == np.float32 and len(log_p) == row["predicted_tokens"]["test"]
        if row["test_perplexity"] is not None:
            assert np.exp(-log_p.astype(np.float64).mean()) == pytest.approx(row["test_perplexity"], rel=1e-6)
    pairs = read_pairs_tsv(out / "pairs.tsv")
    assert len(pairs) == results["pairs"]["count"]
    assert all(row["agreement"]["pairs"] == len(pairs) for row in results["rows"].values())


def cli(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lmcourse", "compare", "--budget", "tiny", "--out", str(out), *extra]


def start_and_stop(out: Path, how: int, rows: int = 4) -> subprocess.CompletedProcess:
    """Start a tiny comparison, send ``how`` once ``rows`` rows are saved, return the finished process."""
    # SIGINT back to its default in the child: a suite started in the background by a non-interactive shell
    # (`cmd &`) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    process = subprocess.Popen(cli(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if len(json.loads((out / RESULTS_FILE).read_text())["rows"]) >= rows:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    process.send_signal(how)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_sigkill_keeps_the_finished_rows_and_resume_gives_the_same_figures(tiny, tmp_path):
    _, uninterrupted = tiny
    out = tmp_path / "killed"
    stopped = start_and_stop(out, signal.SIGKILL)
    assert stopped.returncode == -signal.SIGKILL
    kept = json.loads((out / RESULTS_FILE).read_text())["rows"]
    assert 4 <= len(kept) < len(uninterrupted["rows"])
    resumed = subprocess.run(cli(out, "--resume", "--json"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "rows already done" in resumed.stderr
    rows = json.loads(resumed.stdout)["rows"]
    assert list(rows) == list(uninterrupted["rows"])
    for name, row in rows.items():  # same seed, same machine: the same figures, N-gram and neural
        for key in FIGURES:
            assert row[key] == uninterrupted["rows"][name][key], (name, key)
    for name in kept:  # rows done before the kill are kept, not recomputed
        assert rows[name]["fit_seconds"] == kept[name]["fit_seconds"]


def test_ctrl_c_prints_the_partial_table_without_a_traceback(tmp_path):
    out = tmp_path / "interrupted"
    stopped = start_and_stop(out, signal.SIGINT)
    assert stopped.returncode == 130
    assert "Traceback" not in stopped.stderr
    assert "interrupted:" in stopped.stderr and "--resume" in stopped.stderr
    assert "| model |" in stopped.stderr  # the partial table
    saved = json.loads((out / RESULTS_FILE).read_text())
    assert len(saved["rows"]) >= 4 and "finished" not in saved
    assert "Unfinished run" in (out / "results.md").read_text()


def test_a_failing_model_leaves_the_rows_before_it(tmp_path, monkeypatch):
    def broken(self, run, data):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(Comparison, "_fit_neural", broken)
    comparison = Comparison("synthetic", "tiny", out=tmp_path, models="mkn-1,mkn-2,lstm", progress_bar=False)
    with pytest.raises(RuntimeError):
        comparison.run()
    assert list(json.loads((tmp_path / RESULTS_FILE).read_text())["rows"]) == ["mkn-1", "mkn-2"]


def test_resume_refuses_another_run(tiny, tmp_path):
    out, _ = tiny
    with pytest.raises(UserError, match="budget 'quick'"):
        Comparison("synthetic", "quick", out=out, resume=True)
    with pytest.raises(UserError, match="seed 3"):
        Comparison("synthetic", "tiny", out=out, seed=3, resume=True)
    with pytest.raises(UserError, match="does not exist"):
        Comparison("synthetic", "tiny", out=tmp_path / "none", resume=True)
    (tmp_path / "bad").mkdir()
    for damaged in ("{not json", '{"corpus": "synthetic", "budget": "tiny", "seed": 0, "rows": {"mkn-1": 5}}',
                    '{"corpus": "synthetic", "budget": "tiny", "seed": 0, "rows": {"bogus": {}}}', "[]"):
        (tmp_path / "bad" / RESULTS_FILE).write_text(damaged)
        with pytest.raises(UserError, match="not a results file"):
            Comparison("synthetic", "tiny", out=tmp_path / "bad", resume=True)


@requires_corpus("brown")
def test_the_brown_kn5_row_equals_lmcourse_ngram(tmp_path, capsys):
    results = Comparison("brown", "full", out=tmp_path, models="mkn-5", progress_bar=False).run()
    single = run_json(capsys, ["ngram", "--corpus", "brown", "--order", "5", "--smoothing", "mkn", "--json"])
    for key in FIGURES:
        assert results["rows"]["mkn-5"][key] == single[key]
    assert "agreement" not in results["rows"]["mkn-5"] and "pairs" not in results  # brown has no grammar


def test_a_missing_or_damaged_log_probs_file_costs_its_interval_only(tiny, capsys):
    out, results = tiny
    corpus = load_corpus("synthetic")
    comparison = Comparison("synthetic", "tiny", out=out, resume=True, progress_bar=False)
    kept = (out / "log_probs" / "lstm.npy").read_bytes()
    try:
        (out / "log_probs" / "lstm.npy").write_bytes(b"not an array")
        (out / "log_probs" / "rnn.npy").unlink()
        differences = comparison.paired_differences(corpus)
    finally:
        (out / "log_probs" / "lstm.npy").write_bytes(kept)
        np.save(out / "log_probs" / "rnn.npy", np.zeros(0, dtype=np.float32))  # the next check: a wrong length
    assert [(d["a"], d["b"]) for d in differences] == [("transformer", "mkn-5")]
    assert "no interval for rnn - mkn-5" in capsys.readouterr().err
    assert len(comparison.paired_differences(corpus)) == 3  # lstm back; rnn's file has the wrong length
