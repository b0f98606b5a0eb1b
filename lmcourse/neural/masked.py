"""A masked language model (BERT, Devlin et al. 2019), in reading order: masking, the model, its figures.

A causal model (GPT) learns p(w_t | w_1 .. w_{t-1}) and is judged by perplexity. A masked language model
corrupts its input and learns to restore it, reading both sides (Devlin et al. 2019, §3.1, "Task #1"):

    1. each position is *chosen* with probability 15% (never ``<s>``);
    2. of the chosen positions, 80% are replaced by ``<mask>``, 10% by a random word, 10% are left as they are
       (so the model cannot learn that only ``<mask>`` positions matter: it must keep a good representation
       of every token);
    3. the loss is the cross-entropy of the *original* token at the chosen positions only, M:

           L = -(1 / |M|) sum_{t in M} log p(w_t | corrupted input)

The encoder is the block of :mod:`lmcourse.neural.transformer` with ``causal=False``: every position attends
to every other. The head is BERT's (``BertLMPredictionHead``): a dense layer, GELU and LayerNorm, then the
output layer tied to the token embedding, plus one bias per word.

**Vocabulary.** ``<mask>`` joins the vocabulary as one more id after the corpus's ids: with a corpus of V ids
(0 .. V-1: ``<unk>``, ``<s>``, ``</s>``, the words), ``<mask>`` is id V and the network has V + 1 rows. No corpus
id moves, so the N-gram and causal figures of a corpus are untouched. ``<s>`` and ``<mask>`` are never
predicted (their logits are -inf). Random replacements are drawn uniformly from the words (ids 3 .. V-1).

**What an MLM is judged by.**

- *Masked-token accuracy*: the share of chosen positions (corrupted 80/10/10 as in training, with a fixed
  seed) where the most probable token is the original one; beside it the *masked-token perplexity*
  exp(L) on those positions (the figure training selects its best weights by).
- *Pseudo-perplexity* (Salazar et al. 2020, "Masked Language Model Scoring"): mask each token in turn and
  score it from both sides,

      PLL(W) = sum_t log p(w_t | W with w_t replaced by <mask>),        PPPL = exp(-PLL / N).

  Each token is read inside a window of ``context`` tokens of the stream centred on it (up to context / 2 on
  each side, across sentence boundaries, as training reads them); N is the split's predicted tokens, the
  same tokens the causal models predict. One forward pass per token: N x context positions in all.

**Pseudo-perplexity is not perplexity.** A causal model's perplexity comes from a distribution over whole
texts: the product of p(w_t | w_<t) sums to one over all texts. The conditionals p(w_t | everything else)
see the right context too, and their product is not a distribution over anything (summed over all texts it
is not one). A PPPL far below a causal model's perplexity says the task is easier with both sides visible,
not that the MLM is the better language model. So :class:`MaskedLanguageModel` reports no perplexity
(``normalized = False``), cannot ``generate``, and names its figures for what they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lmcourse.data.vocabulary import BOS_ID, EOS_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.neural.batches import training_stream
from lmcourse.neural.model import NeuralLanguageModel
from lmcourse.neural.transformer import TransformerConfig, TransformerLanguageModel

MASK = "<mask>"
IGNORE = -100   # the label of a position that carries no loss (F.cross_entropy's ignore_index)


@dataclass
class MaskedLMConfig(TransformerConfig):
    """A bidirectional Transformer encoder with BERT's masking. ``vocab_size`` counts ``<mask>`` (the last id)."""

    kind: str = "mlm"
    causal: bool = False
    select: float = 0.15               # share of positions chosen for the loss
    to_mask: float = 0.8               # of the chosen: replaced by <mask>
    to_random: float = 0.1             # of the chosen: replaced by a random word (the rest stay as they are)

    def check(self) -> None:
        super().check()
        if self.causal:
            raise UserError("a masked language model reads both sides: causal must be False")
        if self.adaptive_cutoffs:
            raise UserError("--adaptive-softmax is not available for the masked LM: leave it out")
        if not (0 < self.select <= 1):
            raise UserError(f"--select must be in (0, 1] (got {self.select})")
        if self.to_mask < 0 or self.to_random < 0 or self.to_mask + self.to_random > 1:
            raise UserError(f"--to-mask and --to-random must be >= 0 with a sum <= 1 (got {self.to_mask}, "
                            f"{self.to_random})")

    @property
    def mask_id(self) -> int:
        return self.vocab_size - 1

    def num_parameters(self) -> int:
        """The encoder's (:meth:`TransformerConfig.num_parameters`) + the head: E^2 + E (dense) + 2 E
        (LayerNorm) + V (the output bias)."""
        E = self.output_size
        return super().num_parameters() + E * E + 3 * E + self.vocab_size


# -- masking ---------------------------------------------------------------------------------------------
def mask_tokens(ids: torch.Tensor, mask_id: int, select: float = 0.15, to_mask: float = 0.8,
                to_random: float = 0.1, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's corruption of ids (B, T): (inputs (B, T), labels (B, T)), labels = the original id at the
    chosen positions and ``IGNORE`` elsewhere (see :func:`corrupt`).

    The draws are made on the CPU (from ``generator``, or torch's global generator, which the trainer seeds
    and saves in its checkpoints), so a seed gives the same masks on any device.
    """
    if mask_id <= EOS_ID + 1:
        raise UserError("the vocabulary has no words to draw random replacements from")
    shape = ids.shape
    chosen_draw = torch.rand(shape, generator=generator)                    # (B, T) uniform in [0, 1)
    how_draw = torch.rand(shape, generator=generator)                       # (B, T): which corruption
    random_words = torch.randint(EOS_ID + 1, mask_id, shape, generator=generator)
    return corrupt(ids, chosen_draw.to(ids.device), how_draw.to(ids.device), random_words.to(ids.device),
                   mask_id, select, to_mask, to_random)


def corrupt(ids: torch.Tensor, chosen_draw: torch.Tensor, how_draw: torch.Tensor, random_words: torch.Tensor,
            mask_id: int, select: float = 0.15, to_mask: float = 0.8,
            to_random: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """The corruption, given its draws (all (B, T)): position t is chosen if chosen_draw_t < select (and it
    is not ``<s>``); a chosen position becomes ``<mask>`` if how_draw_t < to_mask, random_words_t if
    to_mask <= how_draw_t < to_mask + to_random, and stays as it is otherwise."""
    chosen = (chosen_draw < select) & (ids != BOS_ID)
    to_mask_here = chosen & (how_draw < to_mask)
    to_random_here = chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random)
    inputs = torch.where(to_mask_here, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(to_random_here, random_words, inputs)
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    return inputs, labels


# -- the model -------------------------------------------------------------------------------------------
class MaskedTransformer(nn.Module):
    """tokens -> bidirectional blocks -> BERT's head (dense, GELU, LayerNorm, tied output layer + bias)."""

    def __init__(self, config: MaskedLMConfig):
        super().__init__()
        config.check()
        self.config = config
        self.encoder = TransformerLanguageModel(config)        # causal=False; decoder tied to the embedding
        E = config.output_size
        self.transform = nn.Sequential(nn.Linear(E, E), nn.GELU(), nn.LayerNorm(E))
        self.transform.apply(TransformerLanguageModel._init_weights)
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))

    def hidden_states(self, inputs: torch.Tensor) -> torch.Tensor:
        """ids (B, T), T <= context -> the last layer's outputs (B, T, E), every position seeing every other."""
        hidden, _, _ = self.encoder.run_blocks(self.encoder.embed(inputs, start=0), None)
        return hidden

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, E) -> (B, T, V + 1) scores; ``<s>`` and ``<mask>`` are never predicted."""
        logits = self.encoder.decoder(self.transform(hidden)) + self.output_bias     # (B, T, V + 1)
        logits[..., BOS_ID] = float("-inf")
        logits[..., self.config.mask_id] = float("-inf")
        return logits

    def loss(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats) over the positions whose label is not ``IGNORE`` (0 if there are none)."""
        logits = self.logits(self.hidden_states(inputs))                             # (B, T, V + 1)
        total = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1),
                                ignore_index=IGNORE, reduction="sum")
        return total / max(int((labels != IGNORE).sum()), 1)

    def encode(self, inputs: torch.Tensor, state=None) -> tuple[torch.Tensor, None]:
        """The interface every network of the course has (a fine-tuned classifier reads it): (B, T, E)."""
        return self.hidden_states(inputs), None

    def initial_state(self, batch: int) -> None:
        """Nothing is carried from one window to the next: each window is read on its own."""
        return None

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, state=None) -> tuple[torch.Tensor, None]:
        """The trainer's step: corrupt the window ``inputs`` (B, T) and score the chosen positions.
        ``targets`` (the next tokens, for a causal model) and ``state`` are not used."""
        c = self.config
        corrupted, labels = mask_tokens(inputs, c.mask_id, c.select, c.to_mask, c.to_random)
        return self.loss(corrupted, labels), None


# -- its figures -----------------------------------------------------------------------------------------
def stream_windows(tokens: np.ndarray, context: int) -> list[np.ndarray]:
    """``<s>`` + the split's tokens cut into consecutive windows of ``context`` (the last may be shorter)."""
    stream = training_stream(tokens)
    return [stream[start:start + context] for start in range(0, len(stream), context)]


@torch.no_grad()
def masked_token_figures(module: MaskedTransformer, tokens: np.ndarray, batch: int = 32, seed: int = 0) -> dict:
    """Masked-token accuracy and perplexity on a split's stream, corrupted as in training with ``seed``."""
    c, device = module.config, next(module.parameters()).device
    was_training = module.training
    module.eval()
    generator = torch.Generator().manual_seed(seed)
    windows = stream_windows(tokens, c.context)
    full = [w for w in windows if len(w) == c.context]
    groups = [np.stack(full[i:i + batch]) for i in range(0, len(full), batch)] + [
        w[None] for w in windows if len(w) != c.context]
    nll, correct, chosen = 0.0, 0, 0
    for group in groups:
        ids = torch.from_numpy(group).to(device)                                     # (b, T)
        inputs, labels = mask_tokens(ids, c.mask_id, c.select, c.to_mask, c.to_random, generator)
        where = labels != IGNORE
        hidden = module.hidden_states(inputs)[where]                                 # (chosen, E)
        log_p = torch.log_softmax(module.logits(hidden).float(), dim=-1)             # (chosen, V + 1)
        nll -= float(log_p.gather(1, labels[where].unsqueeze(1)).sum())
        correct += int((log_p.argmax(dim=1) == labels[where]).sum())
        chosen += int(where.sum())
    module.train(was_training)
    return {"masked_accuracy": correct / max(chosen, 1),
            "masked_perplexity": math.exp(nll / chosen) if chosen else None, "masked_positions": chosen}


@torch.no_grad()
def pseudo_log_likelihoods(module: MaskedTransformer, tokens: np.ndarray, batch: int = 64,
                           max_tokens: int | None = None) -> np.ndarray:
    """log p(w_t | every other token of its window, w_t masked) for each of the split's first ``max_tokens``
    predicted tokens (all by default), in order: the terms of Salazar et al.'s PLL."""
    c, device = module.config, next(module.parameters()).device
    was_training = module.training
    module.eval()
    stream = torch.from_numpy(training_stream(tokens))                               # <s> w_1 .. w_N
    count = len(tokens) if max_tokens is None else min(int(max_tokens), len(tokens))
    width = min(c.context, len(stream))
    scores = np.zeros(count)
    for first in range(0, count, batch):
        positions = torch.arange(first + 1, min(first + batch, count) + 1)           # (b,) stream positions
        starts = (positions - width // 2).clamp(0, len(stream) - width)              # the windows centred on them
        windows = stream[starts.unsqueeze(1) + torch.arange(width)]                  # (b, width)
        rows, offsets = torch.arange(len(positions)), positions - starts
        targets = windows[rows, offsets].clone()
        windows[rows, offsets] = c.mask_id                                           # one masked token per row
        hidden = module.hidden_states(windows.to(device))[rows.to(device), offsets.to(device)]  # (b, E)
        log_p = torch.log_softmax(module.logits(hidden).float(), dim=-1)             # (b, V + 1)
        scores[first:first + len(positions)] = log_p.gather(1, targets.to(device).unsqueeze(1)).squeeze(1).cpu()
    module.train(was_training)
    return scores


def pseudo_perplexity(pll_terms: np.ndarray) -> float:
    """PPPL = exp(-(1/N) sum_t log p(w_t | W without w_t)) (Salazar et al. 2020, eq. 4). Not a perplexity."""
    return float(np.exp(-np.mean(pll_terms))) if len(pll_terms) else math.nan


# -- behind the course's interface -----------------------------------------------------------------------
class MaskedLanguageModel(NeuralLanguageModel):
    """A masked LM trained by the shared trainer (checkpoints, resume, torchrun as every network).

    It is not a language model in the course's sense: no next-token distribution, so no perplexity, no
    ``log_probs``, no ``generate``. ``evaluate(split)`` gives masked-token accuracy and pseudo-perplexity.
    """

    normalized = False
    architectures = {"mlm": (MaskedLMConfig, MaskedTransformer)}
    pseudo_perplexity_tokens: int | None = None   # what extra_figures scores (None: every token of a split)

    def network_vocab_size(self, vocab: Vocabulary) -> int:
        """The corpus's ids and ``<mask>`` after them."""
        return len(vocab) + 1

    def fit(self, corpus, checkpoint_dir=None, resume: bool = False, progress_bar: bool = True):
        if self.training.bptt > self.config.context:
            raise UserError(f"--bptt {self.training.bptt} is longer than --context {self.config.context}: a "
                            "training window must fit the encoder; leave --bptt out (it is the context)")
        return super().fit(corpus, checkpoint_dir, resume, progress_bar)

    def _perplexity_of(self, module: nn.Module, split) -> float:
        """What training keeps the best weights by: the masked-token perplexity on valid (seed 0)."""
        return masked_token_figures(module, split.tokens, self.training.eval_batch, seed=0)["masked_perplexity"]

    def evaluate(self, split, log_probs: np.ndarray | None = None, max_tokens: int | None = None) -> dict:
        """Masked-token accuracy and perplexity, and pseudo-perplexity over ``max_tokens`` (default all)."""
        self._require_fitted()
        terms = pseudo_log_likelihoods(self.module, split.tokens, max_tokens=max_tokens)
        return {**masked_token_figures(self.module, split.tokens, self.training.eval_batch),
                "pseudo_perplexity": pseudo_perplexity(terms), "pseudo_perplexity_tokens": len(terms)}

    def extra_figures(self, split) -> dict:
        """:meth:`evaluate`, over the first ``pseudo_perplexity_tokens`` tokens of the split."""
        return self.evaluate(split, max_tokens=self.pseudo_perplexity_tokens)

    def _not_a_language_model(self, what: str):
        raise UserError(f"a masked language model has no {what}: it predicts hidden tokens from both sides, "
                        "not the next token; use evaluate(split) (masked accuracy, pseudo-perplexity) or "
                        "fine-tune it (lmcourse finetune)")

    def log_probs(self, split, per_sentence: bool = False, batch: int | None = None) -> np.ndarray:
        self._not_a_language_model("next-token log-probabilities")

    def log_distribution(self, context=None) -> np.ndarray:
        self._not_a_language_model("next-token distribution")

    def perplexity(self, split) -> float:
        self._not_a_language_model("perplexity (its pseudo-perplexity is another quantity)")

    def generate(self, *args, **kwargs):
        self._not_a_language_model("left-to-right sampling")
