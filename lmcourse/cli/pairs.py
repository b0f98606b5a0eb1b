"""``lmcourse pairs``: minimal-pair accuracy of a model, overall, by subject-verb distance and by attractors.

    lmcourse data pairs synthetic --out pairs.tsv
    lmcourse pairs --pairs pairs.tsv --corpus synthetic --order 3 --smoothing kn
    lmcourse pairs --pairs pairs.tsv --checkpoint runs/lstm --json

Each sentence is scored on its own from ``<s>`` (see :mod:`lmcourse.compare.agreement`); a pair is correct
when the model gives the grammatical sentence the higher probability.
"""

from __future__ import annotations

import argparse

from lmcourse.cli.ngram import add_model_arguments, build
from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError

NGRAM_OPTIONS = ("corpus", "order", "smoothing", "k", "alpha", "prune")


def register(subparsers) -> None:
    pairs = subparsers.add_parser(
        "pairs", help="minimal-pair (agreement) accuracy of an N-gram model or a checkpoint",
        usage="lmcourse pairs --pairs FILE.tsv (--checkpoint DIR | --corpus C --order N --smoothing S [...]) "
              "[--json]")
    pairs.add_argument("--pairs", required=True, metavar="FILE.tsv", help="good<TAB>bad[<TAB>attractors<TAB>"
                       "distance] lines, as `lmcourse data pairs synthetic --out FILE` writes them")
    pairs.add_argument("--checkpoint", default=None, metavar="DIR", help="a model trained with `lmcourse train`")
    pairs.add_argument("--ngram", action="store_true", help="an N-gram model fitted on train (implied by "
                       "--corpus; as in `lmcourse sample --ngram`)")
    add_model_arguments(pairs, required=False)
    pairs.add_argument("--json", action="store_true", help="print one JSON object")
    pairs.set_defaults(func=run)


def check_model_source(args: argparse.Namespace) -> None:
    """Exactly one model: ``--checkpoint DIR``, or ``--corpus`` with ``--order`` and ``--smoothing``."""
    ngram_given = [f"--{name}" for name in NGRAM_OPTIONS if getattr(args, name) is not None]
    if args.ngram:
        ngram_given.insert(0, "--ngram")
    if args.checkpoint is not None and ngram_given:
        raise UserError(f"give --checkpoint or an N-gram model, not both: {', '.join(ngram_given)} apply to an "
                        "N-gram model only (a checkpoint knows its model and corpus)")
    if args.checkpoint is None and not ngram_given:
        raise UserError("say which model to score: `--checkpoint DIR` or `--corpus C --order N --smoothing S`")
    if args.checkpoint is None:
        missing = [f"--{name}" for name in ("corpus", "order", "smoothing") if getattr(args, name) is None]
        if missing:
            raise UserError(f"an N-gram model needs {', '.join(missing)}")


def load_model(args: argparse.Namespace):
    """(the model, what to report about it)."""
    if args.checkpoint is not None:
        from lmcourse.neural import NeuralLanguageModel

        model = NeuralLanguageModel.from_checkpoint(args.checkpoint)
        return model, {"corpus": model.corpus_name, "model": model.kind, "checkpoint": args.checkpoint}
    corpus, model, _ = build(args)
    return model, {"corpus": corpus.name, "model": type(model).__name__, "order": args.order,
                   "smoothing": args.smoothing}


def table_lines(title: str, column: str, groups: dict) -> list[str]:
    """A small table: one row per distance (or attractor count) with its pairs and accuracy."""
    if not groups:
        return []
    lines = [title, f"  {column:>10} {'pairs':>7} {'accuracy':>9}"]
    lines += [f"  {key:>10} {row['pairs']:>7,} {row['accuracy']:>9.3f}" for key, row in groups.items()]
    return lines


def run(args: argparse.Namespace) -> int:
    """Check the options, read the pairs, build the model, score, report."""
    from lmcourse.compare.agreement import read_pairs_tsv, score_pairs

    check_model_source(args)
    pairs = read_pairs_tsv(args.pairs)
    model, result = load_model(args)
    log(f"scoring {len(pairs):,} minimal pairs from {args.pairs} ...")
    scores = score_pairs(model, pairs, model.vocab)
    result = {"pairs_file": str(args.pairs), **result, **scores}
    if scores["pairs_with_unk"]:
        log(f"note: {scores['unk_words']:,} words of {scores['pairs_with_unk']:,} pairs are not in the model's "
            "vocabulary and were scored as <unk>")
    described = ", ".join(f"{key} {result[key]}" for key in ("order", "smoothing", "checkpoint") if key in result)
    lines = [f"{result['model']} ({described}) on {result['corpus']}: {len(pairs):,} minimal pairs from "
             f"{args.pairs}",
             f"  accuracy {scores['accuracy']:.3f} ({scores['correct']:,} of {scores['pairs']:,} pairs with "
             f"p(good) > p(bad); {scores['ties']:,} ties count as wrong; chance 0.5)",
             f"  words scored as <unk>: {scores['unk_words']:,} (in {scores['pairs_with_unk']:,} pairs)",
             *table_lines("by subject-verb distance (words):", "distance", scores["by_distance"]),
             *table_lines("by attractors (nouns of the other number in between):", "attractors",
                          scores["by_attractors"])]
    emit(result, args.json, lines)
    return 0
