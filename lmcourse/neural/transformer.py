"""A Transformer decoder language model (GPT), in reading order: attention, the MLP, the block, the model.

    attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V                      (Vaswani et al. 2017, eq. 1)

with M[i, j] = -inf where key j comes after query i (the causal mask: a position sees only itself and the
past) and 0 elsewhere. Multi-head attention splits the width D into H heads of d = D / H, attends in each,
and merges them back. A block is pre-LayerNorm (Radford et al. 2019; Xiong et al. 2020):

    x = x + Dropout(Attention(LayerNorm(x)))
    x = x + Dropout(W_2 GELU(W_1 LayerNorm(x)))                                (GELU: Hendrycks & Gimpel 2016)

The model: token embedding + position embedding (learned, or the fixed sinusoids of Vaswani et al. §3.5),
dropout, ``layers`` blocks, a final LayerNorm, and the output layer (tied to the token embedding by default,
Press & Wolf 2017; or an adaptive softmax, Grave et al. 2017), as nanoGPT's ``model.py`` (Karpathy 2022) lays
it out. Token embeddings may be smaller than the width (``emb`` = E < D), with a projection E -> D after them
and D -> E before the output layer.

The fused path is one switch: ``fused=True`` (the default) calls ``F.scaled_dot_product_attention``; ``False``
runs the written-out softmax(QK^T/sqrt(d) + M)V on the same weights. ``causal=False`` drops the mask: the
bidirectional encoder block of a masked language model.

**State.** The trainer and the scorer carry a state from one window to the next (for an LSTM, h and c). Here
the state is ``(tokens, cache)``: the last ``context`` tokens read, and (when not training) their keys and
values in every layer. A new window is read after as much of that left context as the window allows: if the
old tokens and the new ones fit in ``context`` positions, the cached keys and values are reused (the key /
value cache of generation); otherwise the window is recomputed from the last ``context`` tokens. So scoring
with windows of ``stride`` < ``context`` tokens is sliding-window evaluation: every token is predicted once,
after at least ``context - stride`` tokens of left context (except at the start of a column).
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
from lmcourse.neural.rnn import embedding_dropout

POSITIONS = ("learned", "sinusoidal")
# (keys, values) of one layer, each (B, H, S, d); None where nothing is cached
LayerCache = tuple[torch.Tensor, torch.Tensor]


@dataclass
class TransformerConfig:
    """A GPT-style decoder. ``d_model`` = D, split over ``heads`` = H; the MLP is ``mlp_ratio`` * D wide."""

    kind: str = "transformer"
    vocab_size: int = 0                # every id, <unk>, <s> and </s> included; set by fit from the corpus
    layers: int = 4
    heads: int = 4
    d_model: int = 256
    emb: int = 0                       # token embedding size E; 0 = d_model (see output_size)
    context: int = 128                 # positions a token can see (itself included)
    mlp_ratio: int = 4
    dropout: float = 0.1               # on the embeddings, the attention weights and each residual branch
    embedding_dropout: float = 0.0     # probability of dropping a whole word's input embedding (Merity et al.)
    positions: str = "learned"         # learned or sinusoidal
    tie: bool = True                   # output weights = token embedding
    adaptive_cutoffs: tuple[int, ...] = ()   # adaptive softmax cluster boundaries; () = full softmax
    causal: bool = True                # False: a bidirectional encoder (masked language models)
    fused: bool = True                 # F.scaled_dot_product_attention; False = the written-out formula
    stride: int = 0                    # tokens scored per sliding window when evaluating; 0 = context // 2

    def check(self) -> None:
        """One-line errors for settings that cannot make a model."""
        if self.emb < 0:
            raise UserError(f"--emb must be at least 1, or 0 for --d-model (got {self.emb})")
        for name in ("layers", "heads", "d_model", "context", "mlp_ratio"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if not (0 <= self.stride <= self.context):
            raise UserError(f"--stride must be between 1 and --context {self.context} (0: context / 2; got "
                            f"{self.stride})")
        if self.d_model % self.heads:
            raise UserError(f"--heads {self.heads} does not divide --d-model {self.d_model}: each head gets "
                            "d_model / heads dimensions; pick a divisor")
        for name in ("dropout", "embedding_dropout"):
            if not (0 <= getattr(self, name) < 1):
                raise UserError(f"--{name.replace('_', '-')} must be in [0, 1) (got {getattr(self, name)})")
        if self.positions not in POSITIONS:
            raise UserError(f"unknown --positions {self.positions!r}: use one of {', '.join(POSITIONS)}")
        if self.positions == "sinusoidal" and self.d_model % 2:
            raise UserError(f"sinusoidal positions need an even --d-model (got {self.d_model})")
        if self.tie and self.adaptive_cutoffs:
            raise UserError("--tie and --adaptive-softmax cannot be combined: the adaptive softmax has its own "
                            "output weights; add --no-tie or leave out --adaptive-softmax")
        cutoffs = list(self.adaptive_cutoffs)
        if cutoffs and (cutoffs != sorted(set(cutoffs)) or cutoffs[0] <= BOS_ID
                        or (self.vocab_size and cutoffs[-1] >= self.vocab_size - 1)):
            raise UserError(f"--adaptive-softmax cutoffs must increase strictly between {BOS_ID + 1} and the "
                            f"vocabulary size - 1 ({self.vocab_size - 1}); got {cutoffs}")

    def scoring_window(self, bptt: int) -> int:
        """Tokens per window when scoring a stream: each is read after up to context - stride tokens."""
        return self.stride or max(self.context // 2, 1)

    @property
    def output_size(self) -> int:
        """E, the size of the token embeddings and of the output layer's input. With E < D the embeddings
        are projected up to D and the last hidden state down to E: the output layer, V x E, is then smaller
        (a factorized embedding, as in ALBERT, Lan et al. 2020): at small widths it is most of the work."""
        return self.emb or self.d_model

    def num_parameters(self) -> int:
        """The formula: V E (tokens) + 2 E D (the two projections, when E != D) + C D (learned positions)
        + L (12 D^2 + 13 D) + 2 D (final norm) + the output layer (0 when tied; E V + V untied; the adaptive
        softmax's own otherwise).

        A block has 4 D^2 + 4 D in attention (Q, K, V and the output projection, with biases), 8 D^2 + 5 D
        in the MLP (r = 4: D x 4D and 4D x D with biases), and 4 D in its two LayerNorms. With another
        ``mlp_ratio`` r the MLP has 2 r D^2 + (r + 1) D. The adaptive softmax is not counted here.
        """
        D, E, V, r = self.d_model, self.output_size, self.vocab_size, self.mlp_ratio
        block = (4 * D * D + 4 * D) + (2 * r * D * D + (r + 1) * D) + 4 * D
        positions = self.context * D if self.positions == "learned" else 0
        projections = 2 * E * D if E != D else 0
        output = 0 if self.tie else E * V + V
        return V * E + projections + positions + self.layers * block + 2 * D + output


# -- attention -------------------------------------------------------------------------------------------
def causal_mask(queries: int, keys: int, device=None) -> torch.Tensor:
    """(T, S) booleans, True where query i may look at key j: the T queries are the last T of the S keys, so
    query i sees keys j <= S - T + i (with a key/value cache, S - T keys come before the new queries)."""
    return torch.ones(queries, keys, dtype=torch.bool, device=device).tril(diagonal=keys - queries)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, dropout: float = 0.0,
              fused: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """softmax(q k^T / sqrt(d) + M) v for q (B, H, T, d), k and v (B, H, S, d): (output (B, H, T, d), the
    attention weights (B, H, T, S), or None on the fused path)."""
    T, S = q.size(-2), k.size(-2)
    if fused:
        mask = causal_mask(T, S, q.device) if causal and T != S else None    # is_causal assumes T == S
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout,
                                           is_causal=causal and T == S)
        return y, None
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))                # (B, H, T, S)
    if causal:
        scores = scores.masked_fill(~causal_mask(T, S, q.device), float("-inf"))
    weights = torch.softmax(scores, dim=-1)                                  # (B, H, T, S): rows sum to 1
    y = F.dropout(weights, dropout, training=dropout > 0) @ v                # (B, H, T, d)
    return y, weights


class SelfAttention(nn.Module):
    """Multi-head self-attention: project to Q, K, V (one matrix), split into heads, attend, merge, project."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.heads, self.causal, self.fused = config.heads, config.causal, config.fused
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)           # W_Q, W_K, W_V side by side
        self.proj = nn.Linear(config.d_model, config.d_model)              # W_O

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        return x.view(B, T, self.heads, D // self.heads).transpose(1, 2)  # (B, H, T, d)

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, LayerCache, torch.Tensor | None]:
        """x (B, T, D) -> (output (B, T, D), this layer's keys and values, the weights if asked for)."""
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)                              # 3 x (B, T, D)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)   # (B, H, T, d)
        if cache is not None:                                              # keys and values of the past
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)   # (B, H, S, d)
        dropout = self.dropout if self.training else 0.0
        y, weights = attention(q, k, v, self.causal, dropout, fused=self.fused and not need_weights)
        y = y.transpose(1, 2).reshape(B, T, D)                             # merge the heads: (B, T, D)
        return self.proj(y), (k, v), weights


# -- the block -------------------------------------------------------------------------------------------
class MLP(nn.Module):
    """W_2 GELU(W_1 x): D -> r D -> D, position by position."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.up = nn.Linear(config.d_model, config.mlp_ratio * config.d_model)
        self.down = nn.Linear(config.mlp_ratio * config.d_model, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))                               # (B, T, D)


class Block(nn.Module):
    """Pre-LayerNorm: x + Attention(LN(x)), then x + MLP(LN(x)), with dropout on each branch."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.norm_1 = nn.LayerNorm(config.d_model)
        self.attention = SelfAttention(config)
        self.norm_2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, LayerCache, torch.Tensor | None]:
        attended, cache, weights = self.attention(self.norm_1(x), cache, need_weights)
        x = x + self.dropout(attended)                                     # (B, T, D)
        x = x + self.dropout(self.mlp(self.norm_2(x)))
        return x, cache, weights


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/D)), PE[p, 2i+1] = cos(p / 10000^(2i/D)): (length, D) (Vaswani et al.)."""
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)     # (length, 1)
    frequency = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)   # (D/2,)
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.float()


# -- the language model ----------------------------------------------------------------------------------
class TransformerLanguageModel(SoftmaxOutput, nn.Module):
    """tokens + positions -> dropout -> blocks -> LayerNorm -> softmax (tied, full, or adaptive)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        config.check()
        self.config = config
        V, D, C, E = config.vocab_size, config.d_model, config.context, config.output_size
        self.token_embedding = nn.Embedding(V, E)
        # E -> D after the embedding, D -> E before the output layer (identities when E = D)
        self.embed_up = nn.Linear(E, D, bias=False) if E != D else nn.Identity()
        self.embed_down = nn.Linear(D, E, bias=False) if E != D else nn.Identity()
        if config.positions == "learned":
            self.position_embedding = nn.Embedding(C, D)
        else:
            self.register_buffer("position_table", sinusoidal_positions(C, D), persistent=False)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.final_norm = nn.LayerNorm(D)
        if config.adaptive_cutoffs:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(E, V, list(config.adaptive_cutoffs), div_value=4.0)
        else:
            self.decoder = nn.Linear(E, V, bias=not config.tie)
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():   # GPT-2: residual projections scaled by 1/sqrt(2L)
            if name.endswith(("attention.proj.weight", "mlp.down.weight")):
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.layers))
        if config.tie and not config.adaptive_cutoffs:
            self.decoder.weight = self.token_embedding.weight               # (V, E): one matrix, two uses

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """N(0, 0.02) weights and zero biases, as GPT-2 and nanoGPT."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def initial_state(self, batch: int) -> tuple[torch.Tensor, None]:
        """No tokens read yet and nothing cached."""
        return torch.zeros(batch, 0, dtype=torch.long), None

    def embed(self, ids: torch.Tensor, start: int) -> torch.Tensor:
        """Token + position embeddings of ids (B, T) at positions start .. start + T - 1: (B, T, D)."""
        positions = torch.arange(start, start + ids.size(1), device=ids.device)
        table = (self.position_embedding(positions) if self.config.positions == "learned"
                 else self.position_table[positions])                      # (T, D)
        words = embedding_dropout(self.token_embedding, ids, self.config.embedding_dropout,
                                  self.training)                           # (B, T, E), some words zeroed
        return self.dropout(self.embed_up(words) + table)

    def run_blocks(self, x: torch.Tensor, cache: list[LayerCache] | None,
                   need_weights: bool = False) -> tuple[torch.Tensor, list[LayerCache], list]:
        """The blocks, the final LayerNorm (and the projection to E): (B, T, D) -> (B, T, E), every layer's
        keys/values and attention weights."""
        new_cache, weights = [], []
        for layer, block in enumerate(self.blocks):
            x, layer_cache, layer_weights = block(x, None if cache is None else cache[layer], need_weights)
            new_cache.append(layer_cache)
            weights.append(layer_weights)
        return self.embed_down(self.final_norm(x)), new_cache, weights

    def encode(self, inputs: torch.Tensor, state) -> tuple[torch.Tensor, tuple]:
        """ids (B, T) after ``state`` -> the last layer's outputs (B, T, E), the new state (see the module
        docstring). A T longer than the context is read in pieces of context / 2."""
        C = self.config.context
        pieces = [inputs] if inputs.size(1) <= C else inputs.split(max(C // 2, 1), dim=1)
        outputs = []
        for piece in pieces:
            hidden, state = self._encode_piece(piece, state)
            outputs.append(hidden)
        return torch.cat(outputs, dim=1), state

    def _encode_piece(self, inputs: torch.Tensor, state) -> tuple[torch.Tensor, tuple]:
        past, cache = state if state is not None else self.initial_state(inputs.size(0))
        past = past.to(inputs.device)
        T, C = inputs.size(1), self.config.context
        if cache is not None and past.size(1) + T <= C:                    # the window goes on: reuse K, V
            hidden, cache, _ = self.run_blocks(self.embed(inputs, start=past.size(1)), cache)
            window = torch.cat([past, inputs], dim=1)
        else:                                                              # read the last C tokens again
            window = torch.cat([past, inputs], dim=1)[:, -C:]              # (B, <= C)
            hidden, cache, _ = self.run_blocks(self.embed(window, start=0), None)
            hidden = hidden[:, -T:]                                        # (B, T, E): the new tokens' outputs
        return hidden, (window, None if self.training else cache)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, state=None) -> tuple[torch.Tensor, tuple]:
        """Mean cross-entropy (nats) of ``targets`` (B, T) given ``inputs`` (B, T), and the new state."""
        hidden, state = self.encode(inputs, state)                         # (B, T, E)
        return self.output_loss(hidden, targets), state

    @torch.no_grad()
    def attention_maps(self, ids: torch.Tensor) -> torch.Tensor:
        """The attention weights of every layer and head for one sequence ids (T,) with T <= context:
        (layers, heads, T, T); row i is how query i spreads its attention over the keys (it sums to 1)."""
        was_training = self.training
        self.eval()
        x = self.embed(ids[-self.config.context:].unsqueeze(0), start=0)    # (1, T, D)
        _, _, weights = self.run_blocks(x, None, need_weights=True)
        self.train(was_training)
        return torch.stack([w[0] for w in weights])                         # (L, H, T, T)

    def num_parameters(self) -> int:
        """Trainable numbers, tied weights counted once."""
        return sum(p.numel() for p in self.parameters())
