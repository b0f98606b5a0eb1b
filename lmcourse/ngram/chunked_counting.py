"""Counting N-grams within a memory budget: the stream in chunks, sorted runs, merged (as KenLM's ``lmplz -S``).

:meth:`NgramCounts.from_stream` counts a whole stream at once: about 100 bytes per token, so a laptop runs out
of memory near 100-200M words. This module gives exactly the same tables (keys, counts, suffixes; see
:mod:`lmcourse.ngram.counting`) with a working set bounded by ``memory`` bytes, whatever the corpus size
(the final tables and the corpus itself come on top). It is external sorting, order by order:

    for k = 2 .. N:
        pass 1  for each chunk of whole sentences: the keys of its k-grams, sorted, equal keys summed
                -> a sorted *run* (keys, counts, suffixes); runs that outgrow their share of the budget
                are merged into one and written to a temporary folder (a *spill*). The chunk keeps its
                distinct keys and, for each k-gram, which of them it is (in memory, or on disk when they
                do not fit)
                merge all runs -> the sorted table of order k (keys, counts, suffixes)
        then    for each chunk: its distinct keys looked up in the table (one searchsorted) give the row
                of each of its k-grams: the context rows order k+1 is keyed by.

Chunks hold whole sentences (an N-gram never crosses a sentence boundary), so each chunk is padded and counted
on its own; it is padded once, and its padded ids and depths are kept (as int32 and one byte) for every order.
Merging runs sums the counts of equal keys; a merge that does not fit is done key range by key range, reading
only that range of each run file.

References: Heafield et al. 2013, "Scalable Modified Kneser-Ney Language Model Estimation" (KenLM's lmplz:
streaming, sorting with a memory budget); Knuth, TAOCP vol. 3, sec. 5.4 (external sorting by merging runs).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from lmcourse.errors import UserError
from lmcourse.ngram.counting import (
    SENTENCE_TOO_SHORT,
    OrderTable,
    ngram_keys,
    padded_stream,
    run_starts,
    sorted_unique,
    unigram_table,
)

BYTES_PER_POSITION = 96  # the working arrays of one chunk, per token (keys, sort order, inverse, rows, ...)
BYTES_STORED_PER_POSITION = 9  # kept between passes: padded id (int32), depth (uint8), rows or inverse (int32)
BYTES_PER_RUN_ENTRY = 24  # a run holds an int64 key, count and suffix per distinct N-gram
MIN_CHUNK_TOKENS = 1


def parse_memory(text: str) -> int:
    """``"2G"``, ``"512M"``, ``"64k"``, ``"1.5G"`` or a plain number of bytes -> bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[iI]?[bB]?\s*", str(text))
    if not match:
        raise UserError(f"--memory {text!r} is not a size: write e.g. 2G, 512M or 64K")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[match.group(2).lower()]
    size = int(float(match.group(1)) * scale)
    if size < 2**20:
        raise UserError(f"--memory {text!r} is below the 1M the counting needs at the least: give e.g. 64M or 2G")
    return size


def default_memory() -> int:
    """The default budget: an eighth of the machine's memory, at most 2 GiB, at least 256 MiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 * 2**30
    return int(min(max(physical // 8, 256 * 2**20), 2 * 2**30))


# -- where the in-between arrays live --------------------------------------------------------------------
class Store:
    """Arrays kept by name: in memory, or (``on_disk``) as ``.npy`` files in a temporary folder, read back
    whole when asked for (no memory map, so that reading one does not keep the others' pages resident)."""

    def __init__(self, folder: Path, on_disk: bool):
        self.folder, self.on_disk = folder, on_disk
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, name: str, array: np.ndarray) -> None:
        if self.on_disk:
            np.save(self.folder / f"{name}.npy", array)
        else:
            self.arrays[name] = array

    def get(self, name: str) -> np.ndarray:
        return np.load(self.folder / f"{name}.npy") if self.on_disk else self.arrays[name]

    def drop(self, name: str) -> None:
        if self.on_disk:
            (self.folder / f"{name}.npy").unlink(missing_ok=True)
        else:
            self.arrays.pop(name, None)


# -- chunks of whole sentences ---------------------------------------------------------------------------
def sentence_chunks(sentence_starts: np.ndarray, chunk_tokens: int) -> list[tuple[int, int]]:
    """(first sentence, end sentence) of consecutive chunks of about ``chunk_tokens`` tokens each (a sentence
    longer than that is a chunk of its own)."""
    starts = np.asarray(sentence_starts, dtype=np.int64)
    num_sentences = len(starts) - 1
    targets = np.arange(0, int(starts[-1]), max(int(chunk_tokens), 1))
    firsts = np.unique(np.searchsorted(starts, targets, side="right") - 1)
    bounds = np.append(firsts[firsts < num_sentences], num_sentences)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def chunk_stream(tokens: np.ndarray, sentence_starts: np.ndarray, chunk: tuple[int, int]):
    """The chunk's padded stream and depths (see :func:`padded_stream`), counted from the chunk's start."""
    first, end = chunk
    offset = sentence_starts[first]
    local_starts = np.asarray(sentence_starts[first:end + 1], dtype=np.int64) - offset
    padded, depth, _ = padded_stream(tokens[offset:sentence_starts[end]], local_starts)
    return padded, depth


# -- runs and their merge --------------------------------------------------------------------------------
Run = tuple[np.ndarray, np.ndarray, np.ndarray]  # sorted distinct keys, their counts, their suffixes


def merge_runs(runs: list[Run]) -> Run:
    """One sorted run from several: keys in order, the counts of equal keys summed (equal keys are the same
    N-gram, so they have the same suffix). A stable sort of the concatenation is a merge (timsort finds the
    runs and merges them)."""
    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys, counts, suffix = (np.concatenate([run[i] for run in runs]) for i in range(3))
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    starts = run_starts(keys)
    summed = np.add.reduceat(counts, starts) if len(keys) else counts
    return keys[starts], summed, suffix[order[starts]]


class RunMerger:
    """Collects the sorted runs of one order within ``budget`` bytes, spilling merged runs to ``folder``."""

    def __init__(self, folder: Path, budget: int, name: str):
        self.folder, self.budget, self.name = folder, budget, name
        self.in_memory: list[Run] = []
        self.held = 0
        self.spilled: list[Path] = []

    def add(self, run: Run) -> None:
        self.in_memory.append(run)
        self.held += BYTES_PER_RUN_ENTRY * len(run[0])
        if self.held > self.budget:
            self.spill()

    def spill(self) -> None:
        path = self.folder / f"{self.name}-run{len(self.spilled)}.npy"
        np.save(path, np.stack(merge_runs(self.in_memory)))
        self.spilled.append(path)
        self.in_memory, self.held = [], 0

    def table(self) -> Run:
        """Every run merged: the order's sorted distinct keys, their counts and suffixes."""
        if not self.spilled:
            return merge_runs(self.in_memory)
        if self.in_memory:
            self.spill()
        return merge_files(self.spilled, self.budget)


def merge_files(paths: list[Path], budget: int) -> Run:
    """Merge run files key range by key range, each range read from every file (about ``budget`` bytes)."""
    total = sum(np.load(path, mmap_mode="r").shape[1] for path in paths)
    pieces = max(int(np.ceil(BYTES_PER_RUN_ENTRY * total / budget)), 1)
    samples = np.sort(np.concatenate([np.load(path, mmap_mode="r")[0, :: max(total // (64 * pieces), 1)]
                                      for path in paths]))
    splitters = np.unique(samples[(np.arange(1, pieces) * len(samples)) // pieces]) if pieces > 1 else []
    bounds = [None, *splitters, None]
    pieces_out = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        runs = []
        for path in paths:
            run = np.load(path, mmap_mode="r")  # opened per range: only this range's pages are read
            lo = 0 if low is None else int(np.searchsorted(run[0], low))
            hi = run.shape[1] if high is None else int(np.searchsorted(run[0], high))
            runs.append(tuple(np.array(run[i, lo:hi]) for i in range(3)))
            del run
        pieces_out.append(merge_runs(runs))
    return tuple(np.concatenate([piece[i] for piece in pieces_out]) for i in range(3))


# -- all orders ------------------------------------------------------------------------------------------
def count_in_chunks(tokens: np.ndarray, sentence_starts: np.ndarray, order: int, vocab_size: int,
                    memory: int, folder: str | os.PathLike | None = None) -> dict[int, OrderTable]:
    """The tables of :meth:`NgramCounts.from_stream`, counted within ``memory`` bytes (module docstring).
    Temporary files go to ``folder`` (default: the system's temporary folder) and are removed at the end."""
    tokens = np.asarray(tokens)
    sentence_starts = np.asarray(sentence_starts, dtype=np.int64)
    V = int(vocab_size)
    chunk_tokens = max(memory // (2 * BYTES_PER_POSITION), MIN_CHUNK_TOKENS)
    chunks = sentence_chunks(sentence_starts, chunk_tokens)
    positions = len(tokens) + len(sentence_starts)
    tables = {1: unigram_table(tokens, V)}
    with tempfile.TemporaryDirectory(prefix="lmcourse-counts-", dir=folder) as temporary:
        store = Store(Path(temporary), on_disk=BYTES_STORED_PER_POSITION * positions > memory // 2)
        for index, chunk in enumerate(chunks):  # padded once: every order reads the same chunks (depths
            # beyond the order change nothing: capped, they fit a byte)
            padded, depth = chunk_stream(tokens, sentence_starts, chunk)
            store.put(f"padded-{index}", padded.astype(np.int32))
            store.put(f"depth-{index}", np.minimum(depth, order).astype(np.uint8 if order < 256 else np.int32))
        for k in range(2, order + 1):
            tables[k] = count_order(len(chunks), store, tables[k - 1], k, V, memory, Path(temporary))
    return tables


def narrow(rows: np.ndarray, size: int) -> np.ndarray:
    """Row numbers below ``size`` as int32 where they fit (half the bytes kept between passes)."""
    return rows.astype(np.int32) if size < 2**31 else rows


def count_order(num_chunks: int, store: Store, lower: OrderTable, k: int, V: int, memory: int,
                folder: Path) -> OrderTable:
    """One order's table from the chunks' runs merged (pass 1), then each chunk's rows in it."""
    merger = RunMerger(folder, memory // 4, f"order{k}")
    for index in range(num_chunks):
        padded, depth = store.get(f"padded-{index}"), store.get(f"depth-{index}")
        previous = padded if k == 2 else store.get(f"rows{k - 1}-{index}")  # order 1's row is the word id
        store.drop(f"rows{k - 1}-{index}")  # order k+1 is keyed by order k's rows only
        chunk_keys, ends = ngram_keys(padded, depth, previous, k, V)
        distinct, inverse, counts = sorted_unique(chunk_keys)
        suffix = np.empty(len(distinct), dtype=np.int64)
        suffix[inverse] = previous[ends]  # the (k-1)-gram ending at the same position
        merger.add((distinct, counts, suffix))
        store.put(f"distinct{k}-{index}", distinct)
        store.put(f"inverse{k}-{index}", narrow(inverse, len(distinct)))
    keys, counts, suffix = merger.table()
    for index in range(num_chunks):
        depth = store.get(f"depth-{index}")
        rows = narrow(np.searchsorted(keys, store.get(f"distinct{k}-{index}")), len(keys))  # -> table row
        rows_here = np.full(len(depth), SENTENCE_TOO_SHORT, dtype=rows.dtype)
        rows_here[depth >= k - 1] = rows[store.get(f"inverse{k}-{index}")]
        store.drop(f"distinct{k}-{index}")
        store.drop(f"inverse{k}-{index}")
        store.put(f"rows{k}-{index}", rows_here)
    return OrderTable(k, keys, counts, suffix, lower.starts_with_bos[keys // V], V)
