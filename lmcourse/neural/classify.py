"""Fine-tuning a pre-trained network to classify documents: windows, pooling, a head, and how it is judged.

A language model's last layer gives one vector per token. To label a whole document (a review: positive or
negative), those vectors are pooled into one and a small head maps it to the classes (Radford et al. 2018
fine-tune GPT this way; Devlin et al. 2019 BERT; Howard & Ruder 2018 ULMFiT an LSTM):

    windows   a document longer than the context is cut into windows of ``context`` tokens, each starting
              with the sentence-start input (``</s>``, see :mod:`lmcourse.neural.batches`; BERT's [CLS]
              slot); the last window is the document's last tokens, so no window is padded
    pooling   one vector per window, from its hidden states h_1 .. h_T (each of size E):
                  last   h_T: in a causal model the last token has read the whole window (GPT)
                  first  h_1: in a bidirectional encoder the first position sees everything (BERT's [CLS])
                  mean   (1/T) sum_t h_t (either model)
              then the document's vector is the mean of its windows' vectors, with a padding mask: in a
              batch, documents have different numbers of windows
    head      p(y | document) = softmax(W dropout(v) + b), a linear layer E -> classes
    loss      cross-entropy of the label

*Fine-tuning everything* trains the network and the head together (a small learning rate, warm-up, linear
decay, as BERT does); *head only* freezes the network (its document vectors are computed once) and trains
the head alone: a linear probe. *From scratch* is the same network with fresh weights trained on the
labelled documents only: the baseline that says whether pre-training paid. During training each document
contributes up to ``train_windows`` windows drawn at random (a cheaper step, and a little augmentation);
evaluation reads every window. The epoch with the best valid accuracy is kept; test is scored once.

Accuracy comes with a 95% bootstrap interval over test documents (:mod:`lmcourse.tasks.metrics`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from lmcourse.data.vocabulary import EOS_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.neural.batches import SENTENCE_START_INPUT

POOLINGS = {"causal": ("mean", "last"), "bidirectional": ("mean", "first")}


@dataclass
class FineTuneConfig:
    """How a classifier is trained. ``lr`` 0 picks 3e-4 (everything) or 3e-3 (head only)."""

    pooling: str = "mean"          # mean, last (causal models), first (bidirectional encoders)
    head_only: bool = False        # freeze the pre-trained network: a linear probe
    epochs: int = 4
    lr: float = 0.0
    weight_decay: float = 0.01
    warmup: float = 0.1            # share of the steps with a linear warm-up, then linear decay to 0
    batch: int = 16                # documents per step
    train_windows: int = 4         # windows per document in a training step (all of them when evaluating)
    dropout: float = 0.1           # on the pooled vector, before the head
    network_dropout: float = -1.0  # the network's own dropout while fine-tuning; -1 keeps its training value
    layer_decay: float = 1.0       # layer-wise learning-rate decay (1: every layer at lr; see layer_groups)
    clip: float = 1.0
    seed: int = 0

    def check(self) -> None:
        for name in ("epochs", "batch", "train_windows"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if not (self.network_dropout == -1 or 0 <= self.network_dropout < 1):
            raise UserError(f"--network-dropout must be in [0, 1), or -1 for the network's own (got "
                            f"{self.network_dropout})")
        if not 0 < self.layer_decay <= 1:
            raise UserError(f"--layer-decay must be in (0, 1] (got {self.layer_decay}): 1 trains every layer at --lr")
        if self.lr < 0 or not (0 <= self.dropout < 1) or not (0 <= self.warmup < 1):
            raise UserError(f"--lr must be >= 0, --dropout and --warmup in [0, 1) (got {self.lr}, {self.dropout}, "
                            f"{self.warmup})")

    @property
    def learning_rate(self) -> float:
        return self.lr or (3e-3 if self.head_only else 3e-4)


# -- documents as windows --------------------------------------------------------------------------------
def document_ids(sentences, vocab: Vocabulary) -> np.ndarray:
    """A document's stream as the language model read text: each sentence's ids, then ``</s>``."""
    pieces = [np.append(vocab.encode(list(sentence)), EOS_ID) for sentence in sentences if len(sentence)]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def document_windows(ids: np.ndarray, context: int) -> list[np.ndarray]:
    """Windows of ``context`` tokens: the sentence-start input, then ``context - 1`` tokens of the document.
    They follow each other; the last is the document's last ``context - 1`` tokens (it may overlap the one
    before), so every window is full unless the whole document is shorter."""
    if len(ids) == 0:
        raise UserError("an empty document cannot be classified: give some text")
    body = max(context - 1, 1)
    starts = list(range(0, max(len(ids) - body, 0) + 1, body))
    if starts[-1] + body < len(ids):
        starts.append(len(ids) - body)
    return [np.concatenate([[SENTENCE_START_INPUT], ids[s:s + body]]).astype(np.int64) for s in starts]


# -- pooling ---------------------------------------------------------------------------------------------
def pool(hidden: torch.Tensor, how: str) -> torch.Tensor:
    """(W, T, E) hidden states of W windows -> (W, E): the last position, the first, or the mean."""
    if how == "last":
        return hidden[:, -1]
    if how == "first":
        return hidden[:, 0]
    return hidden.mean(dim=1)


def masked_mean(vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sum_i mask_i v_i / sum_i mask_i over dim 1: vectors (B, N, E), mask (B, N) of 0/1 -> (B, E)."""
    weights = mask.to(vectors.dtype).unsqueeze(-1)                     # (B, N, 1)
    return (vectors * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


# -- the classifier --------------------------------------------------------------------------------------
class DocumentClassifier(nn.Module):
    """A pre-trained network (any of the course's: ``encode(ids, state) -> (hidden, state)``), pooling, a head."""

    def __init__(self, network: nn.Module, classes: int, pooling: str = "mean", dropout: float = 0.1):
        super().__init__()
        self.network, self.pooling = network, pooling
        self.context = getattr(network.config, "context", 0) or 256    # a recurrent network: windows of 256
        with torch.no_grad():
            probe = torch.full((1, 1), SENTENCE_START_INPUT, dtype=torch.long, device=self.device)
            width = network.encode(probe, network.initial_state(1))[0].size(-1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, classes)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def window_vectors(self, windows: list[np.ndarray]) -> torch.Tensor:
        """(W, E): each window read by the network and pooled; windows of one length go in one batch."""
        lengths = np.array([len(w) for w in windows])
        pooled, order = [], []
        for length in np.unique(lengths):
            chosen = np.flatnonzero(lengths == length)
            ids = torch.from_numpy(np.stack([windows[i] for i in chosen])).to(self.device)   # (b, T)
            hidden, _ = self.network.encode(ids, self.network.initial_state(len(chosen)))   # (b, T, E)
            pooled.append(pool(hidden.float(), self.pooling))
            order.extend(chosen)
        vectors = torch.cat(pooled)                                        # (W, E), grouped by length
        return vectors[torch.from_numpy(np.argsort(order)).to(self.device)]   # back in the windows' order

    def document_vectors(self, documents: list[list[np.ndarray]]) -> torch.Tensor:
        """(D, E): the mean of each document's window vectors (a padding mask over the windows)."""
        vectors = self.window_vectors([w for doc in documents for w in doc])   # (W, E)
        most = max(len(doc) for doc in documents)
        grid = vectors.new_zeros(len(documents), most, vectors.size(-1))      # (D, most, E)
        mask = torch.zeros(len(documents), most, device=vectors.device)
        first = 0
        for row, doc in enumerate(documents):
            grid[row, :len(doc)] = vectors[first:first + len(doc)]
            mask[row, :len(doc)] = 1
            first += len(doc)
        return masked_mean(grid, mask)

    def classify(self, vectors: torch.Tensor) -> torch.Tensor:
        """Document vectors (D, E) -> logits (D, classes)."""
        return self.head(self.dropout(vectors))

    def forward(self, documents: list[list[np.ndarray]]) -> torch.Tensor:
        return self.classify(self.document_vectors(documents))


def check_pooling(pooling: str, causal: bool) -> None:
    allowed = POOLINGS["causal" if causal else "bidirectional"]
    if pooling not in allowed:
        why = ("in a causal model the first position has read nothing but itself" if pooling == "first" else
               "use the position that sees the whole window")
        raise UserError(f"--pooling {pooling} does not suit a {'causal' if causal else 'bidirectional'} network "
                        f"({why}): use one of {', '.join(allowed)}")


# -- training --------------------------------------------------------------------------------------------
LAYER = re.compile(r"(?:^|\.)(?:blocks|layers)\.(\d+)\.")   # a Transformer's blocks, a recurrent net's layers


def layer_depths(classifier: DocumentClassifier) -> dict[str, int]:
    """Each parameter's depth: 0 for the embeddings, i + 1 for block (or recurrent layer) i, L + 1 for what
    comes after the last of the L blocks (the final norm, the head)."""
    names = [name for name, _ in classifier.named_parameters()]
    blocks = {name: int(match.group(1)) for name in names if (match := LAYER.search(name))}
    top = max(blocks.values(), default=-1) + 2
    return {name: blocks[name] + 1 if name in blocks else 0 if "embed" in name else top for name in names}


def layer_groups(classifier: DocumentClassifier, lr: float, decay: float) -> list[dict]:
    """AdamW parameter groups with layer-wise learning-rate decay: a parameter at depth d of a network whose
    top is at depth L + 1 learns at lr * decay^(L + 1 - d), so the head learns at lr, the last block at
    lr * decay, ..., the embeddings at lr * decay^(L + 1): the lower layers, the more general features, move
    least (Howard & Ruder 2018, ULMFiT's discriminative fine-tuning; Clark et al. 2020, ELECTRA, appendix)."""
    depths = layer_depths(classifier)
    top = max(depths.values(), default=0)
    by_depth: dict[int, list] = {}
    for name, parameter in classifier.named_parameters():
        if parameter.requires_grad:
            by_depth.setdefault(depths[name], []).append(parameter)
    return [{"params": params, "lr": lr * decay ** (top - depth), "base_lr": lr * decay ** (top - depth)}
            for depth, params in sorted(by_depth.items())]


def linear_schedule(step: int, total: int, warmup: float) -> float:
    """The learning-rate factor: linear warm-up over ``warmup`` of the steps, then linear decay to 0."""
    warm = max(int(warmup * total), 1)
    return (step + 1) / warm if step < warm else max(total - step, 0) / max(total - warm, 1)


def sample_windows(documents: list[list[np.ndarray]], most: int, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """Up to ``most`` windows of each document, drawn without replacement (kept in reading order)."""
    return [doc if len(doc) <= most else [doc[i] for i in sorted(rng.choice(len(doc), most, replace=False))]
            for doc in documents]


@torch.no_grad()
def predict_probabilities(classifier: DocumentClassifier, documents: list[list[np.ndarray]],
                          batch: int = 8) -> np.ndarray:
    """p(class | document) for every document: (D, classes)."""
    was_training = classifier.training
    classifier.eval()
    out = [torch.softmax(classifier(documents[i:i + batch]).float(), dim=-1).cpu().numpy()
           for i in range(0, len(documents), batch)]
    classifier.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, classifier.head.out_features))


def fine_tune(classifier: DocumentClassifier, train: tuple[list, np.ndarray], valid: tuple[list, np.ndarray],
              config: FineTuneConfig, progress_bar: bool = True) -> dict:
    """Train on ``train`` = (documents as windows, labels), keep the epoch with the best ``valid`` accuracy."""
    config.check()
    if config.head_only:
        return _fit_head(classifier, train, valid, config)
    documents, labels = train
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(layer_groups(classifier, config.learning_rate, config.layer_decay),
                                  weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(documents) / config.batch)
    total, step, log = config.epochs * steps_per_epoch, 0, []
    best = (-1.0, copy.deepcopy(classifier.state_dict()))
    started = time.perf_counter()
    bar = tqdm(total=total, desc="fine-tuning", unit="step", disable=not progress_bar, dynamic_ncols=True)
    for epoch in range(config.epochs):
        classifier.train()
        order = rng.permutation(len(documents))
        for first in range(0, len(documents), config.batch):
            picked = order[first:first + config.batch]
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * linear_schedule(step, total, config.warmup)
            logits = classifier(sample_windows([documents[i] for i in picked], config.train_windows, rng))
            loss = F.cross_entropy(logits.float(), torch.from_numpy(labels[picked]).to(logits.device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(classifier.parameters(), config.clip)
            optimizer.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", best_valid=f"{max(best[0], 0):.3f}", refresh=False)
        accuracy = float((predict_probabilities(classifier, valid[0]).argmax(1) == valid[1]).mean())
        log.append({"epoch": epoch + 1, "valid_accuracy": accuracy, "seconds": round(time.perf_counter() - started, 2)})
        if accuracy > best[0]:
            best = (accuracy, copy.deepcopy(classifier.state_dict()))
    bar.close()
    classifier.load_state_dict(best[1])
    return {"log": log, "best_valid_accuracy": best[0], "train_seconds": round(time.perf_counter() - started, 2)}


def _fit_head(classifier: DocumentClassifier, train, valid, config: FineTuneConfig) -> dict:
    """Head only: the network is frozen, its document vectors computed once, the head trained on them."""
    started = time.perf_counter()
    for parameter in classifier.network.parameters():
        parameter.requires_grad_(False)
    classifier.eval()
    with torch.no_grad():
        def vectors(documents):  # 8 documents at a time
            return torch.cat([classifier.document_vectors(documents[i:i + 8]) for i in range(0, len(documents), 8)])

        train_vectors, valid_vectors = vectors(train[0]), vectors(valid[0])
    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(classifier.head.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    labels = torch.from_numpy(train[1]).to(train_vectors.device)
    epochs, log = max(config.epochs, 1) * 50, []   # the head is cheap: many passes over the fixed vectors
    best = (-1.0, copy.deepcopy(classifier.head.state_dict()))
    rng = np.random.default_rng(config.seed)
    for epoch in range(epochs):
        classifier.head.train()
        for picked in np.array_split(rng.permutation(len(labels)), max(len(labels) // config.batch, 1)):
            loss = F.cross_entropy(classifier.classify(train_vectors[picked]), labels[picked])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        classifier.head.eval()
        with torch.no_grad():
            accuracy = float((classifier.classify(valid_vectors).argmax(1).cpu().numpy() == valid[1]).mean())
        if (epoch + 1) % 50 == 0:
            log.append({"epoch": epoch + 1, "valid_accuracy": accuracy})
        if accuracy > best[0]:
            best = (accuracy, copy.deepcopy(classifier.head.state_dict()))
    classifier.head.load_state_dict(best[1])
    return {"log": log, "best_valid_accuracy": best[0], "train_seconds": round(time.perf_counter() - started, 2)}


def config_dict(config: FineTuneConfig) -> dict:
    return {**asdict(config), "learning_rate": config.learning_rate}


# -- a task, end to end ----------------------------------------------------------------------------------
def classification_figures(labels: np.ndarray, probabilities: np.ndarray, names: tuple[str, ...],
                           seed: int = 0) -> dict:
    """Accuracy, its 95% bootstrap interval over documents, and per-class precision, recall and F1."""
    from lmcourse.tasks.metrics import accuracy, bootstrap_interval, per_class

    predictions = probabilities.argmax(axis=1)
    low, high = bootstrap_interval((predictions == labels).astype(np.int64), seed=seed)
    return {"accuracy": accuracy(labels, predictions), "interval_95": [low, high], "documents": len(labels),
            "per_class": per_class(labels, predictions, names),
            "correct": (predictions == labels).astype(int).tolist()}   # per document: paired comparisons


def network_for(location, from_scratch: bool = False, seed: int = 0, dropout: float = -1.0):
    """(the network saved in a training folder, its :class:`NeuralLanguageModel`, whether it is causal);
    ``from_scratch``: the same network with fresh weights (drawn with ``seed``); ``dropout`` >= 0: the
    same network built with that dropout (dropout has no weights, so the pre-trained ones load unchanged)."""
    from lmcourse.neural.model import NeuralLanguageModel

    model = NeuralLanguageModel.from_checkpoint(location)
    network, config = model.module, model.config
    if dropout >= 0:
        config = dataclasses.replace(config, dropout=dropout)
    if from_scratch:
        torch.manual_seed(seed)
        network = type(network)(config)
    elif dropout >= 0:
        weights, device = network.state_dict(), next(network.parameters()).device
        network = type(network)(config).to(device)
        network.load_state_dict(weights)
    return network, model, getattr(model.config, "causal", True)


def balanced_subset(labels: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """Indices of ``size`` documents, as many of each class (drawn with ``seed``); all of them for None."""
    if size is None:
        return np.arange(len(labels))
    classes = np.unique(labels)
    if size < len(classes) or size > len(labels):
        raise UserError(f"--train-size must be between {len(classes)} and {len(labels)} (got {size})")
    rng = np.random.default_rng(seed)
    each = [rng.permutation(np.flatnonzero(labels == c))[: size // len(classes)] for c in classes]
    return np.sort(np.concatenate(each))


def save_classifier(folder, classifier: DocumentClassifier, model, task: str, result: dict) -> None:
    """``folder/classifier.pt``: the network's kind, config and vocabulary, the head, the labels, the result."""
    from pathlib import Path

    from lmcourse.neural import checkpoint

    checkpoint.save_checkpoint(Path(folder) / CLASSIFIER_FILE, {
        "kind": "classifier", "network_kind": model.kind, "network_config": asdict(model.config),
        "vocab": list(model.vocab.id_to_token), "labels": list(result["labels"]), "task": task,
        "pooling": classifier.pooling, "model": classifier.state_dict(), "result": result})


CLASSIFIER_FILE = "classifier.pt"


def load_classifier(location) -> tuple[DocumentClassifier, Vocabulary, list[str]]:
    """A classifier that :func:`save_classifier` wrote: (classifier, vocabulary, label names)."""
    from pathlib import Path

    from lmcourse.neural import checkpoint
    from lmcourse.neural.masked import MaskedLanguageModel
    from lmcourse.neural.model import NeuralLanguageModel

    if Path(location).is_dir() and not (Path(location) / CLASSIFIER_FILE).is_file():
        raise UserError(f"no {CLASSIFIER_FILE} in {location}: give a folder that `lmcourse finetune --out DIR` wrote")
    contents = checkpoint.load_checkpoint(location, CLASSIFIER_FILE)
    if contents.get("kind") != "classifier":
        raise UserError(f"{location} holds a {contents.get('kind')} model, not a classifier: give a folder "
                        "that `lmcourse finetune --out DIR` wrote")
    try:
        owner = MaskedLanguageModel if contents["network_kind"] == "mlm" else NeuralLanguageModel
        config = owner.config_from({"kind": contents["network_kind"], "model_config": contents["network_config"]})
        network = owner.architectures[contents["network_kind"]][1](config)
        classifier = DocumentClassifier(network, len(contents["labels"]), contents["pooling"])
        classifier.load_state_dict(contents["model"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise UserError(f"{location} is damaged or not a classifier ({type(error).__name__}: {str(error)[:100]}): "
                        "fine-tune again") from None
    classifier.eval()
    return classifier, Vocabulary(contents["vocab"][3:]), list(contents["labels"])
