"""The perplexity floor of a grammar's language, and a check that a model's result is not below it.

The floor
---------
``floor_stats()`` gives the exact entropy per predicted token ``H`` of the language (see
:mod:`lmcourse.synthetic.entropy`) in nats and bits, and ``floor perplexity = exp(H)``: no model can have a
lower *expected* perplexity on text from this grammar, because its expected loss per token is ``H`` plus a
Kullback-Leibler divergence, and a divergence is never negative.

Sampling noise
--------------
One test set is a sample, so even the true model's loss on it is a little above or below ``H``. Over ``n``
independent sentences with losses ``X_i = -log p(sentence_i)`` and token counts ``T_i`` (words + ``</s>``), the
loss per token is ``sum X_i / sum T_i``, and by the delta method its standard error is::

    se = sqrt(Var(X - H T) / n) / E[T] = sigma / sqrt(N),      sigma^2 = Var(X - H T) / E[T]

with ``N = n E[T]`` the number of predicted tokens. ``Var(X - H T)`` is computed exactly from the grammar
(:func:`lmcourse.synthetic.entropy.loss_variance_per_sentence`); ``sigma`` is reported as
``grammar_stats["loss_std_nats_per_sqrt_token"]``. A model's loss ``log(perplexity)`` is flagged when its
z-score ``(log(perplexity) - H) / se`` is below ``-max_z`` (default 4: the true model itself falls that low
about 3 times in 100,000 test sets). A model trained on train and scored on test cannot beat the true model
except by that noise, so a flagged result means the evaluation is wrong: log-probabilities that do not
sum to 1 over the vocabulary, ``</s>`` not counted, test text seen in training, and the like.

The noise is that of the *true* model's loss: a model whose per-sentence losses vary more than the true
model's has a somewhat larger spread, so for it the "3 in 100,000" is an approximation. A flagged result is
still at least four true-model standard errors below the floor, far outside what a correct model shows.
"""

from __future__ import annotations

import math

from lmcourse.errors import UserError
from lmcourse.synthetic.entropy import grammar_statistics
from lmcourse.synthetic.grammar import load_grammar

DEFAULT_MAX_Z = 4.0


def floor_stats(grammar: str = "english") -> dict:
    """The entropy floor of ``grammar``'s language (exact, from the grammar alone; a few milliseconds once the
    grammar is read)::

        {"entropy_nats_per_token", "entropy_bits_per_token", "floor_perplexity",
         "grammar": the .pcfg file's path, "grammar_stats": {sizes, expected length and depth, recursion, ...}}
    """
    compiled = load_grammar(grammar)
    stats = grammar_statistics(compiled)
    entropy = stats.pop("entropy_nats_per_token")
    return {
        "entropy_nats_per_token": entropy,
        "entropy_bits_per_token": entropy / math.log(2),
        "floor_perplexity": math.exp(entropy),
        "grammar": str(compiled.path),
        "grammar_stats": stats,
    }


def floor_verdict(perplexity: float, num_tokens: int, grammar: str = "english",
                  max_z: float = DEFAULT_MAX_Z) -> dict:
    """Compare a test perplexity over ``num_tokens`` predicted tokens with the floor of ``grammar``.

    Returns ``{"below_floor": bool, "z_score", "perplexity", "floor_perplexity", "lowest_plausible_perplexity",
    "standard_error_nats", "message"}``; ``lowest_plausible_perplexity = exp(H - max_z * se)``.
    """
    if not num_tokens >= 1:
        raise UserError(f"num_tokens must be at least 1, got {num_tokens}")
    if not perplexity > 0:
        raise UserError(f"perplexity must be positive, got {perplexity}")
    stats = floor_stats(grammar)
    entropy = stats["entropy_nats_per_token"]
    standard_error = stats["grammar_stats"]["loss_std_nats_per_sqrt_token"] / math.sqrt(num_tokens)
    loss = math.log(perplexity)
    z_score = (loss - entropy) / standard_error
    lowest = math.exp(entropy - max_z * standard_error)
    below = bool(z_score < -max_z)
    if below:
        name = stats["grammar_stats"]["name"]
        message = (f"perplexity {perplexity:.4f} on {num_tokens:,} tokens is below the floor "
                   f"{stats['floor_perplexity']:.4f} of grammar {name} by more than sampling noise "
                   f"(z = {z_score:.1f}; the lowest plausible value is {lowest:.4f}): no model can beat the true "
                   "distribution, so the evaluation is wrong (probabilities that do not sum to 1? </s> left out? "
                   "test data in training?)")
    else:
        message = (f"perplexity {perplexity:.4f} is {'above' if z_score >= 0 else 'within noise of'} the floor "
                   f"{stats['floor_perplexity']:.4f} (z = {z_score:.1f}: the loss lies {abs(z_score):.1f} standard "
                   f"errors {'above' if z_score >= 0 else 'below'} the floor, one standard error being the true "
                   f"model's sampling noise on this many tokens; below -{max_z:g} would mean a wrong evaluation)")
    return {
        "below_floor": below,
        "z_score": z_score,
        "perplexity": perplexity,
        "floor_perplexity": stats["floor_perplexity"],
        "lowest_plausible_perplexity": lowest,
        "standard_error_nats": standard_error,
        "message": message,
    }


def check_not_below_floor(perplexity: float, num_tokens: int, grammar: str = "english",
                          max_z: float = DEFAULT_MAX_Z) -> None:
    """Raise ``AssertionError`` if ``perplexity`` is below the floor of ``grammar`` by more than sampling noise
    (``max_z`` standard errors over ``num_tokens`` predicted tokens; see the module docstring)."""
    verdict = floor_verdict(perplexity, num_tokens, grammar=grammar, max_z=max_z)
    if verdict["below_floor"]:
        raise AssertionError(verdict["message"])
