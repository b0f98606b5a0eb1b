"""Writing the built-in corpus: seeded train/valid/test splits sampled from a grammar, cached on disk.

``ensure_synthetic_corpus()`` writes ``<data home>/synthetic/`` (``data/synthetic/`` of the checkout)::

    train.txt  valid.txt  test.txt      one sentence a line, words separated by single spaces
    meta.json                           the settings it was made with, and figures about it

and returns that folder. A later call finds ``meta.json``, sees that the settings (seed, sizes, the
grammar's SHA-256, the generator's version) are the same, and returns at once; if anything changed, it
samples the splits again. Each split has its own random stream (``SeedSequence(seed).spawn``), so the
size of one split does not change the sentences of another; each takes whole sentences until it holds
at least its number of words, and a bigger split starts with the sentences of a smaller one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from lmcourse.errors import UserError
from lmcourse.files import atomic_output, atomic_write_text
from lmcourse.synthetic.entropy import entropy_per_token
from lmcourse.synthetic.grammar import CompiledGrammar, file_sha256, grammar_path, load_grammar
from lmcourse.synthetic.sampler import SampledSentences, sample_sentences

# Bump when sampling changes in a way that changes the sentences for a seed, so old caches are remade.
GENERATOR_VERSION = 1
SPLIT_NAMES = ("train", "valid", "test")
DEFAULT_WORDS = {"train": 200_000, "valid": 20_000, "test": 20_000}
SAMPLING_BATCH = 4096  # sentences sampled at a time (part of what a seed means: changing it changes the text)


def default_directory(grammar: str | Path) -> Path:
    """``<data home>/synthetic`` for the English grammar, ``<data home>/synthetic-NAME`` for the others."""
    from lmcourse.data.paths import data_home

    name = grammar_path(grammar).stem
    return data_home() / ("synthetic" if name == "english" else f"synthetic-{name}")


def sample_words(grammar: CompiledGrammar, target_words: int, rng: np.random.Generator) -> SampledSentences:
    """Whole sentences, in order, until at least ``target_words`` words.

    Sentences are drawn in batches of a fixed size, so a larger target gives the same sentences and then
    more: a 100,000-word train split is the beginning of the 200,000-word one (same seed).
    """
    batches: list[SampledSentences] = []
    have = 0
    while have < target_words:
        batch = sample_sentences(grammar, SAMPLING_BATCH, rng)
        words_so_far = have + np.cumsum(batch.lengths)
        if words_so_far[-1] >= target_words:  # keep sentences up to the first that reaches the target
            keep = int(np.searchsorted(words_so_far, target_words)) + 1
            batch = SampledSentences(batch.words[: batch.starts[keep]], batch.starts[: keep + 1],
                                     batch.log_prob[:keep], batch.depth[:keep])
        batches.append(batch)
        have += int(batch.starts[-1])
    return concatenate(batches)


def concatenate(batches: list[SampledSentences]) -> SampledSentences:
    starts = [batches[0].starts]
    for batch in batches[1:]:
        starts.append(batch.starts[1:] + starts[-1][-1])
    return SampledSentences(
        words=np.concatenate([b.words for b in batches]),
        starts=np.concatenate(starts),
        log_prob=np.concatenate([b.log_prob for b in batches]),
        depth=np.concatenate([b.depth for b in batches]),
    )


def settings_for(grammar_name: str, grammar_sha256: str, seed: int, words: dict[str, int]) -> dict:
    """What the files depend on: if any of it changes, the corpus is sampled again."""
    return {
        "generator_version": GENERATOR_VERSION,
        "grammar": grammar_name,
        "grammar_sha256": grammar_sha256,
        "seed": int(seed),
        "target_words": {split: int(words[split]) for split in SPLIT_NAMES},
    }


def read_meta(directory: Path) -> dict | None:
    try:
        return json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(directory: Path, settings: dict) -> bool:
    meta = read_meta(directory)
    return (meta is not None and meta.get("settings") == settings
            and all((directory / f"{split}.txt").is_file() for split in SPLIT_NAMES))


def ensure_synthetic_corpus(directory: Path | None = None, seed: int = 0, grammar: str | Path = "english",
                            words: dict[str, int] | None = None, force: bool = False) -> Path:
    """The folder holding ``train.txt``/``valid.txt``/``test.txt`` sampled from ``grammar`` with ``seed``,
    sampling and writing them first unless an identical set (same settings in ``meta.json``) is there.

    ``words`` overrides the words per split (default 200,000 / 20,000 / 20,000, whole sentences, so a split
    ends up a few words over). ``force`` samples again even if the files are current.
    """
    words = {**DEFAULT_WORDS, **(words or {})}
    for split, count in words.items():
        if split not in SPLIT_NAMES:
            raise UserError(f"unknown split {split!r} in words=: use {', '.join(SPLIT_NAMES)}")
        if int(count) < 1:
            raise UserError(f"words[{split!r}] must be at least 1, got {count}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"the seed must be a non-negative integer, got {seed!r}")
    path = grammar_path(grammar)
    directory = Path(directory) if directory is not None else default_directory(grammar)
    # Hashing the grammar file is enough to know whether anything changed: no parsing on the fast path.
    settings = settings_for(path.stem, file_sha256(path), seed, words)
    if not force and is_current(directory, settings):
        return directory
    compiled = load_grammar(path)
    write_corpus(directory, compiled, seed, words)
    return directory


def write_corpus(directory: Path, grammar: CompiledGrammar, seed: int, words: dict[str, int]) -> dict:
    """Sample every split and write it (each file atomically, ``meta.json`` last); returns the metadata."""
    sentence_entropy, expected_words, token_entropy = entropy_per_token(grammar)
    streams = np.random.SeedSequence(seed).spawn(len(SPLIT_NAMES))
    # meta.json goes first and comes back last: a run cut short leaves no meta.json that vouches for it.
    (directory / "meta.json").unlink(missing_ok=True)
    sizes = {}
    for split, stream in zip(SPLIT_NAMES, streams):
        sample = sample_words(grammar, words[split], np.random.default_rng(stream))
        with atomic_output(directory / f"{split}.txt") as tmp:
            tmp.write_text("\n".join(sample.lines(grammar)) + "\n", encoding="utf-8")
        predicted = int(sample.starts[-1]) + len(sample)
        true_nll = float(-sample.log_prob.sum())
        sizes[split] = {
            "sentences": len(sample),
            "words": int(sample.starts[-1]),
            "predicted_tokens": predicted,
            "max_sentence_length": int(sample.lengths.max()),
            "max_derivation_depth": int(sample.depth.max()),
            # the true model's own loss on this very split (it fluctuates around the floor)
            "true_model_nats_per_token": true_nll / predicted,
            "true_model_perplexity": math.exp(true_nll / predicted),
        }
    meta = {
        "settings": settings_for(grammar.name, grammar.sha256, seed, words),
        "grammar_path": str(grammar.path),
        "numpy_version": np.__version__,
        "splits": sizes,
        "entropy_nats_per_token": token_entropy,
        "floor_perplexity": math.exp(token_entropy),
        "expected_words_per_sentence": expected_words,
        "entropy_nats_per_sentence": sentence_entropy,
    }
    atomic_write_text(directory / "meta.json", json.dumps(meta, indent=2) + "\n")
    return meta
