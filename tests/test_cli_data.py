"""The CLI as a user meets it: exit codes, one-line errors, exactly one JSON object on stdout."""

import json
import subprocess
import sys

from conftest import requires_corpus

from lmcourse.cli import main


def lmcourse(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lmcourse", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_unknown_corpus_is_one_line_and_exit_2():
    result = lmcourse("data", "info", "no-such-corpus")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmcourse: error: unknown corpus 'no-such-corpus'")
    assert "Traceback" not in result.stderr


def test_bad_arguments_exit_2_without_traceback():
    result = lmcourse("data", "export", "brown", "--split", "nonsense")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr


def test_data_list_json_is_one_object():
    result = lmcourse("data", "list", "--json")
    assert result.returncode == 0
    listing = json.loads(result.stdout)
    names = [row["name"] for row in listing["corpora"]]
    assert {"brown", "synthetic", "ptb", "wikitext-2", "tinyshakespeare", "treebank"} <= set(names)


@requires_corpus("brown")
def test_data_info_brown_json():
    result = lmcourse("data", "info", "brown", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["name"] == "brown" and info["vocab_size"] == 10_001
    assert info["test"] == {"sentences": 5_642, "words": 115_803, "predicted_tokens": 121_445,
                            "unk_rate": info["test"]["unk_rate"]}
    assert 0.05 < info["test"]["unk_rate"] < 0.15


@requires_corpus("ptb")
def test_data_info_ptb_says_train_is_missing():
    result = lmcourse("data", "info", "ptb")
    assert result.returncode == 0, result.stderr
    assert "train  missing: no ptb.train.txt" in result.stdout
    info = json.loads(lmcourse("data", "info", "ptb", "--json").stdout)
    assert info["train"] is None and "ptb.train.txt" in info["missing"]["train"]


def test_export_to_a_folder_path_is_refused(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "train.txt").write_text("a b\n")
    result = lmcourse("data", "export", str(folder), "--split", "train", "--out", str(tmp_path))
    assert result.returncode == 2 and "is a folder" in result.stderr


def test_data_info_synthetic_shows_the_floor():
    result = lmcourse("data", "info", "synthetic", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for key in ("name", "vocab_size", "train", "valid", "test", "entropy_nats_per_token",
                "entropy_bits_per_token", "floor_perplexity", "grammar"):
        assert key in info, key
    assert info["floor_perplexity"] > 1
    assert abs(info["entropy_bits_per_token"] * 0.6931471805599453 - info["entropy_nats_per_token"]) < 1e-9
    assert info["grammar"].endswith(".pcfg")
    human = lmcourse("data", "info", "synthetic")
    assert "floor perplexity" in human.stdout and "Traceback" not in human.stderr


def test_export_can_rename_unk_for_kenlm(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "train.txt").write_text("a b a\n")
    (folder / "test.txt").write_text("a zebra\n")
    result = lmcourse("data", "export", str(folder), "--split", "test", "--unk-as", "UNK")
    assert result.returncode == 0 and result.stdout == "a UNK\n"
    clash = lmcourse("data", "export", str(folder), "--split", "test", "--unk-as", "a")
    assert clash.returncode == 2 and "already in the vocabulary" in clash.stderr


def test_export_out_is_checked_before_any_work_like_arpa(tmp_path, capsys):
    for out, message in ((tmp_path / "missing" / "test.txt", "does not exist (create it first)"),
                         (tmp_path, "it is a folder")):
        assert main(["data", "export", "synthetic", "--split", "test", "--out", str(out)]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("lmcourse: error: cannot write --out") and message in error and "\n" not in error
    assert not (tmp_path / "missing").exists()
