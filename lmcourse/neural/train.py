"""One training loop for every neural language model of the course.

Nothing here knows what an LSTM or a Transformer is (the design of minGPT's trainer). A model is an
``nn.Module`` with

    loss, state = model(inputs, targets, state)     # mean cross-entropy in nats over the window
    state = model.initial_state(batch)              # what comes before the first window (None if nothing)

and the loop does the rest: truncated backpropagation through time over contiguous windows of the stream
(:mod:`lmcourse.neural.batches`; the state is carried across windows and detached), gradient clipping by the
global norm, SGD or AdamW, a learning-rate schedule, evaluation on valid, early stopping, a step, epoch and
wall-clock budget, checkpoints that resume exactly, and ``torchrun`` (:mod:`lmcourse.neural.distributed`).

Schedules: ``plateau`` divides the rate by ``plateau_factor`` whenever valid perplexity does not improve
(PyTorch's ``word_language_model`` divides by 4); ``cosine`` warms up linearly for ``warmup`` steps, then
follows lr_t = lr_min + (lr - lr_min) (1 + cos(pi t / T)) / 2 down to lr_min = ``final_lr_ratio`` * lr at the
last step (Loshchilov & Hutter 2017); ``constant`` keeps it.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lmcourse.errors import UserError
from lmcourse.files import atomic_write_text
from lmcourse.neural import checkpoint, distributed
from lmcourse.neural.batches import stream_columns, training_stream, window, window_starts

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("plateau", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class TrainConfig:
    """How to train. Defaults are those of PyTorch's ``word_language_model`` example (one epoch)."""

    optimizer: str = "sgd"
    lr: float = 20.0
    weight_decay: float = 0.0
    schedule: str = "plateau"
    plateau_factor: float = 4.0
    warmup: int = 0                   # steps of linear warm-up (cosine)
    final_lr_ratio: float = 0.0       # cosine: lr at the last step, as a fraction of lr
    clip: float = 0.25                # max global gradient norm (0: no clipping)
    batch: int = 20                   # columns of the stream (summed over all processes)
    bptt: int = 35                    # window length
    steps: int | None = None          # total optimizer steps; else epochs
    epochs: int | None = None         # passes over the training stream (1 if neither is given)
    time_budget: float | None = None  # seconds of wall clock (training + evaluation), a cap
    eval_every: int | None = None     # steps between valid evaluations (default: once per epoch)
    eval_batch: int = 64              # columns when scoring valid
    patience: int | None = None       # stop after this many evaluations without improvement
    checkpoint_every: int | None = None  # steps between resumable checkpoints (default: each evaluation)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"           # bf16: autocast the forward pass to bfloat16 (auto: on CUDA only)

    def check(self) -> None:
        """One-line errors for settings that cannot train, before any work starts."""
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown --optimizer {self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        if self.precision not in PRECISIONS:
            raise UserError(f"unknown --precision {self.precision!r}: use one of {', '.join(PRECISIONS)}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"unknown --schedule {self.schedule!r}: use one of {', '.join(SCHEDULES)}")
        positive = {"lr": self.lr, "batch": self.batch, "bptt": self.bptt, "eval_batch": self.eval_batch,
                    "plateau_factor": self.plateau_factor}
        optional = {"steps": self.steps, "epochs": self.epochs, "time_budget": self.time_budget,
                    "eval_every": self.eval_every, "patience": self.patience,
                    "checkpoint_every": self.checkpoint_every}
        for name, value in {**positive, **{k: v for k, v in optional.items() if v is not None}}.items():
            if not (math.isfinite(value) and value > 0):
                raise UserError(f"--{name.replace('_', '-')} must be a number > 0 (got {value})")
        for name in ("weight_decay", "clip", "warmup", "final_lr_ratio"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise UserError(f"--{name.replace('_', '-')} must be a number >= 0 (got {value})")
        if self.steps is not None and self.epochs is not None:
            raise UserError("give --steps or --epochs, not both")
        distributed.resolve_device(self.device)  # an unknown or absent device


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint so that a resumed run continues exactly."""

    step: int = 0
    epoch: int = 0
    window: int = 0                  # index of the next window within the epoch
    tokens: int = 0                  # training tokens seen (all processes)
    seconds: float = 0.0             # wall clock spent so far (training + evaluation)
    lr_scale: float = 1.0            # plateau schedule: lr is multiplied by this
    best_valid: float = math.inf
    evals_without_improvement: int = 0
    loss_sum: float = 0.0            # train loss since the last evaluation
    loss_count: int = 0
    log: list = field(default_factory=list)
    stopped: str = ""                # why training ended


@dataclass
class TrainResult:
    progress: Progress
    best_weights: dict
    train_tokens_per_second: float


def learning_rate(config: TrainConfig, progress: Progress, total_steps: int) -> float:
    """The rate for the next step (see the module docstring)."""
    if config.schedule == "cosine":
        t = progress.step
        if t < config.warmup:
            return config.lr * (t + 1) / config.warmup
        span = max(total_steps - config.warmup, 1)
        cosine = 0.5 * (1 + math.cos(math.pi * min(t - config.warmup, span) / span))
        low = config.final_lr_ratio * config.lr
        return low + (config.lr - low) * cosine
    return config.lr * progress.lr_scale


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def map_state(function, state):
    """``function`` applied to every tensor of a carried state (a tensor, lists/tuples of them, or None)."""
    if isinstance(state, torch.Tensor):
        return function(state)
    if isinstance(state, (list, tuple)):
        return type(state)(map_state(function, s) for s in state)
    return state


def detach(state):
    """Cut the graph behind a carried state: gradients stop at the window's edge."""
    return map_state(torch.Tensor.detach, state)


def to_device(state, device: torch.device):
    return map_state(lambda tensor: tensor.to(device), state)


class Trainer:
    """Train ``model`` on a token stream; ``valid_perplexity(model)`` scores it (in eval mode, no gradient).

    ``metadata`` (what the model is and what it was trained on) goes into every checkpoint unchanged.
    """

    def __init__(self, model: nn.Module, train_tokens: np.ndarray, valid_perplexity: Callable[[nn.Module], float],
                 config: TrainConfig, checkpoint_dir: str | Path | None = None, metadata: dict | None = None,
                 progress_bar: bool = True):
        config.check()
        self.config, self.model, self.valid_perplexity = config, model, valid_perplexity
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.metadata = metadata or {}
        self.process = distributed.setup(config.device)
        if config.batch % self.process.world_size:
            raise UserError(f"--batch {config.batch} does not split evenly over {self.process.world_size} "
                            "processes: use a multiple of --nproc_per_node")
        self.local_batch = config.batch // self.process.world_size
        columns = stream_columns(training_stream(train_tokens), config.batch)       # (batch, L)
        if columns.shape[1] < 2:
            raise UserError(f"the training split is too short for --batch {config.batch}: use a smaller batch")
        rank = self.process.rank
        self.columns = columns[rank * self.local_batch:(rank + 1) * self.local_batch]  # this rank's columns
        self.starts = window_starts(columns.shape[1], config.bptt)
        self.total_steps = config.steps or (config.epochs or 1) * len(self.starts)
        self.eval_every = config.eval_every or len(self.starts)
        self.checkpoint_every = config.checkpoint_every or self.eval_every
        self.model.to(self.process.device)
        # bfloat16 matrix products (weights and gradients stay float32; scoring is always float32)
        self.bf16 = config.precision == "bf16" or (config.precision == "auto" and self.process.device.type == "cuda")
        self.optimizer = make_optimizer(self.model, config)
        self.progress = Progress()
        self.state = None
        self.show_progress, self.first_tokens = progress_bar, 0
        self.best_weights = copy.deepcopy(self.model.state_dict())
        torch.manual_seed(config.seed + rank)  # dropout masks: one stream per process

    # -- the loop ------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        ddp_model = distributed.wrap(self.model, self.process)
        bar = tqdm(total=self.total_steps, initial=self.progress.step, desc="training", unit="step",
                   disable=not self.process.is_main or not self.show_progress, dynamic_ncols=True,
                   mininterval=0.5 if sys.stderr.isatty() else 10.0)  # a log file gets a line every 10 s
        started = time.perf_counter() - self.progress.seconds
        train_seconds = 0.0
        self.model.train()
        while not self.progress.stopped:
            step_start = time.perf_counter()
            loss = self.train_step(ddp_model)
            train_seconds += time.perf_counter() - step_start
            self.progress.seconds = time.perf_counter() - started
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", valid_ppl=f"{self.progress.best_valid:.2f}", refresh=False)
            self.after_step(started)
        bar.close()
        self.progress.seconds = time.perf_counter() - started
        tokens_per_second = (self.progress.tokens - self.first_tokens) / max(train_seconds, 1e-9)
        return TrainResult(self.progress, self.best_weights, tokens_per_second)

    def train_step(self, ddp_model: nn.Module) -> float:
        """One optimizer step on the next window; returns its loss."""
        p, device = self.progress, self.process.device
        if p.window == 0 or self.state is None:
            self.state = to_device(self.model.initial_state(self.local_batch), device)
        inputs, targets = window(self.columns, self.starts[p.window], self.config.bptt)
        inputs, targets = torch.from_numpy(inputs).to(device), torch.from_numpy(targets).to(device)
        lr = learning_rate(self.config, p, self.total_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=self.bf16):
            loss, state = ddp_model(inputs, targets, self.state)
        if not torch.isfinite(loss):
            where = f"; the last good checkpoint is kept in {self.checkpoint_dir}" if self.checkpoint_dir else ""
            raise UserError(f"training diverged at step {p.step + 1} (loss {loss.item()}){where}: "
                            f"lower --lr (now {lr:g}) or --clip")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        self.state = detach(state)
        p.step += 1
        p.window = (p.window + 1) % len(self.starts)
        p.epoch += p.window == 0
        p.tokens += targets.numel() * self.process.world_size
        p.loss_sum, p.loss_count = p.loss_sum + loss.item(), p.loss_count + 1
        return loss.item()

    def after_step(self, started: float) -> None:
        """Evaluate, log, schedule, checkpoint and decide whether to stop."""
        p, c = self.progress, self.config
        out_of_time = c.time_budget is not None and time.perf_counter() - started >= c.time_budget
        out_of_time = distributed.broadcast_flag(out_of_time, self.process)
        last_step = p.step >= self.total_steps or out_of_time
        if p.step % self.eval_every == 0 or last_step:
            self.evaluate(started)
            if c.patience is not None and p.evals_without_improvement >= c.patience:
                p.stopped = f"early stopping: valid perplexity did not improve in {c.patience} evaluations"
        if last_step and not p.stopped:
            p.stopped = "time budget reached" if out_of_time and p.step < self.total_steps else "all steps done"
        if p.step % self.checkpoint_every == 0 or p.stopped:
            self.save(checkpoint.LAST)

    def evaluate(self, started: float) -> None:
        p, c = self.progress, self.config
        self.model.eval()
        valid = float(self.valid_perplexity(self.model))
        self.model.train()
        improved = valid < p.best_valid
        if improved:
            p.best_valid, p.evals_without_improvement = valid, 0
            self.best_weights = copy.deepcopy(self.model.state_dict())
        else:
            p.evals_without_improvement += 1
            if c.schedule == "plateau":
                p.lr_scale /= c.plateau_factor
        p.seconds = time.perf_counter() - started
        p.log.append({"step": p.step, "epoch": round(p.step / len(self.starts), 4), "tokens": p.tokens,
                      "seconds": round(p.seconds, 3), "lr": learning_rate(c, p, self.total_steps),
                      "train_loss": p.loss_sum / max(p.loss_count, 1), "valid_perplexity": valid})
        p.loss_sum, p.loss_count = 0.0, 0
        if improved:
            self.save(checkpoint.BEST)
        self.write_log()

    # -- checkpoints ---------------------------------------------------------------------------------------
    def contents(self) -> dict:
        return {**self.metadata, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "train_config": asdict(self.config), "progress": asdict(self.progress),
                "state": to_device(self.state, torch.device("cpu")), "rng": torch.get_rng_state()}

    def save(self, which: str) -> None:
        if self.checkpoint_dir is None or not self.process.is_main:
            return
        contents = self.contents()
        if which == checkpoint.BEST:
            contents["model"] = self.best_weights
        checkpoint.save_checkpoint(self.checkpoint_dir / which, contents)

    def write_log(self) -> None:
        if self.checkpoint_dir is not None and self.process.is_main:
            atomic_write_text(self.checkpoint_dir / checkpoint.LOG, json.dumps(self.progress.log, indent=1))

    def resume(self, contents: dict) -> None:
        """Continue from a ``last.pt``'s contents exactly where it stopped."""
        self.model.load_state_dict(contents["model"])
        self.optimizer.load_state_dict(contents["optimizer"])
        self.progress = Progress(**contents["progress"])
        self.progress.stopped = ""
        self.first_tokens = self.progress.tokens
        self.state = to_device(contents["state"], self.process.device)
        if self.process.world_size == 1:
            torch.set_rng_state(contents["rng"])
        best = self.checkpoint_dir / checkpoint.BEST if self.checkpoint_dir else None
        if best is not None and best.is_file():
            self.best_weights = checkpoint.load_checkpoint(best)["model"]
        if self.progress.step >= self.total_steps:
            raise UserError(f"the checkpoint has already done all {self.total_steps} steps: raise --steps or "
                            "--epochs to train on, or drop --resume to start again")
