"""Recurrent language models: the Elman RNN, the GRU and the LSTM, written from their equations.

Reading order: the three cells (one time step each), a recurrent layer (the cell run over time, or PyTorch's
fused kernel on the same weights), dropout that keeps its mask across time, the config, and the language
model itself:

    ids (B, T) -> embedding (B, T, E) -> L recurrent layers (B, T, H) -> dropout -> output layer -> p(next id)

Every cell stores its weights in PyTorch's layout (``weight_ih`` is (gates * H, I), gate order as in
``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM``), so the written-out loop and the fused kernel (``torch.rnn_tanh``,
``torch.gru``, ``torch.lstm``: what ``nn.RNN``, ``nn.GRU``, ``nn.LSTM`` call) compute the same function with
the same parameters; ``RNNConfig.fused`` switches between them, and the tests check that they agree to
1e-10 in float64, outputs, final states and gradients. The written-out loop is what to read; the fused one
is what to train with (about 2-3x faster on a CPU).

The output layer is either a full softmax over the vocabulary (optionally with its weights tied to the
input embedding: Press & Wolf 2017, Inan et al. 2017) or an adaptive softmax (Grave et al. 2017,
``nn.AdaptiveLogSoftmaxWithLoss``): frequent words in a head, rare words in smaller clusters, which costs
far fewer multiply-adds and is still a normalized distribution over every id. ``<s>`` is never predicted:
its probability is exactly 0, as in the N-gram models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.errors import UserError
from lmcourse.neural.output import SoftmaxOutput

State = tuple[torch.Tensor, ...]  # one layer's state: (h,) for the RNN and the GRU, (h, c) for the LSTM


# -- the cells: one time step ------------------------------------------------------------------------------
class Cell(nn.Module):
    """The weights every cell has: W_ih (gates*H, I), W_hh (gates*H, H), b_ih, b_hh, each drawn from
    U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initializes its recurrent layers."""

    gates = 1
    state_size = 1  # tensors in the state: h, or h and c

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(self.gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(self.gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(self.gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(self.gates * hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def kernel_weights(self) -> list[torch.Tensor]:
        """The weights in the order the fused kernels take them."""
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def initial_state(self, batch: int) -> State:
        zeros = self.weight_ih.new_zeros(batch, self.hidden_size)
        return (zeros,) * self.state_size


class ElmanCell(Cell):
    """The simple recurrent network (Elman 1990, "Finding structure in time"):

        h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    """

    fused_kernel = torch.rnn_tanh

    def forward(self, x: torch.Tensor, state: State) -> State:
        (h,) = state                                                          # (B, H)
        return (torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh),)


class GRUCell(Cell):
    """The gated recurrent unit (Cho et al. 2014, "Learning phrase representations using RNN encoder-decoder"),
    in PyTorch's form (the reset gate applied after the recurrent product):

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     candidate state
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    """

    gates = 3
    fused_kernel = torch.gru

    def forward(self, x: torch.Tensor, state: State) -> State:
        (h,) = state                                                          # (B, H)
        x_r, x_z, x_n = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=-1)   # each (B, H)
        h_r, h_z, h_n = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=-1)
        reset = torch.sigmoid(x_r + h_r)
        update = torch.sigmoid(x_z + h_z)
        candidate = torch.tanh(x_n + reset * h_n)
        return ((1 - update) * candidate + update * h,)


class LSTMCell(Cell):
    """The long short-term memory (Hochreiter & Schmidhuber 1997) with the forget gate of Gers, Schmidhuber
    & Cummins (2000, "Learning to forget"):

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)          input gate
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)          forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)             candidate cell
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)          output gate
        c_t = f_t * c_{t-1} + i_t * g_t                               the cell: a sum, so gradients last
        h_t = o_t * tanh(c_t)
    """

    gates = 4
    state_size = 2
    fused_kernel = torch.lstm

    def forward(self, x: torch.Tensor, state: State) -> State:
        h, c = state                                                          # (B, H) each
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh   # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=-1)
        input_gate, forget_gate, output_gate = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        c = forget_gate * c + input_gate * torch.tanh(g)
        h = output_gate * torch.tanh(c)
        return h, c


CELLS: dict[str, type[Cell]] = {"rnn": ElmanCell, "gru": GRUCell, "lstm": LSTMCell}


# -- a recurrent layer: the cell over time -----------------------------------------------------------------
class RecurrentLayer(nn.Module):
    """One cell applied at every time step; ``fused=True`` runs PyTorch's kernel on the same weights."""

    def __init__(self, cell: Cell, fused: bool = True):
        super().__init__()
        self.cell, self.fused = cell, fused

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x (B, T, I), state of (B, H) tensors -> outputs h_1..h_T (B, T, H), the state after step T."""
        if self.fused:
            hx = tuple(s.unsqueeze(0) for s in state)                         # (1, B, H): the kernels' layout
            hx = hx if len(hx) > 1 else hx[0]
            output, *final = type(self.cell).fused_kernel(
                x, hx, self.cell.kernel_weights(), True, 1, 0.0, self.training, False, True)
            return output, tuple(s.squeeze(0) for s in final)
        outputs = []
        for t in range(x.size(1)):
            state = self.cell(x[:, t], state)                                 # (B, H) each
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), state                             # (B, T, H)


# -- dropout -----------------------------------------------------------------------------------------------
def locked_dropout(x: torch.Tensor, p: float, training: bool, variational: bool) -> torch.Tensor:
    """Dropout on (B, T, H); with ``variational`` one mask per sequence, the same at every time step
    (Gal & Ghahramani 2016; "locked dropout" in AWD-LSTM, Merity et al. 2018)."""
    if not training or p == 0:
        return x
    if not variational:
        return F.dropout(x, p, training=True)
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)  # (B, 1, H)
    return x * mask


def embedding_dropout(embedding: nn.Embedding, ids: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """The embeddings of ids (B, T) -> (B, T, E), with whole words dropped: a random subset of the
    vocabulary has its rows zeroed (every occurrence of such a word in the batch), the rest are scaled by
    1/(1-p) (Gal & Ghahramani 2016; Merity et al. 2018). The mask is drawn over the vocabulary, but only the
    looked-up rows are multiplied: the same result as masking the (V, E) matrix, at the cost of the batch."""
    vectors = embedding(ids)                                                  # (B, T, E)
    if not training or p == 0:
        return vectors
    keep = vectors.new_empty(embedding.num_embeddings).bernoulli_(1 - p) / (1 - p)   # (V,)
    return vectors * keep[ids].unsqueeze(-1)                                  # (B, T, E)


# -- the language model ------------------------------------------------------------------------------------
@dataclass
class RNNConfig:
    """A recurrent language model. Defaults are those of PyTorch's ``word_language_model`` example."""

    cell: str = "lstm"                 # rnn (Elman), gru or lstm
    vocab_size: int = 0                # every id, <unk>, <s> and </s> included; set by fit from the corpus
    emb: int = 200                     # embedding size E
    hidden: int = 200                  # units H per layer (with tie, the last layer has E units)
    layers: int = 2
    dropout: float = 0.2               # on the embeddings, between layers and before the output layer
    embedding_dropout: float = 0.0     # probability of dropping a whole word's embedding
    variational: bool = False          # dropout masks fixed across time steps
    tie: bool = False                  # output weights = input embedding
    adaptive_cutoffs: tuple[int, ...] = ()   # adaptive softmax cluster boundaries; () = full softmax
    fused: bool = True                 # PyTorch's kernels; False = the written-out cells

    def check(self) -> None:
        """One-line errors for settings that cannot make a model."""
        if self.cell not in CELLS:
            raise UserError(f"unknown cell {self.cell!r}: use one of {', '.join(CELLS)}")
        for name in ("emb", "hidden", "layers"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"--{name} must be at least 1 (got {getattr(self, name)})")
        for name in ("dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not (0 <= value < 1):
                raise UserError(f"--{name.replace('_', '-')} must be in [0, 1) (got {value})")
        if self.tie and self.adaptive_cutoffs:
            raise UserError("--tie and --adaptive-softmax cannot be combined: the adaptive softmax has its own "
                            "output weights; leave one of them out")
        cutoffs = list(self.adaptive_cutoffs)
        if cutoffs and (cutoffs != sorted(set(cutoffs)) or cutoffs[0] <= BOS_ID
                        or (self.vocab_size and cutoffs[-1] >= self.vocab_size - 1)):
            raise UserError(f"--adaptive-softmax cutoffs must increase strictly between {BOS_ID + 1} and the "
                            f"vocabulary size - 1 ({self.vocab_size - 1}); got {cutoffs}")

    def scoring_window(self, bptt: int) -> int:
        """Tokens per window when scoring a stream: the training window (the state carries the rest)."""
        return bptt

    @property
    def output_size(self) -> int:
        """Units of the last layer: E when the output weights are tied to the embedding, else H."""
        return self.emb if self.tie else self.hidden


class RNNLanguageModel(SoftmaxOutput, nn.Module):
    """embedding -> recurrent layers -> dropout -> softmax (full, tied, or adaptive)."""

    def __init__(self, config: RNNConfig):
        super().__init__()
        config.check()
        self.config = config
        V, E = config.vocab_size, config.emb
        self.embedding = nn.Embedding(V, E)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        sizes = [E] + [config.hidden] * (config.layers - 1) + [config.output_size]
        self.layers = nn.ModuleList(
            RecurrentLayer(CELLS[config.cell](sizes[k], sizes[k + 1]), fused=config.fused)
            for k in range(config.layers))
        if config.adaptive_cutoffs:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(config.output_size, V, list(config.adaptive_cutoffs),
                                                          div_value=4.0)
        else:
            self.decoder = nn.Linear(config.output_size, V)
            nn.init.zeros_(self.decoder.bias)
            if config.tie:
                self.decoder.weight = self.embedding.weight                   # (V, E): one matrix, two uses
            else:
                nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def initial_state(self, batch: int) -> list[State]:
        """Zeros for every layer: the state before the first token."""
        return [layer.cell.initial_state(batch) for layer in self.layers]

    def encode(self, inputs: torch.Tensor, state: list[State]) -> tuple[torch.Tensor, list[State]]:
        """ids (B, T) and the state before them -> the last layer's outputs (B, T, H_out), the new state."""
        c = self.config
        x = embedding_dropout(self.embedding, inputs, c.embedding_dropout, self.training)   # (B, T, E)
        x = locked_dropout(x, c.dropout, self.training, c.variational)
        new_state = []
        for layer, layer_state in zip(self.layers, state):
            x, layer_state = layer(x, layer_state)                            # (B, T, H)
            x = locked_dropout(x, c.dropout, self.training, c.variational)
            new_state.append(layer_state)
        return x, new_state

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor,
                state: list[State]) -> tuple[torch.Tensor, list[State]]:
        """Mean cross-entropy (nats) of ``targets`` (B, T) given ``inputs`` (B, T), and the new state."""
        hidden, state = self.encode(inputs, state)                            # (B, T, H_out)
        return self.output_loss(hidden, targets), state

    def num_parameters(self) -> int:
        """Trainable numbers, tied weights counted once."""
        return sum(p.numel() for p in self.parameters())
