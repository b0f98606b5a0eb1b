"""N-gram models at scale: ``lmcourse ngram`` beside KenLM's ``lmplz`` + ``query``, at growing training sizes
(not a test: nothing is asserted).

For each training size (``--sizes``, default 1M,4M,16M,64M words) and each of two series of text:

* ``synthetic``: sentences sampled from the project's English-like PCFG (``data/grammars/english.pcfg``, the
  grammar of the built-in ``synthetic`` corpus), from seeded streams of their own (one for train, one for
  valid, one for test), so a larger train split begins with the sentences of a smaller one; valid and test
  are the same at every size (``--eval-words`` words each, at most a tenth of train);
* ``real``: sentences of every NLTK corpus found under ``$NLTK_DATA`` (brown and treebank as the project
  reads them; movie_reviews' lines cut as the project cuts them; abc, inaugural, state_union, webtext: each
  non-empty line, lowercased, cut by ``wordpunct_tokenize``), shuffled with a seeded generator; the first
  sentences are held out as valid and test (``--eval-words`` each, at most a tenth of the pool), and train is
  resampled, with replacement, from the rest up to the size (so a large train split repeats the pool's
  sentences many times: the pool holds about 4.4M words). Without NLTK data the series is skipped, and the
  reason given;

a folder corpus is written (``train.txt``/``valid.txt``/``test.txt``, one sentence a line, single spaces;
sentences holding ``<s>``, ``</s>``, ``<unk>``, control characters or non-ASCII white space are left out, so
that both tools cut the same tokens) under ``--work`` (default: a temporary folder, removed at the end),
and reused when present with the same settings. Then, each as a child process of its own, alternating
(ours, KenLM, ours, KenLM, ... ``--repeats`` times each):

* ours:  ``python -m lmcourse ngram --corpus DIR --order 5 --smoothing mkn --json [--memory SIZE]``, with
  ``LMCOURSE_HOME`` a fresh empty folder, so every run reads and encodes the text as lmplz does (its corpus
  cache write included) and nothing of an earlier run is reused. It fits on train and scores valid and
  test; its test perplexity is read from its JSON.
* KenLM: ``lmplz -o 5 -S MEM -T RUN_DIR/ --discount_fallback --text train.txt --arpa model.arpa``, then
  ``query -v summary model.arpa < test.txt``; its test perplexity is query's "Perplexity including OOVs".
  query reads the ARPA file directly: ``build_binary`` would parse the same ARPA file and then query would
  load the binary, so for one scoring pass lmplz + query on the ARPA is KenLM's fastest route. lmplz's
  sort memory ``-S`` is ``--kenlm-memory``, by default the ``--memory`` given to ours, else 2G (lmplz's own
  default, 80% of RAM, would let its sort buffers grow to most of the machine). ``--discount_fallback``
  uses KenLM's fixed discounts (0.5, 1, 1.5) only where the closed-form ones are undefined, as ours always
  does (one known difference, on tiny data only: where n4 = 0 but n1..n3 are not, lmplz keeps D3+ = 3 and
  ours falls back). The walls of lmplz and query are added; the peak is the larger of the two.

Both predict the same tokens (every word and one ``</s>`` per sentence, ``<s>`` only a context; the counts
are compared) and share the vocabulary (every training word + ``<unk>``: test words unseen in train are
``<unk>`` for both, with KenLM's zero-count ``<unk>``, which ours reproduces). Each child's wall seconds,
peak resident memory (ru_maxrss) and CPU seconds (user + system) come from ``os.wait4`` on it (lmplz runs
several threads, so its CPU seconds may exceed its wall). Each child is started by a small launcher, not by
this script, because Linux would count this script's memory in a child's peak (see ``LAUNCHER``); the few
MiB the launcher leaves are measured and reported (``launcher_floor_mib``). The load average is printed at
the start and end: a busy machine slows both. The results go to ``--out`` (default
``results/ngram-scale.json``), rewritten after every size, so a run cut short keeps the rows done.

    NLTK_DATA=../shared/nltk_data python benchmarks/bench_ngram_scale.py --kenlm-bin DIR [--sizes 1M,4M] \
        [--memory 2G] [--repeats 1] [--series synthetic,real] [--work DIR] [--out FILE] [--json]

``--kenlm-bin DIR`` (or ``$KENLM_BIN``) is the folder of ``lmplz`` and ``query``; without it they are looked
for on ``PATH``; where they are not found, ours runs alone and the reason is given on stderr and in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "results" / "ngram-scale.json"
# Bump when the generated text for given settings changes, so folders from an older version are remade.
GENERATOR_VERSION = 1
SERIES = ("synthetic", "real")
SPECIAL = {"<s>", "</s>", "<unk>"}  # refused in corpus text (ours: <s> </s>; lmplz: all three)
SYNTHETIC_BATCH = 20_000  # sentences sampled at a time (part of what a seed means)
WRITE_CHUNK_WORDS = 2_000_000  # words encoded and written at a time
NLTK_PLAIN_TEXT = ("abc", "inaugural", "state_union", "webtext")  # read line by line (their sents() need Punkt)


def log(message: str) -> None:
    print(f"bench_ngram_scale: {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    """``20k``, ``1M``, ``1.5M``, ``64000000`` -> a number of words."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use e.g. 20k, 1M, 64M or a number of words")
    value = float(match.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[match.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: at least one word")
    return int(round(value))


def size_label(words: int) -> str:
    """1000000 -> ``1M``, 1500000 -> ``1.5M``, 20000 -> ``20k``, 1234 -> ``1234``."""
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if words >= scale and (words * 100) % scale == 0:
            return f"{words / scale:g}{unit}"
    return str(words)


def eval_words_for(train_words: int, eval_words: int) -> int:
    """Words per valid/test split at a training size: ``--eval-words``, at most a tenth of train."""
    return max(1, min(eval_words, train_words // 10))


# -- writing text fast: token ids -> bytes, vectorized ----------------------------------------------------
class ByteTable:
    """Items (words or whole lines) as one byte buffer, each followed by a separator byte, so that any
    sequence of item ids becomes its bytes with one gather (no Python string per item)."""

    def __init__(self, items: list[bytes], separator: bytes):
        self.lengths = np.array([len(item) + 1 for item in items], dtype=np.int64)  # separator included
        self.offsets = np.zeros(len(items), dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=self.offsets[1:])
        self.buffer = np.frombuffer(b"".join(item + separator for item in items), dtype=np.uint8)

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bytes of ``ids`` one after another, and the end offset of each id's bytes."""
        lengths = self.lengths[ids]
        ends = np.cumsum(lengths)
        source = np.repeat(self.offsets[ids] - (ends - lengths), lengths) + np.arange(int(ends[-1]))
        return self.buffer[source], ends


def write_words_as_lines(handle, table: ByteTable, words: np.ndarray, sentence_ends: np.ndarray) -> None:
    """Write words (ids into ``table``, separated by spaces) as lines; ``sentence_ends[i]`` is the index
    after sentence i's last word."""
    for begin in range(0, len(sentence_ends), max(1, WRITE_CHUNK_WORDS // 10)):
        ends = sentence_ends[begin:begin + max(1, WRITE_CHUNK_WORDS // 10)]
        first = int(sentence_ends[begin - 1]) if begin else 0
        data, byte_ends = table.gather(words[first:int(ends[-1])])
        data[byte_ends[ends - first - 1] - 1] = ord("\n")  # the space after a sentence's last word
        handle.write(data.tobytes())


def line_is_clean(tokens: list[str]) -> bool:
    """True if the tokens, joined by single spaces, are cut back into the same tokens by Python's
    ``str.split``/``splitlines`` (ours) and by KenLM (bytes ' ', '\\t', ...), and none is special."""
    if not tokens:
        return False
    line = " ".join(tokens)
    if line.split() != tokens or len(line.splitlines()) != 1:
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in line):
        return False
    return not any(token in SPECIAL for token in tokens)


# -- the folders ---------------------------------------------------------------------------------------------
def folder_is_current(directory: Path, settings: dict) -> dict | None:
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files_there = all((directory / f"{split}.txt").is_file() for split in ("train", "valid", "test"))
    return meta if meta.get("settings") == settings and files_there else None


def write_heldout(directory: Path, split: str, lines: list[str], target_words: int) -> dict:
    """The first whole lines of ``lines`` that reach ``target_words`` words, written as ``split.txt``."""
    kept, words = [], 0
    for line in lines:
        if words >= target_words:
            break
        kept.append(line)
        words += line.count(" ") + 1
    if words < target_words:
        log(f"note: only {words:,} held-out words for {split} (wanted {target_words:,})")
    tmp = directory / f".{split}.txt.tmp"
    tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    os.replace(tmp, directory / f"{split}.txt")
    return {"sentences": len(kept), "words": words}


def finish_folder(directory: Path, settings: dict, sizes: dict, seconds: float) -> dict:
    meta = {"settings": settings, "splits": sizes, "generation_seconds": round(seconds, 2)}
    (directory / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


class SyntheticSeries:
    """Sentences of the English PCFG: a train stream, and valid/test drawn once from streams of their own."""

    name = "synthetic"

    def __init__(self, seed: int, max_eval_words: int):
        from lmcourse.synthetic import load_grammar
        from lmcourse.synthetic.corpus import sample_words

        self.grammar = load_grammar("english")
        self.seed = seed
        streams = np.random.SeedSequence([seed, 13]).spawn(3)
        self.train_stream = streams[0]
        self.heldout = {}
        for split, stream in zip(("valid", "test"), streams[1:]):
            sample = sample_words(self.grammar, max_eval_words, np.random.default_rng(stream))
            self.heldout[split] = sample.lines(self.grammar)
        self.words = ByteTable([w.encode("utf-8") for w in self.grammar.terminals], b" ")
        self.about = {"grammar": str(self.grammar.path), "grammar_sha256": self.grammar.sha256,
                      "terminals": len(self.grammar.terminals)}

    def settings(self, train_words: int, eval_words: int) -> dict:
        return {"series": self.name, "generator_version": GENERATOR_VERSION, "seed": self.seed,
                "grammar_sha256": self.grammar.sha256, "train_words": train_words, "eval_words": eval_words}

    def write_train(self, path: Path, target_words: int) -> dict:
        from lmcourse.synthetic import sample_sentences

        rng = np.random.default_rng(self.train_stream)
        have = sentences = 0
        with open(path, "wb") as handle:
            while have < target_words:
                batch = sample_sentences(self.grammar, SYNTHETIC_BATCH, rng)
                ends = batch.starts[1:]
                if have + int(ends[-1]) >= target_words:  # up to the first sentence that reaches the target
                    ends = ends[: int(np.searchsorted(have + ends, target_words)) + 1]
                words = batch.words[: int(ends[-1])] - self.grammar.n_nonterminals
                write_words_as_lines(handle, self.words, words, ends)
                have += int(ends[-1])
                sentences += len(ends)
        return {"sentences": sentences, "words": have}


class RealSeries:
    """NLTK sentences, shuffled once: held out first, then train resampled with replacement from the rest."""

    name = "real"

    def __init__(self, seed: int, max_eval_words: int, work: Path):
        self.seed = seed
        pool_dir = work / "real-pool"
        pool_settings = {"generator_version": GENERATOR_VERSION, "seed": seed, "eval_words": max_eval_words,
                         "nltk_data": os.environ.get("NLTK_DATA", "")}
        meta = folder_is_current(pool_dir, pool_settings)
        if meta is None:
            meta = self.build_pool(pool_dir, pool_settings, max_eval_words)
        else:
            log(f"reusing the sentence pool in {pool_dir}")
        self.about = {"sources": meta["sources"], "pool_train_sentences": meta["splits"]["train"]["sentences"],
                      "pool_train_words": meta["splits"]["train"]["words"]}
        self.pool_sha = meta["pool_id"]
        self.heldout = {split: (pool_dir / f"{split}.txt").read_text(encoding="utf-8").splitlines()
                        for split in ("valid", "test")}
        lines = (pool_dir / "train.txt").read_bytes().split(b"\n")[:-1]
        self.lines = ByteTable(lines, b"\n")
        self.line_words = np.array([line.count(b" ") + 1 for line in lines], dtype=np.int64)

    @staticmethod
    def sentences_by_source() -> tuple[dict[str, list[list[str]]], dict[str, str]]:
        """{corpus: sentences} for every NLTK corpus present, and {corpus: why skipped} for the others."""
        from nltk.tokenize import wordpunct_tokenize

        from lmcourse.data import sources
        from lmcourse.data.paths import find_nltk_corpus

        found: dict[str, list[list[str]]] = {}
        skipped: dict[str, str] = {}
        readers = {
            "brown": lambda: sources.read_brown().splits.values(),
            "treebank": lambda: sources.read_treebank().splits.values(),
            "movie_reviews": lambda: [[s for _, review in sources.read_movie_review_files() for s in review]],
        }
        for name in ("brown", "treebank", "movie_reviews", *NLTK_PLAIN_TEXT):
            if find_nltk_corpus(name) is None:
                skipped[name] = "not found under NLTK's data path"
                continue
            try:
                if name in readers:
                    groups = readers[name]()
                else:
                    reader = sources.nltk_corpus_reader(name)
                    groups = [[wordpunct_tokenize(line.lower()) for fileid in reader.fileids()
                               for line in reader.raw(fileid).splitlines() if line.strip()]]
                found[name] = [[w.lower() for w in s] for group in groups if group for s in group]
            except Exception as error:  # a damaged or odd corpus costs that corpus only
                skipped[name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return found, skipped

    def build_pool(self, pool_dir: Path, settings: dict, max_eval_words: int) -> dict:
        start = time.perf_counter()
        found, skipped = self.sentences_by_source()
        for name, why in skipped.items():
            log(f"real series: {name} left out ({why})")
        if not found:
            raise RuntimeError("no NLTK corpus found (set NLTK_DATA to a folder holding corpora/brown.zip, ...)")
        sources_about, pool = {}, []
        for name, sentences in found.items():
            clean = [" ".join(s) for s in sentences if line_is_clean(s)]
            sources_about[name] = {"sentences": len(clean), "words": sum(line.count(" ") + 1 for line in clean),
                                   "dropped_sentences": len(sentences) - len(clean)}
            pool.extend(clean)
        order = np.random.default_rng(np.random.SeedSequence([self.seed, 13, 1])).permutation(len(pool))
        pool = [pool[i] for i in order]
        pool_dir.mkdir(parents=True, exist_ok=True)
        (pool_dir / "meta.json").unlink(missing_ok=True)
        sizes, taken = {}, 0
        heldout_words = min(max_eval_words, sum(line.count(" ") + 1 for line in pool) // 10)  # a small pool
        for split in ("valid", "test"):
            sizes[split] = write_heldout(pool_dir, split, pool[taken:], heldout_words)
            taken += sizes[split]["sentences"]
        train = pool[taken:]
        (pool_dir / "train.txt").write_text("".join(line + "\n" for line in train), encoding="utf-8")
        sizes["train"] = {"sentences": len(train), "words": sum(line.count(" ") + 1 for line in train)}
        meta = {"settings": settings, "sources": {**sources_about, **{k: {"skipped": v} for k, v in skipped.items()}},
                "splits": sizes, "pool_id": f"{len(pool)}-{sizes['train']['words']}-{hash_lines(train)}",
                "seconds": round(time.perf_counter() - start, 2)}
        (pool_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        log(f"real series: pool of {len(pool):,} sentences from {', '.join(found)} "
            f"({sizes['train']['words']:,} train-pool words) in {meta['seconds']:.0f} s")
        return meta

    def settings(self, train_words: int, eval_words: int) -> dict:
        return {"series": self.name, "generator_version": GENERATOR_VERSION, "seed": self.seed,
                "pool": self.pool_sha, "train_words": train_words, "eval_words": eval_words}

    def write_train(self, path: Path, target_words: int) -> dict:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 13, 2]))
        mean = float(self.line_words.mean())
        have = sentences = 0
        with open(path, "wb") as handle:
            while have < target_words:
                draw = int(min(WRITE_CHUNK_WORDS, target_words - have) / mean) + 16
                ids = rng.integers(len(self.line_words), size=draw)
                cumulative = have + np.cumsum(self.line_words[ids])
                if cumulative[-1] >= target_words:
                    ids = ids[: int(np.searchsorted(cumulative, target_words)) + 1]
                data, _ = self.lines.gather(ids)
                handle.write(data.tobytes())
                have += int(self.line_words[ids].sum())
                sentences += len(ids)
        return {"sentences": sentences, "words": have}


def hash_lines(lines: list[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def ensure_folder(series, work: Path, train_words: int, eval_words: int) -> tuple[Path, dict]:
    """The corpus folder of ``series`` at ``train_words``, written unless the same one is there."""
    directory = work / f"{series.name}-{size_label(train_words)}"
    settings = series.settings(train_words, eval_words)
    meta = folder_is_current(directory, settings)
    if meta is not None:
        log(f"reusing {directory}")
        return directory, meta
    log(f"writing {directory} ({train_words:,} train words) ...")
    start = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").unlink(missing_ok=True)
    tmp = directory / ".train.txt.tmp"
    sizes = {"train": series.write_train(tmp, train_words)}
    os.replace(tmp, directory / "train.txt")
    for split in ("valid", "test"):
        sizes[split] = write_heldout(directory, split, series.heldout[split], eval_words)
    meta = finish_folder(directory, settings, sizes, time.perf_counter() - start)
    log(f"  written in {meta['generation_seconds']:.1f} s: " + ", ".join(
        f"{split} {s['words']:,} words / {s['sentences']:,} sentences" for split, s in sizes.items()))
    return directory, meta


# -- running and measuring a child ------------------------------------------------------------------------
# Linux carries a process's peak RSS across exec (fs/exec.c: the old memory's high-water mark goes into the
# process's maxrss), and a child made by fork or vfork starts from its parent's memory: a child of this
# script, which holds the sentence pool and numpy, would report this script's RSS as its own floor. So each
# command is started by this small launcher (python -I -S, about 10 MiB, nothing imported but what json
# needs), which spawns it, waits with os.wait4 and writes the figures to a file; the floor it leaves is
# measured once (``launcher_floor_mib``, the peak of /bin/true started this way).
LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
try:
    pid = os.posix_spawnp(command[0], command, os.environ)
except OSError as error:
    sys.stderr.write(f"cannot start {command[0]}: {error}\\n")
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"status": status, "wall_seconds": wall, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime}, handle)
"""


def run_child(command: list[str], stdout_path: Path, stderr_path: Path, stdin_path: Path | None = None,
              env: dict | None = None) -> dict:
    """Run ``command`` through the launcher: its exit code (negative: killed by that signal), wall seconds,
    peak RSS (MiB) and CPU seconds (user + system), from ``os.wait4`` on it (its waited-for children
    included)."""
    report = stdout_path.with_name(stdout_path.name + ".usage.json")
    report.unlink(missing_ok=True)
    stdin = open(stdin_path, "rb") if stdin_path is not None else subprocess.DEVNULL
    try:
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            launcher = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *command],
                                      stdin=stdin, stdout=out, stderr=err, env=env)
    finally:
        if stdin is not subprocess.DEVNULL:
            stdin.close()
    try:
        usage = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # the launcher could not start the command (or was killed)
        return {"returncode": launcher.returncode or 127, "wall_seconds": 0.0, "peak_rss_mib": 0.0,
                "cpu_seconds": 0.0}
    return {"returncode": os.waitstatus_to_exitcode(usage["status"]), "wall_seconds": usage["wall_seconds"],
            "peak_rss_mib": usage["maxrss_kib"] / 1024,  # KiB on Linux
            "cpu_seconds": usage["cpu_seconds"]}


def launcher_floor(work: Path) -> float | None:
    """The peak RSS (MiB) that a command started by the launcher reports at the least: /bin/true's."""
    true = shutil.which("true")
    if true is None:
        return None
    run = run_child([true], work / "floor.stdout", work / "floor.stderr")
    return run["peak_rss_mib"] if run["returncode"] == 0 else None


def failure(run: dict, stderr_path: Path, what: str) -> str:
    code = run["returncode"]
    how = f"killed by signal {-code}" + (" (out of memory?)" if code == -9 else "") if code < 0 else f"exit {code}"
    tail = stderr_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    return f"{what} failed ({how}): " + " | ".join(tail)


def ours_command(directory: Path, order: int, memory: str | None) -> list[str]:
    command = [sys.executable, "-m", "lmcourse", "ngram", "--corpus", str(directory), "--order", str(order),
               "--smoothing", "mkn", "--json"]
    return command + (["--memory", memory] if memory else [])


def run_ours(directory: Path, run_dir: Path, order: int, memory: str | None) -> dict:
    home = Path(tempfile.mkdtemp(prefix="lmcourse-home-", dir=run_dir))  # no corpus cache from earlier runs
    env = {**os.environ, "LMCOURSE_HOME": str(home)}
    out, err = run_dir / "ours.stdout", run_dir / "ours.stderr"
    try:
        run = run_child(ours_command(directory, order, memory), out, err, env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if run["returncode"] != 0:
        return {**run, "error": failure(run, err, "lmcourse ngram")}
    result = json.loads(out.read_text(encoding="utf-8"))
    run.update({
        "test_perplexity": result.get("test_perplexity"),
        "valid_perplexity": result.get("valid_perplexity"),
        "test_tokens": result.get("predicted_tokens", {}).get("test"),
        "fit_seconds": result.get("fit_seconds"),
        "score_seconds": result.get("score_seconds"),
        "ngram_counts": result.get("ngram_counts"),
    })
    return run


def kenlm_commands(bin_dir: Path, directory: Path, run_dir: Path, order: int, memory: str) -> tuple[list, list]:
    arpa = run_dir / "model.arpa"
    lmplz = [str(bin_dir / "lmplz"), "-o", str(order), "-S", memory, "-T", f"{run_dir}/",
             "--discount_fallback", "--text", str(directory / "train.txt"), "--arpa", str(arpa)]
    query = [str(bin_dir / "query"), "-v", "summary", str(arpa)]  # stdin: test.txt
    return lmplz, query


def arpa_counts(path: Path) -> dict[str, int]:
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = re.match(r"ngram (\d+)=(\d+)", line)
            if match:
                counts[match.group(1)] = int(match.group(2))
            elif counts and not line.strip():
                break
    return counts


def run_kenlm(bin_dir: Path, directory: Path, run_dir: Path, order: int, memory: str, keep: bool) -> dict:
    lmplz, query = kenlm_commands(bin_dir, directory, run_dir, order, memory)
    arpa = Path(lmplz[-1])
    try:
        built = run_child(lmplz, run_dir / "lmplz.stdout", run_dir / "lmplz.stderr")
        result = {"lmplz": built}
        if built["returncode"] != 0:
            return {**result, "error": failure(built, run_dir / "lmplz.stderr", "lmplz")}
        result["ngram_counts"] = arpa_counts(arpa)
        result["arpa_mib"] = arpa.stat().st_size / 2**20
        scored = run_child(query, run_dir / "query.stdout", run_dir / "query.stderr",
                           stdin_path=directory / "test.txt")
        result["query"] = scored
        if scored["returncode"] != 0:
            return {**result, "error": failure(scored, run_dir / "query.stderr", "query")}
    finally:
        if not keep:
            arpa.unlink(missing_ok=True)
    text = (run_dir / "query.stdout").read_text(encoding="utf-8", errors="replace")
    figures = {key: re.search(rf"^{label}:\s*(\S+)", text, re.M)
               for key, label in (("test_perplexity", r"Perplexity including OOVs"),
                                  ("test_perplexity_excluding_oovs", r"Perplexity excluding OOVs"),
                                  ("test_oovs", "OOVs"), ("test_tokens", "Tokens"))}
    if figures["test_perplexity"] is None:
        return {**result, "error": f"no perplexity in query's output: {text[-300:]!r}"}
    result.update({key: (int(m.group(1)) if key in ("test_oovs", "test_tokens") else float(m.group(1)))
                   for key, m in figures.items() if m is not None})
    result.update({"wall_seconds": built["wall_seconds"] + scored["wall_seconds"],
                   "peak_rss_mib": max(built["peak_rss_mib"], scored["peak_rss_mib"]),
                   "cpu_seconds": built["cpu_seconds"] + scored["cpu_seconds"], "returncode": 0})
    return result


def summarize(runs: list[dict]) -> dict:
    """The median wall, the largest peak, and the figures of the first run (the same in every run)."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"runs": runs, "error": runs[-1]["error"] if runs else "not run"}
    summary = {key: value for key, value in good[0].items() if key not in ("lmplz", "query")}
    summary.update({"wall_seconds": statistics.median(r["wall_seconds"] for r in good),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in good),
                    "cpu_seconds": statistics.median(r["cpu_seconds"] for r in good), "runs": runs})
    for part in ("lmplz", "query"):
        if part in good[0]:
            summary[f"{part}_wall_seconds"] = statistics.median(r[part]["wall_seconds"] for r in good)
            summary[f"{part}_peak_rss_mib"] = max(r[part]["peak_rss_mib"] for r in good)
    perplexities = {r.get("test_perplexity") for r in good}
    if len(perplexities) > 1:
        summary["note"] = f"the runs gave different test perplexities: {sorted(perplexities)}"
    if len(good) < len(runs):
        summary["failed_runs"] = len(runs) - len(good)
    return summary


def compare(ours: dict, kenlm: dict | None) -> dict:
    if not kenlm or "error" in ours or "error" in kenlm:
        return {}
    figures = {"wall_ratio": ours["wall_seconds"] / kenlm["wall_seconds"],
               "peak_ratio": ours["peak_rss_mib"] / kenlm["peak_rss_mib"]}
    if ours.get("test_perplexity") and kenlm.get("test_perplexity"):
        figures["perplexity_relative_difference"] = ours["test_perplexity"] / kenlm["test_perplexity"] - 1
    figures["same_test_tokens"] = ours.get("test_tokens") == kenlm.get("test_tokens")
    return figures


# -- the report ---------------------------------------------------------------------------------------------
def row_lines(row: dict) -> list[str]:
    ours, kenlm, c = row["ours"], row.get("kenlm"), row.get("comparison", {})
    lines = [f"{row['series']} {row['size']}: {row['train_words']:,} train words, "
             f"{row['test_words']:,} test words"]

    def describe(name: str, s: dict, parts: str) -> str:
        if "error" in s:
            return f"  {name:6} {s['error']}"
        ppl = s.get("test_perplexity")
        return (f"  {name:6} wall {s['wall_seconds']:8.2f} s  peak {s['peak_rss_mib']:8.0f} MiB  "
                f"cpu {s['cpu_seconds']:8.2f} s  test ppl {'n/a' if ppl is None else f'{ppl:.6g}'}  {parts}")

    if "error" in ours:
        lines.append(describe("ours", ours, ""))
    else:
        load = ours["wall_seconds"] - (ours.get("fit_seconds") or 0) - (ours.get("score_seconds") or 0)
        lines.append(describe("ours", ours, f"(fit {ours.get('fit_seconds', 0):.2f} s, score valid+test "
                              f"{ours.get('score_seconds', 0):.2f} s, start+load {load:.2f} s)"))
    if kenlm is None:
        lines.append(f"  kenlm  not run: {row.get('kenlm_missing', '')}")
    elif "error" in kenlm:
        lines.append(describe("kenlm", kenlm, ""))
    else:
        lines.append(describe("kenlm", kenlm, f"(lmplz {kenlm['lmplz_wall_seconds']:.2f} s / "
                              f"{kenlm['lmplz_peak_rss_mib']:.0f} MiB, query {kenlm['query_wall_seconds']:.2f} s / "
                              f"{kenlm['query_peak_rss_mib']:.0f} MiB)"))
    if c:
        diff = c.get("perplexity_relative_difference")
        lines.append(f"  ours/kenlm: wall {c['wall_ratio']:.2f}x, peak {c['peak_ratio']:.2f}x; test perplexity "
                     f"relative difference {'n/a' if diff is None else f'{diff:+.2e}'}"
                     + ("" if c["same_test_tokens"] else
                        f"  (test tokens differ: ours {ours.get('test_tokens')}, kenlm {kenlm.get('test_tokens')})"))
    return lines


def find_kenlm(bin_dir: str | None) -> tuple[Path | None, str]:
    """The folder holding ``lmplz`` and ``query``, or None and why not."""
    if bin_dir:
        folder = Path(bin_dir).expanduser()
        missing = [name for name in ("lmplz", "query") if not os.access(folder / name, os.X_OK)]
        if missing:
            return None, f"{' and '.join(missing)} not found (as executables) in --kenlm-bin {folder}"
        return folder.resolve(), ""
    found = {name: shutil.which(name) for name in ("lmplz", "query")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        return None, (f"{' and '.join(missing)} not found on PATH: build KenLM (github.com/kpu/kenlm) and give "
                      "--kenlm-bin DIR (or set KENLM_BIN)")
    folders = {Path(p).resolve().parent for p in found.values()}
    if len(folders) > 1:
        return None, f"lmplz and query found in different folders ({', '.join(map(str, folders))}): give --kenlm-bin"
    return folders.pop(), ""


def machine() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}
    try:
        with open("/proc/meminfo") as handle:
            info["memory_gib"] = round(int(handle.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import lmcourse

        info["lmcourse"] = lmcourse.__version__
    except ImportError:
        pass
    return info


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,4M,16M,64M", help="training words per size, comma-separated "
                        "(20k, 1M, 64M, ...; default 1M,4M,16M,64M)")
    parser.add_argument("--series", default=",".join(SERIES), help="synthetic, real or both (default both)")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--memory", default=None, help="passed to `lmcourse ngram --memory` (only if given), "
                        "and the default of --kenlm-memory")
    parser.add_argument("--kenlm-memory", default=None, help="lmplz -S (default: --memory, else 2G)")
    parser.add_argument("--kenlm-bin", default=os.environ.get("KENLM_BIN"),
                        help="folder of lmplz and query (default $KENLM_BIN, else PATH)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each tool per size, alternating")
    parser.add_argument("--eval-words", type=parse_size, default=100_000,
                        help="words of valid and of test each (at most a tenth of train; default 100k)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=None, help="folder for the corpora and runs (default: a temporary "
                        "folder, removed at the end); generated corpora found there are reused")
    parser.add_argument("--keep-models", action="store_true", help="keep KenLM's ARPA files (in --work)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results JSON (default results/ngram-scale.json)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on stdout")
    args = parser.parse_args()

    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    series_names = [s.strip() for s in args.series.split(",") if s.strip()]
    unknown = [s for s in series_names if s not in SERIES]
    if unknown or not series_names or not sizes or args.repeats < 1 or args.order < 1:
        parser.error(f"bad --series {unknown} (use {', '.join(SERIES)}), --sizes, --repeats or --order")
    kenlm_memory = args.kenlm_memory or args.memory or "2G"
    load_start = os.getloadavg()
    log(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")

    bin_dir, missing_reason = find_kenlm(args.kenlm_bin)
    if bin_dir is None:
        log(f"KenLM is not run: {missing_reason}; ours runs alone")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ngram-scale-"))
    remove_work = args.work is None
    work.mkdir(parents=True, exist_ok=True)
    example = Path("CORPUS_DIR")  # the commands as run, with placeholders for the folders
    lmplz_example, query_example = kenlm_commands(bin_dir or Path("KENLM_BIN"), example, Path("RUN_DIR"),
                                                  args.order, kenlm_memory)
    results: dict = {
        "benchmark": "ngram-scale: lmcourse ngram vs KenLM lmplz + query",
        "machine": machine(), "load_average_start": list(load_start),
        "settings": {"sizes": sizes, "series": series_names, "order": args.order, "memory": args.memory,
                     "kenlm_memory": kenlm_memory, "repeats": args.repeats, "eval_words": args.eval_words,
                     "seed": args.seed, "work": str(work)},
        "commands": {"ours": " ".join(ours_command(example, args.order, args.memory)),
                     "kenlm": [" ".join(lmplz_example), " ".join(query_example) + f" < {example}/test.txt"]},
        "kenlm": {"available": bin_dir is not None, "bin": str(bin_dir) if bin_dir else None,
                  **({"reason": missing_reason} if bin_dir is None else {})},
        "series": {}, "rows": [],
    }
    results["launcher_floor_mib"] = launcher_floor(work)
    out_path = Path(args.out)
    human: list[str] = [f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)}"]
    if results["launcher_floor_mib"] is not None:
        human.append(f"peaks include about {results['launcher_floor_mib']:.0f} MiB that any command started "
                     "here reports (the launcher's, carried over by exec: /bin/true's peak)")
    try:
        generators = {}
        for name in series_names:
            try:
                if name == "synthetic":
                    generators[name] = SyntheticSeries(args.seed, args.eval_words)
                else:
                    from lmcourse.data.paths import find_nltk_corpus

                    if not any(find_nltk_corpus(c) for c in ("brown", "treebank", "movie_reviews",
                                                             *NLTK_PLAIN_TEXT)):
                        raise RuntimeError("no NLTK corpus found: set NLTK_DATA to a folder holding "
                                           "corpora/brown.zip (here: NLTK_DATA=../shared/nltk_data)")
                    generators[name] = RealSeries(args.seed, args.eval_words, work)
                results["series"][name] = generators[name].about
            except RuntimeError as error:
                log(f"the {name} series is skipped: {error}")
                results["series"][name] = {"skipped": str(error)}
                human.append(f"{name} series skipped: {error}")
        for train_words in sizes:
            for name, series in generators.items():
                directory, meta = ensure_folder(series, work, train_words, eval_words_for(train_words,
                                                                                          args.eval_words))
                ours_runs, kenlm_runs = [], []
                for repeat in range(args.repeats):
                    run_dir = work / "runs" / f"{directory.name}-{repeat}"
                    run_dir.mkdir(parents=True, exist_ok=True)
                    log(f"{directory.name} run {repeat + 1}/{args.repeats}: ours ...")
                    ours_runs.append(run_ours(directory, run_dir, args.order, args.memory))
                    o = ours_runs[-1]
                    log("  ours: " + (o.get("error") or f"{o['wall_seconds']:.2f} s, {o['peak_rss_mib']:.0f} MiB"))
                    if bin_dir is not None:
                        log(f"{directory.name} run {repeat + 1}/{args.repeats}: kenlm ...")
                        kenlm_runs.append(run_kenlm(bin_dir, directory, run_dir, args.order, kenlm_memory,
                                                    args.keep_models))
                        k = kenlm_runs[-1]
                        log("  kenlm: " + (k.get("error") or f"{k['wall_seconds']:.2f} s, "
                                                              f"{k['peak_rss_mib']:.0f} MiB"))
                ours = summarize(ours_runs)
                kenlm = summarize(kenlm_runs) if bin_dir is not None else None
                row = {"series": name, "size": size_label(train_words), "train_words": meta["splits"]["train"]["words"],
                       "train_sentences": meta["splits"]["train"]["sentences"],
                       "test_words": meta["splits"]["test"]["words"], "corpus": str(directory),
                       "ours": ours, "kenlm": kenlm, "comparison": compare(ours, kenlm)}
                if bin_dir is None:
                    row["kenlm_missing"] = missing_reason
                results["rows"].append(row)
                lines = row_lines(row)
                for line in lines:
                    log(line)
                human.extend(lines)
                write_results(out_path, results)
    finally:
        load_end = os.getloadavg()
        results["load_average_end"] = list(load_end)
        log(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
        human.append(f"load average at end: {' '.join(f'{x:.2f}' for x in load_end)}")
        write_results(out_path, results)
        log(f"results written to {out_path}")
        if remove_work:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n".join(human))
    return 0


if __name__ == "__main__":
    sys.exit(main())
