"""``lmcourse ngram`` and ``lmcourse sample --ngram``: the JSON result, and one-line errors (exit 2) for bad
options, found before any fitting."""

from __future__ import annotations

import json

import pytest
from cli_checks import refused, run_json
from conftest import requires_corpus

from lmcourse.cli import main

TRAIN = [s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat ran on a mat", "the cat",
                             "a dog sat on the cat", "the mat ran"]]
TEST = [["the", "cat", "ran", "zebra"], ["a", "dog"], ["mat", "the", "cat", "sat"]]


@pytest.fixture
def folder_corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, sentences in (("train", TRAIN), ("valid", TEST), ("test", TEST)):
        (folder / f"{name}.txt").write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return folder


def test_cli_ngram_json(folder_corpus, capsys, tmp_path):
    arpa = tmp_path / "model.arpa"
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "3", "--smoothing", "mkn",
                               "--json", "--arpa", str(arpa)])
    for key in ("corpus", "model", "order", "smoothing", "valid_perplexity", "test_perplexity",
                "predicted_tokens", "fit_seconds", "score_seconds", "ngram_counts", "discounts"):
        assert key in result
    assert result["predicted_tokens"] == {"valid": 13, "test": 13}  # 10 words + 3 </s>
    assert "valid_predicted_tokens" not in result  # one shape: predicted_tokens by split, as `lmcourse train`
    assert result["discount_fallback"] == {"1": True, "2": True, "3": True}  # 13 tokens: no n3, n4
    assert set(result["discounts"]) == {"1", "2", "3"} and result["valid_perplexity"] > 1
    assert "floor_perplexity" not in result and "valid_bits_per_character" not in result  # a word folder
    assert arpa.is_file() and arpa.read_text().startswith("\\data\\")


def test_cli_mle_infinite_perplexity_is_null_with_a_note(folder_corpus, capsys):
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "mle",
                               "--json"])
    assert result["valid_perplexity"] is None and "infinite" in result["note"]


def test_cli_stupid_backoff_has_no_perplexity(folder_corpus, capsys):
    result = run_json(capsys, ["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing",
                               "stupid", "--alpha", "0.5", "--json"])
    assert result["test_perplexity"] is None and "unnormalized" in result["note"]
    assert result["alpha"] == 0.5


def test_cli_sample(folder_corpus, capsys):
    argv = ["sample", "--ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "kn",
            "--n", "3", "--seed", "1", "--json"]
    first = run_json(capsys, argv)
    assert len(first["sentences"]) == 3 and first == run_json(capsys, argv)


@pytest.mark.parametrize("options, message", [
    (["--smoothing", "stupid", "--alpha", "2"], "stupid backoff needs 0 < alpha <= 1 (got 2.0)"),
    (["--smoothing", "stupid", "--alpha", "nan"], "stupid backoff needs 0 < alpha <= 1 (got nan)"),
    (["--smoothing", "addk", "--k", "0"], "add-k smoothing needs a finite k > 0 (got 0.0)"),
    (["--smoothing", "addk", "--k", "inf"], "add-k smoothing needs a finite k > 0 (got inf)"),
    (["--smoothing", "mkn", "--k", "2"], "--k applies to --smoothing addk only, not mkn"),
    (["--smoothing", "mle", "--alpha", "0.4"], "--alpha applies to --smoothing stupid only, not mle"),
    (["--smoothing", "mkn", "--order", "0"], "--order must be at least 1"),
    (["--smoothing", "mkn", "--prune", "0 1 2 3"], "4 pruning thresholds (orders 1 through 4) but the model "
                                                   "has order 2"),
    (["--smoothing", "mkn", "--prune", "1 1"], "unigrams cannot be pruned"),
    (["--smoothing", "mkn", "--prune", ""], "--prune needs one count per order"),
    (["--smoothing", "mkn", "--prune", "0 x"], "integer counts per order"),
    (["--smoothing", "addk", "--prune", "0 1"], "--prune needs a normalized backoff-form model"),
    (["--smoothing", "stupid", "--arpa", "x.arpa"], "--arpa needs a normalized backoff-form model"),
])
def test_cli_ngram_refuses_bad_options_before_fitting(folder_corpus, capsys, options, message):
    argv = ["ngram", "--corpus", str(folder_corpus), "--order", "2", *options]
    assert message in refused(capsys, argv)


def test_cli_ngram_refuses_bad_arpa_targets_before_fitting(folder_corpus, capsys, tmp_path):
    base = ["ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "mkn", "--arpa"]
    missing = tmp_path / "no" / "such" / "dir" / "x.arpa"
    assert "the folder" in refused(capsys, [*base, str(missing)])
    assert not (tmp_path / "no").exists()  # the missing folder was not created
    assert "it is a folder" in refused(capsys, [*base, str(tmp_path)])


@pytest.mark.parametrize("temperature", ["nan", "inf", "0", "-1"])
def test_cli_sample_refuses_bad_temperatures(folder_corpus, capsys, temperature):
    argv = ["sample", "--ngram", "--corpus", str(folder_corpus), "--order", "2", "--smoothing", "kn",
            "--temperature", temperature]
    assert "temperature must be a finite number > 0" in refused(capsys, argv)


def test_cli_synthetic_reports_the_floor(capsys):
    argv = ["ngram", "--corpus", "synthetic-simple", "--order", "3", "--smoothing", "mkn"]
    result = run_json(capsys, [*argv, "--json"])
    assert result["floor_perplexity"] > 1
    assert result["below_floor"] is False
    assert result["test_perplexity"] > result["floor_perplexity"]
    assert main(argv) == 0
    assert "floor of the grammar" in capsys.readouterr().out


@requires_corpus("tinyshakespeare-char")
def test_cli_char_corpus_reports_bits_per_character(capsys):
    result = run_json(capsys, ["ngram", "--corpus", "tinyshakespeare-char", "--order", "3", "--smoothing", "kn",
                               "--json"])
    for split_name in ("valid", "test"):
        assert result[f"{split_name}_bits_per_character"] == pytest.approx(
            result[f"{split_name}_cross_entropy_bits"])
        assert isinstance(result["predicted_tokens"][split_name], int)


def test_cli_says_where_the_discount_fallback_is_used(capsys):
    argv = ["ngram", "--corpus", "synthetic", "--order", "2", "--smoothing", "mkn", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["discount_fallback"] == {"1": True, "2": False}
    assert result["discounts"]["1"] == [0.5, 1.0, 1.5] and result["discounts"]["2"] != [0.5, 1.0, 1.5]
    assert "note: at order 1 the counts of counts do not define the discounts" in captured.err


def test_min_count_is_refused_on_a_registered_corpus(capsys):
    for value in ("0", "-3", "2"):
        assert "--min-count applies to folder corpora only" in refused(
            capsys, ["ngram", "--corpus", "synthetic", "--order", "2", "--smoothing", "kn", "--min-count", value])
