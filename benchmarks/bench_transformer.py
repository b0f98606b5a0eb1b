"""Throughput of lmcourse's Transformer, in one run (not a test: nothing is asserted).

1. Training tokens/s at the ``brown-30min`` preset's size (random ids, the preset's batch and context, AdamW,
   float32 and the preset's precision): the fused attention (``F.scaled_dot_product_attention``) against the
   written-out softmax(QK^T/sqrt(d) + M)V, and a plain baseline built as PyTorch's official
   word_language_model example builds its Transformer (``nn.TransformerEncoder`` + a causal mask, sinusoidal
   positions, an untied linear decoder) at the same depth, width, heads, MLP width and context.
2. Generation tokens/s of the same network (random weights, one sequence, new tokens after a one-token
   prompt) with the key/value cache (each step reads one new token) and without it (each step reads the
   whole history again, as nanoGPT's ``generate`` does): for a sequence that fits in the context
   (context - 1 new tokens) and for ``--generate`` new tokens. Past the context the window slides, and a
   sliding window of absolute positions must be recomputed at every step, cache or not.

Each training figure is the median of ``--rounds`` alternating rounds of ``--steps`` optimizer steps after
two warm-up steps.

    python benchmarks/bench_transformer.py [--steps 20] [--rounds 2] [--generate 240] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

from lmcourse.neural.presets import TRANSFORMER_PRESETS
from lmcourse.neural.transformer import TransformerConfig, TransformerLanguageModel

VOCAB = 10003  # brown's vocabulary (every id, <unk>, <s> and </s> included)


class ExampleTransformerModel(nn.Module):
    """word_language_model's TransformerModel, as the example writes it (positions, encoder, decoder)."""

    def __init__(self, ntoken: int, d_model: int, heads: int, d_ff: int, layers: int, context: int,
                 dropout: float):
        super().__init__()
        position = torch.arange(context).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = torch.zeros(context, d_model)
        table[:, 0::2], table[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
        self.register_buffer("positions", table)
        self.encoder = nn.Embedding(ntoken, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, d_ff, dropout, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers)
        self.decoder = nn.Linear(d_model, ntoken)
        self.drop = nn.Dropout(dropout)
        self.scale = math.sqrt(d_model)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        T = inputs.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.drop(self.encoder(inputs) * self.scale + self.positions[:T])
        logits = self.decoder(self.transformer(x, mask=mask, is_causal=True))
        return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def training_tokens_per_second(model: nn.Module, batch: int, context: int, steps: int, bf16: bool,
                               ours: bool) -> float:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randint(3, VOCAB, (batch, context), generator=generator)
    targets = torch.randint(3, VOCAB, (batch, context), generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(inputs, targets, None)[0] if ours else model(inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step(), step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * context * steps / (time.perf_counter() - start)


@torch.no_grad()
def generation_tokens_per_second(model: TransformerLanguageModel, new_tokens: int, use_cache: bool) -> float:
    """Greedy steps (the cost is the same for any sampling rule): one sequence, a one-token prompt."""
    model.eval()
    history = [2]
    state = model.initial_state(1)
    context = model.config.context
    start = time.perf_counter()
    hidden, state = model.encode(torch.tensor([history]), state)
    for _ in range(new_tokens):
        word = int(model.log_probs(hidden[:, -1:]).argmax())
        history.append(word)
        if use_cache:
            hidden, state = model.encode(torch.tensor([[word]]), state)
        else:
            hidden, _ = model.encode(torch.tensor([history[-context:]]), model.initial_state(1))
    return new_tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--generate", type=int, default=240, help="new tokens of the long generation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    preset = TRANSFORMER_PRESETS["brown-30min"]
    config = TransformerConfig(vocab_size=VOCAB, **preset.model)
    batch, context = preset.training["batch"], config.context
    bf16 = preset.training.get("precision") == "bf16"
    torch.manual_seed(0)
    fused = TransformerLanguageModel(config)
    written = TransformerLanguageModel(dataclasses.replace(config, fused=False))
    written.load_state_dict(fused.state_dict())
    baseline = ExampleTransformerModel(VOCAB, config.d_model, config.heads, config.mlp_ratio * config.d_model,
                                       config.layers, context, config.dropout)
    rows = {"fused attention": (fused, True), "written-out attention": (written, True),
            "baseline (nn.TransformerEncoder, as the official example)": (baseline, False)}
    precisions = [False, True] if bf16 else [False]
    figures: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, (model, ours) in rows.items():
            for half in precisions:
                label = f"{name}, {'bf16 autocast' if half else 'float32'}"
                print(f"  {label} ...", file=sys.stderr, flush=True)
                figures.setdefault(label, []).append(
                    training_tokens_per_second(model, batch, context, args.steps, half, ours))
    training = {label: round(statistics.median(values), 1) for label, values in figures.items()}
    generation = {f"{new} new tokens, {'with' if cache else 'without'} the key/value cache":
                  round(generation_tokens_per_second(fused, new, cache), 1)
                  for new in (context - 1, args.generate) for cache in (True, False)}
    result = {"config": dataclasses.asdict(config), "batch": batch, "steps": args.steps, "rounds": args.rounds,
              "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor(),
              "load_average": os.getloadavg(), "training_tokens_per_second": training,
              "generation_tokens_per_second": generation}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"Transformer {config.layers} x {config.d_model}, {config.heads} heads, context {context}, batch "
          f"{batch}; torch {torch.__version__}, {result['threads']} threads, load {result['load_average']}")
    for label, value in training.items():
        print(f"  training  {label:75s} {value:10,.0f} tokens/s")
    for label, value in generation.items():
        print(f"  sampling  {label:75s} {value:10,.1f} tokens/s")


if __name__ == "__main__":
    main()
