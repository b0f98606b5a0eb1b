"""``lmcourse train transformer``: the same JSON as the recurrent models, checkpoints that ``eval`` and
``sample`` read, and one-line errors (exit 2) for bad options."""

from __future__ import annotations

import json

import pytest
from cli_checks import refused, run_json

from lmcourse.cli import main

TINY = ["train", "transformer", "--corpus", "synthetic", "--preset", "tiny"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transformer")
    assert main([*TINY, "--checkpoint", str(folder), "--json"]) == 0
    return folder


def test_train_json_has_the_recurrent_models_keys(capsys, tmp_path):
    lstm = run_json(capsys, ["train", "lstm", "--corpus", "synthetic", "--preset", "tiny", "--steps", "2",
                             "--json"])
    result = run_json(capsys, [*TINY, "--steps", "3", "--json"])
    assert set(result) == set(lstm)
    assert result["model"] == "transformer" and result["steps"] == 3
    assert result["predicted_tokens"] == {"valid": 22_200, "test": 22_177}
    assert result["training"]["bptt"] == result["config"]["context"] == 16


def test_defaults_are_a_small_gpt_trained_with_adamw(capsys):
    result = run_json(capsys, ["train", "transformer", "--corpus", "synthetic", "--layers", "1", "--d-model",
                               "16", "--heads", "2", "--context", "8", "--steps", "2", "--json"])
    assert result["training"]["optimizer"] == "adamw" and result["training"]["schedule"] == "cosine"
    assert result["training"]["bptt"] == 8 and result["config"]["tie"] is True


def test_eval_and_sample_read_the_checkpoint(capsys, trained):
    result = run_json(capsys, ["eval", "--checkpoint", str(trained), "--json"])
    assert result["model"] == "transformer" and result["test_perplexity"] > 1
    argv = ["sample", "--checkpoint", str(trained), "--n", "3", "--top-k", "10", "--top-p", "0.9", "--json"]
    first = run_json(capsys, argv)
    assert len(first["sentences"]) == 3 and first == run_json(capsys, argv)


def test_a_prompt_longer_than_the_context_is_cropped_with_a_warning(capsys, trained):
    prompt = " ".join(["the"] * 40)
    assert main(["sample", "--checkpoint", str(trained), "--n", "1", "--prompt", prompt, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sentences"][0].startswith(prompt)
    assert "warning: the context has 41 tokens, more than the model's window of 16" in captured.err


@pytest.mark.parametrize("options, message", [
    (["--heads", "3"], "--heads 3 does not divide --d-model 16"),
    (["--context", "0"], "--context must be at least 1"),
    (["--dropout", "1"], "--dropout must be in [0, 1)"),
    (["--dropout", "-0.5"], "--dropout must be in [0, 1)"),
    (["--hidden", "10"], "transformer has no option hidden"),
    (["--positions", "rotary"], "unknown --positions"),
    (["--precision", "fp8"], "unknown --precision"),
    (["--tie", "--adaptive-softmax", "100"], "cannot be combined"),
])
def test_bad_options_are_one_line_errors(capsys, options, message):
    assert message in refused(capsys, [*TINY, *options])


def test_bad_sampling_filters_are_one_line_errors(capsys, trained):
    assert "--top-k must be at least 1" in refused(capsys, ["sample", "--checkpoint", str(trained), "--top-k", "0"])
    assert "--top-p must be in (0, 1]" in refused(capsys, ["sample", "--checkpoint", str(trained), "--top-p", "2"])
