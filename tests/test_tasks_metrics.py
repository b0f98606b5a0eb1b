"""Accuracy, its bootstrap interval, and per-class precision / recall / F1, against figures done by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.tasks.metrics import accuracy, bootstrap_interval, confusion_matrix, per_class


def test_accuracy_by_hand():
    assert accuracy([0, 1, 1, 0, 1], [0, 1, 0, 0, 0]) == pytest.approx(3 / 5)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="4 labels but 3 predictions"):
        accuracy([0, 1, 1, 0], [0, 1, 1])


def test_per_class_by_hand():
    labels = [0, 0, 0, 1, 1, 1, 1, 1]
    predictions = [0, 0, 1, 1, 1, 1, 0, 0]
    # neg: 2 hits; predicted neg 4 times (2 wrong); 3 real negs.   pos: 3 hits; predicted pos 4 times; 5 real
    assert confusion_matrix(labels, predictions, 2).tolist() == [[2, 1], [2, 3]]
    figures = per_class(labels, predictions, ("neg", "pos"))
    assert figures["neg"] == pytest.approx({"precision": 1 / 2, "recall": 2 / 3, "f1": 4 / 7, "support": 3})
    assert figures["pos"] == pytest.approx({"precision": 3 / 4, "recall": 3 / 5, "f1": 2 / 3, "support": 5})


def test_a_class_never_predicted_has_precision_and_f1_zero():
    figures = per_class([0, 1, 1], [1, 1, 1], ("neg", "pos"))
    assert figures["neg"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert figures["pos"]["precision"] == pytest.approx(2 / 3) and figures["pos"]["recall"] == 1.0


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=60))
def test_per_class_agrees_with_counting(pairs):
    labels, predictions = np.array(pairs).T
    figures = per_class(labels, predictions, ("a", "b", "c"))
    for c, name in enumerate("abc"):
        hits = sum(1 for y, p in pairs if y == c and p == c)
        predicted, actual = sum(1 for _, p in pairs if p == c), sum(1 for y, _ in pairs if y == c)
        assert figures[name]["support"] == actual
        assert figures[name]["precision"] == pytest.approx(hits / predicted if predicted else 0.0)
        assert figures[name]["recall"] == pytest.approx(hits / actual if actual else 0.0)
    assert sum(f["recall"] * f["support"] for f in figures.values()) == pytest.approx(len(pairs) * accuracy(
        labels, predictions))  # the recalls, weighted by support, add up to the accuracy


def correct_of(share: float, n: int) -> np.ndarray:
    correct = np.zeros(n, dtype=np.int64)
    correct[: round(share * n)] = 1
    return correct


def test_the_interval_holds_the_accuracy_and_is_about_the_normal_one():
    correct = correct_of(0.85, 200)
    low, high = bootstrap_interval(correct)
    assert low < 0.85 < high
    half_width = 1.96 * math.sqrt(0.85 * 0.15 / 200)  # the normal approximation: about 0.049
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.15)


def test_the_interval_narrows_with_more_documents():
    widths = [np.subtract(*bootstrap_interval(correct_of(0.8, n))[::-1]) for n in (50, 200, 800)]
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] / widths[2] == pytest.approx(4, rel=0.25)  # width ~ 1 / sqrt(n)


def test_the_interval_is_seeded():
    correct = correct_of(0.7, 101)
    assert bootstrap_interval(correct, seed=3) == bootstrap_interval(correct, seed=3)
    assert bootstrap_interval(correct, resamples=200, seed=1) != bootstrap_interval(correct, resamples=200, seed=2)


def test_chunked_draws_are_the_same_numbers(monkeypatch):
    from lmcourse.compare import stats

    correct = correct_of(0.6, 97)
    whole = bootstrap_interval(correct, resamples=500, seed=5)
    monkeypatch.setattr(stats, "CHUNK_ENTRIES", 97 * 7)  # 7 rows a chunk (the draws of stats.resampled_sets)
    assert bootstrap_interval(correct, resamples=500, seed=5) == whole


def test_all_correct_gives_a_point():
    assert bootstrap_interval(np.ones(30, dtype=int)) == (1.0, 1.0)


@pytest.mark.parametrize("bad", [[], [0, 2, 1], [[0, 1]], [0.5, 1.0]])
def test_correct_must_be_zeros_and_ones(bad):
    with pytest.raises(ValueError, match="0 and 1"):
        bootstrap_interval(bad)


def test_level_and_resamples_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        bootstrap_interval([0, 1, 1], level=95)
    with pytest.raises(ValueError, match="positive int"):
        bootstrap_interval([0, 1, 1], resamples=0)
