"""What ``lmcourse compare --budget NAME`` trains: one :class:`ModelRun` per row of the table.

Every budget has the whole N-gram family (MLE, add-k, Jelinek-Mercer, Katz, Kneser-Ney, modified Kneser-Ney;
orders 1 to 5), which is counted in seconds, and the three neural models (Elman RNN, LSTM, Transformer),
which get a fixed number of optimizer steps per budget (a fixed step count, not a clock, so that a run is
reproducible; each has a time cap as a safety net). Times measured on the 2-core CPU of the course:

- ``quick``: about 30 s per recurrent model and 1 minute for the Transformer on ``synthetic``; about 3 minutes
  in all (measured: 122 s on the 2-core machine), the default.
- ``standard``: quick's models and the data-scaling runs (KN5, LSTM and Transformer on the first 10% and 30% of
  the training sentences), about 3 minutes on ``synthetic``. Training longer or wider does not help there: with
  200,000 training words the models overfit (measured: the LSTM 30.48 after 3,000 steps, 31.14 after 6,000,
  31.66 with 256 units; the Transformer 30.23 after 1,000 steps, 30.37 after the ``synthetic-5min`` preset's
  3,000).
- ``full``: the ``brown-30min`` presets (30 minutes each for the LSTM and the Transformer, 10 minutes for the
  RNN) and the data-scaling runs: the course's headline table, under 2 hours on ``brown``.

- ``tiny``: the ``tiny`` presets (40 steps of 16-unit models) and the scaling runs, in seconds: for the tests
  and the fast-mode notebooks, not for conclusions.

A data-scaling run trains on a prefix of the train split with the full run's vocabulary, so that every row is
scored on the same predicted tokens. It gets ``max(fraction, 0.3)`` of the full run's steps: at least as many
passes over its (smaller) data as the full run, and early stopping on valid keeps its best weights. It is
evaluated on valid as often as the full run, and its time cap is half the full run's (those evaluations do not
shrink with the data).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from lmcourse.errors import UserError

BUDGETS = ("quick", "standard", "full", "tiny")
NGRAM_SMOOTHINGS = ("mle", "addk", "jm", "katz", "kn", "mkn")
NGRAM_ORDERS = (1, 2, 3, 4, 5)
NEURAL_KINDS = ("rnn", "lstm", "transformer")
#: the reference row: modified Kneser-Ney of order 5, as KenLM's lmplz builds it ("KN5")
REFERENCE = "mkn-5"
SCALING_FRACTIONS = (0.1, 0.3)
SCALED_MODELS = ("mkn-5", "lstm", "transformer")
MIN_STEP_SHARE = 0.3

SMOOTHING_NAMES = {"mle": "MLE", "addk": "add-one", "jm": "Jelinek-Mercer", "katz": "Katz",
                   "kn": "Kneser-Ney", "mkn": "modified Kneser-Ney"}
KIND_NAMES = {"rnn": "Elman RNN", "lstm": "LSTM", "transformer": "Transformer"}


@dataclass(frozen=True)
class ModelRun:
    """One row: an N-gram model (``smoothing``, ``order``) or a neural one (``kind``, ``preset``, overrides),
    trained on the first ``train_fraction`` of the train sentences."""

    name: str                               # the row's key: "mkn-5", "lstm", "lstm@10%"
    family: str                             # "ngram" or "neural"
    smoothing: str = ""
    order: int = 0
    kind: str = ""
    preset: str = ""
    model: dict = field(default_factory=dict)      # overrides of the preset's model options
    training: dict = field(default_factory=dict)   # overrides of the preset's training options
    train_fraction: float = 1.0

    @property
    def label(self) -> str:
        """How the table and the figures name the row."""
        base = (f"{SMOOTHING_NAMES[self.smoothing]}, order {self.order}" if self.family == "ngram"
                else KIND_NAMES.get(self.kind, self.kind))
        return base if self.train_fraction == 1.0 else f"{base} ({self.train_fraction:.0%} of train)"


def ngram_runs() -> list[ModelRun]:
    return [ModelRun(f"{smoothing}-{order}", "ngram", smoothing=smoothing, order=order)
            for smoothing in NGRAM_SMOOTHINGS for order in NGRAM_ORDERS]


# kind -> (preset, overrides of its model options, overrides of its training options), per budget
NEURAL_SETTINGS: dict[str, dict[str, tuple[str, dict, dict]]] = {
    "quick": {
        "rnn": ("synthetic-quick", {}, dict(lr=3e-3, steps=3000, eval_every=500, time_budget=120)),
        "lstm": ("synthetic-quick", {}, dict(steps=3000, eval_every=500, time_budget=120)),
        "transformer": ("synthetic-5min", {}, dict(steps=1000, eval_every=250, time_budget=180)),
    },
    "standard": {  # quick's models: on synthetic, longer or wider overfits (measured, see the module docstring)
        "rnn": ("synthetic-quick", {}, dict(lr=3e-3, steps=3000, eval_every=500, time_budget=120)),
        "lstm": ("synthetic-quick", {}, dict(steps=3000, eval_every=500, time_budget=120)),
        "transformer": ("synthetic-5min", {}, dict(steps=1000, eval_every=250, time_budget=180)),
    },
    "full": {
        # the LSTM preset's shape as an Elman RNN, AdamW: 5,850 training tokens/s on brown here, so 2,400 steps
        # of 32 x 35 tokens are about 460 s, and with its 4 valid evaluations under the 10-minute cap
        "rnn": ("brown-30min", {}, dict(optimizer="adamw", lr=2e-3, weight_decay=0.01, steps=2400,
                                        eval_every=600, time_budget=600)),
        "lstm": ("brown-30min", {}, {}),
        "transformer": ("brown-30min", {}, {}),
    },
    "tiny": {"rnn": ("tiny", {}, {}), "lstm": ("tiny", {}, {}), "transformer": ("tiny", {}, {})},
}


def neural_run(kind: str, budget: str, fraction: float = 1.0) -> ModelRun:
    from lmcourse.neural.presets import get_preset

    preset_name, model, training = NEURAL_SETTINGS[budget][kind]
    preset = get_preset(preset_name, "lstm" if kind == "rnn" else kind)  # the RNN borrows the LSTM's shape
    training = {**training, "seed": 0}
    if fraction < 1.0:
        steps = training.get("steps", preset.training.get("steps"))
        share = max(fraction, MIN_STEP_SHARE)
        training["steps"] = math.ceil(steps * share)
        eval_every = training.get("eval_every", preset.training.get("eval_every"))
        if eval_every:
            training["eval_every"] = math.ceil(eval_every * share)  # as many valid evaluations as the full run
        time_budget = training.get("time_budget", preset.training.get("time_budget"))
        if time_budget:  # the cap: the same evaluations take as long as in the full run, so half of its time
            training["time_budget"] = math.ceil(time_budget * max(share, 0.5))
    name = kind if fraction == 1.0 else f"{kind}@{fraction:.0%}"
    return ModelRun(name, "neural", kind=kind, preset=preset_name, model=model, training=training,
                    train_fraction=fraction)


def plan(budget: str, seed: int = 0) -> list[ModelRun]:
    """Every row of ``budget``, in the order they are run: the N-grams, the neural models, the scaling runs."""
    if budget not in BUDGETS:
        raise UserError(f"unknown budget {budget!r}: use one of {', '.join(BUDGETS)}")
    runs = ngram_runs() + [neural_run(kind, budget) for kind in NEURAL_KINDS]
    if budget != "quick":
        for fraction in SCALING_FRACTIONS:
            runs.append(ModelRun(f"{REFERENCE}@{fraction:.0%}", "ngram", smoothing="mkn", order=5,
                                 train_fraction=fraction))
            runs += [neural_run(kind, budget, fraction) for kind in ("lstm", "transformer")]
    return [with_seed(run, seed) for run in runs]


def with_seed(run: ModelRun, seed: int) -> ModelRun:
    if run.family != "neural":
        return run
    return dataclasses.replace(run, training={**run.training, "seed": seed})


def select(runs: list[ModelRun], models: str | None) -> list[ModelRun]:
    """The runs named by ``--models``: comma-separated row names (``mkn-5``, ``lstm``, ``lstm@10%``), smoothings
    (``kn``: all its orders), or the families ``ngram`` and ``neural``; all of them when None. A row's name
    selects that row only (``lstm`` is not its scaling runs ``lstm@10%``, ``lstm@30%``)."""
    if models is None:
        return runs
    wanted = [part.strip() for part in models.split(",") if part.strip()]
    if not wanted:
        raise UserError("--models is empty: give row names (mkn-5, lstm), smoothings (kn), or ngram / neural")
    chosen = []
    for item in wanted:
        matches = [run for run in runs if run.name == item] or [  # a row's own name first: "lstm" is one row
            run for run in runs if item in (run.family, run.smoothing or None, run.kind or None)]
        if not matches:
            known = ", ".join(["ngram", "neural", *NGRAM_SMOOTHINGS, *NEURAL_KINDS,
                               *sorted({run.name for run in runs if "@" in run.name})])
            raise UserError(f"--models: {item!r} is not a model of this budget: use row names such as mkn-5, or "
                            f"one of {known}")
        chosen += [run for run in matches if run not in chosen]
    return [run for run in runs if run in chosen]  # the plan's order
