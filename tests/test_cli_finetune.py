"""``lmcourse train mlm``, ``lmcourse finetune`` and ``lmcourse classify``: one JSON object, a saved classifier
that ``classify`` reads, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import pytest
import torch
from cli_checks import refused, run_json
from conftest import requires_corpus

from lmcourse.cli import main
from lmcourse.data import load_corpus

TINY_MLM = ["train", "mlm", "--corpus", "synthetic", "--preset", "tiny", "--pseudo-perplexity-tokens", "200"]


def test_train_mlm_reports_masked_figures_and_no_perplexity(capsys, tmp_path):
    result = run_json(capsys, [*TINY_MLM, "--checkpoint", str(tmp_path), "--json"])
    assert result["model"] == "mlm" and result["test_perplexity"] is None
    assert 0 <= result["test_masked_accuracy"] <= 1 and result["test_pseudo_perplexity_tokens"] == 200
    assert result["config"]["causal"] is False
    assert result["config"]["vocab_size"] == len(load_corpus("synthetic").vocab) + 1      # <mask> after the ids
    again = run_json(capsys, ["eval", "--checkpoint", str(tmp_path), "--split", "valid", "--json"])
    assert again["model"] == "mlm" and again["valid_masked_accuracy"] == pytest.approx(
        result["valid_masked_accuracy"])


@pytest.mark.parametrize("options, message", [
    (["--to-mask", "0.9", "--to-random", "0.2"], "--to-mask and --to-random"),
    (["--select", "0"], "--select must be in (0, 1]"),
    (["--pseudo-perplexity-tokens", "0"], "--pseudo-perplexity-tokens takes a count >= 1"),
    (["--select", "0.1", "--to-random", "-0.1"], "--to-mask and --to-random"),
])
def test_bad_mlm_options_are_one_line_errors(capsys, options, message):
    assert message in refused(capsys, [*TINY_MLM[:6], *options])


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt-reviews")
    assert main(["train", "transformer", "--corpus", "movie_reviews", "--preset", "tiny", "--steps", "10",
                 "--checkpoint", str(folder), "--json"]) == 0
    return folder


FAST = ["--train-size", "20", "--epochs", "1", "--train-windows", "1"]


@requires_corpus("movie_reviews")
def test_finetune_then_classify(capsys, pretrained, tmp_path):
    capsys.readouterr()
    out = tmp_path / "classifier"
    result = run_json(capsys, ["finetune", "--checkpoint", str(pretrained), *FAST, "--out", str(out), "--json"])
    test = result["test"]
    assert result["pretrained_on"] == "movie_reviews" and result["train_documents"] == 20
    assert test["documents"] == 200 and test["interval_95"][0] <= test["accuracy"] <= test["interval_95"][1]
    assert set(test["per_class"]) == {"neg", "pos"} and (out / "classifier.pt").is_file()
    label = run_json(capsys, ["classify", "--checkpoint", str(out), "a dull , lifeless film", "--json"])
    assert label["label"] in ("neg", "pos") and label["probabilities"][label["label"]] == label["probability"]
    assert sum(label["probabilities"].values()) == pytest.approx(1)


@requires_corpus("movie_reviews")
def test_finetune_from_scratch_and_head_only(capsys, pretrained):
    capsys.readouterr()
    scratch = run_json(capsys, ["finetune", "--checkpoint", str(pretrained), *FAST, "--from-scratch", "--json"])
    head = run_json(capsys, ["finetune", "--checkpoint", str(pretrained), *FAST, "--head-only", "--json"])
    assert scratch["pretrained_on"] is None and scratch["from_scratch"] is True
    assert head["head_only"] is True and head["parameters"] == scratch["parameters"]


@requires_corpus("movie_reviews")
def test_bad_finetune_and_classify_input_is_refused_in_one_line(capsys, pretrained, tmp_path):
    capsys.readouterr()
    assert "unknown task 'imdb'" in refused(capsys, ["finetune", "--checkpoint", str(pretrained), "--task", "imdb"])
    assert main(["finetune", "--checkpoint", str(tmp_path / "none")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and error.endswith("not found: give a training folder (--checkpoint DIR) or a .pt file")
    assert "pre-trained on movie_reviews" in refused(
        capsys, ["finetune", "--checkpoint", str(pretrained), "--folds", "10"])
    assert "first position has read nothing" in refused(
        capsys, ["finetune", "--checkpoint", str(pretrained), "--pooling", "first"])
    assert "--epochs must be at least 1" in refused(capsys, ["finetune", "--checkpoint", str(pretrained),
                                                             "--epochs", "0"])
    assert "--network-dropout must be in [0, 1)" in refused(
        capsys, ["finetune", "--checkpoint", str(pretrained), "--network-dropout", "1.5"])
    for decay in ("0", "1.5", "nan"):
        assert "--layer-decay must be in (0, 1]" in refused(
            capsys, ["finetune", "--checkpoint", str(pretrained), "--layer-decay", decay])
    assert "no classifier.pt" in refused(capsys, ["classify", "--checkpoint", str(pretrained), "good"])
    assert "the text is empty" in refused(capsys, ["classify", "--checkpoint", str(pretrained), "  "])
    (tmp_path / "file").write_text("x")
    assert "is a file" in refused(capsys, ["finetune", "--checkpoint", str(pretrained), "--out",
                                           str(tmp_path / "file")])


@requires_corpus("movie_reviews")
def test_network_dropout_rebuilds_the_network_with_the_same_weights(pretrained):
    from lmcourse.neural.classify import network_for

    original, model, _ = network_for(pretrained)
    rebuilt, _, _ = network_for(pretrained, dropout=0.25)
    assert rebuilt.config.dropout == 0.25 and original.config.dropout == model.config.dropout != 0.25
    weights = original.state_dict()
    assert all(torch.equal(weights[name], value) for name, value in rebuilt.state_dict().items())
    assert {m.p for m in rebuilt.modules() if isinstance(m, torch.nn.Dropout)} == {0.25}
    scratch, _, _ = network_for(pretrained, from_scratch=True, dropout=0.25)
    assert scratch.config.dropout == 0.25
    assert not torch.equal(scratch.state_dict()["token_embedding.weight"], weights["token_embedding.weight"])
