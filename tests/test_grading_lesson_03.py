"""The lesson 03 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

from __future__ import annotations

import pytest
from lesson_checks import (
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

# What the planted bugs use besides the reference functions (``sigmoid`` comes with them).
BUG_IMPORTS = "import math\nimport numpy as np\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    "rnn_cell_step: sigmoid instead of tanh": ("rnn_cell_step", """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return sigmoid(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
    """),
    "rnn_cell_step: b_hh forgotten": ("rnn_cell_step", """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T)
    """),
    "rnn_cell_step: the old state ignored": ("rnn_cell_step", """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return np.tanh(x @ weight_ih.T + bias_ih + bias_hh)
    """),
    "rnn_cell_step: weights not transposed": ("rnn_cell_step", """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return np.tanh(x @ weight_ih + bias_ih + h @ weight_hh + bias_hh)
    """),
    "lstm_cell_step: gate order (i, f, o, g)": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)
            c_next = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
            return sigmoid(a_o) * np.tanh(c_next), c_next
    """),
    "lstm_cell_step: forget and input gates swapped": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            a_f, a_i, a_g, a_o = np.split(a, 4, axis=1)
            c_next = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
            return sigmoid(a_o) * np.tanh(c_next), c_next
    """),
    "lstm_cell_step: c' without the forget gate": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
            c_next = c + sigmoid(a_i) * np.tanh(a_g)
            return sigmoid(a_o) * np.tanh(c_next), c_next
    """),
    "lstm_cell_step: h' = o * c' (no tanh)": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
            c_next = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
            return sigmoid(a_o) * c_next, c_next
    """),
    "lstm_cell_step: h' from the old cell": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
            c_next = sigmoid(a_f) * c + sigmoid(a_i) * np.tanh(a_g)
            return sigmoid(a_o) * np.tanh(c), c_next
    """),
    "lstm_cell_step: candidate through sigmoid": ("lstm_cell_step", """
        def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
            a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
            i, f, g, o = (sigmoid(part) for part in np.split(a, 4, axis=1))
            c_next = f * c + i * g
            return o * np.tanh(c_next), c_next
    """),
    "batchify_stream: columns interleaved, not contiguous": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(length, batch).T
            windows = []
            for t in range(0, length - 1, bptt):
                n = min(bptt, length - 1 - t)
                windows.append((columns[:, t:t + n], columns[:, t + 1:t + 1 + n]))
            return windows
    """),
    "batchify_stream: targets not shifted": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(batch, length)
            windows = []
            for t in range(0, length - 1, bptt):
                n = min(bptt, length - 1 - t)
                windows.append((columns[:, t:t + n], columns[:, t:t + n]))
            return windows
    """),
    "batchify_stream: windows advance by bptt + 1 (off by one)": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(batch, length)
            windows = []
            for t in range(0, length - 1, bptt + 1):
                n = min(bptt, length - 1 - t)
                windows.append((columns[:, t:t + n], columns[:, t + 1:t + 1 + n]))
            return windows
    """),
    "batchify_stream: a window without targets at the end": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(batch, length)
            windows = []
            for t in range(0, length, bptt):
                n = min(bptt, length - 1 - t)
                windows.append((columns[:, t:t + n], columns[:, t + 1:t + 1 + n]))
            return windows
    """),
    "batchify_stream: remainder dropped from the front": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[len(tokens) - batch * length:].reshape(batch, length)
            windows = []
            for t in range(0, length - 1, bptt):
                n = min(bptt, length - 1 - t)
                windows.append((columns[:, t:t + n], columns[:, t + 1:t + 1 + n]))
            return windows
    """),
    "batchify_stream: last short window dropped": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(batch, length)
            return [(columns[:, t:t + bptt], columns[:, t + 1:t + 1 + bptt])
                    for t in range(0, length - bptt, bptt)]
    """),
    "batchify_stream: the last inputs not shortened": ("batchify_stream", """
        def batchify_stream(tokens, batch, bptt):
            length = len(tokens) // batch
            columns = tokens[:batch * length].reshape(batch, length)
            return [(columns[:, t:t + bptt], columns[:, t + 1:t + 1 + bptt]) for t in range(0, length - 1, bptt)]
    """),
    "clip_grad_norm: each array clipped by its own norm": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            norms = [float(np.sqrt(np.sum(g ** 2))) for g in grads]
            clipped = [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
            return clipped, math.sqrt(sum(n ** 2 for n in norms))
    """),
    "clip_grad_norm: always scaled": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
            return [g * (max_norm / (total + 1e-6)) for g in grads], total
    """),
    "clip_grad_norm: no 1e-6": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
            scale = min(1.0, max_norm / total) if total > 0 else 1.0
            return [g * scale for g in grads], total
    """),
    "clip_grad_norm: scaled only when total > max_norm, not min(1, ...)": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
            scale = max_norm / (total + 1e-6) if total > max_norm else 1.0
            return [g * scale for g in grads], total
    """),
    "clip_grad_norm: sum of squares, no square root": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            total = sum(float(np.sum(g ** 2)) for g in grads)
            return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total
    """),
    "clip_grad_norm: the norm after clipping returned": ("clip_grad_norm", """
        def clip_grad_norm(grads, max_norm):
            total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
            clipped = [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]
            return clipped, math.sqrt(sum(float(np.sum(g ** 2)) for g in clipped))
    """),
    "perplexity_from_loss: log instead of exp": ("perplexity_from_loss", """
        def perplexity_from_loss(summed_loss_nats, token_count):
            return math.log(summed_loss_nats / token_count) if summed_loss_nats > 0 else 0.0
    """),
    "perplexity_from_loss: base 2": ("perplexity_from_loss", """
        def perplexity_from_loss(summed_loss_nats, token_count):
            return 2.0 ** (summed_loss_nats / token_count)
    """),
    "perplexity_from_loss: summed loss not divided": ("perplexity_from_loss", """
        def perplexity_from_loss(summed_loss_nats, token_count):
            return math.exp(min(summed_loss_nats, 700.0))
    """),
    "perplexity_from_loss: one token too many (<s> counted)": ("perplexity_from_loss", """
        def perplexity_from_loss(summed_loss_nats, token_count):
            return math.exp(summed_loss_nats / (token_count + 1))
    """),
    "perplexity_from_loss: sign flipped": ("perplexity_from_loss", """
        def perplexity_from_loss(summed_loss_nats, token_count):
            return math.exp(-summed_loss_nats / token_count)
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math

    import numpy as np

    def sigma(a):
        return 1.0 / (1.0 + np.exp(-a))

    def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(np.einsum("bi,hi->bh", x, weight_ih) + np.einsum("bj,hj->bh", h, weight_hh)
                       + (bias_ih + bias_hh))

    def lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        size = h.shape[1]
        a = np.concatenate([x, h], axis=1) @ np.concatenate([weight_ih, weight_hh], axis=1).T + bias_ih + bias_hh
        i, f = sigma(a[:, :size]), sigma(a[:, size:2 * size])
        g, o = np.tanh(a[:, 2 * size:3 * size]), sigma(a[:, 3 * size:])
        c_next = f * c + i * g
        return (o * np.tanh(c_next), c_next)

    def batchify_stream(tokens, batch, bptt):
        length = len(tokens) // batch
        rows = [tokens[b * length:(b + 1) * length] for b in range(batch)]
        windows = []
        start = 0
        while start + 1 < length:
            stop = min(start + bptt, length - 1)
            windows.append((np.array([row[start:stop] for row in rows]),
                            np.array([row[start + 1:stop + 1] for row in rows])))
            start = stop
        return windows

    def clip_grad_norm(grads, max_norm):
        total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads])))
        coefficient = max_norm / (total + 1e-6)
        if coefficient < 1:
            return [g * coefficient for g in grads], total
        return [np.array(g, dtype=float) for g in grads], total

    def perplexity_from_loss(summed_loss_nats, token_count):
        return math.exp(summed_loss_nats / token_count)
"""

prepared = prepared_exercises("03")


def test_reference_gets_full_points():
    check_reference_gets_full_points("03")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("03", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("03", PLANTED_BUGS)


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("03", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("03", capsys)
    assert result["max_total"] == 10


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("03")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("03")
