"""``lmcourse train KIND``: train a neural language model, report valid and test perplexity;
``lmcourse eval --checkpoint DIR``: score a trained model again.

    lmcourse train lstm --corpus brown --preset brown-30min --checkpoint runs/lstm [--json]
    lmcourse train gru --corpus synthetic --hidden 128 --layers 1 --steps 500 --optimizer adamw --lr 3e-3
    lmcourse train transformer --corpus brown --preset brown-30min --checkpoint runs/gpt
    lmcourse train transformer --corpus synthetic --layers 2 --heads 4 --d-model 128 --context 64 --steps 500
    torchrun --nproc_per_node=2 -m lmcourse train lstm --corpus brown --steps 200 --dropout 0
    lmcourse eval --checkpoint runs/lstm --split test --json

Every option has the value of ``--preset`` when given, else the default of PyTorch's word_language_model
example (2 x 200 LSTM, SGD at lr 20 divided by 4 on plateau, batch 20, bptt 35, clip 0.25, one epoch). A
Transformer's defaults are a small GPT (4 layers, 4 heads, width 256, context 128) trained as nanoGPT is (AdamW
at 1e-3, warm-up + cosine, weight decay 0.1, clip 1, batch 32), its window (--bptt) the context.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from lmcourse.cli.common import figure_lines, split_figures
from lmcourse.cli.output import emit, log
from lmcourse.errors import UserError

KINDS = ("rnn", "gru", "lstm", "transformer", "mlm")
# command-line option -> (config field, type); None as default so that a preset's value shows through. Each
# model kind takes some of them (make_model refuses the others with a one-line error).
MODEL_OPTIONS = {"emb": int, "hidden": int, "layers": int, "dropout": float, "embedding_dropout": float,
                 "heads": int, "d_model": int, "context": int, "mlp_ratio": int, "stride": int, "positions": str,
                 "select": float, "to_mask": float, "to_random": float}
TRAIN_OPTIONS = {"optimizer": str, "lr": float, "weight_decay": float, "schedule": str, "warmup": int,
                 "clip": float, "batch": int, "bptt": int, "steps": int, "epochs": int, "time_budget": float,
                 "eval_every": int, "patience": int, "checkpoint_every": int, "seed": int, "device": str,
                 "precision": str}

HELP = {
    "emb": "embedding size (default 200; transformer: 0 = --d-model, smaller for a smaller output layer)",
    "hidden": "units per layer (default 200)",
    "layers": "recurrent layers or Transformer blocks (default 2; transformer 4)", "dropout": "dropout on "
    "embeddings, between layers and before the output, in [0, 1) (default 0.2; transformer 0.1)",
    "embedding_dropout": "probability of dropping a whole word (default 0)",
    "heads": "transformer: attention heads, dividing --d-model (default 4)",
    "d_model": "transformer: width D (default 256)", "context": "transformer: positions a token sees (default 128)",
    "mlp_ratio": "transformer: MLP width / D (default 4)",
    "stride": "transformer: tokens scored per sliding window in evaluation (default context / 2)",
    "positions": "transformer: learned or sinusoidal (default learned)",
    "select": "mlm: share of positions chosen for the loss (default 0.15)",
    "to_mask": "mlm: of the chosen, the share replaced by <mask> (default 0.8)",
    "to_random": "mlm: of the chosen, the share replaced by a random word (default 0.1; the rest stay)",
    "optimizer": "sgd or adamw (default sgd)", "lr": "learning rate (default 20)",
    "weight_decay": "weight decay (default 0)", "schedule": "plateau (divide by 4 when valid does not improve), "
    "cosine (warm-up, then cosine decay) or constant (default plateau)",
    "warmup": "cosine: steps of linear warm-up", "clip": "max global gradient norm, 0 = none (default 0.25)",
    "batch": "columns of the stream per step (default 20)", "bptt": "window length (default 35)",
    "steps": "optimizer steps (instead of --epochs)", "epochs": "passes over train (default 1)",
    "time_budget": "stop after this many seconds of training + evaluation (a cap)",
    "eval_every": "steps between valid evaluations (default: once per epoch)",
    "patience": "stop after this many evaluations without improvement",
    "checkpoint_every": "steps between resumable checkpoints (default: each evaluation)",
    "precision": "auto (bfloat16 autocast on CUDA), fp32, or bf16 (autocast on the CPU too: faster on CPUs "
    "with AVX-512 BF16)", "seed": "random seed (default 0)",
    "device": "auto (CUDA if present), cpu or cuda (default auto)",
}


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a neural language model (rnn, gru, lstm, transformer)")
    train.add_argument("kind", choices=KINDS, help="the model: rnn (Elman), gru, lstm, transformer, or mlm (a "
                       "masked language model: BERT's objective, a bidirectional Transformer encoder)")
    train.add_argument("--corpus", required=True, help="a registered corpus name or a folder with train.txt")
    train.add_argument("--min-count", type=int, default=1, help="folder corpora: vocabulary threshold")
    train.add_argument("--preset", default=None, help="named settings (brown-30min, synthetic-quick, tiny); "
                       "options given here override them")
    for name, kind in {**MODEL_OPTIONS, **TRAIN_OPTIONS}.items():
        train.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None, help=HELP[name])
    train.add_argument("--tie", action=argparse.BooleanOptionalAction, default=None,
                       help="output weights = input embedding (the last layer then has --emb units)")
    train.add_argument("--variational", action=argparse.BooleanOptionalAction, default=None,
                       help="the same dropout mask at every time step")
    train.add_argument("--adaptive-softmax", default=None, metavar="CUTOFFS",
                       help="adaptive softmax with these cluster boundaries, e.g. 2000,6000")
    train.add_argument("--from-scratch", action="store_true",
                       help="run the written-out cells / attention instead of PyTorch's fused kernels (slower)")
    train.add_argument("--checkpoint", default=None, metavar="DIR",
                       help="folder for last.pt, best.pt and log.json (needed for --resume, eval, sample)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint DIR")
    train.add_argument("--pseudo-perplexity-tokens", type=int, default=None, metavar="N",
                       help="mlm: score pseudo-perplexity on the first N tokens of each split (default all: one "
                       "forward pass per token)")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser("eval", help="score a trained neural model again (--checkpoint DIR)")
    evaluate.add_argument("--checkpoint", required=True, metavar="DIR", help="a training folder or a .pt file")
    evaluate.add_argument("--split", choices=("valid", "test"), default=None, help="one split (default both)")
    evaluate.add_argument("--pseudo-perplexity-tokens", type=int, default=None, metavar="N",
                          help="a masked LM: pseudo-perplexity on the first N tokens of each split (default all)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=run_eval)


def settings(args: argparse.Namespace) -> tuple[dict, dict]:
    """(model options, training options): the preset's, overridden by the options given."""
    from lmcourse.neural.presets import DEFAULT_TRAINING

    model, training = {}, dict(DEFAULT_TRAINING.get(args.kind, {}))
    if args.preset is not None:
        from lmcourse.neural.presets import get_preset

        preset = get_preset(args.preset, args.kind)
        model, training = dict(preset.model), {**training, **preset.training}
    for name in MODEL_OPTIONS:
        if getattr(args, name) is not None:
            model[name] = getattr(args, name)
    for name in ("tie", "variational"):
        if getattr(args, name) is not None:
            model[name] = getattr(args, name)
    if args.adaptive_softmax is not None:
        model["adaptive_cutoffs"] = parse_cutoffs(args.adaptive_softmax)
    if args.from_scratch:
        model["fused"] = False
    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    if "steps" in given or "epochs" in given:  # one stopping rule given here replaces the preset's
        training.pop("steps", None), training.pop("epochs", None)
    training.update(given)
    if args.kind in ("transformer", "mlm") and "bptt" not in training:  # a training window is one context
        from lmcourse.neural.transformer import TransformerConfig

        training["bptt"] = model.get("context", TransformerConfig.context)
    return model, training


def parse_cutoffs(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise UserError(f"--adaptive-softmax takes increasing integers separated by commas, e.g. 2000,6000 "
                        f"(got {text!r})") from None


def run_train(args: argparse.Namespace) -> int:
    from lmcourse.data import load_corpus
    from lmcourse.neural import TrainConfig, make_model

    model_options, training_options = settings(args)
    training = TrainConfig(**training_options)
    training.check()
    model = make_model(args.kind, training=training, **model_options)  # bad sizes: a UserError before loading
    if args.resume and args.checkpoint is None:
        raise UserError("--resume needs --checkpoint DIR: the folder of the run to continue")
    set_pseudo_perplexity_tokens(model, args.pseudo_perplexity_tokens)
    corpus = load_corpus(args.corpus, min_count=args.min_count)
    log(f"training {args.kind} on {corpus.name} ({corpus.split('train').num_predicted:,} tokens)"
        + (f", preset {args.preset}" if args.preset else ""))
    start = time.perf_counter()
    model.fit(corpus, checkpoint_dir=args.checkpoint, resume=args.resume)
    result = {"corpus": corpus.name, "model": args.kind, "preset": args.preset,
              "parameters": model.num_parameters(), **split_figures(model, corpus),
              "train_tokens_per_second": round(model.train_tokens_per_second, 1),
              "train_seconds": round(model.train_seconds, 2),
              "wall_seconds": round(time.perf_counter() - start, 2),
              "steps": model.steps_done, "epochs": round(model.steps_done / max(model.steps_per_epoch, 1), 4),
              "stopped": model.stopped, "best_valid_perplexity": model.best_valid_perplexity(),
              "checkpoint": args.checkpoint, "config": dataclasses.asdict(model.config),
              "training": dataclasses.asdict(model.training), "log": model.training_log}
    lines = [f"{args.kind} on {corpus.name}: {result['parameters']:,} parameters, {result['steps']:,} steps "
             f"({result['epochs']:.2f} epochs, {model.stopped})", *figure_lines(result),
             f"  {result['train_tokens_per_second']:,.0f} training tokens/s; {result['wall_seconds']:.1f} s in all"]
    if args.checkpoint:
        lines.append(f"  checkpoint: {args.checkpoint} (best.pt, last.pt, log.json)")
    emit(result, args.json, lines)
    return 0


def set_pseudo_perplexity_tokens(model, count: int | None) -> None:
    """A masked LM scores pseudo-perplexity on the first ``count`` tokens of a split (None: all of them)."""
    if count is None:
        return
    if model.kind != "mlm" or count < 1:
        raise UserError("--pseudo-perplexity-tokens takes a count >= 1 and applies to a masked LM (mlm) only")
    model.pseudo_perplexity_tokens = count


def run_eval(args: argparse.Namespace) -> int:
    from lmcourse.data import load_corpus
    from lmcourse.neural import NeuralLanguageModel

    model = NeuralLanguageModel.from_checkpoint(args.checkpoint)
    set_pseudo_perplexity_tokens(model, args.pseudo_perplexity_tokens)
    corpus = load_corpus(model.corpus_name)
    model.check_corpus(corpus)
    splits = (args.split,) if args.split else ("valid", "test")
    start = time.perf_counter()
    result = {"corpus": corpus.name, "model": model.kind, "parameters": model.num_parameters(),
              "checkpoint": args.checkpoint, "steps": model.steps_done,
              **split_figures(model, corpus, splits), "score_seconds": round(time.perf_counter() - start, 3)}
    lines = [f"{model.kind} from {args.checkpoint} on {corpus.name}", *figure_lines(result, splits)]
    emit(result, args.json, lines)
    return 0
