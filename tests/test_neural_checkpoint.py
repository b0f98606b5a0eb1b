"""Checkpoints: written atomically, read with weights_only, and a one-line error for anything else."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from lmcourse.cli import main
from lmcourse.neural import NeuralLanguageModel, checkpoint


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    assert main(["train", "gru", "--corpus", "synthetic", "--preset", "tiny", "--checkpoint", str(folder)]) == 0
    return folder


def test_a_checkpoint_is_a_plain_dict_with_what_the_model_was_trained_on(trained):
    contents = torch.load(trained / checkpoint.BEST, weights_only=True)
    assert contents["format"] == checkpoint.FORMAT and contents["kind"] == "gru"
    assert contents["corpus"] == "synthetic" and contents["vocab"][:3] == ["<unk>", "<s>", "</s>"]
    assert {"model", "optimizer", "progress", "rng", "state", "train_config", "model_config"} <= set(contents)
    model = NeuralLanguageModel.from_checkpoint(trained)
    assert model.kind == "gru" and model.vocab.id_to_token == contents["vocab"]
    assert not list(trained.glob(".*.tmp*")), "no temporary file left behind"


def damaged_files(folder, trained):
    good = (trained / checkpoint.BEST).read_bytes()
    cases = {"truncated": good[: len(good) // 2], "random bytes": os.urandom(4096), "empty": b"",
             "a JSON file": b'{"model": 1}'}
    for name, data in cases.items():
        path = folder / f"{name.replace(' ', '_')}.pt"
        path.write_bytes(data)
        yield name, path
    untagged = folder / "untagged.pt"
    torch.save({"model": {}}, untagged)
    yield "no format tag", untagged
    keys_missing = folder / "keys_missing.pt"
    torch.save({"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "kind": "lstm"}, keys_missing)
    yield "keys missing", keys_missing
    yield "a folder without best.pt", folder / "empty_folder"
    yield "missing", folder / "nothing_here"


def test_damaged_or_foreign_checkpoints_are_one_line_errors(trained, tmp_path, capsys):
    (tmp_path / "empty_folder").mkdir()
    for name, path in damaged_files(tmp_path, trained):
        for argv in (["eval", "--checkpoint", str(path)], ["sample", "--checkpoint", str(path)]):
            assert main(argv) == 2, name
            error = capsys.readouterr().err.strip()
            assert error.startswith("lmcourse: error:") and "\n" not in error, (name, error)


def test_a_pickle_with_code_is_not_run(tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    code = f"import os\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
    subprocess.run([sys.executable, "-c", code + f"import torch; torch.save({{'format': 'x', 'e': Evil()}}, '{evil}')"],
                   check=True)
    assert main(["eval", "--checkpoint", str(evil)]) == 2
    assert not marker.exists()


def test_eval_refuses_a_corpus_whose_vocabulary_changed(trained, tmp_path, capsys):
    contents = torch.load(trained / checkpoint.BEST, weights_only=True)
    contents["vocab"] = contents["vocab"][:-1] + ["zzz-not-a-word"]
    checkpoint.save_checkpoint(tmp_path / "best.pt", {k: v for k, v in contents.items() if k not in ("format",
                                                                                                      "version")})
    assert main(["eval", "--checkpoint", str(tmp_path)]) == 2
    assert "vocabulary differs" in capsys.readouterr().err


def test_random_bytes_of_any_kind_are_one_line_errors(tmp_path):
    """Garbage makes torch's weights-only unpickler raise many kinds of error (IndexError, KeyError,
    UnicodeDecodeError, ... besides UnpicklingError): every one is a one-line error."""
    import numpy as np

    from lmcourse.errors import UserError

    path = tmp_path / "garbage.pt"
    for seed in range(120):                          # seeds 0-119 include IndexError, KeyError, UnicodeDecodeError
        path.write_bytes(np.random.default_rng(seed).bytes(4096))
        with pytest.raises(UserError, match="is not a readable lmcourse checkpoint"):
            checkpoint.load_checkpoint(path)
