"""Does pre-training pay? One run on movie_reviews' fixed split (not a test: nothing is asserted).

1. Pre-train on the *training* reviews' text (``load_corpus("movie_reviews")``: no valid or test review is
   read): a causal Transformer (GPT) and a masked LM (BERT's objective), each with the ``brown-30min``
   preset's network and recipe, for ``--pretrain-seconds`` each (the preset's 5,400 steps scaled to the
   budget, so that the cosine schedule ends; the budget is also the cap).
2. Fine-tune each on the 1,600 labelled training reviews: everything, and the head only; and the same
   network from scratch (fresh weights, the labelled reviews only). The full and from-scratch rows are each
   trained with every recipe of ``--recipes`` (:data:`RECIPES`) and keep the one with the best *valid*
   accuracy, so that neither side is tuned more than the other; every recipe's figures are in the results.
3. Beside them the baselines a user would pick instead, on the same split: multinomial Naive Bayes and
   logistic regression (:mod:`lmcourse.tasks.baselines`).

Every row: test accuracy on the 200 test reviews with its 95% bootstrap interval, training seconds; and the
paired-bootstrap 95% interval of (pre-trained - from scratch) over the same test reviews. The masked LM's
masked-token accuracy and pseudo-perplexity on test (``--pppl-tokens`` of them) are printed beside the
causal model's test perplexity: different quantities (see :mod:`lmcourse.neural.masked`).

    python benchmarks/bench_pretrain_finetune.py --out results/pretrain-finetune [--pretrain-seconds 1800]
        [--skip mlm] [--epochs 4] [--recipes default,bert] [--json]

Checkpoints go to OUT/pretrain-{causal,mlm}/; a finished pre-training there is reused (delete it to train
again). The result is OUT/results.json. Run it with nothing else heavy on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lmcourse.data import load_corpus
from lmcourse.neural import TrainConfig, make_model
from lmcourse.neural.checkpoint import BEST
from lmcourse.neural.classify import FineTuneConfig
from lmcourse.neural.presets import get_preset
from lmcourse.tasks import get_task
from lmcourse.tasks.baselines import run_baselines
from lmcourse.tasks.finetune import finetune

PRESET = "brown-30min"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pretrain(kind: str, corpus, folder: Path, seconds: float, pppl_tokens: int) -> dict:
    """Train ``kind`` (transformer or mlm) with the preset's network for ``seconds``; its figures on test."""
    preset = get_preset(PRESET, kind)
    training = dict(preset.training)
    scale = seconds / training["time_budget"]
    training.update(steps=max(int(training["steps"] * scale), 1),
                    eval_every=max(int(training["eval_every"] * scale), 1), time_budget=seconds)
    model = make_model(kind, training=TrainConfig(**training), **preset.model)
    if (folder / BEST).is_file() and (folder / "done.json").is_file():
        log(f"{kind}: reusing the pre-training in {folder}")
        return json.loads((folder / "done.json").read_text())
    log(f"pre-training {kind} on {corpus.name} for {seconds:.0f} s ({training['steps']} steps) into {folder}")
    model.pseudo_perplexity_tokens = pppl_tokens
    model.fit(corpus, checkpoint_dir=folder)
    test = corpus.split("test")
    figures = (model.extra_figures(test) if kind == "mlm" else {"perplexity": model.perplexity(test)})
    result = {"kind": kind, "steps": model.steps_done, "stopped": model.stopped, "train_seconds": model.train_seconds,
              "parameters": model.num_parameters(), "test": figures, "training": dataclasses.asdict(model.training)}
    (folder / "done.json").write_text(json.dumps(result, indent=1))
    return result


def paired_difference(a: list[int], b: list[int], resamples: int = 10_000, seed: int = 0) -> list[float]:
    """95% percentile interval of accuracy(a) - accuracy(b) over test documents drawn again with replacement."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rows = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    differences = a[rows].mean(axis=1) - b[rows].mean(axis=1)
    return [float(q) for q in np.quantile(differences, [0.025, 0.975])]


#: fine-tuning recipes tried for every row; each row keeps the one with the best valid accuracy (never test)
RECIPES = {"default": dict(),                                      # lr 3e-4, the network's own dropout
           "bert": dict(lr=1e-3, network_dropout=0.1)}             # a higher lr with BERT's fine-tuning dropout


def best_on_valid(folder: Path, how: dict, recipes: dict, from_scratch: bool) -> dict:
    """Fine-tune with each recipe; the result with the best valid accuracy, every recipe's figures beside it."""
    results = {}
    for recipe_name, recipe in recipes.items():
        _, results[recipe_name] = finetune(folder, "movie_reviews", FineTuneConfig(**how, **recipe),
                                           from_scratch=from_scratch)
    chosen = max(results, key=lambda name: results[name]["best_valid_accuracy"])   # ties: the first
    tried = {name: {"valid_accuracy": r["best_valid_accuracy"], "test_accuracy": r["test"]["accuracy"],
                    "train_seconds": r["train_seconds"]} for name, r in results.items()}
    return {**results[chosen], "recipe": chosen, "recipes_tried": tried}


def fine_tune_rows(folder: Path, name: str, epochs: int, recipes: dict, scratch: bool) -> list[dict]:
    """Fine-tune everything (each recipe, the best on valid kept), the head only, and (``scratch``) the same
    network from fresh weights, chosen among the same recipes in the same way."""
    rows = []
    log(f"fine-tuning {name}: everything")
    rows.append({"row": f"{name}, everything", **best_on_valid(folder, dict(epochs=epochs), recipes, False)})
    log(f"fine-tuning {name}: head only")
    _, result = finetune(folder, "movie_reviews", FineTuneConfig(epochs=epochs, head_only=True))
    rows.append({"row": f"{name}, head only", **result})
    if scratch:
        log(f"fine-tuning {name}: from scratch")
        rows.append({"row": f"{name}, from scratch", **best_on_valid(folder, dict(epochs=epochs), recipes, True)})
    return rows


def table_lines(rows: list[dict], baselines: dict) -> list[str]:
    lines = [f"{'model':<44} {'test accuracy':>13} {'95% interval':>17} {'train s':>8}  valid (recipe)"]
    for row in rows:
        test = row["test"]
        low, high = test["interval_95"]
        lines.append(f"{row['row']:<44} {test['accuracy']:>13.3f} {low:>8.3f} - {high:.3f} "
                     f"{row['train_seconds']:>8.0f}  {row['best_valid_accuracy']:.3f} ({row.get('recipe', 'head')})")
    for row in baselines["baselines"]:
        low, high = row["interval_95"]
        lines.append(f"{row['name']:<44} {row['test_accuracy']:>13.3f} {low:>8.3f} - {high:.3f} {row['seconds']:>8.0f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/pretrain-finetune")
    parser.add_argument("--pretrain-seconds", type=float, default=1800)
    parser.add_argument("--skip", choices=("causal", "mlm"), action="append", default=[])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="fine-tuning recipes to choose from on valid, "
                        f"comma-separated, of {', '.join(RECIPES)}")
    parser.add_argument("--pppl-tokens", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    unknown = [name for name in args.recipes.split(",") if name not in RECIPES]
    if unknown:
        parser.error(f"unknown --recipes {', '.join(unknown)}: use some of {', '.join(RECIPES)}")
    recipes = {name: RECIPES[name] for name in args.recipes.split(",")}
    out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus("movie_reviews")
    task = get_task("movie_reviews")
    log("baselines")
    baselines = run_baselines(task.split(task.load_documents()))
    pretrained, rows = {}, []
    for name, kind in (("causal", "transformer"), ("mlm", "mlm")):
        if name in args.skip:
            continue
        folder = out / f"pretrain-{name}"
        pretrained[name] = pretrain(kind, corpus, folder, args.pretrain_seconds, args.pppl_tokens)
        rows += fine_tune_rows(folder, f"{'GPT' if name == 'causal' else 'BERT-style MLM'} pre-trained", args.epochs,
                               recipes, scratch=True)
    by_name = {row["row"]: row for row in rows}
    differences = {}
    for name in pretrained:
        label = "GPT" if name == "causal" else "BERT-style MLM"
        full, scratch = by_name[f"{label} pre-trained, everything"], by_name[f"{label} pre-trained, from scratch"]
        differences[f"{label}: pre-trained - from scratch"] = {
            "accuracy_points": 100 * (full["test"]["accuracy"] - scratch["test"]["accuracy"]),
            "interval_95_points": [100 * q for q in paired_difference(full["test"]["correct"],
                                                                      scratch["test"]["correct"])]}
    result = {"pretrained": pretrained, "rows": rows, "baselines": baselines, "differences": differences,
              "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "processor": platform.processor(), "torch": torch.__version__},
              "load_at_end": os.getloadavg()}
    (out / "results.json").write_text(json.dumps(result, indent=1, default=float))
    if args.json:
        print(json.dumps(result, default=float))
    else:
        print("\n".join(table_lines(rows, baselines)))
        for name, figures in differences.items():
            low, high = figures["interval_95_points"]
            print(f"{name}: {figures['accuracy_points']:+.1f} points (95% interval {low:+.1f} to {high:+.1f})")
        for name, figures in pretrained.items():
            print(f"{name} pre-training: {figures['steps']} steps, {figures['train_seconds']:.0f} s; "
                  f"test {figures['test']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
