"""Named settings: a model config and a training config that go together (``--preset NAME``).

Options given on the command line override a preset's values. A recurrent model and a Transformer have
presets of the same names in two tables (``PRESETS``, ``TRANSFORMER_PRESETS``). ``brown-30min`` is the course's headline
recurrent model: a fixed number of steps (so that a run is reproducible), chosen so that training and
evaluation fit in 30 minutes on a 2-core laptop CPU, with ``time_budget`` as a cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lmcourse.errors import UserError


@dataclass(frozen=True)
class Preset:
    about: str
    kinds: tuple[str, ...]          # the model kinds it is written for
    model: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "brown-30min": Preset(
        about="2-layer LSTM, 400 units, tied embeddings, variational dropout 0.3, SGD at lr 20 with cosine decay, "
              "clip 0.25, batch 32 x bptt 35, 7,600 steps (8.7 epochs): 30 minutes of a 2-core CPU on brown",
        kinds=("lstm",),
        model=dict(emb=400, hidden=400, layers=2, dropout=0.3, variational=True, tie=True),
        training=dict(optimizer="sgd", lr=20.0, schedule="cosine", final_lr_ratio=0.02, clip=0.25, batch=32,
                      bptt=35, steps=7600, eval_every=950, time_budget=1800),
    ),
    "synthetic-quick": Preset(
        about="1-layer, 128 units, tied, AdamW + cosine, 600 steps: about a minute on synthetic",
        kinds=("rnn", "gru", "lstm"),
        model=dict(emb=128, hidden=128, layers=1, dropout=0.1, tie=True),
        training=dict(optimizer="adamw", lr=5e-3, weight_decay=0.01, schedule="cosine", warmup=30,
                      clip=1.0, batch=32, bptt=35, steps=600, eval_every=200),
    ),
    "tiny": Preset(
        about="a few seconds: 1 layer of 16 units, 40 steps (tests and fast-mode notebooks)",
        kinds=("rnn", "gru", "lstm"),
        model=dict(emb=16, hidden=16, layers=1, dropout=0.0),
        training=dict(optimizer="adamw", lr=1e-2, schedule="constant", clip=1.0, batch=8, bptt=16, steps=40,
                      eval_every=20),
    ),
}


TRANSFORMER_PRESETS: dict[str, Preset] = {
    "brown-30min": Preset(
        about="4 pre-LN blocks of width 256, 4 heads, context 64, output tied to the embedding, dropout 0.3, "
              "AdamW 2e-3 with warm-up and cosine decay, weight decay 0.1, bfloat16 autocast, batch 32 x 64, "
              "5,400 steps: 30 minutes of a 2-core CPU on brown",
        kinds=("transformer", "mlm"),
        model=dict(layers=4, heads=4, d_model=256, context=64, dropout=0.3, tie=True),
        training=dict(optimizer="adamw", lr=2e-3, weight_decay=0.1, schedule="cosine", warmup=200,
                      final_lr_ratio=0.1, clip=1.0, batch=32, bptt=64, steps=5400, eval_every=540,
                      time_budget=1800, precision="bf16"),
    ),
    "synthetic-5min": Preset(
        about="2 blocks of width 128, 4 heads, context 64, tied, dropout 0.1, AdamW 3e-3 with warm-up and cosine "
              "decay, batch 32 x 64, 3,000 steps: under 5 minutes of a 2-core CPU on synthetic",
        kinds=("transformer", "mlm"),
        model=dict(layers=2, heads=4, d_model=128, context=64, dropout=0.1, tie=True),
        training=dict(optimizer="adamw", lr=3e-3, weight_decay=0.1, schedule="cosine", warmup=100,
                      final_lr_ratio=0.1, clip=1.0, batch=32, bptt=64, steps=3000, eval_every=300,
                      time_budget=300),
    ),
    "shakespeare-char-15min": Preset(
        about="4 blocks of width 256, 4 heads, context 128 characters, dropout 0.2, AdamW 2e-3 with warm-up and "
              "cosine decay, bfloat16 autocast, batch 32 x 128, 2,750 steps: 15 minutes of a 2-core CPU on "
              "tinyshakespeare-char",
        kinds=("transformer", "mlm"),
        model=dict(layers=4, heads=4, d_model=256, context=128, dropout=0.2, tie=True),
        training=dict(optimizer="adamw", lr=2e-3, weight_decay=0.1, schedule="cosine", warmup=200,
                      final_lr_ratio=0.1, clip=1.0, batch=32, bptt=128, steps=2750, eval_every=250,
                      time_budget=900, precision="bf16"),
    ),
    "tiny": Preset(
        about="a few seconds: 1 block of width 16, 2 heads, context 16, 40 steps (tests and fast-mode notebooks)",
        kinds=("transformer", "mlm"),
        model=dict(layers=1, heads=2, d_model=16, context=16, dropout=0.0),
        training=dict(optimizer="adamw", lr=1e-2, schedule="constant", clip=1.0, batch=8, bptt=16, steps=40,
                      eval_every=20),
    ),
}

#: a Transformer trained as nanoGPT trains one (the recurrent models keep TrainConfig's defaults: PyTorch's example)
DEFAULT_TRAINING: dict[str, dict] = {
    "transformer": dict(optimizer="adamw", lr=1e-3, weight_decay=0.1, schedule="cosine", warmup=100,
                        final_lr_ratio=0.1, clip=1.0, batch=32),
}
DEFAULT_TRAINING["mlm"] = DEFAULT_TRAINING["transformer"]   # the same recipe for the masked LM


def get_preset(name: str, kind: str) -> Preset:
    """The preset ``name`` for model ``kind``; a one-line error naming the known presets otherwise."""
    table = TRANSFORMER_PRESETS if kind in ("transformer", "mlm") else PRESETS
    if name not in table:
        known = "; ".join(f"{key} ({'/'.join(p.kinds)})" for key, p in {**PRESETS, **TRANSFORMER_PRESETS}.items()
                          if kind in p.kinds)
        raise UserError(f"unknown preset {name!r} for {kind}: use one of {known}")
    preset = table[name]
    if kind not in preset.kinds:
        raise UserError(f"preset {name!r} is for {'/'.join(preset.kinds)}, not {kind}")
    return preset
