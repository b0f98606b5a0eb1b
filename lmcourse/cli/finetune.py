"""``lmcourse finetune``: a pre-trained network fine-tuned on a labelled task; ``lmcourse classify``: label a text.

    lmcourse train transformer --corpus movie_reviews --preset brown-30min --checkpoint runs/gpt-reviews
    lmcourse finetune --checkpoint runs/gpt-reviews --task movie_reviews --out runs/gpt-sentiment [--json]
    lmcourse finetune --checkpoint runs/gpt-reviews --task movie_reviews --head-only
    lmcourse finetune --checkpoint runs/gpt-reviews --task movie_reviews --from-scratch
    lmcourse finetune --checkpoint runs/gpt-brown --task movie_reviews --folds 10
    lmcourse classify --checkpoint runs/gpt-sentiment "a gripping, beautifully acted film"

See :mod:`lmcourse.tasks.finetune` (the split, cross-validation) and :mod:`lmcourse.neural.classify` (windows,
pooling, the head, the training recipe).
"""

from __future__ import annotations

import argparse

from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError

OPTIONS = {"pooling": str, "epochs": int, "lr": float, "weight_decay": float, "batch": int, "train_windows": int,
           "dropout": float, "network_dropout": float, "layer_decay": float, "seed": int}
HELP = {"pooling": "mean (default), last (causal networks) or first (a masked LM's encoder)",
        "epochs": "passes over the labelled documents (default 4)",
        "lr": "learning rate (default 3e-4; 3e-3 with --head-only)", "weight_decay": "AdamW's (default 0.01)",
        "batch": "documents per step (default 16)",
        "train_windows": "windows of each document read in a training step (default 4; all when scoring)",
        "dropout": "before the head (default 0.1)",
        "network_dropout": "the network's own dropout while fine-tuning (default: as it was trained; BERT fine-tunes "
        "with 0.1)",
        "layer_decay": "layer-wise learning-rate decay: the head learns at lr, block i of L (0 = the lowest) at "
        "lr * decay^(L - i), the embeddings at lr * decay^(L + 1) (default 1: all at lr; ELECTRA uses 0.8)",
        "seed": "random seed (default 0)"}


def register(subparsers) -> None:
    finetune = subparsers.add_parser("finetune", help="fine-tune a trained network on a labelled task")
    finetune.add_argument("--checkpoint", required=True, metavar="DIR",
                          help="a training folder of `lmcourse train` (transformer, mlm, lstm, ...)")
    finetune.add_argument("--task", default="movie_reviews", help="the labelled task (default movie_reviews)")
    finetune.add_argument("--head-only", action="store_true", help="freeze the network, train the head alone")
    finetune.add_argument("--from-scratch", action="store_true",
                          help="the same network with fresh weights, trained on the labelled documents only")
    finetune.add_argument("--folds", type=int, default=None, metavar="K", help="K-fold cross-validation instead "
                          "of the fixed split (Pang & Lee's folds for K = 10)")
    finetune.add_argument("--train-size", type=int, default=None, metavar="N",
                          help="use N labelled training documents (as many per class, seeded)")
    for name, kind in OPTIONS.items():
        finetune.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None, help=HELP[name])
    finetune.add_argument("--out", default=None, metavar="DIR",
                          help="save the classifier (classifier.pt) and result.json here, for `lmcourse classify`")
    finetune.add_argument("--json", action="store_true", help="print one JSON object")
    finetune.set_defaults(func=run_finetune)

    classify = subparsers.add_parser("classify", help="label a text with a fine-tuned classifier")
    classify.add_argument("--checkpoint", required=True, metavar="DIR", help="a folder `lmcourse finetune --out` wrote")
    classify.add_argument("text", help="the text to label (in quotes)")
    classify.add_argument("--json", action="store_true", help="print one JSON object")
    classify.set_defaults(func=run_classify)


def fine_tune_config(args: argparse.Namespace):
    from lmcourse.neural.classify import FineTuneConfig

    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    config = FineTuneConfig(head_only=args.head_only, **given)
    config.check()
    return config


def check_out(out: str | None) -> None:
    """Refuse an ``--out`` that cannot hold the results before anything is trained."""
    from pathlib import Path

    if out is None:
        return
    if out == "":
        raise UserError("--out is empty: give a folder for classifier.pt and result.json")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {out} is a file: give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--out {out} cannot be made ({error.strerror}): give a folder you can write") from None


def run_finetune(args: argparse.Namespace) -> int:
    from lmcourse.neural.classify import check_pooling, network_for
    from lmcourse.tasks import get_task

    config = fine_tune_config(args)
    get_task(args.task)                         # an unknown task: one line, before any loading
    _, network_model, causal = network_for(args.checkpoint)   # not a model, or the wrong pooling: refused here
    check_pooling(config.pooling, causal)
    check_out(args.out)
    if args.folds is not None:
        if args.out is not None or args.train_size is not None:
            raise UserError("--folds trains one classifier per fold: leave out --out and --train-size")
        return _run_folds(args, config)
    from lmcourse.files import atomic_write_text
    from lmcourse.neural.classify import save_classifier
    from lmcourse.tasks.finetune import finetune

    log(f"fine-tuning {args.checkpoint} on {args.task}" + (" (head only)" if config.head_only else "")
        + (" from scratch" if args.from_scratch else ""))
    classifier, result = finetune(args.checkpoint, args.task, config, args.from_scratch, args.train_size)
    if args.out is not None:
        import json
        from pathlib import Path

        from lmcourse.cli.output import json_safe

        save_classifier(args.out, classifier, network_model, args.task, result)
        atomic_write_text(Path(args.out) / "result.json", json.dumps(json_safe(result), indent=1))
        result["out"] = args.out
    emit(result, args.json, result_lines(result))
    return 0


def _run_folds(args, config) -> int:
    from lmcourse.tasks.finetune import cross_validate

    result = cross_validate(args.checkpoint, args.task, args.folds, config, args.from_scratch)
    lines = [f"{args.task}, {args.folds}-fold cross-validation, {args.checkpoint}"
             + (" from scratch" if args.from_scratch else ""),
             "  accuracy per fold: " + " ".join(f"{a:.3f}" for a in result["fold_accuracies"]),
             f"  mean {result['mean_accuracy']:.4f} (standard deviation {result['std_accuracy']:.4f})"]
    emit(result, args.json, lines)
    return 0


def result_lines(result: dict) -> list[str]:
    test = result["test"]
    how = "from scratch" if result["from_scratch"] else f"pre-trained on {result['pretrained_on']}"
    low, high = test["interval_95"]
    lines = [f"{result['task']}: {result['network']} ({result['parameters']:,} parameters, {how}), "
             f"{'head only' if result['head_only'] else 'everything fine-tuned'}, {result['train_documents']:,} "
             f"labelled documents, {result['train_seconds']:.0f} s",
             f"  test accuracy {test['accuracy']:.4f} (95% interval {low:.4f} - {high:.4f}, {test['documents']} "
             f"documents); best valid accuracy {result['best_valid_accuracy']:.4f}"]
    for name, figures in test["per_class"].items():
        lines.append(f"  {name}: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, "
                     f"F1 {figures['f1']:.3f}")
    if result.get("out"):
        lines.append(f"  saved to {result['out']} (classifier.pt, result.json)")
    return lines


def run_classify(args: argparse.Namespace) -> int:
    from nltk.tokenize import wordpunct_tokenize  # movie_reviews' files are tokenized this way, lowercased

    from lmcourse.neural.classify import document_ids, document_windows, load_classifier, predict_probabilities

    if not args.text.strip():
        raise UserError("the text is empty: give the text to classify, in quotes")
    classifier, vocab, labels = load_classifier(args.checkpoint)
    sentences = [wordpunct_tokenize(line.lower()) for line in args.text.splitlines() if line.strip()]
    windows = document_windows(document_ids(sentences, vocab), classifier.context)
    probabilities = predict_probabilities(classifier, [windows])[0]
    best = int(probabilities.argmax())
    result = {"label": labels[best], "probability": float(probabilities[best]),
              "probabilities": {name: float(p) for name, p in zip(labels, probabilities)},
              "tokens": int(sum(len(s) + 1 for s in sentences)), "checkpoint": args.checkpoint}
    emit(result, args.json, [f"{result['label']} (p = {result['probability']:.3f})"])
    return 0
