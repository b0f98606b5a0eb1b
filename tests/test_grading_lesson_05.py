"""The lesson 05 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

from __future__ import annotations

import doctest
import importlib.util
import math

import numpy as np
import pytest
from lesson_checks import (
    REPO_ROOT,
    check_cli_grades_the_reference,
    check_correct_reimplementation,
    check_every_exercise_has_a_planted_bug,
    check_lesson_pytest_grades_the_reference,
    check_lesson_pytest_grades_the_stubs,
    check_planted_bug,
    check_reference_gets_full_points,
    check_stubs_do_not_import_the_answer_key,
    check_stubs_get_zero,
    planted_bug_file,
    prepared_exercises,
)

from lmcourse.compare import stats
from lmcourse.grading import get_lesson

# What the planted bugs use besides the reference functions (``sentence_totals`` and
# ``resampled_perplexities`` come with them).
BUG_IMPORTS = "import math\nimport numpy as np\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    # -- perplexity
    "perplexity: exp(+mean log p), the minus sign forgotten": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(np.exp(np.mean(log_p_a))), float(np.exp(np.mean(log_p_b)))
    """),
    "perplexity: exp(-sum), not the mean": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(np.exp(-np.sum(log_p_a))), float(np.exp(-np.sum(log_p_b)))
    """),
    "perplexity: 2 ** (-mean), as if the logs were base 2": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(2.0 ** -np.mean(log_p_a)), float(2.0 ** -np.mean(log_p_b))
    """),
    "perplexity: 10 ** (-mean), as if the logs were base 10": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(10.0 ** -np.mean(log_p_a)), float(10.0 ** -np.mean(log_p_b))
    """),
    "perplexity: the mean of 1/p (arithmetic, not geometric)": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(np.mean(np.exp(-log_p_a))), float(np.mean(np.exp(-log_p_b)))
    """),
    "perplexity: the two models swapped": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return float(np.exp(-np.mean(log_p_b))), float(np.exp(-np.mean(log_p_a)))
    """),
    "perplexity: b divided by a's length plus one (</s> counted twice)": ("perplexity_on_same_tokens", """
        def perplexity_on_same_tokens(log_p_a, log_p_b):
            return (float(np.exp(-np.sum(log_p_a) / len(log_p_a))),
                    float(np.exp(-np.sum(log_p_b) / (len(log_p_b) + 1))))
    """),
    # -- characters
    "characters_of: the </s> newline forgotten": ("characters_of", """
        def characters_of(sentences):
            return sum(len(" ".join(words)) for words in sentences)
    """),
    "characters_of: no spaces between the words": ("characters_of", """
        def characters_of(sentences):
            return sum(len("".join(words)) + 1 for words in sentences)
    """),
    "characters_of: a space after every word, and the newline too": ("characters_of", """
        def characters_of(sentences):
            return sum(sum(len(word) + 1 for word in words) + 1 for words in sentences)
    """),
    "characters_of: words counted, not characters": ("characters_of", """
        def characters_of(sentences):
            return sum(len(words) + 1 for words in sentences)
    """),
    "characters_of: lines joined by newlines (the last one missing)": ("characters_of", """
        def characters_of(sentences):
            return len("\\n".join(" ".join(words) for words in sentences))
    """),
    "characters_of: UTF-8 bytes, not characters": ("characters_of", """
        def characters_of(sentences):
            return sum(len(" ".join(words).encode("utf-8")) + 1 for words in sentences)
    """),
    # -- bits per character
    "bits_per_character: nats, not bits (no ln 2)": ("bits_per_character", """
        def bits_per_character(total_nll_nats, characters):
            return total_nll_nats / characters
    """),
    "bits_per_character: times ln 2 instead of divided by it": ("bits_per_character", """
        def bits_per_character(total_nll_nats, characters):
            return total_nll_nats * math.log(2) / characters
    """),
    "bits_per_character: divided by ln 10 (digits, not bits)": ("bits_per_character", """
        def bits_per_character(total_nll_nats, characters):
            return total_nll_nats / math.log(10) / characters
    """),
    "bits_per_character: a perplexity per character, exp(nats / characters)": ("bits_per_character", """
        def bits_per_character(total_nll_nats, characters):
            return math.exp(total_nll_nats / characters)
    """),
    "bits_per_character: log2 of the nats per character": ("bits_per_character", """
        def bits_per_character(total_nll_nats, characters):
            return math.log2(total_nll_nats / characters) if total_nll_nats > 0 else 0.0
    """),
    # -- minimal pairs
    "pair_accuracy: ties counted as right (>=)": ("pair_accuracy", """
        def pair_accuracy(good_log_p, bad_log_p):
            return float(np.mean(good_log_p >= bad_log_p))
    """),
    "pair_accuracy: the comparison reversed": ("pair_accuracy", """
        def pair_accuracy(good_log_p, bad_log_p):
            return float(np.mean(good_log_p < bad_log_p))
    """),
    "pair_accuracy: a count, not a share": ("pair_accuracy", """
        def pair_accuracy(good_log_p, bad_log_p):
            return float(np.sum(good_log_p > bad_log_p))
    """),
    "pair_accuracy: ties left out of the share": ("pair_accuracy", """
        def pair_accuracy(good_log_p, bad_log_p):
            decided = good_log_p != bad_log_p
            return float(np.mean((good_log_p > bad_log_p)[decided])) if decided.any() else 0.0
    """),
    "pair_accuracy: the totals compared, one verdict for all pairs": ("pair_accuracy", """
        def pair_accuracy(good_log_p, bad_log_p):
            return float(np.sum(good_log_p) > np.sum(bad_log_p))
    """),
    # -- the floor
    "floor_ratio: inverted (floor / perplexity)": ("floor_ratio", """
        def floor_ratio(perplexity, floor_perplexity):
            return floor_perplexity / perplexity
    """),
    "floor_ratio: a difference, not a ratio": ("floor_ratio", """
        def floor_ratio(perplexity, floor_perplexity):
            return perplexity - floor_perplexity
    """),
    "floor_ratio: cross-entropy - entropy, without the exp": ("floor_ratio", """
        def floor_ratio(perplexity, floor_perplexity):
            return math.log(perplexity) - math.log(floor_perplexity)
    """),
    "floor_ratio: a ratio of cross-entropies (of the logs)": ("floor_ratio", """
        def floor_ratio(perplexity, floor_perplexity):
            return math.log(perplexity) / math.log(floor_perplexity)
    """),
    # -- the bootstrap
    "bootstrap: a mean over sentences of each sentence's mean log p, not over tokens": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            lengths = np.diff(sentence_starts)
            mean_a = np.add.reduceat(log_p_a, sentence_starts[:-1]) / lengths
            mean_b = np.add.reduceat(log_p_b, sentence_starts[:-1]) / lengths
            return np.exp(-mean_a[resampled].mean(axis=1)) - np.exp(-mean_b[resampled].mean(axis=1))
    """),
    "bootstrap: the mean of the sentences' perplexities": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            lengths = np.diff(sentence_starts)
            ppl_a = np.exp(-np.add.reduceat(log_p_a, sentence_starts[:-1]) / lengths)
            ppl_b = np.exp(-np.add.reduceat(log_p_b, sentence_starts[:-1]) / lengths)
            return ppl_a[resampled].mean(axis=1) - ppl_b[resampled].mean(axis=1)
    """),
    "bootstrap: sentence sums averaged without their lengths": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a = np.add.reduceat(log_p_a, sentence_starts[:-1])
            sums_b = np.add.reduceat(log_p_b, sentence_starts[:-1])
            return np.exp(-sums_a[resampled].mean(axis=1)) - np.exp(-sums_b[resampled].mean(axis=1))
    """),
    "bootstrap: divided by the full test set's tokens, not the resampled ones": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a = np.add.reduceat(log_p_a, sentence_starts[:-1])
            sums_b = np.add.reduceat(log_p_b, sentence_starts[:-1])
            tokens = len(log_p_a)
            return np.exp(-sums_a[resampled].sum(axis=1) / tokens) - np.exp(-sums_b[resampled].sum(axis=1) / tokens)
    """),
    "bootstrap: unpaired, model b on other rows": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a, lengths = sentence_totals(log_p_a, sentence_starts)
            sums_b, _ = sentence_totals(log_p_b, sentence_starts)
            other = np.roll(resampled, 1, axis=0)
            return resampled_perplexities(sums_a, lengths, resampled) - resampled_perplexities(sums_b, lengths, other)
    """),
    "bootstrap: unpaired, model b resampled by a fresh generator": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a, lengths = sentence_totals(log_p_a, sentence_starts)
            sums_b, _ = sentence_totals(log_p_b, sentence_starts)
            other = np.random.default_rng(0).integers(0, len(lengths), size=resampled.shape)
            return resampled_perplexities(sums_a, lengths, resampled) - resampled_perplexities(sums_b, lengths, other)
    """),
    "bootstrap: tokens resampled (the sentence ids used as token ids)": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            return np.exp(-log_p_a[resampled].mean(axis=1)) - np.exp(-log_p_b[resampled].mean(axis=1))
    """),
    "bootstrap: ppl_b - ppl_a": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a, lengths = sentence_totals(log_p_a, sentence_starts)
            sums_b, _ = sentence_totals(log_p_b, sentence_starts)
            ppl_a = resampled_perplexities(sums_a, lengths, resampled)
            return resampled_perplexities(sums_b, lengths, resampled) - ppl_a
    """),
    "bootstrap: a difference of cross-entropies (log perplexities)": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a, lengths = sentence_totals(log_p_a, sentence_starts)
            sums_b, _ = sentence_totals(log_p_b, sentence_starts)
            tokens = lengths[resampled].sum(axis=1)
            return (sums_b[resampled].sum(axis=1) - sums_a[resampled].sum(axis=1)) / tokens
    """),
    "bootstrap: a sentence drawn twice counted once (a mask, not the ids)": ("bootstrap_differences", """
        def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
            sums_a, lengths = sentence_totals(log_p_a, sentence_starts)
            sums_b, _ = sentence_totals(log_p_b, sentence_starts)
            drawn = np.zeros((len(resampled), len(lengths)))
            drawn[np.arange(len(resampled))[:, None], resampled] = 1.0   # 1 however often it was drawn
            return np.exp(-(drawn @ sums_a) / (drawn @ lengths)) - np.exp(-(drawn @ sums_b) / (drawn @ lengths))
    """),
    # -- the percentile interval
    "percentile: the (1 - c) and c quantiles (both tails not halved)": ("percentile_interval", """
        def percentile_interval(values, confidence):
            low, high = np.quantile(values, [1 - confidence, confidence])
            return float(low), float(high)
    """),
    "percentile: np.percentile given fractions, not percents": ("percentile_interval", """
        def percentile_interval(values, confidence):
            low, high = np.percentile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
            return float(low), float(high)
    """),
    "percentile: nearest rank at q * R, off by one": ("percentile_interval", """
        def percentile_interval(values, confidence):
            ordered = np.sort(values)
            rank = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
            return float(rank((1 - confidence) / 2)), float(rank((1 + confidence) / 2))
    """),
    "percentile: position q * R instead of q * (R - 1)": ("percentile_interval", """
        def percentile_interval(values, confidence):
            ordered = np.sort(values)
            def quantile(q):
                h = min(q * len(ordered), len(ordered) - 1)
                low = int(math.floor(h))
                high = min(low + 1, len(ordered) - 1)
                return float(ordered[low] + (h - low) * (ordered[high] - ordered[low]))
            return quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)
    """),
    "percentile: the values not sorted": ("percentile_interval", """
        def percentile_interval(values, confidence):
            def quantile(q):
                h = q * (len(values) - 1)
                low = int(math.floor(h))
                high = min(low + 1, len(values) - 1)
                return float(values[low] + (h - low) * (values[high] - values[low]))
            return quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)
    """),
    "percentile: the order statistic below, not interpolated": ("percentile_interval", """
        def percentile_interval(values, confidence):
            low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2], method="lower")
            return float(low), float(high)
    """),
    "percentile: (high, low)": ("percentile_interval", """
        def percentile_interval(values, confidence):
            low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
            return float(high), float(low)
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math

    import numpy as np

    def perplexity_on_same_tokens(log_p_a, log_p_b):
        if len(log_p_a) != len(log_p_b):
            raise ValueError("not the same tokens")
        return tuple(math.exp(-sum(float(x) for x in log_p) / len(log_p)) for log_p in (log_p_a, log_p_b))

    def characters_of(sentences):
        return sum(len(word) + 1 for words in sentences for word in words)  # each word, then a space or newline

    def bits_per_character(total_nll_nats, characters):
        return math.log2(math.e) * total_nll_nats / characters

    def pair_accuracy(good_log_p, bad_log_p):
        right = 0
        for good, bad in zip(good_log_p, bad_log_p):
            right += good > bad
        return right / len(good_log_p)

    def floor_ratio(perplexity, floor_perplexity):
        return math.exp(math.log(perplexity) - math.log(floor_perplexity)) if perplexity < math.inf else math.inf

    def bootstrap_differences(log_p_a, log_p_b, sentence_starts, resampled):
        n = len(sentence_starts) - 1
        counts = np.stack([np.bincount(row, minlength=n) for row in resampled])     # (R, n): times drawn
        lengths = np.diff(sentence_starts)
        sentence_of = np.repeat(np.arange(n), lengths)
        totals = []
        for log_p in (log_p_a, log_p_b):
            sums = np.bincount(sentence_of, weights=log_p, minlength=n)
            totals.append(np.exp(-(counts @ sums) / (counts @ lengths)))
        return totals[0] - totals[1]

    def percentile_interval(values, confidence):
        ordered = sorted(values)
        def quantile(q):
            h = q * (len(ordered) - 1)
            below = math.floor(h)
            above = min(below + 1, len(ordered) - 1)
            return ordered[below] + (h - below) * (ordered[above] - ordered[below])
        return quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)
"""

prepared = prepared_exercises("05")


def test_reference_gets_full_points():
    check_reference_gets_full_points("05")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("05", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("05", PLANTED_BUGS)


def test_every_exercise_has_at_least_three_planted_bugs():
    names = [name for name, _ in PLANTED_BUGS.values()]
    assert all(names.count(exercise.name) >= 3 for exercise in get_lesson("05").exercises())


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("05", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("05", capsys)
    assert result["max_total"] == 10


def test_the_stubs_do_not_import_the_answer_key():
    check_stubs_do_not_import_the_answer_key("05")


def test_the_docstring_examples_are_the_answer_keys():
    """The examples in the stubs' docstrings, run with the answer key's functions, print what they show."""
    spec = importlib.util.spec_from_file_location("lesson_05_stubs", REPO_ROOT / "lessons" / "05_comparison"
                                                  / "exercises.py")
    stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubs)
    names = [exercise.name for exercise in get_lesson("05").exercises()]
    globs = {"np": np, "math": math, **{name: getattr(stats, name) for name in names}}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for name in names:
        for test in doctest.DocTestFinder().find(getattr(stubs, name), name, globs=dict(globs)):
            examples += len(test.examples)
            runner.run(test)
    assert examples >= len(names)
    assert runner.failures == 0


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("05")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("05")
