"""The floors under an N-gram fit of a large folder corpus: what no counting in Python and numpy can go below.

Beside ``bench_ngram_scale.py`` (which times whole runs against KenLM), this measures, on one folder corpus
(one sentence a line, ``train.txt`` / ``valid.txt`` / ``test.txt``):

1. reading: the train file read and decoded, split into words (``str.split`` per block of lines) and each word
   looked up in a dict (``map`` in C, as :func:`lmcourse.data.sources.line_file_ids` does): the cheapest way
   Python turns text into ids;
2. sorting: ``np.sort`` and ``np.argsort`` of as many random int64 (and uint32) keys as the corpus has
   positions: counting one order of N-grams sorts (or hashes) at least that many keys;
3. memory: the resident set by phase of ``load_corpus`` + a modified Kneser-Ney fit + scoring test (sampled
   every 10 ms), and the bytes of the arrays the fitted model and the corpus keep (the least any run holds).

    python benchmarks/bench_ngram_floors.py /tmp/ngs-work/real-64M [--order 5] [--json]

Run it alone: the timings are wall clock. Nothing is asserted (this is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from lmcourse.hugepages import without_numpy_hugepage_advice

without_numpy_hugepage_advice()   # as the lmcourse command does (see lmcourse/hugepages.py)

import numpy as np  # noqa: E402

from lmcourse.data import sources  # noqa: E402


def reading_floor(path: Path) -> dict:
    """Seconds to read + decode, to split into words (:func:`sources.line_blocks`, the reader's own blocks) and
    to look every word up (first-seen ids, as :func:`sources.line_file_ids` does)."""
    started = time.perf_counter()
    text = sources.read_text(path)
    read = time.perf_counter() - started
    ids = sources.FirstSeenIds({sources.LINE_END: sources.LINE_END_ID})
    split = lookup = 0.0
    words_seen = 0
    blocks = sources.line_blocks(text)
    while True:
        started = time.perf_counter()
        words = next(blocks, None)   # one block of lines split into words
        split += time.perf_counter() - started
        if words is None:
            break
        started = time.perf_counter()
        np.fromiter(map(ids.__getitem__, words), dtype=np.int32, count=len(words))
        lookup += time.perf_counter() - started
        words_seen += len(words)
    return {"words_and_line_ends": words_seen, "read_decode_s": round(read, 2), "split_s": round(split, 2),
            "lookup_s": round(lookup, 2), "total_s": round(read + split + lookup, 2)}


def sorting_floor(count: int, seed: int = 0) -> dict:
    """Seconds of np.sort (twice) and np.argsort of ``count`` random keys, int64 (50 bits) and uint32."""
    rng = np.random.default_rng(seed)
    result = {}
    for name, high, dtype in (("int64", 2**50, np.int64), ("uint32", 2**31, np.uint32)):
        keys = rng.integers(0, high, count).astype(dtype)
        times = []
        for how in (np.sort, np.sort, np.argsort):
            started = time.perf_counter()
            how(keys)
            times.append(round(time.perf_counter() - started, 2))
        result[name] = {"sort_s": times[:2], "argsort_s": times[2]}
    return result


def array_bytes(obj, seen: set | None = None, depth: int = 0) -> int:
    """Bytes of the numpy arrays reachable from ``obj`` through attributes, dicts, lists and tuples."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 6:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        children = obj.values()
    elif isinstance(obj, (list, tuple)):
        children = obj
    else:
        children = vars(obj).values() if hasattr(obj, "__dict__") else ()
    return sum(array_bytes(child, seen, depth + 1) for child in children)


def memory_by_phase(folder: Path, order: int) -> dict:
    """Peak resident MiB of each phase (load, fit, score) and the MiB of arrays the results keep."""
    from lmcourse.data import load_corpus
    from lmcourse.ngram import ModifiedKneserNey
    from lmcourse.ngram.chunked_counting import default_memory

    phase, peaks = ["start"], {}

    def sample():
        while True:
            with open("/proc/self/statm") as statm:
                resident = int(statm.read().split()[1]) * 4096 / 2**20
            peaks[phase[0]] = max(peaks.get(phase[0], 0.0), resident)
            time.sleep(0.01)

    threading.Thread(target=sample, daemon=True).start()
    phase[0] = "load"
    corpus = load_corpus(folder, use_cache=False)   # a first load: no corpus cache read or written
    phase[0] = "fit"
    model = ModifiedKneserNey(order=order).fit(corpus, memory=default_memory())
    phase[0] = "score"
    perplexity = model.perplexity(corpus.split("test"))
    phase[0] = "end"
    time.sleep(0.05)
    return {"peak_mib": {name: round(value) for name, value in peaks.items() if name != "end"},
            "model_arrays_mib": round(array_bytes(model) / 2**20, 1),
            "corpus_arrays_mib": round(array_bytes(corpus) / 2**20, 1), "test_perplexity": perplexity}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder corpus (train.txt, valid.txt, test.txt)")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.folder / "train.txt").is_file():
        parser.error(f"{args.folder} has no train.txt: give a folder corpus (see bench_ngram_scale.py --work)")
    reading = reading_floor(args.folder / "train.txt")
    result = {"corpus": str(args.folder), "reading": reading,
              "sorting": sorting_floor(reading["words_and_line_ends"]),
              "memory": memory_by_phase(args.folder, args.order)}
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
