"""Training throughput of lmcourse's recurrent models beside PyTorch's word_language_model example, in one run
(not a test: nothing is asserted).

For the same number of steps on the same stream (brown train if present, else synthetic):

1. the baseline, written as PyTorch's official example does it (``main.py`` / ``model.py`` of
   word_language_model: embedding -> ``nn.LSTM(200, 200, 2, dropout=0.2)`` -> linear, manual SGD at lr 20,
   clip 0.25, batch 20, bptt 35, hidden state repackaged between windows);
2. lmcourse's trainer at the same configuration (``lmcourse train lstm`` with no preset);
3. the ``brown-30min`` preset's configuration;
4. the written-out cells (``--from-scratch``) at the baseline's configuration (fewer steps: they are slower).

Baseline and ours alternate (``--rounds``) and each figure is the median of its rounds. Training tokens per
second count the targets of the optimizer steps only (no evaluation), the same way for every row.

    NLTK_DATA=../shared/nltk_data python benchmarks/bench_rnn.py [--steps 150] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn


class ExampleRNNModel(nn.Module):
    """word_language_model's RNNModel (LSTM branch), as the example writes it."""

    def __init__(self, ntoken: int, ninp: int = 200, nhid: int = 200, nlayers: int = 2, dropout: float = 0.2):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        self.nhid, self.nlayers = nhid, nlayers

    def forward(self, inputs, hidden):
        emb = self.drop(self.encoder(inputs))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.decoder.out_features)
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz: int):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def example_baseline(tokens: torch.Tensor, ntoken: int, steps: int, batch: int = 20, bptt: int = 35,
                     lr: float = 20.0, clip: float = 0.25) -> float:
    """The example's train() loop for ``steps`` windows; returns training tokens per second."""
    torch.manual_seed(0)
    nbatch = tokens.size(0) // batch
    data = tokens[: nbatch * batch].view(batch, -1).t().contiguous()          # batchify: (L, batch)
    model = ExampleRNNModel(ntoken)
    model.train()
    criterion = nn.NLLLoss()
    hidden = model.init_hidden(batch)
    targets_seen, start = 0, time.perf_counter()
    for step, i in enumerate(range(0, data.size(0) - 1, bptt)):
        if step == steps:
            break
        seq_len = min(bptt, len(data) - 1 - i)
        source, target = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].reshape(-1)
        hidden = tuple(h.detach() for h in hidden)                           # repackage_hidden
        model.zero_grad()
        output, hidden = model(source, hidden)
        loss = criterion(output, target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        targets_seen += target.numel()
    return targets_seen / (time.perf_counter() - start)


def ours(train_tokens, vocab, steps: int, model_options: dict, training_options: dict) -> float:
    """lmcourse's trainer for ``steps`` steps (evaluation replaced by a constant); training tokens per second."""
    from lmcourse.neural import TrainConfig, make_model
    from lmcourse.neural.train import Trainer

    training = TrainConfig(**{**training_options, "steps": steps, "eval_every": 10**9, "device": "cpu"})
    model = make_model("lstm", training=training, **model_options)
    module = model.build(vocab)
    result = Trainer(module, train_tokens, lambda m: 1.0, training, progress_bar=False).run()
    return result.train_tokens_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="optimizer steps per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of baseline and ours")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from lmcourse.data import get_spec, load_corpus
    from lmcourse.neural.presets import PRESETS

    name = "brown" if get_spec("brown").is_present() else "synthetic"
    if name != "brown":
        print("brown not found (set NLTK_DATA=../shared/nltk_data): measuring on synthetic", file=sys.stderr)
    corpus = load_corpus(name)
    train = corpus.split("train").tokens
    stream = torch.from_numpy(train.astype("int64"))
    example_model = dict(emb=200, hidden=200, layers=2, dropout=0.2)
    example_training = dict(optimizer="sgd", lr=20.0, clip=0.25, batch=20, bptt=35, schedule="constant")
    rows: dict[str, list[float]] = {"baseline (PyTorch example)": [], "lmcourse, example's configuration": []}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}/{args.rounds}: baseline, then ours", file=sys.stderr)
        rows["baseline (PyTorch example)"].append(example_baseline(stream, len(corpus.vocab), args.steps))
        rows["lmcourse, example's configuration"].append(ours(train, corpus.vocab, args.steps, example_model,
                                                              example_training))
    preset = PRESETS["brown-30min"]
    print("the brown-30min preset, then the written-out cells", file=sys.stderr)
    rows["lmcourse, brown-30min preset"] = [ours(train, corpus.vocab, max(args.steps // 3, 10), preset.model,
                                                 preset.training)]
    rows["lmcourse, written-out cells (example's configuration)"] = [
        ours(train, corpus.vocab, max(args.steps // 5, 10), {**example_model, "fused": False}, example_training)]
    figures = {row: statistics.median(values) for row, values in rows.items()}
    baseline = figures["baseline (PyTorch example)"]
    result = {"corpus": name, "steps": args.steps, "rounds": args.rounds,
              "train_tokens_per_second": {row: round(value, 1) for row, value in figures.items()},
              "ratio_to_baseline": {row: round(value / baseline, 3) for row, value in figures.items()},
              "all_rounds": {row: [round(v, 1) for v in values] for row, values in rows.items()},
              "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "torch": torch.__version__, "python": platform.python_version(),
                          "load_average": os.getloadavg()}}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"training tokens per second on {name}, {args.steps} steps (median of {args.rounds} rounds where "
          f"alternated); load average {os.getloadavg()[0]:.2f}")
    for row, value in figures.items():
        print(f"  {row:58s} {value:9,.0f}   {value / baseline:5.2f} x baseline")


if __name__ == "__main__":
    main()
