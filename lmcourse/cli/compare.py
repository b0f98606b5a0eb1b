"""``lmcourse compare``: every model of the course on one corpus, one table, the figures (the main job).

    lmcourse compare                                       # synthetic, budget quick: about 2 minutes on 2 cores
    lmcourse compare --corpus brown --budget full          # the course's headline table (under 2 hours)
    lmcourse compare --models mkn,lstm --out runs/cmp      # a few rows only
    lmcourse compare --resume                              # continue an interrupted run (same options)

Writes ``results.json`` (after every row), ``results.md`` and the PNG figures to ``--out`` (default
``results/<corpus>/``); prints the headline table (``--json``: the whole results object).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError


def register(subparsers) -> None:
    from lmcourse.compare.budgets import BUDGETS

    compare = subparsers.add_parser("compare", help="every model on one corpus: the table and the figures")
    compare.add_argument("--corpus", default="synthetic", help="a registered corpus or a folder with train.txt "
                         "(default synthetic: built in, no download)")
    compare.add_argument("--budget", default="quick", choices=BUDGETS, help="quick (about 2 minutes on synthetic), "
                         "standard (quick + data scaling), full (the 30-minute presets + data scaling) "
                         "or tiny (seconds: tests and fast-mode notebooks)")
    compare.add_argument("--models", default=None, metavar="LIST", help="comma-separated rows (mkn-5, lstm, "
                         "lstm@10%%), smoothings (kn), kinds, or ngram / neural (default: all of the budget)")
    compare.add_argument("--out", default=None, metavar="DIR", help="where the results go (default "
                         "results/<corpus>/)")
    compare.add_argument("--resume", action="store_true", help="skip the rows already in DIR/results.json")
    compare.add_argument("--seed", type=int, default=0, help="seed of the neural models (default 0)")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    parts = ["lmcourse", "compare", "--corpus", args.corpus, "--budget", args.budget, "--seed", str(args.seed)]
    if args.models:
        parts += ["--models", args.models]
    return " ".join(shlex.quote(part) for part in parts)


def row_summary(row: dict) -> str:
    """The progress line of a finished row: its test perplexity and how long it took."""
    value = row.get("test_perplexity")
    if value is not None:
        shown = f"{value:.3f}"
    elif "test perplexity is infinite" in row.get("note", ""):
        shown = "infinite (a test token of probability 0)"
    else:
        shown = "n/a"
    line = f"test perplexity {shown}, {row.get('train_seconds', row.get('fit_seconds', 0.0)):.1f} s"
    return line + (" (stopped by the time cap)" if row.get("stopped") == "time budget reached" else "")


def run(args: argparse.Namespace) -> int:
    from lmcourse.compare.budgets import plan, select
    from lmcourse.compare.runner import Comparison, interrupted_message
    from lmcourse.data import load_corpus

    if args.seed < 0:
        raise UserError(f"--seed must be >= 0 (got {args.seed})")
    select(plan(args.budget), args.models)  # a bad --models: a one-line error before loading anything
    corpus = load_corpus(args.corpus)  # an unknown corpus: a one-line error before any folder is made
    comparison = Comparison(args.corpus, args.budget, out=args.out, models=args.models, seed=args.seed,
                            resume=args.resume)
    command = command_line(args)
    log(f"lmcourse compare: {len(comparison.runs)} models on {args.corpus}, budget {args.budget}; results in "
        f"{comparison.out}/")
    try:
        comparison.run(on_row=lambda name, row: log(f"  {name}: {row_summary(row)}"), corpus=corpus)
    except KeyboardInterrupt:
        _, table = comparison.report(command)
        print("\n".join(table), file=sys.stderr)
        print(f"lmcourse: {interrupted_message(comparison.results, comparison.out)}", file=sys.stderr)
        return 130
    except Exception:  # a model that fails: the report of the rows done so far, then the error itself
        comparison.report(command)
        raise
    figures, table = comparison.report(command)
    out = Path(comparison.out)
    lines = [*table, "", f"results: {out / 'results.md'} (the report), {out / 'results.json'} (every figure)",
             "figures: " + ", ".join(str(out / name) for name in figures)]
    emit(comparison.results, args.json, lines)
    return 0
