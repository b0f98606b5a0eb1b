"""Speed of lmcourse.ngram beside nltk.lm, measured side by side in one run (not a test: nothing is asserted).

1. Full Brown (train 930k words): fit interpolated modified Kneser-Ney of order 5 and score the test split.
   Runs in a fresh child process so that its peak resident memory (ru_maxrss) is the model's alone
   (plus Python, numpy and the loaded corpus, reported separately as the baseline).
2. The same work for both libraries: interpolated Kneser-Ney of order 3 (nltk.lm.KneserNeyInterpolated vs
   lmcourse.ngram.KneserNey) fitted on the first ``--nltk-train`` training sentences and scoring the first
   ``--nltk-test`` test sentences. nltk.lm is far too slow for all of Brown (it recomputes continuation counts
   on every call), so the ratio is measured on this subset only; it is not extrapolated. Each library's time
   is the median of the same number of runs (``--repeats``).

    NLTK_DATA=../shared/nltk_data LMCOURSE_DATA=../shared/data python benchmarks/bench_ngram.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


def measure_ours_full(order: int) -> dict:
    """(In the child process.) Build order-``order`` modified KN on Brown train and score test."""
    from lmcourse.data import load_corpus
    from lmcourse.ngram import ModifiedKneserNey

    corpus = load_corpus("brown")
    train, test = corpus.split("train"), corpus.split("test")
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model = ModifiedKneserNey(order).fit(corpus)
    fitted = time.perf_counter()
    log_probs = model.log_probs(test)
    scored = time.perf_counter()
    from lmcourse.evaluation import evaluate_log_probs

    return {
        "order": order,
        "train_words": train.num_words,
        "test_predicted_tokens": test.num_predicted,
        "fit_seconds": fitted - start,
        "score_seconds": scored - fitted,
        "total_seconds": scored - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_rss_mb_before_fit": baseline_kb / 1024,
        "test_perplexity": evaluate_log_probs(log_probs)["perplexity"],
        "ngram_counts": model.ngram_counts(),
    }


def same_work(train_sentences: int, test_sentences: int, repeats: int) -> dict:
    """Interpolated KN, order 3, on the same sentences with both libraries."""
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
    from nltk.util import ngrams

    from lmcourse.data import Corpus, load_corpus
    from lmcourse.ngram import KneserNey

    corpus = load_corpus("brown")
    train = [corpus.vocab.decode(s[:-1]) for s in list(corpus.split("train").sentences())[:train_sentences]]
    test = [corpus.vocab.decode(s[:-1]) for s in list(corpus.split("test").sentences())[:test_sentences]]

    # both libraries: the median of the same number of runs, each run doing all of the work again
    ours_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subset = Corpus.from_sentences("subset", {"train": train, "test": test}, vocab=corpus.vocab)
        model = KneserNey(3).fit(subset)
        model.log_probs(subset.split("test"))
        ours_times.append(time.perf_counter() - start)
    ours_tokens = subset.split("test").num_predicted

    nltk_fit_times, nltk_score_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        lm = KneserNeyInterpolated(3)
        data, vocabulary = padded_everygram_pipeline(3, train)
        lm.fit(data, vocabulary)
        fitted = time.perf_counter()
        grams = [g for sentence in test for g in ngrams(pad_both_ends(sentence, 3), 3)]
        for gram in grams:
            lm.logscore(gram[-1], gram[:-1])
        scored = time.perf_counter()
        nltk_fit_times.append(fitted - start)
        nltk_score_times.append(scored - fitted)
    nltk_times = [f + s for f, s in zip(nltk_fit_times, nltk_score_times)]
    ours_seconds = statistics.median(ours_times)
    nltk_seconds = statistics.median(nltk_times)
    return {
        "runs_each": repeats,
        "model": "interpolated Kneser-Ney, order 3",
        "train_sentences": len(train),
        "train_words": sum(len(s) for s in train),
        "test_sentences": len(test),
        "ours_scored_tokens": ours_tokens,
        "nltk_scored_ngrams": len(grams),
        "ours_seconds": ours_seconds,
        "nltk_fit_seconds": statistics.median(nltk_fit_times),
        "nltk_score_seconds": statistics.median(nltk_score_times),
        "nltk_seconds": nltk_seconds,
        "speedup": nltk_seconds / ours_seconds,
        "note": "times include building the encoded subset (ours) / the padded everygrams (nltk); nltk "
                "predicts one extra </s> per sentence (it pads with N-1 </s>)",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--nltk-train", type=int, default=2000, help="training sentences for the comparison")
    parser.add_argument("--nltk-test", type=int, default=100, help="test sentences for the comparison")
    parser.add_argument("--repeats", type=int, default=3, help="runs per library in the comparison (median)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_ours_full(args.order)))
        return 0
    from lmcourse.data import get_spec

    if not get_spec("brown").is_present():
        print("bench_ngram: the brown corpus is not found: set NLTK_DATA to a folder holding corpora/brown.zip "
              "(here: NLTK_DATA=../shared/nltk_data) or run `lmcourse data fetch brown`", file=sys.stderr)
        return 2
    child = subprocess.run([sys.executable, __file__, "--child", "--order", str(args.order)],
                           capture_output=True, text=True, env=os.environ.copy())
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return 1
    full = json.loads(child.stdout)
    comparison = same_work(args.nltk_train, args.nltk_test, args.repeats)
    result = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "full_brown": full, "same_work_vs_nltk": comparison}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"lmcourse.ngram, modified Kneser-Ney order {full['order']} on Brown "
          f"({full['train_words']:,} train words; {full['test_predicted_tokens']:,} test tokens):")
    print(f"  fit {full['fit_seconds']:.2f} s + score test {full['score_seconds']:.2f} s = "
          f"{full['total_seconds']:.2f} s; peak RSS {full['peak_rss_mb']:.0f} MB "
          f"(of which {full['baseline_rss_mb_before_fit']:.0f} MB before fitting: Python, numpy, corpus); "
          f"test perplexity {full['test_perplexity']:.3f}")
    c = comparison
    print(f"Same work, {c['model']}: fit on {c['train_sentences']:,} train sentences "
          f"({c['train_words']:,} words), score {c['test_sentences']} test sentences:")
    print(f"  (each time is the median of {c['runs_each']} runs, the same number for both libraries)")
    print(f"  lmcourse.ngram {c['ours_seconds']:.4f} s ({c['ours_scored_tokens']:,} tokens)")
    print(f"  nltk.lm        {c['nltk_seconds']:.2f} s (median fit {c['nltk_fit_seconds']:.2f} s, median score "
          f"{c['nltk_score_seconds']:.2f} s; {c['nltk_scored_ngrams']:,} n-grams)")
    print(f"  speed-up: {c['speedup']:.0f}x  ({c['note']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
