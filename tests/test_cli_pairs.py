"""``lmcourse data pairs`` and ``lmcourse pairs``: end to end, one JSON object with --json, and one-line
errors (exit 2) before any work."""

from __future__ import annotations

import json

import pytest
from cli_checks import refused, run_json

from lmcourse.cli import main
from lmcourse.compare.agreement import read_pairs_tsv

KN3 = ["--corpus", "synthetic", "--order", "3", "--smoothing", "kn"]
SCORE_KEYS = {"pairs", "accuracy", "correct", "by_distance", "by_attractors", "unk_words", "pairs_with_unk", "ties"}


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pairs") / "pairs.tsv"
    assert main(["data", "pairs", "synthetic", "--out", str(path), "--n", "300"]) == 0
    return path


def test_data_pairs_writes_the_tsv_seeded(capsys, pairs_file, tmp_path):
    pairs = read_pairs_tsv(pairs_file)
    assert len(pairs) == 300 and max(p.distance for p in pairs) >= 10
    assert all(len(line.split("\t")) == 4 for line in pairs_file.read_text(encoding="utf-8").splitlines())
    again = tmp_path / "again.tsv"
    assert main(["data", "pairs", "synthetic", "--out", str(again), "--n", "300"]) == 0
    assert again.read_bytes() == pairs_file.read_bytes()
    assert "wrote 300 minimal pairs" in capsys.readouterr().err
    assert main(["data", "pairs", "synthetic", "--n", "5", "--seed", "3", "--plain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines != pairs_file.read_text(encoding="utf-8").splitlines()[:5]


@pytest.mark.parametrize("argv, message", [
    (["data", "pairs", "brown", "--out", "x.tsv"], "corpus 'brown' has none: use one of synthetic, synthetic-simple"),
    (["data", "pairs", "synthetic", "--n", "0"], "--n must be at least 1"),
    (["data", "pairs", "synthetic", "--seed", "-1"], "--seed must be >= 0"),
    (["data", "pairs", "synthetic", "--out", "/no/such/folder/p.tsv"], "does not exist"),
])
def test_data_pairs_refuses_bad_options(capsys, argv, message):
    assert message in refused(capsys, argv)


def test_pairs_with_an_ngram_model_prints_one_json_object(capsys, pairs_file):
    result = run_json(capsys, ["pairs", "--pairs", str(pairs_file), *KN3, "--json"])
    assert SCORE_KEYS <= set(result) and result["pairs"] == 300
    assert result["model"] == "KneserNey" and result["order"] == 3 and result["corpus"] == "synthetic"
    assert 0.5 < result["accuracy"] < 0.9 and result["unk_words"] == 0
    assert result["by_distance"]["1"]["accuracy"] > result["accuracy"]
    assert sum(row["pairs"] for row in result["by_attractors"].values()) == 300


def test_pairs_prints_the_tables(capsys, pairs_file):
    assert main(["pairs", "--pairs", str(pairs_file), "--ngram", *KN3]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "by subject-verb distance" in out and "by attractors" in out


def test_out_of_vocabulary_words_are_counted_and_noted(capsys, tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("the dog runs\tthe dog run\nthe wug runs\tthe wug run\n", encoding="utf-8")
    assert main(["pairs", "--pairs", str(path), *KN3, "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["unk_words"] == 2 and result["pairs_with_unk"] == 1 and result["by_distance"] == {}
    assert "scored as <unk>" in captured.err


def test_pairs_with_a_checkpoint(capsys, pairs_file, tmp_path):
    checkpoint = tmp_path / "lstm"
    assert main(["train", "lstm", "--corpus", "synthetic", "--preset", "tiny", "--checkpoint", str(checkpoint)]) == 0
    capsys.readouterr()
    result = run_json(capsys, ["pairs", "--pairs", str(pairs_file), "--checkpoint", str(checkpoint), "--json"])
    assert result["model"] == "lstm" and result["pairs"] == 300 and 0 <= result["accuracy"] <= 1
    assert SCORE_KEYS <= set(result)


@pytest.mark.parametrize("options, message", [
    ([], "say which model to score"),
    (["--checkpoint", "runs/x", *KN3], "give --checkpoint or an N-gram model, not both"),
    (["--checkpoint", "runs/x", "--ngram"], "not both: --ngram"),
    (["--corpus", "synthetic", "--order", "3"], "needs --smoothing"),
    (["--ngram"], "needs --corpus, --order, --smoothing"),
    (["--corpus", "synthetic", "--order", "0", "--smoothing", "kn"], "--order must be at least 1"),
])
def test_pairs_refuses_bad_options_before_any_work(capsys, pairs_file, options, message):
    assert message in refused(capsys, ["pairs", "--pairs", str(pairs_file), *options])


def test_a_bad_pairs_file_is_refused_before_fitting(capsys, tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("the dog runs\tthe dog run\t0\t1\nno tab here\n", encoding="utf-8")
    assert f"{path}, line 2: no tab" in refused(capsys, ["pairs", "--pairs", str(path), *KN3])
    assert "does not exist" in refused(capsys, ["pairs", "--pairs", str(tmp_path / "none.tsv"), *KN3])
