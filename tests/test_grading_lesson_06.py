"""The lesson 06 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

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

from lmcourse.grading import get_lesson
from lmcourse.neural import by_hand_pretrain

# What the planted bugs use besides the reference functions (``IGNORE``, ``BOS_ID`` and ``CONFIDENCE`` come
# with them).
BUG_IMPORTS = "import math\nimport numpy as np\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    # -- BERT's masking
    "bert_mask: 80/10 swapped (random below to_random, <mask> after)": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            randomized = chosen & (how_draw < to_random)
            masked = chosen & (how_draw >= to_random) & (how_draw < to_mask + to_random)
            inputs = np.where(randomized, random_words, np.where(masked, mask_id, ids))
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: <s> can be chosen": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = chosen_draw < select
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, ids)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), random_words, inputs)
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: labels at every position (the original ids, IGNORE nowhere)": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, ids)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), random_words, inputs)
            return inputs, ids.copy()
    """),
    "bert_mask: labels only where <mask> went (not at the random and unchanged ones)": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            masked = chosen & (how_draw < to_mask)
            inputs = np.where(masked, mask_id, ids)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), random_words, inputs)
            return inputs, np.where(masked, ids, IGNORE)
    """),
    "bert_mask: labels are the corrupted inputs, not the originals": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, ids)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), random_words, inputs)
            return inputs, np.where(chosen, inputs, IGNORE)
    """),
    "bert_mask: the unchanged 10% also replaced by a random word": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, np.where(chosen, random_words, ids))
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: every chosen position masked (no random, no unchanged)": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            return np.where(chosen, mask_id, ids), np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: chosen where chosen_draw <= select": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw <= select) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, ids)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), random_words, inputs)
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: the default rates hard-coded, the arguments ignored": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < 0.15) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < 0.8), mask_id, ids)
            inputs = np.where(chosen & (how_draw >= 0.8) & (how_draw < 0.9), random_words, inputs)
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    "bert_mask: its own random words, drawn over every id (specials included), not random_words": ("bert_mask", """
        def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
            chosen = (chosen_draw < select) & (ids != BOS_ID)
            inputs = np.where(chosen & (how_draw < to_mask), mask_id, ids)
            drawn = np.random.default_rng(0).integers(0, mask_id, size=ids.shape)
            inputs = np.where(chosen & (how_draw >= to_mask) & (how_draw < to_mask + to_random), drawn, inputs)
            return inputs, np.where(chosen, ids, IGNORE)
    """),
    # -- the loss
    "masked_lm_loss: the mean over all positions, IGNORE ones counted in the divisor": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            return float(-log_probs[chosen, labels[chosen]].sum() / labels.size)
    """),
    "masked_lm_loss: the sum, not the mean": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            return float(-log_probs[chosen, labels[chosen]].sum())
    """),
    "masked_lm_loss: in bits (log2), not nats": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            return float(-log_probs[chosen, labels[chosen]].mean() / math.log(2)) if chosen.any() else 0.0
    """),
    "masked_lm_loss: the mean of each row's mean": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            means = []
            for row_log_probs, row_labels in zip(log_probs, labels):
                chosen = row_labels != IGNORE
                if chosen.any():
                    means.append(-row_log_probs[chosen, row_labels[chosen]].mean())
            return float(np.mean(means)) if means else 0.0
    """),
    "masked_lm_loss: NaN (a mean of nothing) when no position is chosen": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            with np.errstate(all="ignore"):
                return float(-np.mean(log_probs[chosen, labels[chosen]]))
    """),
    "masked_lm_loss: the sign forgotten": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            return float(log_probs[chosen, labels[chosen]].mean()) if chosen.any() else 0.0
    """),
    "masked_lm_loss: picked with a one-hot product (-inf * 0 = nan)": ("masked_lm_loss", """
        def masked_lm_loss(log_probs, labels):
            chosen = labels != IGNORE
            if not chosen.any():
                return 0.0
            one_hot = np.eye(log_probs.shape[-1])[np.where(chosen, labels, 0)]
            with np.errstate(all="ignore"):
                return float(-(log_probs * one_hot).sum(axis=-1)[chosen].mean())
    """),
    # -- pooling
    "masked_mean_pool: the mean over every position, padding included": ("masked_mean_pool", """
        def masked_mean_pool(hidden, mask):
            return hidden.mean(axis=1)
    """),
    "masked_mean_pool: the masked sum divided by N, not by the row's count": ("masked_mean_pool", """
        def masked_mean_pool(hidden, mask):
            return (hidden * mask[:, :, None]).sum(axis=1) / hidden.shape[1]
    """),
    "masked_mean_pool: divided by the whole batch's count of 1s": ("masked_mean_pool", """
        def masked_mean_pool(hidden, mask):
            return (hidden * mask[:, :, None]).sum(axis=1) / max(mask.sum(), 1)
    """),
    "masked_mean_pool: an empty row gives NaN (0 / 0)": ("masked_mean_pool", """
        def masked_mean_pool(hidden, mask):
            with np.errstate(all="ignore"):
                return (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    """),
    "masked_mean_pool: each row's first count vectors, wherever its 1s are": ("masked_mean_pool", """
        def masked_mean_pool(hidden, mask):
            counts = mask.sum(axis=1).astype(int)
            return np.stack([hidden[b, :c].mean(axis=0) if c else np.zeros(hidden.shape[2])
                             for b, c in enumerate(counts)])
    """),
    # -- the interval
    "accuracy_with_interval: the normal approximation, not the percentile bootstrap": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            accuracy = float(np.mean(labels == predictions))
            half = 1.96 * math.sqrt(accuracy * (1 - accuracy) / len(labels))
            return accuracy, accuracy - half, accuracy + half
    """),
    "accuracy_with_interval: the 0.05 and 0.95 quantiles (a 90% interval)": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            correct = (labels == predictions).astype(float)
            low, high = np.quantile(correct[resample_indices].mean(axis=1), [0.05, 0.95])
            return float(correct.mean()), float(low), float(high)
    """),
    "accuracy_with_interval: labels resampled, predictions not (unpaired)": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            accuracies = (labels[resample_indices] == predictions[None, :]).mean(axis=1)
            low, high = np.quantile(accuracies, [0.025, 0.975])
            return float(np.mean(labels == predictions)), float(low), float(high)
    """),
    "accuracy_with_interval: the mean of the resampled accuracies as the accuracy": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            accuracies = (labels == predictions).astype(float)[resample_indices].mean(axis=1)
            low, high = np.quantile(accuracies, [0.025, 0.975])
            return float(accuracies.mean()), float(low), float(high)
    """),
    "accuracy_with_interval: a document drawn twice counted once (a mask, not the ids)": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            correct = (labels == predictions).astype(float)
            drawn = np.zeros((len(resample_indices), len(labels)))
            drawn[np.arange(len(resample_indices))[:, None], resample_indices] = 1.0
            low, high = np.quantile((drawn @ correct) / drawn.sum(axis=1), [0.025, 0.975])
            return float(correct.mean()), float(low), float(high)
    """),
    "accuracy_with_interval: nearest rank, not interpolated": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            correct = (labels == predictions).astype(float)
            accuracies = correct[resample_indices].mean(axis=1)
            low, high = np.quantile(accuracies, [0.025, 0.975], method="nearest")
            return float(correct.mean()), float(low), float(high)
    """),
    "accuracy_with_interval: the quantiles of the error rates": ("accuracy_with_interval", """
        def accuracy_with_interval(labels, predictions, resample_indices):
            wrong = (labels != predictions).astype(float)
            low, high = np.quantile(wrong[resample_indices].mean(axis=1), [0.025, 0.975])
            return float(1 - wrong.mean()), float(low), float(high)
    """),
    # -- Naive Bayes
    "naive_bayes: no smoothing (alpha left out)": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = counts[1].astype(float), counts[0].astype(float)
            with np.errstate(all="ignore"):
                return np.log(p / p.sum()) - np.log(q / q.sum())
    """),
    "naive_bayes: the ratio inverted (neg over pos)": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = alpha + counts[1], alpha + counts[0]
            return np.log(q / q.sum()) - np.log(p / p.sum())
    """),
    "naive_bayes: unnormalized (log p - log q)": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            return np.log(alpha + counts[1]) - np.log(alpha + counts[0])
    """),
    "naive_bayes: normalized by the raw counts (alpha * F left out of the sums)": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = alpha + counts[1], alpha + counts[0]
            return np.log(p / counts[1].sum()) - np.log(q / counts[0].sum())
    """),
    "naive_bayes: alpha 1 whatever the argument": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = 1.0 + counts[1], 1.0 + counts[0]
            return np.log(p / p.sum()) - np.log(q / q.sum())
    """),
    "naive_bayes: log10": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = alpha + counts[1], alpha + counts[0]
            return np.log10(p / p.sum()) - np.log10(q / q.sum())
    """),
    "naive_bayes: a ratio of probabilities, without the log": ("naive_bayes_log_count_ratios", """
        def naive_bayes_log_count_ratios(counts, alpha=1.0):
            p, q = alpha + counts[1], alpha + counts[0]
            return (p / p.sum()) / (q / q.sum())
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math

    import numpy as np

    IGNORE = -100

    def bert_mask(ids, chosen_draw, how_draw, random_words, mask_id, select=0.15, to_mask=0.8, to_random=0.1):
        inputs = ids.copy()
        labels = np.full(ids.shape, IGNORE, dtype=np.int64)
        for index in np.ndindex(ids.shape):
            if ids[index] == 1 or not chosen_draw[index] < select:
                continue
            labels[index] = ids[index]
            if how_draw[index] < to_mask:
                inputs[index] = mask_id
            elif how_draw[index] < to_mask + to_random:
                inputs[index] = random_words[index]
        return inputs, labels

    def masked_lm_loss(log_probs, labels):
        total, count = 0.0, 0
        for b, t in zip(*np.nonzero(labels != IGNORE)):
            total -= log_probs[b, t, labels[b, t]]
            count += 1
        return total / count if count else 0.0

    def masked_mean_pool(hidden, mask):
        out = np.zeros((hidden.shape[0], hidden.shape[2]))
        for b in range(hidden.shape[0]):
            kept = hidden[b][np.asarray(mask[b]) == 1]
            if len(kept):
                out[b] = kept.sum(axis=0) / len(kept)
        return out

    def accuracy_with_interval(labels, predictions, resample_indices):
        right = [int(a == b) for a, b in zip(labels, predictions)]
        n = len(right)
        values = sorted(sum(right[i] for i in row) / n for row in resample_indices)
        def quantile(q):
            h = q * (len(values) - 1)
            below = math.floor(h)
            above = min(below + 1, len(values) - 1)
            return values[below] + (h - below) * (values[above] - values[below])
        return sum(right) / n, quantile(0.025), quantile(0.975)

    def naive_bayes_log_count_ratios(counts, alpha=1.0):
        smoothed = np.asarray(counts, dtype=float) + alpha
        log_p = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        return log_p[1] - log_p[0]
"""

prepared = prepared_exercises("06")


def test_reference_gets_full_points():
    check_reference_gets_full_points("06")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("06", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("06", PLANTED_BUGS)


def test_every_exercise_has_at_least_three_planted_bugs():
    names = [name for name, _ in PLANTED_BUGS.values()]
    assert all(names.count(exercise.name) >= 3 for exercise in get_lesson("06").exercises())


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("06", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("06", capsys)
    assert result["max_total"] == 10


def test_the_stubs_do_not_import_the_answer_key():
    check_stubs_do_not_import_the_answer_key("06")


def test_the_docstring_examples_are_the_answer_keys():
    """The examples in the stubs' docstrings, run with the answer key's functions, print what they show."""
    spec = importlib.util.spec_from_file_location("lesson_06_stubs", REPO_ROOT / "lessons" / "06_pretrain_finetune"
                                                  / "exercises.py")
    stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubs)
    names = [exercise.name for exercise in get_lesson("06").exercises()]
    globs = {"np": np, "math": math, "IGNORE": by_hand_pretrain.IGNORE,
             **{name: getattr(by_hand_pretrain, name) for name in names}}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for name in names:
        for test in doctest.DocTestFinder().find(getattr(stubs, name), name, globs=dict(globs)):
            examples += len(test.examples)
            runner.run(test)
    assert examples >= len(names)
    assert runner.failures == 0


def test_the_stubs_ignore_label_is_the_answer_keys():
    spec = importlib.util.spec_from_file_location("lesson_06_stubs_ignore", REPO_ROOT / "lessons"
                                                  / "06_pretrain_finetune" / "exercises.py")
    stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubs)
    assert stubs.IGNORE == by_hand_pretrain.IGNORE


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("06")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("06")
