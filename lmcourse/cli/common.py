"""What several commands report the same way: a model's figures on valid and test, the grammar's floor."""

from __future__ import annotations

import math

SPLITS_REPORTED = ("valid", "test")


def floor_report(corpus_name: str, perplexity: float | None, num_tokens: int | None) -> dict | None:
    """floor_verdict for a test perplexity on a corpus sampled from a grammar (None for other corpora)."""
    from lmcourse.data import REGISTRY

    spec = REGISTRY.get(corpus_name)
    if spec is None or not spec.grammar or perplexity is None or not num_tokens:
        return None
    from lmcourse.synthetic import floor_verdict

    return floor_verdict(perplexity, num_tokens, grammar=spec.grammar)


def split_figures(model, corpus, splits=SPLITS_REPORTED, log_probs: dict | None = None) -> dict:
    """``{split}_perplexity``, ``{split}_cross_entropy_bits`` (and bits per character on character corpora)
    for each split the corpus has (None where it is missing, the perplexity is infinite or the model gives
    scores, not probabilities), the predicted tokens per split (``predicted_tokens``: {split: count}), the
    floor verdict on a grammar's corpus, and a ``note`` saying why a figure is missing; any model of
    :mod:`lmcourse.lm`. ``log_probs``: {split: ``model.log_probs(split)``} already computed, if any."""
    result: dict = {"predicted_tokens": {}}
    notes = []
    for name in splits:
        figures: dict = {}
        split = corpus.splits.get(name)
        if split is None:
            notes.append(f"no {name} split: {corpus.missing.get(name, 'not available')}")
        else:
            result["predicted_tokens"][name] = split.num_predicted
            if model.normalized:
                figures = model.evaluate(split, (log_probs or {}).get(name))
            if figures and not math.isfinite(figures["perplexity"]):
                figures = {}
                notes.append(f"{name} perplexity is infinite (reported as null): the model gives probability 0 "
                             "to a token it never saw in that context (unsmoothed MLE); use a smoothed model "
                             "such as --smoothing mkn")
        result[f"{name}_perplexity"] = figures.get("perplexity")
        result[f"{name}_cross_entropy_bits"] = figures.get("cross_entropy_bits")
        for key, value in (model.extra_figures(split) if split is not None else {}).items():
            result[f"{name}_{key}"] = value
        if corpus.level == "char":
            result[f"{name}_bits_per_character"] = figures.get("bits_per_character")
    floor = floor_report(corpus.name, result.get("test_perplexity"), result["predicted_tokens"].get("test"))
    if floor is not None:
        result["floor_perplexity"], result["below_floor"] = floor["floor_perplexity"], floor["below_floor"]
        result["floor_message"] = floor["message"]
        if floor["below_floor"]:
            notes.append(floor["message"])
    if not model.normalized:
        notes.append(f"{type(model).__name__} gives unnormalized scores, not probabilities: perplexity is "
                     "undefined and not reported")
    if notes:
        result["note"] = "; ".join(notes)
    return result


def figure_lines(result: dict, splits=SPLITS_REPORTED) -> list[str]:
    """The human-readable lines for :func:`split_figures`'s result."""
    lines = []
    for name in splits:
        value = result.get(f"{name}_perplexity")
        count = result["predicted_tokens"].get(name)
        bpc = result.get(f"{name}_bits_per_character")
        lines.append(f"  {name} perplexity: {'n/a' if value is None else f'{value:.3f}'}"
                     + (f"  ({count:,} predicted tokens)" if count else "")
                     + (f", {bpc:.4f} bits per character" if bpc is not None else ""))
        if result.get(f"{name}_masked_accuracy") is not None:
            lines.append(f"  {name} masked-token accuracy: {result[f'{name}_masked_accuracy']:.4f}, masked-token "
                         f"perplexity {result[f'{name}_masked_perplexity']:.3f}, pseudo-perplexity "
                         f"{result[f'{name}_pseudo_perplexity']:.3f} over "
                         f"{result[f'{name}_pseudo_perplexity_tokens']:,} tokens (not comparable with a perplexity)")
    if result.get("floor_message") is not None:
        lines.append(f"  floor of the grammar: test {result['floor_message']}")
    if result.get("note"):
        lines.append(f"  note: {result['note']}")
    return lines
