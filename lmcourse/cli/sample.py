"""``lmcourse sample``: sentences sampled from an N-gram model fitted on the spot, or from a trained checkpoint.

    lmcourse sample --ngram --corpus brown --order 3 --smoothing kn --n 5 --seed 0 --temperature 0.8
    lmcourse sample --checkpoint runs/lstm --n 5 --seed 0 --temperature 0.8
    lmcourse sample --checkpoint runs/gpt --top-k 40 --top-p 0.9 --prompt "the jury said"
"""

from __future__ import annotations

import argparse
import warnings

from lmcourse.cli.ngram import add_model_arguments, build
from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError


def register(subparsers) -> None:
    sample = subparsers.add_parser(
        "sample", help="sample sentences: --ngram (fit an N-gram model) or --checkpoint DIR (a trained model)",
        usage="lmcourse sample (--ngram --corpus C --order N --smoothing S | --checkpoint DIR) [--n --seed "
              "--temperature --top-k --top-p --prompt --max-words --json]")
    source = sample.add_mutually_exclusive_group()
    source.add_argument("--ngram", action="store_true", help="an N-gram model fitted on train (needs --corpus, "
                        "--order, --smoothing)")
    source.add_argument("--checkpoint", default=None, metavar="DIR", help="a model trained with `lmcourse train`")
    add_model_arguments(sample, required=False)
    sample.add_argument("--n", type=int, default=5, help="number of sentences (default 5)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1)")
    sample.add_argument("--top-k", type=int, default=None, help="sample among the k most probable words only")
    sample.add_argument("--top-p", type=float, default=None,
                        help="sample from the nucleus: the fewest most probable words whose mass reaches p")
    sample.add_argument("--prompt", default=None, help="words the sentences start with (space-separated); "
                        "longer than a Transformer's context, it is cropped to the last tokens with a warning")
    sample.add_argument("--max-words", type=int, default=50, help="stop a sentence after this many words")
    sample.add_argument("--json", action="store_true", help="print one JSON object")
    sample.set_defaults(func=run_sample)


def run_sample(args: argparse.Namespace) -> int:
    from lmcourse.lm import check_temperature

    if args.n < 1:
        raise UserError(f"--n must be at least 1 (got {args.n})")
    if args.max_words < 1:
        raise UserError(f"--max-words must be at least 1 (got {args.max_words})")
    if args.seed < 0:
        raise UserError(f"--seed must be >= 0 (got {args.seed})")
    check_temperature(args.temperature)
    if args.top_k is not None and args.top_k < 1:
        raise UserError(f"--top-k must be at least 1 (got {args.top_k})")
    if args.top_p is not None and not (0 < args.top_p <= 1):
        raise UserError(f"--top-p must be in (0, 1] (got {args.top_p})")
    if args.checkpoint is not None:
        model, result = from_checkpoint(args)
    elif args.ngram:
        missing = [f"--{name}" for name in ("corpus", "order", "smoothing") if getattr(args, name) is None]
        if missing:
            raise UserError(f"sample --ngram needs {', '.join(missing)}")
        corpus, model, _ = build(args)
        result = {"corpus": corpus.name, "model": type(model).__name__, "order": args.order,
                  "smoothing": args.smoothing}
    else:
        raise UserError("say which model to sample from: `lmcourse sample --ngram --corpus ...` or "
                        "`lmcourse sample --checkpoint DIR`")
    prompt = args.prompt.split() if args.prompt else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sentences = model.sample_sentences(args.n, seed=args.seed, temperature=args.temperature,
                                           max_words=args.max_words, top_k=args.top_k, top_p=args.top_p,
                                           context=prompt)
    for message in {str(w.message) for w in caught}:
        log(f"warning: {message}")
    if prompt:
        sentences = [" ".join(prompt + ([s] if s else [])) for s in sentences]
    result.update({"seed": args.seed, "temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p,
                   "prompt": args.prompt, "sentences": sentences})
    emit(result, args.json, sentences)
    return 0


def from_checkpoint(args: argparse.Namespace):
    given = [f"--{name}" for name in ("corpus", "order", "smoothing") if getattr(args, name) is not None]
    if given:
        raise UserError(f"{', '.join(given)} apply to --ngram only: a checkpoint knows its model and corpus")
    from lmcourse.neural import NeuralLanguageModel

    model = NeuralLanguageModel.from_checkpoint(args.checkpoint)
    return model, {"corpus": model.corpus_name, "model": model.kind, "checkpoint": args.checkpoint}
