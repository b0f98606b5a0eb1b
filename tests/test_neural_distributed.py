"""torchrun with 2 CPU processes (gloo, DistributedDataParallel) takes the same steps as one process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from lmcourse.neural import checkpoint


def steps(kind: str) -> list[str]:
    return ["train", kind, "--corpus", "synthetic", "--preset", "tiny", "--dropout", "0", "--steps", "6",
            "--batch", "8", "--device", "cpu"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_two_processes_take_the_same_steps_as_one(tmp_path, kind):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    STEPS = steps(kind)
    one = subprocess.run([sys.executable, "-m", "lmcourse", *STEPS, "--checkpoint", str(tmp_path / "one")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "lmcourse", *STEPS, "--checkpoint", str(tmp_path / "two")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert two.returncode == 0, two.stderr[-3000:]
    single = checkpoint.load_checkpoint(tmp_path / "one", checkpoint.LAST)
    ddp = checkpoint.load_checkpoint(tmp_path / "two", checkpoint.LAST)
    assert single["progress"]["step"] == ddp["progress"]["step"] == 6
    assert single["progress"]["tokens"] == ddp["progress"]["tokens"]
    for name, weight in single["model"].items():
        assert torch.allclose(weight, ddp["model"][name], atol=1e-5, rtol=0), name
    # evaluation under torchrun gives the perplexity one process gives
    assert ddp["progress"]["log"][-1]["valid_perplexity"] == pytest.approx(
        single["progress"]["log"][-1]["valid_perplexity"], rel=1e-5)


def test_a_batch_that_does_not_split_over_the_processes_is_refused(monkeypatch):
    from lmcourse.errors import UserError
    from lmcourse.neural import distributed

    monkeypatch.setattr(distributed, "setup", lambda device: distributed.Process(rank=0, world_size=3))
    from lmcourse.neural.train import TrainConfig, Trainer

    with pytest.raises(UserError, match="does not split evenly over 3 processes"):
        Trainer(torch.nn.Linear(1, 1), torch.arange(100).numpy(), lambda m: 1.0, TrainConfig(batch=8))
