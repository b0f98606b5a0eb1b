"""The output layer that every neural language model of the course shares: last hidden states -> log p.

A model that mixes in :class:`SoftmaxOutput` has ``self.config.adaptive_cutoffs`` and either
``self.decoder`` (an ``nn.Linear``: a full softmax, tied to the embedding or not) or ``self.adaptive`` (an
``nn.AdaptiveLogSoftmaxWithLoss``, Grave et al. 2017). ``<s>`` is never predicted: its score is -inf, and
the adaptive softmax's distribution is renormalized without it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmcourse.data.vocabulary import BOS_ID


class SoftmaxOutput:
    """``output_loss``, ``logits``, ``log_probs`` and ``target_log_probs`` over hidden states (B, T, H)."""

    def output_loss(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats) of ``targets`` (B, T) given the hidden states (B, T, H)."""
        if self.config.adaptive_cutoffs:
            # under autocast the hidden states may be bfloat16: the adaptive softmax's index_copy_ needs
            # one dtype, so it runs in its weights' dtype, outside autocast
            with torch.autocast(hidden.device.type, enabled=False):
                flat = hidden.to(self.adaptive.head.weight.dtype).reshape(-1, hidden.size(-1))
                return self.adaptive(flat, targets.reshape(-1)).loss
        logits = self.logits(hidden)                                          # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Full-softmax scores (B, T, V), with ``<s>`` at -inf: it is never predicted."""
        logits = self.decoder(hidden)
        logits[..., BOS_ID] = float("-inf")  # in place: the linear layer's backward does not need its output
        return logits

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """log p(. | history) for every id (B, T, V); each row sums to 1 over the predictable ids."""
        if not self.config.adaptive_cutoffs:
            return F.log_softmax(self.logits(hidden), dim=-1)
        flat = self.adaptive.log_prob(hidden.reshape(-1, hidden.size(-1)))   # (B*T, V)
        flat[:, BOS_ID] = float("-inf")
        flat = flat - torch.logsumexp(flat, dim=-1, keepdim=True)             # renormalized without <s>
        return flat.reshape(*hidden.shape[:-1], -1)

    def target_log_probs(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """log p(target | history) for each position (B, T)."""
        return self.log_probs(hidden).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
