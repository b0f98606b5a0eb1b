"""Train and score every row of a budget, one after another, saving each finished row at once.

    comparison = Comparison("synthetic", "quick", out="results/synthetic")
    results = comparison.run()          # every row, saved to results.json as each finishes
    comparison.report()                 # results.md and the figures

Each row is the figures of :func:`lmcourse.cli.common.split_figures` (the very function ``lmcourse ngram`` and
``lmcourse eval`` report with, so a row equals the single-model command), plus sizes and timings. All rows are
scored on the same predicted tokens: every model is fitted on (a prefix of) the same train split, with the
corpus's one vocabulary, and scored on its whole valid and test splits. ``report()`` then writes
``results.md`` and the figures.

``results.json`` is rewritten atomically after every row: Ctrl-C, a failing model or a SIGKILL leave the rows
finished so far, and ``resume=True`` skips them (a neural model stopped half-way continues from its last
checkpoint, bit for bit). Neural checkpoints go to ``OUT/checkpoints/ROW/`` (``lmcourse eval --checkpoint``
scores them again), each row's per-token test log-probabilities to ``OUT/log_probs/ROW.npy`` (float32) for
paired comparisons, and on a corpus sampled from a grammar the minimal pairs to ``OUT/pairs.tsv``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lmcourse import __version__
from lmcourse.cli.common import SPLITS_REPORTED, split_figures
from lmcourse.cli.output import json_safe, log
from lmcourse.compare.budgets import ModelRun, plan, select
from lmcourse.errors import UserError
from lmcourse.files import atomic_output, atomic_write_text

RESULTS_FILE = "results.json"
PAIRS_FILE = "pairs.tsv"


def train_prefix(corpus, fraction: float):
    """``corpus`` with its train split cut to the first ``fraction`` of its sentences (vocabulary unchanged)."""
    if fraction >= 1.0:
        return corpus
    from lmcourse.data.corpus import EncodedSplit

    train = corpus.split("train")
    keep = max(1, round(train.num_sentences * fraction))
    end = int(train.sentence_starts[keep])
    prefix = EncodedSplit(tokens=train.tokens[:end], sentence_starts=train.sentence_starts[: keep + 1])
    return dataclasses.replace(corpus, splits={**corpus.splits, "train": prefix})


def machine_info() -> dict:
    """Where the figures were measured: cores, torch threads and device, versions."""
    import torch

    info = {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "device": "cuda" if torch.cuda.is_available() else "cpu", "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "lmcourse": __version__}
    try:
        cpu = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
        info["cpu"] = cpu.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    return info


class Comparison:
    """The rows of one ``lmcourse compare`` run and where they are saved (``out``)."""

    def __init__(self, corpus: str = "synthetic", budget: str = "quick", out: str | Path | None = None,
                 models: str | None = None, seed: int = 0, resume: bool = False, progress_bar: bool = True):
        self.runs: list[ModelRun] = select(plan(budget, seed), models)
        self.corpus_name, self.budget, self.seed, self.models = corpus, budget, seed, models
        if out is not None and not str(out).strip():
            raise UserError("--out is empty: give the folder for the results (default results/<corpus>/)")
        self.out = Path(out) if out is not None else Path("results") / Path(corpus).name
        self.resume, self.progress_bar = resume, progress_bar
        self.results = self._start()
        self.check_out()

    # -- the results file ---------------------------------------------------------------------------------
    def _start(self) -> dict:
        """The results to continue (``resume``) or a fresh, empty set; refuses a folder that is not ours."""
        path = self.out / RESULTS_FILE
        if self.out.exists() and not self.out.is_dir():
            raise UserError(f"--out {self.out} is a file, not a folder: give a folder for the results")
        fresh = {"corpus": self.corpus_name, "budget": self.budget, "seed": self.seed, "machine": machine_info(),
                 "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": {}}
        if not self.resume:
            return fresh
        if not path.is_file():
            raise UserError(f"--resume: {path} does not exist: run without --resume to start, or give the --out "
                            "folder of the run to continue")
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            same = {key: saved[key] for key in ("corpus", "budget", "seed")}
            rows = dict(saved["rows"])
            if not all(isinstance(row, dict) and {"family", "run", "label"} <= row.keys() for row in rows.values()):
                raise ValueError("rows")
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UserError(f"--resume: {path} is not a results file of lmcourse compare ({type(error).__name__}): "
                            "give another --out, or run without --resume to start over") from None
        if same != {"corpus": self.corpus_name, "budget": self.budget, "seed": self.seed}:
            raise UserError(f"--resume: {path} holds a run with {same}, not corpus {self.corpus_name!r}, budget "
                            f"{self.budget!r}, seed {self.seed}: give the same options, or another --out")
        unknown = sorted(set(rows) - {run.name for run in plan(self.budget, self.seed)})
        if unknown:
            raise UserError(f"--resume: {path} is not a results file of lmcourse compare (rows {unknown} are no "
                            f"model of budget {self.budget!r}): give another --out, or run without --resume")
        return {**fresh, "started": saved.get("started", fresh["started"]), "rows": rows}

    def save(self) -> None:
        text = json.dumps(json_safe(self.results), indent=1, allow_nan=False)
        atomic_write_text(self.out / RESULTS_FILE, text + "\n")

    def check_out(self) -> None:
        """Fail before any training if ``out`` cannot be written (read-only, a file in the way)."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            probe = self.out / ".lmcourse-write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as error:
            raise UserError(f"--out {self.out} cannot be written ({error.strerror}): give a folder you can write "
                            "to") from None

    # -- the loop -----------------------------------------------------------------------------------------
    def run(self, on_row: Callable[[str, dict], None] | None = None, corpus=None) -> dict:
        """Fit and score every run not done yet; each finished row is saved before the next one starts.
        ``corpus``: the loaded corpus ``self.corpus_name``, if the caller has it already."""
        from lmcourse.data import load_corpus

        corpus = corpus if corpus is not None else load_corpus(self.corpus_name)
        self.results["corpus_info"] = corpus.info()
        pairs = self._pairs(corpus)
        self.save()
        todo = [run for run in self.runs if run.name not in self.results["rows"]]
        if len(todo) < len(self.runs):
            log(f"resuming: {len(self.runs) - len(todo)} of {len(self.runs)} rows already done in {self.out}")
        for number, run in enumerate(todo, start=len(self.runs) - len(todo) + 1):
            log(f"[{number}/{len(self.runs)}] {run.label} on {corpus.name} ...")
            row = self.fit_row(run, corpus, pairs)
            self.results["rows"][run.name] = row
            self.save()
            if on_row is not None:
                on_row(run.name, row)
        self.results["differences"] = self.paired_differences(corpus)
        self.results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        self.save()
        return self.results

    def paired_differences(self, corpus) -> list[dict]:
        """Test perplexity of a minus b with a 95% paired-bootstrap interval over test sentences
        (:func:`lmcourse.compare.stats.paired_bootstrap`), for each neural model against KN5 and for each
        neural model against the one before it (RNN, LSTM, Transformer)."""
        from lmcourse.compare.budgets import NEURAL_KINDS, REFERENCE
        from lmcourse.compare.stats import paired_bootstrap

        rows = self.results["rows"]
        neural = [kind for kind in NEURAL_KINDS if rows.get(kind, {}).get("test_perplexity")]
        pairs = [(kind, REFERENCE) for kind in neural if rows.get(REFERENCE, {}).get("test_perplexity")]
        pairs += list(zip(neural[1:], neural[:-1]))
        if corpus.splits.get("test") is None:
            return []
        starts = corpus.split("test").sentence_starts
        differences = []
        for a, b in pairs:
            files = [self.out / "log_probs" / f"{safe_name(name)}.npy" for name in (a, b)]
            try:  # the saved files of a resumed run may have been removed or damaged since
                log_p = [np.load(file).astype(np.float64) for file in files]
                interval = paired_bootstrap(log_p[0], log_p[1], starts, resamples=1000, confidence=0.95, seed=0)
            except (OSError, ValueError) as error:
                log(f"  no interval for {a} - {b}: a file of {files[0].parent} is missing or damaged ({error})")
                continue
            differences.append({"a": a, "b": b, **interval})
        return differences

    def fit_row(self, run: ModelRun, corpus, pairs) -> dict:
        data = train_prefix(corpus, run.train_fraction)
        start = time.perf_counter()
        model, details = self._fit_ngram(run, data) if run.family == "ngram" else self._fit_neural(run, data)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        log_probs = self._score(model, corpus)
        row = {"name": run.name, "label": run.label, "family": run.family, "run": dataclasses.asdict(run),
               **split_figures(model, corpus, log_probs=log_probs), **details,
               "train_tokens": data.split("train").num_predicted, "fit_seconds": round(fit_seconds, 3)}
        if run.family == "ngram":
            row["tokens_per_second"] = round(row["train_tokens"] / max(fit_seconds, 1e-9), 1)
        if pairs is not None:
            from lmcourse.compare.agreement import score_pairs

            row["agreement"] = score_pairs(model, pairs, corpus.vocab)
        if "test" in log_probs:
            with atomic_output(self.out / "log_probs" / f"{safe_name(run.name)}.npy", suffix=".npy") as tmp:
                np.save(tmp, log_probs["test"].astype(np.float32))
        row["score_seconds"] = round(time.perf_counter() - start, 3)
        return row

    def report(self, command: str = "") -> tuple[list[str], list[str]]:
        """Write ``results.md`` and the figures of the rows done so far; returns (figure files, the headline
        table's lines). ``command``: how the run was started, quoted in the report."""
        from lmcourse.compare.plots import save_figures
        from lmcourse.compare.report import headline_rows, model_table, write_report

        if not self.results["rows"]:
            return [], []
        headline = headline_rows(self.results["rows"])
        figures = save_figures(self.results, self.out, headline)
        atomic_write_text(self.out / "results.md", write_report(self.results, figures, command or "(Python)"))
        return figures, model_table(self.results, headline)

    # -- one model ------------------------------------------------------------------------------------------
    @staticmethod
    def _fit_ngram(run: ModelRun, data):
        from lmcourse.ngram import make_model

        model = make_model(run.smoothing, run.order).fit(data)
        counts = model.ngram_counts()
        return model, {"ngrams": int(sum(counts.values())), "ngram_counts": {str(k): v for k, v in counts.items()}}

    def _fit_neural(self, run: ModelRun, data):
        from lmcourse.neural import TrainConfig, make_model
        from lmcourse.neural.presets import DEFAULT_TRAINING, get_preset

        preset = get_preset(run.preset, "lstm" if run.kind == "rnn" else run.kind)
        training = TrainConfig(**{**DEFAULT_TRAINING.get(run.kind, {}), **preset.training, **run.training})
        model = make_model(run.kind, training=training, **{**preset.model, **run.model})
        folder = self.out / "checkpoints" / run.name
        resume = self.resume and (folder / "last.pt").is_file()
        if resume:
            log(f"  continuing {run.name} from {folder / 'last.pt'}")
        model.fit(data, checkpoint_dir=folder, resume=resume, progress_bar=self.progress_bar)
        return model, {"parameters": model.num_parameters(), "steps": model.steps_done,
                       "epochs": round(model.steps_done / max(model.steps_per_epoch, 1), 3),
                       "stopped": model.stopped, "train_seconds": round(model.train_seconds, 2),
                       "tokens_per_second": round(model.train_tokens_per_second, 1),
                       "checkpoint": str(folder), "config": dataclasses.asdict(model.config),
                       "training": dataclasses.asdict(model.training),
                       "curve": [{"seconds": e["seconds"], "step": e["step"],
                                  "valid_perplexity": e["valid_perplexity"]} for e in model.training_log]}

    @staticmethod
    def _score(model, corpus) -> dict:
        """{split: per-token natural-log p} of valid and test, computed once for the row's figures and for
        ``OUT/log_probs/ROW.npy`` (test, float32, for paired comparisons); none for scores that are not
        probabilities."""
        if not model.normalized:
            return {}
        with np.errstate(divide="ignore"):
            return {name: model.log_probs(split) for name, split in corpus.splits.items()
                    if name in SPLITS_REPORTED and split is not None}

    def _pairs(self, corpus):
        """Minimal pairs from the corpus's grammar, written to ``OUT/pairs.tsv``; None for other corpora."""
        from lmcourse.data import REGISTRY

        spec = REGISTRY.get(corpus.name)
        if spec is None or not spec.grammar:
            return None
        from lmcourse.synthetic import load_grammar
        from lmcourse.synthetic.pairs import DEFAULT_PAIRS, DEFAULT_SEED, sample_pairs, write_pairs_tsv

        # the pairs are data, not a model: the same for every --seed, and the same as `lmcourse data pairs`
        pairs = sample_pairs(load_grammar(spec.grammar), DEFAULT_PAIRS, seed=DEFAULT_SEED)
        write_pairs_tsv(pairs, self.out / PAIRS_FILE)
        self.results["pairs"] = {"file": str(self.out / PAIRS_FILE), "count": len(pairs), "seed": DEFAULT_SEED,
                                 "command": f"lmcourse data pairs {corpus.name} --n {DEFAULT_PAIRS} --seed "
                                            f"{DEFAULT_SEED}"}
        return pairs


def safe_name(name: str) -> str:
    """A row name as a file name: ``lstm@10%`` -> ``lstm@10pct``."""
    return name.replace("%", "pct").replace("/", "_")


def interrupted_message(results: dict, out: Path) -> str:
    done = len(results.get("rows", {}))
    return (f"interrupted: {done} finished row{'s' if done != 1 else ''} kept in {out / RESULTS_FILE}; "
            f"`lmcourse compare ... --resume` continues (same --corpus, --budget, --seed, --out)")

