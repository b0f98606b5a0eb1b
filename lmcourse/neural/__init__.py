"""Neural language models: recurrent networks (and, in later lessons, Transformers) trained with one loop.

This package is the only part of lmcourse that imports PyTorch.

    from lmcourse.data import load_corpus
    from lmcourse.neural import make_model, TrainConfig

    corpus = load_corpus("synthetic")
    model = make_model("lstm", emb=64, hidden=64, layers=1, training=TrainConfig(epochs=1, lr=20))
    model.fit(corpus)                         # lmcourse.neural.train: TBPTT, clipping, schedules, checkpoints
    model.perplexity(corpus.split("test"))    # the same predicted tokens as every N-gram model
    model.generate(seed=0)

Modules, in reading order: ``by_hand`` (plain numpy cells: the answer key), ``rnn`` (the cells from their
equations, the fused kernels beside them, the language model), ``output`` (the softmax output layer both
models share), ``by_hand_attention`` (attention, heads, positions and the sampling filters in numpy: lesson
04's answer key), ``transformer`` (attention from the formula, the block, a GPT-style decoder), ``batches``
(streams, columns, windows), ``train`` (the model-agnostic loop), ``checkpoint``, ``distributed`` (torchrun
+ DDP), ``model`` (a network behind :class:`lmcourse.lm.LanguageModel`), ``presets`` (named settings such
as ``brown-30min``).
"""

from __future__ import annotations

import importlib

# Loaded on first use, so that ``lmcourse.neural.by_hand`` (plain numpy: the graders' answer key) does not
# pay for importing PyTorch.
_EXPORTS = {"NeuralLanguageModel": "model", "ARCHITECTURES": "model", "RNNConfig": "rnn",
            "RNNLanguageModel": "rnn", "TrainConfig": "train",
            "TransformerConfig": "transformer", "TransformerLanguageModel": "transformer",
            "MaskedLMConfig": "masked", "MaskedLanguageModel": "masked"}
MODELS = ("rnn", "gru", "lstm", "transformer")   # the language models; "mlm" (a masked LM) trains as they do


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"lmcourse.neural.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lmcourse.neural' has no attribute {name!r}")


def make_model(kind: str, training=None, **options):
    """A model by kind (``rnn``, ``gru``, ``lstm``, ``transformer``, or ``mlm``: a masked LM); ``options`` are
    fields of its config (``hidden=400``).

    Returns a :class:`~lmcourse.neural.model.NeuralLanguageModel`; ``training`` is a ``TrainConfig``.
    """
    import dataclasses

    from lmcourse.errors import UserError
    from lmcourse.neural.masked import MaskedLanguageModel
    from lmcourse.neural.model import NeuralLanguageModel
    from lmcourse.neural.rnn import RNNConfig

    model_class = MaskedLanguageModel if kind in MaskedLanguageModel.architectures else NeuralLanguageModel
    if kind not in model_class.architectures:
        raise UserError(f"unknown model {kind!r}: use one of {', '.join([*MODELS, 'mlm'])}")
    config_class = model_class.architectures[kind][0]
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UserError(f"{kind} has no option {', '.join(unknown)}: its options are {', '.join(sorted(known))}")
    if config_class is RNNConfig:
        options["cell"] = kind
    config = config_class(**options)
    config.check()
    return model_class(config, training)


__all__ = ["MODELS", "make_model", "MaskedLMConfig", "MaskedLanguageModel", "NeuralLanguageModel",
           "RNNConfig", "RNNLanguageModel", "TrainConfig", "TransformerConfig", "TransformerLanguageModel"]
