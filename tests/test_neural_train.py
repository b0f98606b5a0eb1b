"""The shared trainer: seeded, resumable after SIGKILL, stops on NaN, budgets, schedules, early stopping."""

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
import torch
from torch import nn

from lmcourse.errors import UserError
from lmcourse.neural import checkpoint
from lmcourse.neural.train import Progress, TrainConfig, Trainer, learning_rate

TOKENS = np.arange(3, 3 + 2000) % 40 + 3


class Fixed(nn.Module):
    """A model-agnostic stand-in: a bigram table; ``loss_at`` makes the loss NaN from that call on."""

    def __init__(self, loss_at: int | None = None):
        super().__init__()
        self.table = nn.Embedding(50, 50)
        self.calls, self.loss_at = 0, loss_at

    def initial_state(self, batch):
        return None

    def forward(self, inputs, targets, state):
        self.calls += 1
        loss = nn.functional.cross_entropy(self.table(inputs).reshape(-1, 50), targets.reshape(-1))
        if self.loss_at is not None and self.calls >= self.loss_at:
            loss = loss * float("nan")
        return loss, state


def trainer(model=None, valid=lambda m: 10.0, checkpoint_dir=None, **options):
    config = TrainConfig(**{"optimizer": "sgd", "lr": 0.1, "batch": 4, "bptt": 5, "device": "cpu", **options})
    return Trainer(model or Fixed(), TOKENS, valid, config, checkpoint_dir=checkpoint_dir, progress_bar=False)


def test_the_loop_knows_nothing_of_the_model_and_counts_steps_epochs_tokens():
    run = trainer(steps=250, eval_every=50).run()
    assert run.progress.step == 250 and run.progress.stopped == "all steps done"
    # 2001 tokens -> 4 columns of 500 -> 100 windows (the last has 4 targets): 1996 targets per epoch
    assert run.progress.epoch == 2 and run.progress.window == 50
    assert run.progress.tokens == 2 * 4 * 499 + 50 * 4 * 5
    assert [entry["step"] for entry in run.progress.log] == [50, 100, 150, 200, 250]


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(UserError, match="diverged at step 31") as error:
        trainer(Fixed(loss_at=31), checkpoint_dir=tmp_path, steps=100, eval_every=10).run()
    assert "\n" not in str(error.value) and str(tmp_path) in str(error.value)
    kept = checkpoint.load_checkpoint(tmp_path, checkpoint.LAST)
    assert kept["progress"]["step"] == 30
    assert all(torch.isfinite(t).all() for t in kept["model"].values())


def test_time_budget_caps_the_run():
    start = time.perf_counter()
    run = trainer(steps=10**7, eval_every=10**6, time_budget=0.5).run()
    assert run.progress.stopped == "time budget reached"
    assert time.perf_counter() - start < 5


def test_early_stopping_and_the_plateau_schedule():
    valid = iter([5.0, 4.0, 4.5, 4.2, 4.1] + [9.0] * 100)
    run = trainer(valid=lambda m: next(valid), steps=1000, eval_every=10, patience=3, plateau_factor=4).run()
    assert run.progress.stopped.startswith("early stopping")
    assert run.progress.step == 50 and run.progress.best_valid == 4.0
    # the rate is divided by 4 after each evaluation without improvement (lr reported for the next step)
    assert [round(entry["lr"], 6) for entry in run.progress.log] == [0.1, 0.1, 0.025, 0.00625, 0.001563]


def test_cosine_schedule_warms_up_then_decays_to_its_floor():
    config = TrainConfig(lr=1.0, schedule="cosine", warmup=10, final_lr_ratio=0.1, steps=110)
    rates = [learning_rate(config, Progress(step=t), 110) for t in range(110)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[10] == pytest.approx(1.0) and rates[60] == pytest.approx(0.55)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:])) and rates[-1] > 0.1


@pytest.mark.parametrize("options, message", [
    ({"lr": 0}, "--lr"), ({"batch": -1}, "--batch"), ({"bptt": 0}, "--bptt"), ({"steps": 0}, "--steps"),
    ({"time_budget": 0}, "--time-budget"), ({"time_budget": -5}, "--time-budget"), ({"clip": -1}, "--clip"),
    ({"optimizer": "adam"}, "--optimizer"), ({"schedule": "linear"}, "--schedule"),
    ({"steps": 5, "epochs": 1}, "not both"), ({"lr": float("nan")}, "--lr"),
])
def test_bad_training_options_are_one_line_errors(options, message):
    with pytest.raises(UserError, match=message) as error:
        TrainConfig(**options).check()
    assert "\n" not in str(error.value)


# -- the command line, end to end (a small LSTM on synthetic) ----------------------------------------------
RUN = [sys.executable, "-m", "lmcourse", "train", "lstm", "--corpus", "synthetic", "--emb", "24", "--hidden", "24",
       "--layers", "2", "--dropout", "0.2", "--batch", "8", "--bptt", "12", "--optimizer", "adamw", "--lr", "0.01",
       "--steps", "200", "--eval-every", "50", "--seed", "3", "--device", "cpu", "--json"]


def train(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, "--checkpoint", str(folder), *extra], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_same_command_twice_gives_the_same_numbers_and_a_sigkilled_run_resumes_exactly(tmp_path):
    whole = train(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    again = train(tmp_path / "again")
    first, second = json.loads(whole.stdout), json.loads(again.stdout)
    assert first["log"] == [{**e, "seconds": f["seconds"]} for e, f in zip(second["log"], first["log"])]
    assert first["valid_perplexity"] == second["valid_perplexity"]

    killed = tmp_path / "killed"
    process = subprocess.Popen([*RUN, "--checkpoint", str(killed), "--checkpoint-every", "7"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 120
    while process.poll() is None and time.time() < deadline and not (killed / checkpoint.LAST).exists():
        time.sleep(0.01)
    while process.poll() is None and time.time() < deadline and checkpoint.load_checkpoint(
            killed, checkpoint.LAST)["progress"]["step"] < 80:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    step_at_kill = checkpoint.load_checkpoint(killed, checkpoint.LAST)["progress"]["step"]
    assert process.returncode == -signal.SIGKILL and 80 <= step_at_kill < 200, "killed mid-run"
    resumed = train(killed, "--checkpoint-every", "7", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["steps"] == 200
    assert result["valid_perplexity"] == pytest.approx(first["valid_perplexity"], rel=1e-6)
    assert result["best_valid_perplexity"] == pytest.approx(first["best_valid_perplexity"], rel=1e-6)


@pytest.mark.slow
def test_resume_refuses_other_settings_another_kind_or_corpus(tmp_path):
    short = [*RUN[:RUN.index("--steps")], "--steps", "20", "--eval-every", "10", "--device", "cpu"]
    folder = tmp_path / "run"
    assert subprocess.run([*short, "--checkpoint", str(folder)], capture_output=True, timeout=300).returncode == 0
    cases = {
        "the options differ": [*short, "--checkpoint", str(folder), "--resume", "--lr", "0.5"],
        "holds a lstm model, not a gru": [*[a if a != "lstm" else "gru" for a in short], "--checkpoint",
                                          str(folder), "--resume"],
        "trained on 'synthetic', not 'synthetic-simple'": [*[a if a != "synthetic" else "synthetic-simple"
                                                             for a in short], "--checkpoint", str(folder), "--resume"],
        "already done all 20 steps": [*short, "--checkpoint", str(folder), "--resume"],
    }
    for message, argv in cases.items():
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, (message, done.stderr)
        error = done.stderr.strip().splitlines()[-1]
        assert error.startswith("lmcourse: error:") and message in error and "Traceback" not in done.stderr
