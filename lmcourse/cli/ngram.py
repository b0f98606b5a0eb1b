"""``lmcourse ngram``: fit an N-gram model, report perplexity (``lmcourse sample --ngram``: see cli/sample.py).

    lmcourse ngram --corpus brown --order 5 --smoothing mkn [--prune "0 0 1"] [--arpa out.arpa] [--json]
"""

from __future__ import annotations

import argparse
import time

from lmcourse.cli.common import figure_lines, split_figures
from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError


def add_model_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--corpus, --order, --smoothing and the smoothing's options (``lmcourse sample --ngram`` has them too,
    not required there since ``sample --checkpoint`` needs none of them)."""
    from lmcourse.ngram import SMOOTHING_METHODS

    parser.add_argument("--corpus", required=required, help="a registered corpus name or a folder with train.txt")
    parser.add_argument("--order", type=int, required=required, help="N, the order of the model (1 = unigrams)")
    parser.add_argument("--smoothing", required=required, choices=SMOOTHING_METHODS,
                        help="mle, addk (--k), jm (tuned on held-out), katz, absdisc, kn, mkn (modified "
                        "Kneser-Ney, as KenLM), kn-backoff, stupid (unnormalized scores)")
    parser.add_argument("--k", type=float, default=None, help="addk only: the pseudo-count k > 0 (default 1: "
                        "Laplace)")
    parser.add_argument("--alpha", type=float, default=None, help="stupid only: the backoff factor, 0 < alpha "
                        "<= 1 (default 0.4)")
    parser.add_argument("--prune", default=None, metavar="'T1 T2 ...'",
                        help="backoff-form models only: drop N-grams of order k seen <= Tk times (T1 must be 0; "
                        "at most --order thresholds, the last repeats), as lmplz --prune; backoff weights are "
                        "renormalized")
    parser.add_argument("--min-count", type=int, default=1, help="folder corpora: vocabulary threshold")
    parser.add_argument("--memory", default=None, metavar="SIZE",
                        help="memory budget of the counting, e.g. 512M or 4G (default: an eighth of this machine's "
                        "memory, at most 2G); a larger corpus is counted in chunks merged on disk (in $TMPDIR), "
                        "with the same result, as lmplz -S")


def register(subparsers) -> None:
    ngram = subparsers.add_parser("ngram", help="fit an N-gram model on train; valid/test perplexity")
    add_model_arguments(ngram)
    ngram.add_argument("--arpa", default=None, metavar="OUT", help="also write the model as an ARPA file "
                       "(backoff-form models: mle, jm, katz, absdisc, kn, mkn, kn-backoff)")
    ngram.add_argument("--json", action="store_true", help="print one JSON object")
    ngram.set_defaults(func=run)


def backoff_form_smoothings() -> list[str]:
    """The smoothings with a normalized backoff form: the only ones that can be pruned or written as ARPA."""
    from lmcourse.ngram import MODELS, BackoffModel

    return [name for name, cls in MODELS.items() if issubclass(cls, BackoffModel) and cls.normalized]


def _validate(args: argparse.Namespace) -> dict:
    """Check the options before any work (loading, fitting); returns the model's constructor options, whose
    values the constructor checks (``_build`` makes the model before it loads the corpus).

    Each bad value, and each option that the chosen smoothing does not take, is a one-line UserError.
    """
    from lmcourse.lm import check_temperature
    from lmcourse.ngram.chunked_counting import default_memory, parse_memory
    from lmcourse.ngram.pruning import parse_thresholds

    if args.order < 1:
        raise UserError(f"--order must be at least 1 (got {args.order})")
    options = {}
    for option, smoothing in (("k", "addk"), ("alpha", "stupid")):
        value = getattr(args, option)
        if value is not None and args.smoothing != smoothing:
            raise UserError(f"--{option} applies to --smoothing {smoothing} only, not {args.smoothing}: "
                            f"leave --{option} out")
        if value is not None:
            options[option] = value  # else the constructor's default
    needs_backoff_form = [f"--{name}" for name in ("prune", "arpa") if getattr(args, name, None) is not None]
    if needs_backoff_form and args.smoothing not in backoff_form_smoothings():
        verb = "needs" if len(needs_backoff_form) == 1 else "need"
        raise UserError(f"{' and '.join(needs_backoff_form)} {verb} a normalized backoff-form model, which "
                        f"--smoothing {args.smoothing} is not: use one of {', '.join(backoff_form_smoothings())}")
    if args.prune is not None:
        args.prune = parse_thresholds(args.prune, args.order)
    args.memory = default_memory() if args.memory is None else parse_memory(args.memory)
    if getattr(args, "arpa", None) is not None:
        from lmcourse.ngram.arpa import check_arpa_target

        check_arpa_target(args.arpa)
    if getattr(args, "temperature", None) is not None:
        check_temperature(args.temperature)
    return options


def build(args: argparse.Namespace):
    from lmcourse.data import load_corpus
    from lmcourse.ngram import make_model, prune

    model = make_model(args.smoothing, args.order, **_validate(args))  # bad --k or --alpha: a UserError here
    corpus = load_corpus(args.corpus, min_count=args.min_count)
    log(f"fitting {type(model).__name__} (order {args.order}) on {corpus.name} train ...")
    start = time.perf_counter()
    model.fit(corpus, memory=args.memory)
    if args.prune is not None:
        model = prune(model, args.prune)
    fit_seconds = time.perf_counter() - start
    return corpus, model, fit_seconds


def run(args: argparse.Namespace) -> int:
    """Fit, score valid and test, report: one straight line, the figures from cli/common.py."""
    corpus, model, fit_seconds = build(args)
    start = time.perf_counter()
    figures = split_figures(model, corpus)
    score_seconds = time.perf_counter() - start
    result: dict = {"corpus": corpus.name, "model": type(model).__name__, "order": args.order,
                    "smoothing": args.smoothing, "normalized": model.normalized, **figures,
                    "fit_seconds": round(fit_seconds, 4), "score_seconds": round(score_seconds, 4),
                    "ngram_counts": {str(k): v for k, v in model.ngram_counts().items()},
                    "counting": {"memory_budget_bytes": args.memory,
                                 "in_chunks": bool(getattr(model.counts, "counted_in_chunks", False))}}
    described = model.describe()
    for key in ("discounts", "discount_fallback", "lambdas", "k", "alpha", "good_turing_discounts"):
        if key in described:
            result[key] = described[key]
    if getattr(model, "pruning_thresholds", None):
        result["prune"] = model.pruning_thresholds
    fallback = [k for k, used in result.get("discount_fallback", {}).items() if used]
    if fallback:
        log(f"note: at order {', '.join(fallback)} the counts of counts do not define the discounts (a count "
            "of count is 0, or a discount would fall outside [0, r]): the fixed fallback discounts are used "
            "(KenLM's --discount_fallback: 0.5, 1, 1.5 for modified KN; 0.5 for one discount)")
    if args.arpa:
        from lmcourse.ngram import write_arpa

        path = write_arpa(model, args.arpa)
        result["arpa"] = str(path)
        log(f"wrote {path}")
    lines = [f"{result['model']} order {args.order} on {corpus.name}", *figure_lines(result),
             "  N-grams per order: " + ", ".join(f"{k}: {v:,}" for k, v in model.ngram_counts().items())]
    if "discounts" in result:
        lines.append("  discounts per order: " + "; ".join(
            f"{k}: " + ", ".join(f"{d:.4f}" for d in ds) for k, ds in result["discounts"].items()))
    lines.append(f"  fit {fit_seconds:.2f} s, scoring {score_seconds:.2f} s")
    emit(result, args.json, lines)
    return 0
