"""The lesson 04 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

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
    check_stubs_get_zero,
    planted_bug_file,
    prepared_exercises,
)

from lmcourse.grading import get_lesson
from lmcourse.grading.exercise import generate_cases
from lmcourse.grading.lesson_04 import NUCLEUS_MARGIN, nucleus_margin
from lmcourse.neural import by_hand_attention

# What the planted bugs use besides the reference functions (``softmax``, ``log_softmax`` and
# ``causal_mask`` come with them).
BUG_IMPORTS = "import math\nimport numpy as np\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    # -- attention
    "attention: no 1/sqrt(d)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2)
            if causal:
                scores = np.where(causal_mask(q.shape[2]), -np.inf, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: divided by d, not sqrt(d)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / q.shape[-1]
            if causal:
                scores = np.where(causal_mask(q.shape[2]), -np.inf, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: scaled by the size of a value, sqrt(d_v)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(v.shape[-1])
            if causal:
                scores = np.where(causal_mask(q.shape[2]), -np.inf, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: mask off by one (the diagonal masked too)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
            if causal:
                length = q.shape[2]
                scores = np.where(np.triu(np.ones((length, length), dtype=bool)), -1e30, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: mask off by one (the next key visible)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
            if causal:
                length = q.shape[2]
                scores = np.where(np.triu(np.ones((length, length), dtype=bool), k=2), -np.inf, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: the past masked instead of the future": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
            if causal:
                scores = np.where(causal_mask(q.shape[2]).T, -np.inf, scores)
            return softmax(scores, axis=-1) @ v
    """),
    "attention: causal ignored": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            return softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), axis=-1) @ v
    """),
    "attention: softmax over the queries": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
            if causal:
                scores = np.where(causal_mask(q.shape[2]), -np.inf, scores)
            return softmax(scores, axis=-2) @ v
    """),
    "attention: the future zeroed after the softmax (rows no longer sum to 1)": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            weights = softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), axis=-1)
            if causal:
                weights = np.where(causal_mask(q.shape[2]), 0.0, weights)
            return weights @ v
    """),
    "attention: softmax without subtracting the maximum": ("scaled_dot_product_attention", """
        def scaled_dot_product_attention(q, k, v, causal):
            scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
            if causal:
                scores = np.where(causal_mask(q.shape[2]), -np.inf, scores)
            weights = np.exp(scores)
            return weights / weights.sum(axis=-1, keepdims=True) @ v
    """),
    # -- split and merge
    "split_heads: interleaved columns (head h every H-th feature)": ("split_heads", """
        def split_heads(x, heads):
            batch, length, features = x.shape
            return x.reshape(batch, length, features // heads, heads).transpose(0, 3, 1, 2)
    """),
    "split_heads: reshaped without the transpose": ("split_heads", """
        def split_heads(x, heads):
            batch, length, features = x.shape
            return x.reshape(batch, heads, length, features // heads)
    """),
    "split_heads: the heads in reverse order": ("split_heads", """
        def split_heads(x, heads):
            batch, length, features = x.shape
            return x.reshape(batch, length, heads, features // heads).transpose(0, 2, 1, 3)[:, ::-1]
    """),
    "split_heads: (B, H, d, T), the last two axes swapped": ("split_heads", """
        def split_heads(x, heads):
            batch, length, features = x.shape
            return x.reshape(batch, length, heads, features // heads).transpose(0, 2, 3, 1)
    """),
    "merge_heads: reshaped without the transpose": ("merge_heads", """
        def merge_heads(x):
            batch, heads, length, size = x.shape
            return x.reshape(batch, length, heads * size)
    """),
    "merge_heads: interleaved columns": ("merge_heads", """
        def merge_heads(x):
            batch, heads, length, size = x.shape
            return x.transpose(0, 2, 3, 1).reshape(batch, length, heads * size)
    """),
    "merge_heads: batch and time axes confused": ("merge_heads", """
        def merge_heads(x):
            batch, heads, length, size = x.shape
            return x.transpose(2, 0, 1, 3).reshape(batch, length, heads * size)
    """),
    "merge_heads: the heads in reverse order": ("merge_heads", """
        def merge_heads(x):
            batch, heads, length, size = x.shape
            return x[:, ::-1].transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
    """),
    # -- positions
    "sinusoidal_positions: sin and cos swapped": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(0, dim, 2) / dim)
            pe = np.zeros((length, dim))
            pe[:, 0::2], pe[:, 1::2] = np.cos(angles), np.sin(angles)
            return pe
    """),
    "sinusoidal_positions: 10000^(i/dim), not 10000^(2i/dim)": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(dim // 2) / dim)
            pe = np.zeros((length, dim))
            pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
            return pe
    """),
    "sinusoidal_positions: a frequency per column, not per pair": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(length)[:, None] / 10000.0 ** (2 * np.arange(dim) / dim)
            pe = np.sin(angles)
            pe[:, 1::2] = np.cos(angles[:, 1::2])
            return pe
    """),
    "sinusoidal_positions: all the sines, then all the cosines": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(0, dim, 2) / dim)
            return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    """),
    "sinusoidal_positions: positions counted from 1": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(1, length + 1)[:, None] / 10000.0 ** (np.arange(0, dim, 2) / dim)
            pe = np.zeros((length, dim))
            pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
            return pe
    """),
    "sinusoidal_positions: p * 10000^(2i/dim), the inverse wavelength": ("sinusoidal_positions", """
        def sinusoidal_positions(length, dim):
            angles = np.arange(length)[:, None] * 10000.0 ** (np.arange(0, dim, 2) / dim)
            pe = np.zeros((length, dim))
            pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
            return pe
    """),
    # -- cross-entropy
    "cross_entropy: naive exp (overflows at 1000)": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            return float(-np.mean(np.log(p[np.arange(len(targets)), targets])))
    """),
    "cross_entropy: sum instead of mean": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            return float(-np.sum(log_softmax(logits, axis=1)[np.arange(len(targets)), targets]))
    """),
    "cross_entropy: logits[:, targets] (every row at every target)": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            return float(-np.mean(log_softmax(logits, axis=1)[:, targets]))
    """),
    "cross_entropy: log-softmax over the rows (axis 0)": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            return float(-np.mean(log_softmax(logits, axis=0)[np.arange(len(targets)), targets]))
    """),
    "cross_entropy: the maximum subtracted inside the log only": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            m = logits.max(axis=1, keepdims=True)
            lse = np.log(np.exp(logits - m).sum(axis=1))
            return float(np.mean(lse - logits[np.arange(len(targets)), targets]))
    """),
    "cross_entropy: in bits (log2)": ("cross_entropy_from_logits", """
        def cross_entropy_from_logits(logits, targets):
            nats = -np.mean(log_softmax(logits, axis=1)[np.arange(len(targets)), targets])
            return float(nats / math.log(2.0))
    """),
    # -- top-k / top-p
    "top_k_top_p: top-p drops the id that crosses p": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            order = np.argsort(-log_p, kind="stable")
            kept = order[:top_k] if top_k is not None else order
            kept = kept[np.isfinite(log_p[kept])]
            if top_p is not None:
                p = np.exp(log_p[kept] - np.logaddexp.reduce(log_p[kept]))
                kept = kept[:max(1, int(np.sum(np.cumsum(p) < top_p)))]
            out = np.full_like(log_p, -np.inf)
            out[kept] = log_p[kept] - np.logaddexp.reduce(log_p[kept])
            return out
    """),
    "top_k_top_p: top-k keeps k + 1 ids": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            return top_k_top_p_filter_reference(log_p, None if top_k is None else top_k + 1, top_p)
    """),
    "top_k_top_p: top-k keeps k - 1 ids (at least one)": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            return top_k_top_p_filter_reference(log_p, None if top_k is None else max(1, top_k - 1), top_p)
    """),
    "top_k_top_p: not renormalized": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            kept = np.isfinite(top_k_top_p_filter_reference(log_p, top_k, top_p))
            return np.where(kept, log_p, -np.inf)
    """),
    "top_k_top_p: nucleus from the original probabilities (top-p before top-k)": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            order = np.argsort(-log_p, kind="stable")
            kept = order[:top_k] if top_k is not None else order
            kept = kept[np.isfinite(log_p[kept])]
            if top_p is not None:
                p = np.exp(log_p[kept])
                kept = kept[np.cumsum(p) - p < top_p]
            out = np.full_like(log_p, -np.inf)
            out[kept] = log_p[kept] - np.logaddexp.reduce(log_p[kept])
            return out
    """),
    "top_k_top_p: ties broken by the higher id": ("top_k_top_p_filter", """
        def top_k_top_p_filter(log_p, top_k, top_p):
            order = np.argsort(log_p, kind="stable")[::-1]
            kept = order[:top_k] if top_k is not None else order
            kept = kept[np.isfinite(log_p[kept])]
            if top_p is not None:
                p = np.exp(log_p[kept] - np.logaddexp.reduce(log_p[kept]))
                kept = kept[np.cumsum(p) - p < top_p]
            out = np.full_like(log_p, -np.inf)
            out[kept] = log_p[kept] - np.logaddexp.reduce(log_p[kept])
            return out
    """),
}

# A few bugs call the reference under another name (the buggy definition replaces the name).
BUG_IMPORTS += "from lmcourse.neural.by_hand_attention import top_k_top_p_filter as top_k_top_p_filter_reference\n"

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math

    import numpy as np

    def scaled_dot_product_attention(q, k, v, causal):
        scores = np.einsum("bhtd,bhsd->bhts", q, k) / np.sqrt(q.shape[-1])
        if causal:
            t = np.arange(q.shape[2])
            scores = np.where(t[None, :] > t[:, None], -1e300, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        return np.einsum("bhts,bhse->bhte", weights, v)

    def split_heads(x, heads):
        size = x.shape[2] // heads
        return np.stack([x[:, :, h * size:(h + 1) * size] for h in range(heads)], axis=1)

    def merge_heads(x):
        return np.concatenate([x[:, h] for h in range(x.shape[1])], axis=-1)

    def sinusoidal_positions(length, dim):
        table = np.zeros((length, dim))
        for p in range(length):
            for i in range(dim // 2):
                angle = p * math.exp(-math.log(10000.0) * 2 * i / dim)
                table[p, 2 * i] = math.sin(angle)
                table[p, 2 * i + 1] = math.cos(angle)
        return table

    def cross_entropy_from_logits(logits, targets):
        total = 0.0
        for row, target in zip(logits, targets):
            m = max(row)
            total += m + math.log(sum(math.exp(x - m) for x in row)) - row[target]
        return total / len(targets)

    def top_k_top_p_filter(log_p, top_k, top_p):
        ranked = sorted((i for i in range(len(log_p)) if log_p[i] > -math.inf), key=lambda i: (-log_p[i], i))
        if top_k is not None:
            ranked = ranked[:top_k]
        if top_p is not None and ranked:
            weights = [math.exp(log_p[i] - log_p[ranked[0]]) for i in ranked]
            mass, nucleus = 0.0, []
            for i, w in zip(ranked, weights):
                if mass / sum(weights) >= top_p:
                    break
                nucleus.append(i)
                mass += w
            ranked = nucleus
        out = np.full(len(log_p), -np.inf)
        if ranked:
            norm = np.logaddexp.reduce([log_p[i] for i in ranked])
            for i in ranked:
                out[i] = log_p[i] - norm
        return out
"""

prepared = prepared_exercises("04")


def test_reference_gets_full_points():
    check_reference_gets_full_points("04")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("04", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("04", PLANTED_BUGS)


def test_every_exercise_has_at_least_three_planted_bugs():
    names = [name for name, _ in PLANTED_BUGS.values()]
    assert all(names.count(exercise.name) >= 3 for exercise in get_lesson("04").exercises())


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("04", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("04", capsys)
    assert result["max_total"] == 10


# -- the cases themselves ------------------------------------------------------------------------------------
def test_no_nucleus_case_is_decided_by_rounding():
    """Every top-p case, fixed or generated, keeps p away from the mass before each candidate id."""
    [exercise] = [e for e in get_lesson("04").exercises() if e.name == "top_k_top_p_filter"]
    cases = list(exercise.fixed_cases) + generate_cases(exercise.generated_cases, exercise.n_generated)
    assert sum(case.args[2] is not None for case in cases) >= 20  # plenty of top-p cases remain
    for case in cases:
        assert nucleus_margin(*case.args) >= NUCLEUS_MARGIN, case


def test_the_docstring_examples_are_the_answer_keys():
    """The examples in the stubs' docstrings, run with the answer key's functions, print what they show."""
    spec = importlib.util.spec_from_file_location("lesson_04_stubs", REPO_ROOT / "lessons" / "04_transformer"
                                                  / "exercises.py")
    stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubs)
    names = [exercise.name for exercise in get_lesson("04").exercises()]
    globs = {"np": np, "math": math, **{name: getattr(by_hand_attention, name) for name in names}}
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
    check_lesson_pytest_grades_the_reference("04")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("04")
