"""``lmcourse ngram`` (fit an N-gram model, report perplexity) and ``lmcourse sample --ngram`` (sample text).

    lmcourse ngram --corpus brown --order 5 --smoothing mkn [--prune "0 0 1"] [--arpa out.arpa] [--json]
    lmcourse sample --ngram --corpus brown --order 3 --smoothing kn --n 5 --seed 0 --temperature 0.8
"""

from __future__ import annotations

import argparse
import math
import time

from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError

SPLITS_REPORTED = ("valid", "test")


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    from lmcourse.ngram import SMOOTHING_METHODS

    parser.add_argument("--corpus", required=True, help="a registered corpus name or a folder with train.txt")
    parser.add_argument("--order", type=int, required=True, help="N, the order of the model (1 = unigrams)")
    parser.add_argument("--smoothing", required=True, choices=SMOOTHING_METHODS,
                        help="mle, addk (--k), jm (tuned on held-out), katz, absdisc, kn, mkn (modified "
                        "Kneser-Ney, as KenLM), kn-backoff, stupid (unnormalized scores)")
    parser.add_argument("--k", type=float, default=1.0, help="addk: the pseudo-count k (default 1: Laplace)")
    parser.add_argument("--alpha", type=float, default=0.4, help="stupid: the backoff factor (default 0.4)")
    parser.add_argument("--prune", default=None, metavar="'T1 T2 ...'",
                        help="drop N-grams of order k seen <= Tk times (T1 must be 0; the last repeats), "
                        "as lmplz --prune; backoff weights are renormalized")
    parser.add_argument("--min-count", type=int, default=1, help="folder corpora: vocabulary threshold")


def register(subparsers) -> None:
    ngram = subparsers.add_parser("ngram", help="fit an N-gram model on train; valid/test perplexity")
    _add_model_arguments(ngram)
    ngram.add_argument("--arpa", default=None, metavar="OUT", help="also write the model as an ARPA file "
                       "(backoff-form models: mle, jm, katz, absdisc, kn, mkn, kn-backoff)")
    ngram.add_argument("--json", action="store_true", help="print one JSON object")
    ngram.set_defaults(func=run)

    sample = subparsers.add_parser("sample", help="sample sentences from a model (--ngram: an N-gram model)")
    sample.add_argument("--ngram", action="store_true", help="sample from an N-gram model fitted on train")
    _add_model_arguments(sample)
    sample.add_argument("--n", type=int, default=5, help="number of sentences (default 5)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1)")
    sample.add_argument("--max-words", type=int, default=50, help="stop a sentence after this many words")
    sample.add_argument("--json", action="store_true", help="print one JSON object")
    sample.set_defaults(func=run_sample)


def _build(args: argparse.Namespace):
    from lmcourse.data import load_corpus
    from lmcourse.ngram import make_model, prune

    if args.order < 1:
        raise UserError(f"--order must be at least 1 (got {args.order})")
    options = {}
    if args.smoothing == "addk":
        options["k"] = args.k
    if args.smoothing == "stupid":
        options["alpha"] = args.alpha
    corpus = load_corpus(args.corpus, min_count=args.min_count)
    model = make_model(args.smoothing, args.order, **options)
    log(f"fitting {type(model).__name__} (order {args.order}) on {corpus.name} train ...")
    start = time.perf_counter()
    model.fit(corpus)
    if args.prune:
        model = prune(model, args.prune)
    fit_seconds = time.perf_counter() - start
    return corpus, model, fit_seconds


def run(args: argparse.Namespace) -> int:
    if args.arpa and args.smoothing in ("addk", "stupid"):
        raise UserError(f"--arpa needs a backoff-form model; --smoothing {args.smoothing} has none "
                        "(use mle, jm, katz, absdisc, kn, mkn or kn-backoff)")
    corpus, model, fit_seconds = _build(args)
    result: dict = {
        "corpus": corpus.name,
        "model": type(model).__name__,
        "order": args.order,
        "smoothing": args.smoothing,
        "normalized": model.normalized,
    }
    notes = []
    perplexities: dict[str, float | None] = {}
    predicted: dict[str, int | None] = {}
    cross_entropy: dict[str, float | None] = {}
    infinite: list[str] = []
    start = time.perf_counter()
    for split_name in SPLITS_REPORTED:
        if corpus.splits.get(split_name) is None:
            perplexities[split_name] = predicted[split_name] = cross_entropy[split_name] = None
            notes.append(f"no {split_name} split: {corpus.missing.get(split_name, 'not available')}")
            continue
        split = corpus.split(split_name)
        predicted[split_name] = split.num_predicted
        if not model.normalized:
            model.log_probs(split)  # scored (and timed) all the same, but a score is not a probability
            perplexities[split_name] = cross_entropy[split_name] = None
            continue
        figures = model.evaluate(split)
        perplexities[split_name] = figures["perplexity"]
        cross_entropy[split_name] = figures["cross_entropy_bits"]
        if not math.isfinite(figures["perplexity"]):
            perplexities[split_name] = cross_entropy[split_name] = None
            infinite.append(split_name)
    score_seconds = time.perf_counter() - start
    if infinite:
        notes.append(f"{' and '.join(infinite)} perplexity is infinite (reported as null): the model gives "
                     "probability 0 to a token it never saw in that context (unsmoothed MLE); use a smoothed "
                     "model such as --smoothing mkn")
    if not model.normalized:
        notes.append("stupid backoff gives unnormalized scores, not probabilities: perplexity is undefined "
                     "and not reported")
    result.update({
        "valid_perplexity": perplexities["valid"],
        "test_perplexity": perplexities["test"],
        "valid_cross_entropy_bits": cross_entropy["valid"],
        "test_cross_entropy_bits": cross_entropy["test"],
        "predicted_tokens": predicted,
        "fit_seconds": round(fit_seconds, 4),
        "score_seconds": round(score_seconds, 4),
        "ngram_counts": {str(k): v for k, v in model.ngram_counts().items()},
    })
    described = model.describe()
    for key in ("discounts", "lambdas", "k", "alpha", "good_turing_discounts"):
        if key in described:
            result[key] = described[key]
    if getattr(model, "pruning_thresholds", None):
        result["prune"] = model.pruning_thresholds
    if args.arpa:
        from lmcourse.ngram import write_arpa

        path = write_arpa(model, args.arpa)
        result["arpa"] = str(path)
        log(f"wrote {path}")
    if notes:
        result["note"] = "; ".join(notes)

    lines = [f"{result['model']} order {args.order} on {corpus.name}"]
    for split_name in SPLITS_REPORTED:
        value = perplexities[split_name]
        shown = "n/a" if value is None else f"{value:.3f}"
        count = predicted[split_name]
        lines.append(f"  {split_name} perplexity: {shown}" + (f"  ({count:,} predicted tokens)" if count else ""))
    lines.append("  N-grams per order: " + ", ".join(f"{k}: {v:,}" for k, v in model.ngram_counts().items()))
    if "discounts" in result:
        lines.append("  discounts per order: " + "; ".join(
            f"{k}: " + ", ".join(f"{d:.4f}" for d in ds) for k, ds in result["discounts"].items()))
    lines.append(f"  fit {fit_seconds:.2f} s, scoring {score_seconds:.2f} s")
    for note in notes:
        lines.append(f"  note: {note}")
    emit(result, args.json, lines)
    return 0


def run_sample(args: argparse.Namespace) -> int:
    if not args.ngram:
        raise UserError("say which kind of model to sample from: `lmcourse sample --ngram ...`")
    if args.n < 1:
        raise UserError(f"--n must be at least 1 (got {args.n})")
    if args.temperature <= 0:
        raise UserError(f"--temperature must be positive (got {args.temperature})")
    corpus, model, _ = _build(args)
    sentences = model.sample_sentences(args.n, seed=args.seed, temperature=args.temperature,
                                       max_words=args.max_words)
    result = {"corpus": corpus.name, "model": type(model).__name__, "order": args.order,
              "smoothing": args.smoothing, "seed": args.seed, "temperature": args.temperature,
              "sentences": sentences}
    emit(result, args.json, sentences)
    return 0
