"""Batches: training windows as the answer key cuts them; evaluation scores every predicted token once."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data.vocabulary import BOS_ID, EOS_ID
from lmcourse.neural import by_hand
from lmcourse.neural.batches import (
    SENTENCE_START_INPUT,
    evaluation_columns,
    sentence_batches,
    stream_columns,
    training_stream,
    window,
    window_starts,
)

streams = st.lists(st.integers(0, 50), min_size=1, max_size=200).map(lambda xs: np.array(xs, dtype=np.int64))


@given(tokens=streams, batch=st.integers(1, 9), bptt=st.integers(1, 12))
def test_training_windows_are_the_answer_keys(tokens, batch, bptt):
    stream = training_stream(tokens)
    assert stream[0] == BOS_ID and np.array_equal(stream[1:], tokens)
    columns = stream_columns(stream, batch)
    ours = [window(columns, start, bptt) for start in window_starts(columns.shape[1], bptt)]
    expected = by_hand.batchify_stream(stream, batch, bptt)
    assert len(ours) == len(expected)
    for (inputs, targets), (want_inputs, want_targets) in zip(ours, expected):
        assert np.array_equal(inputs, want_inputs) and np.array_equal(targets, want_targets)


@given(tokens=streams, batch=st.integers(1, 70))
def test_evaluation_scores_every_token_exactly_once_with_its_true_predecessor(tokens, batch):
    columns = evaluation_columns(tokens, batch)
    assert columns.valid.sum() == len(tokens)
    order = np.arange(columns.inputs.size).reshape(columns.inputs.shape)
    assert np.array_equal(columns.scatter(order), np.arange(len(tokens)))       # stream order, no gap
    assert np.array_equal(columns.scatter(columns.targets), tokens)
    previous = np.concatenate([[BOS_ID], tokens[:-1]])
    assert np.array_equal(columns.scatter(columns.inputs), previous)


def sentences_split(lengths):
    tokens, starts = [], [0]
    for i, length in enumerate(lengths):
        tokens += [3 + (i + j) % 7 for j in range(length - 1)] + [EOS_ID]
        starts.append(starts[-1] + length)
    return np.array(tokens, dtype=np.int64), np.array(starts, dtype=np.int64)


@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=30), batch=st.integers(1, 8))
def test_sentence_batches_cover_every_token_once_each_from_the_start_input(lengths, batch):
    tokens, starts = sentences_split(lengths)
    seen = np.zeros(len(tokens), dtype=int)
    for inputs, targets, valid, positions in sentence_batches(tokens, starts, batch):
        assert np.all(inputs[:, 0] == SENTENCE_START_INPUT)
        seen[positions[valid]] += 1
        assert np.array_equal(targets[valid], tokens[positions[valid]])
        # inside a sentence, the input at t is the target at t-1
        assert np.array_equal(inputs[:, 1:][valid[:, 1:]], targets[:, :-1][valid[:, 1:]])
    assert np.all(seen == 1)
