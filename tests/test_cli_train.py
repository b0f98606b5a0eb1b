"""``lmcourse train``, ``eval`` and ``sample --checkpoint``: the JSON result, and one-line errors (exit 2)
for bad options before any work starts."""

from __future__ import annotations

import json

import pytest
from cli_checks import refused, run_json

from lmcourse.cli import main

TINY = ["train", "lstm", "--corpus", "synthetic", "--preset", "tiny"]
KEYS = {"corpus", "model", "parameters", "valid_perplexity", "test_perplexity", "train_tokens_per_second",
        "wall_seconds", "epochs", "steps", "checkpoint"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lstm")
    assert main([*TINY, "--checkpoint", str(folder), "--json"]) == 0
    return folder


def test_train_json_has_the_figures_and_the_checkpoint(capsys, tmp_path):
    result = run_json(capsys, [*TINY, "--checkpoint", str(tmp_path / "run"), "--json"])
    assert KEYS <= set(result)
    assert result["steps"] == 40 and result["corpus"] == "synthetic" and result["model"] == "lstm"
    assert result["predicted_tokens"] == {"valid": 22_200, "test": 22_177}
    assert result["floor_perplexity"] < result["test_perplexity"] and result["below_floor"] is False
    assert result["valid_perplexity"] == pytest.approx(result["best_valid_perplexity"])
    assert {"best.pt", "last.pt", "log.json"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert json.loads((tmp_path / "run" / "log.json").read_text()) == result["log"]


def test_options_override_the_preset(capsys):
    result = run_json(capsys, [*TINY, "--hidden", "12", "--steps", "5", "--optimizer", "sgd", "--lr", "1", "--json"])
    assert result["config"]["hidden"] == 12 and result["config"]["emb"] == 16
    assert result["steps"] == 5 and result["training"]["optimizer"] == "sgd"


def test_eval_rescoring_gives_the_training_figures(capsys, trained):
    trained_result = json.loads((trained / "log.json").read_text())[-1]
    result = run_json(capsys, ["eval", "--checkpoint", str(trained), "--json"])
    assert result["valid_perplexity"] == pytest.approx(trained_result["valid_perplexity"], rel=1e-9)
    only_test = run_json(capsys, ["eval", "--checkpoint", str(trained), "--split", "test", "--json"])
    assert "valid_perplexity" not in only_test and only_test["test_perplexity"] == result["test_perplexity"]


def test_sample_from_a_checkpoint_is_seeded(capsys, trained):
    argv = ["sample", "--checkpoint", str(trained), "--n", "4", "--json"]
    first = run_json(capsys, [*argv, "--seed", "2"])
    assert len(first["sentences"]) == 4 and first == run_json(capsys, [*argv, "--seed", "2"])
    assert run_json(capsys, [*argv, "--seed", "3"])["sentences"] != first["sentences"]


@pytest.mark.parametrize("options, message", [
    (["--hidden", "0"], "--hidden must be at least 1"),
    (["--layers", "-2"], "--layers must be at least 1"),
    (["--emb", "0"], "--emb must be at least 1"),
    (["--dropout", "1"], "--dropout must be in [0, 1)"),
    (["--dropout", "-0.1"], "--dropout must be in [0, 1)"),
    (["--time-budget", "0"], "--time-budget must be a number > 0"),
    (["--time-budget", "-3"], "--time-budget must be a number > 0"),
    (["--batch", "0"], "--batch must be a number > 0"),
    (["--lr", "0"], "--lr must be a number > 0"),
    (["--preset", "nonsense"], "unknown preset 'nonsense'"),
    (["--preset", "brown-30min"], "preset 'brown-30min' is for lstm, not"),
    (["--optimizer", "adam"], "unknown --optimizer"),
    (["--adaptive-softmax", "a,b"], "--adaptive-softmax takes increasing integers"),
    (["--tie", "--adaptive-softmax", "100"], "cannot be combined"),
    (["--resume"], "--resume needs --checkpoint"),
    (["--device", "cuda"], "no CUDA device here"),
    (["--corpus", "no-such-corpus"], "no-such-corpus"),
])
def test_bad_options_are_one_line_errors(capsys, options, message):
    kind = "gru" if "brown-30min" in options else "lstm"
    argv = ["train", kind, "--corpus", "synthetic", "--preset", "tiny", *options]
    if "--preset" in options:
        argv = ["train", kind, "--corpus", "synthetic", *options]
    assert message in refused(capsys, argv)


def test_sample_needs_one_source(capsys, trained):
    assert "say which model to sample from" in refused(capsys, ["sample"])
    assert "sample --ngram needs --order" in refused(capsys, ["sample", "--ngram", "--corpus", "synthetic",
                                                              "--smoothing", "kn"])
    assert "apply to --ngram only" in refused(capsys, ["sample", "--checkpoint", str(trained), "--order", "3"])
    assert "--seed must be >= 0" in refused(capsys, ["sample", "--checkpoint", str(trained), "--seed", "-1"])


def test_usage_errors_are_one_line_without_the_usage(capsys):
    assert "the following arguments are required: --corpus (see `lmcourse train --help`)" in refused(
        capsys, ["train", "lstm"])
    assert "invalid choice: 'gpt'" in refused(capsys, ["train", "gpt", "--corpus", "synthetic"])
