"""``lmcourse baselines``: Naive Bayes and logistic regression on a classification task, beside the literature.

    lmcourse baselines --task movie_reviews [--folds K] [--json]

Without ``--folds`` each baseline is fitted on the task's train split (logistic regression's penalty chosen on
valid) and scored on its test split, with a 95% bootstrap interval; with ``--folds K`` by K-fold
cross-validation, as the published figures are.
"""

from __future__ import annotations

import argparse
import time

from lmcourse.cli.output import emit, log


def register(subparsers) -> None:
    baselines = subparsers.add_parser("baselines", help="non-neural baselines (Naive Bayes, logistic "
                                      "regression) on a classification task, beside the published figures")
    baselines.add_argument("--task", default="movie_reviews", help="the task (default movie_reviews)")
    baselines.add_argument("--folds", type=int, default=None, metavar="K",
                           help="K-fold cross-validation (10 as Pang & Lee) instead of the fixed split")
    baselines.add_argument("--json", action="store_true", help="print one JSON object")
    baselines.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lmcourse.tasks import get_task
    from lmcourse.tasks.baselines import run_baselines

    task = get_task(args.task)  # an unknown task: a one-line error before any work
    if args.folds is not None:
        task.folds([], args.folds)  # a bad K: the same, before the corpus is read
    start = time.perf_counter()
    documents = task.load_documents()
    data = task.folds(documents, args.folds) if args.folds is not None else task.split(documents)
    result = {"task": task.name, **run_baselines(data, log=log)}
    result["seconds"] = round(time.perf_counter() - start, 2)
    lines = split_lines(result) if args.folds is None else folds_lines(result)
    emit(result, args.json, lines + published_lines(result))
    return 0


def split_lines(result: dict) -> list[str]:
    sizes = result["sizes"]
    lines = [f"{result['task']}: fitted on train ({sizes['train']:,} reviews; penalty chosen on valid, "
             f"{sizes['valid']:,}), scored on test ({sizes['test']:,}); 95% bootstrap intervals over test reviews",
             f"  {'model':<48} {'test acc':>8}  {'95% interval':<15} {'F1 neg':>6} {'F1 pos':>6}  published"]
    for row in result["baselines"]:
        low, high = row["interval_95"]
        f1 = [row["per_class"][name]["f1"] for name in ("neg", "pos")]
        lines.append(f"  {row['name']:<48} {row['test_accuracy']:>8.1%}  [{low:.1%}, {high:.1%}]  "
                     f"{f1[0]:>6.3f} {f1[1]:>6.3f}  {anchors_of(result, row['key'])}")
    return lines


def folds_lines(result: dict) -> list[str]:
    lines = [f"{result['task']}: {result['folds']}-fold cross-validation (folds of {min(result['fold_sizes'])}-"
             f"{max(result['fold_sizes'])} reviews); accuracy mean +- std over the folds",
             f"  {'model':<48} {'mean':>6} {'std':>6} {'min':>6} {'max':>6}  published"]
    for row in result["baselines"]:
        folds = row["fold_accuracy"]
        lines.append(f"  {row['name']:<48} {row['mean']:>6.1%} {row['std']:>6.1%} {min(folds):>6.1%} "
                     f"{max(folds):>6.1%}  {anchors_of(result, row['key'])}")
    return lines


def anchors_of(result: dict, key: str) -> str:
    """The published figures that compare with baseline ``key``, e.g. "Pang & Lee 2004 86.4%"."""
    figures = [f for f in result["published"] if f["compares_with"] == key]
    return "; ".join(f"{f['source']} {percent(f['accuracy'])}" for f in figures) or "-"


def published_lines(result: dict) -> list[str]:
    lines = ["", "published (all: " + result["published"][0]["protocol"] + "):"]
    lines += [f"  {f['source']}: {f['model']}, {percent(f['accuracy'])}" for f in result["published"]]
    if result["protocol"] == "split":
        lines.append("  (those are means over 10 folds of 200 reviews; ours is one test split of 200: "
                     "`--folds 10` compares like with like)")
    return lines


def percent(share: float) -> str:
    """A published share as the paper printed it: 0.864 -> "86.4%", 0.8945 -> "89.45%"."""
    return f"{share * 100:.4g}%"
