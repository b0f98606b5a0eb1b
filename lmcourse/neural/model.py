"""A neural network behind the course's one interface (:class:`lmcourse.lm.LanguageModel`).

    model = make_model("lstm", hidden=400, tie=True, training=TrainConfig(optimizer="adamw", lr=3e-3))
    model.fit(corpus, checkpoint_dir="runs/lstm")        # the shared trainer (lmcourse.neural.train)
    model.perplexity(corpus.split("test"))               # every predicted token scored once
    model.log_probs(split, per_sentence=True)            # each sentence on its own, a fresh state
    model.generate(seed=0, temperature=0.8)
    NeuralLanguageModel.from_checkpoint("runs/lstm")     # best valid weights, config and vocabulary

The network itself is an ``nn.Module`` with ``encode(inputs, state) -> (hidden, state)``,
``target_log_probs(hidden, targets)``, ``log_probs(hidden)``, ``initial_state(batch)`` and, for training,
``forward(inputs, targets, state) -> (loss, state)``; :data:`ARCHITECTURES` maps a model kind to its config
and module classes.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lmcourse.data.vocabulary import BOS_ID, EOS_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.evaluation import perplexity_from_nll
from lmcourse.lm import LanguageModel, check_temperature, sample_from_log_probs
from lmcourse.neural import checkpoint
from lmcourse.neural.batches import SENTENCE_START_INPUT, evaluation_columns, sentence_batches
from lmcourse.neural.rnn import RNNConfig, RNNLanguageModel
from lmcourse.neural.train import TrainConfig, Trainer, to_device
from lmcourse.neural.transformer import TransformerConfig, TransformerLanguageModel

ARCHITECTURES: dict[str, tuple[type, type[nn.Module]]] = {
    "rnn": (RNNConfig, RNNLanguageModel),
    "gru": (RNNConfig, RNNLanguageModel),
    "lstm": (RNNConfig, RNNLanguageModel),
    "transformer": (TransformerConfig, TransformerLanguageModel),
}


def corpus_key(name: str) -> str:
    """How a checkpoint names its corpus: the registered name, or a folder corpus's absolute path (so that
    ``lmcourse eval`` finds it again from any working directory)."""
    from lmcourse.data.registry import REGISTRY, looks_like_path

    return str(Path(name).resolve()) if name not in REGISTRY and looks_like_path(name) else name


def model_kind(config) -> str:
    return config.cell if isinstance(config, RNNConfig) else config.kind


class NeuralLanguageModel(LanguageModel):
    """A neural language model: its config, its training config, and (after ``fit``) the trained module."""

    #: model kind -> (config class, module class) of the networks this class trains and loads
    architectures = ARCHITECTURES

    def __init__(self, config, training: TrainConfig | None = None):
        super().__init__()
        self.config = config
        self.training = training or TrainConfig()
        self.kind = model_kind(config)
        self.module: nn.Module | None = None
        self.corpus_name = ""
        self.training_log: list[dict] = []
        self.train_seconds = 0.0
        self.train_tokens_per_second = 0.0
        self.steps_done = 0
        self.steps_per_epoch = 0
        self.stopped = ""

    def __repr__(self) -> str:
        return f"NeuralLanguageModel({self.kind}, {'fitted' if self.is_fitted() else 'not fitted'})"

    def is_fitted(self) -> bool:
        return self.module is not None

    # -- fitting -------------------------------------------------------------------------------------------
    def build(self, vocab: Vocabulary, level: str = "word") -> nn.Module:
        """The untrained network for this vocabulary (weights drawn with the training seed)."""
        self.vocab, self.level = vocab, level
        self.config = dataclasses.replace(self.config, vocab_size=self.network_vocab_size(vocab))
        torch.manual_seed(self.training.seed)
        self.module = self.architectures[self.kind][1](self.config)
        return self.module

    def network_vocab_size(self, vocab: Vocabulary) -> int:
        """Rows of the embedding and output layer: the corpus's ids (a masked LM adds ``<mask>``)."""
        return len(vocab)

    def fit(self, corpus, checkpoint_dir: str | Path | None = None, resume: bool = False,
            progress_bar: bool = True) -> NeuralLanguageModel:
        """Train on ``corpus``'s train split, evaluating on its valid split; keeps the best valid weights."""
        self.training.check()
        self.corpus_name = corpus_key(corpus.name)
        previous = self._checkpoint_to_resume(corpus, checkpoint_dir) if resume else None
        self.build(corpus.vocab, corpus.level)
        valid = corpus.split("valid")
        trainer = Trainer(self.module, corpus.split("train").tokens, lambda m: self._perplexity_of(m, valid),
                          self.training, checkpoint_dir, metadata=self.metadata(), progress_bar=progress_bar)
        if previous is not None:
            trainer.resume(previous)
        result = trainer.run()
        self.module.load_state_dict(result.best_weights)
        self.module.eval()
        self.training_log = result.progress.log
        self.train_seconds = result.progress.seconds
        self.train_tokens_per_second = result.train_tokens_per_second
        self.steps_done, self.stopped = result.progress.step, result.progress.stopped
        self.steps_per_epoch = len(trainer.starts)
        return self

    def best_valid_perplexity(self) -> float | None:
        """The lowest valid perplexity of the training log (the weights the model keeps)."""
        return min((entry["valid_perplexity"] for entry in self.training_log), default=None)

    def check_corpus(self, corpus) -> None:
        """A one-line error unless ``corpus`` is the one (name and vocabulary) the model was trained on."""
        self._check_matches({"corpus": self.corpus_name, "vocab": self.vocab.id_to_token}, corpus_key(corpus.name),
                            corpus.vocab)

    def _checkpoint_to_resume(self, corpus, checkpoint_dir) -> dict:
        if checkpoint_dir is None:
            raise UserError("--resume needs --checkpoint DIR: the folder of the run to continue")
        contents = checkpoint.load_checkpoint(checkpoint_dir, checkpoint.LAST)
        self._check_matches(contents, corpus_key(corpus.name), corpus.vocab, kind=self.kind)
        saved = contents["train_config"]
        if dataclasses.replace(self.config, vocab_size=self.network_vocab_size(corpus.vocab)) != self.config_from(
                contents) or any(
                saved.get(k, v) != v for k, v in dataclasses.asdict(self.training).items()
                if k not in ("steps", "epochs", "time_budget", "device")):
            raise UserError(f"--resume: the options differ from those {checkpoint_dir} was trained with; give the "
                            "same options (only --steps, --epochs, --time-budget and --device may change)")
        return contents

    def _perplexity_of(self, module: nn.Module, split) -> float:
        log_p = self._stream_log_probs(module, split.tokens, self.training.eval_batch)
        return perplexity_from_nll(-float(log_p.sum()), len(log_p))

    # -- scoring -------------------------------------------------------------------------------------------
    def log_probs(self, split, per_sentence: bool = False, batch: int | None = None) -> np.ndarray:
        """Natural-log p of every predicted token of ``split``, in order (one entry per ``split.tokens``).

        By default the whole split is one stream (the state carried across sentences, as in training);
        ``per_sentence=True`` starts every sentence from a fresh state (see :mod:`lmcourse.neural.batches`).
        """
        self._require_fitted()
        batch = batch or self.training.eval_batch
        if per_sentence:
            return self._sentence_log_probs(split, batch)
        return self._stream_log_probs(self.module, split.tokens, batch)

    def sentence_log_probs(self, split) -> np.ndarray:
        """log p(sentence) of each sentence of ``split``, each from a fresh state after ``<s>``."""
        return self._sum_by_sentence(self.log_probs(split, per_sentence=True), split)

    @torch.no_grad()
    def _stream_log_probs(self, module: nn.Module, tokens: np.ndarray, batch: int) -> np.ndarray:
        was_training = module.training
        module.eval()
        columns = evaluation_columns(tokens, batch)
        device = next(module.parameters()).device
        state = to_device(module.initial_state(columns.inputs.shape[0]), device)
        scores = np.zeros(columns.inputs.shape)
        bptt = self.config.scoring_window(self.training.bptt)  # a Transformer: sliding windows of a stride
        for start in range(0, columns.inputs.shape[1], bptt):
            inputs = torch.from_numpy(columns.inputs[:, start:start + bptt]).to(device)
            targets = torch.from_numpy(columns.targets[:, start:start + bptt]).to(device)
            hidden, state = module.encode(inputs, state)                         # (B, T, H)
            scores[:, start:start + bptt] = module.target_log_probs(hidden, targets).double().cpu().numpy()
        module.train(was_training)
        return columns.scatter(scores)

    @torch.no_grad()
    def _sentence_log_probs(self, split, batch: int) -> np.ndarray:
        self.module.eval()
        device = next(self.module.parameters()).device
        scores = np.zeros(len(split.tokens))
        for inputs, targets, valid, positions in sentence_batches(split.tokens, split.sentence_starts, batch):
            state = to_device(self.module.initial_state(len(inputs)), device)
            hidden, _ = self.module.encode(torch.from_numpy(inputs).to(device), state)
            log_p = self.module.target_log_probs(hidden, torch.from_numpy(targets).to(device))
            scores[positions[valid]] = log_p.double().cpu().numpy()[valid]
        return scores

    @torch.no_grad()
    def _advance(self, ids: list[int], state):
        """Feed ``ids`` (one sequence) after ``state``: (log p(. | everything fed), new state)."""
        device = next(self.module.parameters()).device
        inputs = torch.tensor([ids], dtype=torch.long, device=device)             # (1, T)
        hidden, state = self.module.encode(inputs, state)
        return self.module.log_probs(hidden[:, -1:]).reshape(-1).double().cpu().numpy(), state

    def log_distribution(self, context=None) -> np.ndarray:
        """log p(. | sentence start, context): a neural model reads a context from a sentence start (the part
        after the last ``<s>`` if the context has one), fed as ``SENTENCE_START_INPUT`` (see ``batches``)."""
        self._require_fitted()
        self.module.eval()
        log_p, _ = self._advance(self._crop([SENTENCE_START_INPUT] + self._words_after_start(context)),
                                 self.module.initial_state(1))
        return log_p

    def _words_after_start(self, context) -> list[int]:
        """The context's ids after its last ``<s>`` (the sentence start is fed as ``SENTENCE_START_INPUT``)."""
        ids = self._sentence_ids(context)
        return ids[1:] if ids and ids[0] == BOS_ID else ids

    def generate(self, max_words: int = 50, seed: int | None = None, temperature: float = 1.0,
                 context=None, rng: np.random.Generator | None = None, top_k: int | None = None,
                 top_p: float | None = None, use_cache: bool = True) -> list[str] | list[int]:
        """Sample one sentence (see :meth:`LanguageModel.generate`), one step per word.

        With ``use_cache`` each step feeds only the new word after the carried state (an LSTM's h and c, a
        Transformer's key/value cache); without it every step reads the whole history again from a fresh
        state (the last ``context`` tokens for a Transformer): slower, the same distribution. A context
        longer than a Transformer's window is cropped to its last tokens, with a warning.
        """
        self._require_fitted()
        check_temperature(temperature)
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.module.eval()
        history = self._crop([SENTENCE_START_INPUT] + self._words_after_start(context))
        log_p, state = self._advance(history, self.module.initial_state(1))
        sentence: list[int] = []
        for _ in range(max_words):
            word = sample_from_log_probs(log_p, temperature, rng, top_k=top_k, top_p=top_p)
            if word is None or word == EOS_ID:
                break
            sentence.append(word)
            history.append(word)
            if use_cache:
                log_p, state = self._advance([word], state)  # no graph to cut: _advance runs without gradients
            else:
                log_p, _ = self._advance(history[-self._window():], self.module.initial_state(1))
        return self.vocab.decode(sentence) if self.vocab is not None else sentence

    def _window(self) -> int:
        """How many tokens the model can see: a Transformer's context, unbounded for a recurrent model."""
        return getattr(self.config, "context", None) or 10**9

    def _crop(self, ids: list[int]) -> list[int]:
        if len(ids) > self._window():
            warnings.warn(f"the context has {len(ids)} tokens, more than the model's window of "
                          f"{self._window()}: only the last {self._window()} are read", stacklevel=3)
            return ids[-self._window():]
        return ids

    # -- description and checkpoints -----------------------------------------------------------------------
    def num_parameters(self) -> int:
        self._require_fitted()
        return sum(p.numel() for p in self.module.parameters())

    def describe(self) -> dict:
        described = {"model": self.kind, "config": dataclasses.asdict(self.config),
                     "training": dataclasses.asdict(self.training)}
        if self.is_fitted():
            described["parameters"] = self.num_parameters()
        return described

    def metadata(self) -> dict:
        """What a checkpoint says the model is and what it was trained on."""
        return {"kind": self.kind, "model_config": dataclasses.asdict(self.config), "corpus": self.corpus_name,
                "level": self.level, "vocab": list(self.vocab.id_to_token)}

    @classmethod
    def config_from(cls, contents: dict):
        config_class = cls.architectures[contents["kind"]][0]
        fields = dict(contents["model_config"])
        if "adaptive_cutoffs" in fields:
            fields["adaptive_cutoffs"] = tuple(fields["adaptive_cutoffs"])
        return config_class(**fields)

    @staticmethod
    def _check_matches(contents: dict, corpus_name: str | None, vocab: Vocabulary | None,
                       kind: str | None = None) -> None:
        if kind is not None and contents.get("kind") != kind:
            raise UserError(f"the checkpoint holds a {contents.get('kind')} model, not a {kind}: train a {kind} "
                            "into a new folder, or use the matching command")
        if corpus_name is not None and contents.get("corpus") != corpus_name:
            raise UserError(f"the checkpoint was trained on {contents.get('corpus')!r}, not {corpus_name!r}: "
                            "use the same --corpus, or another --checkpoint folder")
        if vocab is not None and list(vocab.id_to_token) != list(contents.get("vocab", [])):
            raise UserError(f"the checkpoint's vocabulary differs from corpus {corpus_name!r}'s (the corpus "
                            "files changed since training?): train again, or restore the files")

    @classmethod
    def from_checkpoint(cls, location: str | Path, which: str = checkpoint.BEST,
                        kind: str | None = None) -> NeuralLanguageModel:
        """The model saved in a training folder (its best valid weights by default); a masked LM's folder
        gives a :class:`~lmcourse.neural.masked.MaskedLanguageModel`."""
        contents = checkpoint.load_checkpoint(location, which)
        if contents.get("kind") == "mlm" and cls is NeuralLanguageModel:
            from lmcourse.neural.masked import MaskedLanguageModel

            cls = MaskedLanguageModel
        try:
            if contents.get("kind") not in cls.architectures:
                raise KeyError("kind")
            cls._check_matches(contents, None, None, kind)
            model = cls(cls.config_from(contents), TrainConfig(**contents["train_config"]))
            model.corpus_name = contents["corpus"]
            model.build(Vocabulary(contents["vocab"][3:]), contents.get("level", "word"))
            model.module.load_state_dict(contents["model"])
            model.training_log = contents["progress"]["log"]
            model.steps_done = contents["progress"]["step"]
        except (KeyError, TypeError, RuntimeError) as error:
            raise UserError(f"{location} is damaged or not a model checkpoint ({type(error).__name__}: "
                            f"{str(error)[:100]}): train again") from None
        model.module.eval()
        return model

