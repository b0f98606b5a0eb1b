"""The recurrent models: written-out cells == fused kernels == the numpy answer key; distributions sum to 1."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.errors import UserError
from lmcourse.neural import by_hand
from lmcourse.neural.rnn import CELLS, RecurrentLayer, RNNConfig, RNNLanguageModel, embedding_dropout

KINDS = sorted(CELLS)
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def twin_models(kind: str, layers: int, dtype: torch.dtype, **options):
    """The same language model twice, fused and written out, with the same weights."""
    torch.manual_seed(0)
    config = RNNConfig(cell=kind, vocab_size=23, emb=7, hidden=6, layers=layers, dropout=0.0, **options)
    fused = RNNLanguageModel(config).to(dtype)
    scratch = RNNLanguageModel(dataclasses.replace(config, fused=False)).to(dtype)
    scratch.load_state_dict(fused.state_dict())
    return fused, scratch


def close(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> bool:
    scale = max(1.0, float(b.detach().abs().max()))
    return float((a - b).detach().abs().max()) <= TOLERANCE[dtype] * scale


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_written_out_cells_equal_the_fused_kernels(kind, layers, dtype):
    fused, scratch = twin_models(kind, layers, dtype)
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randint(0, 23, (3, 9), generator=generator)
    targets = torch.randint(3, 23, (3, 9), generator=generator)
    state = [tuple(torch.randn(s.shape, generator=generator, dtype=dtype) for s in layer_state)
             for layer_state in fused.initial_state(3)]
    results = []
    for model in (fused, scratch):
        hidden, final = model.encode(inputs, state)
        loss, _ = model(inputs, targets, state)
        loss.backward()
        results.append((hidden, final, {name: p.grad.clone() for name, p in model.named_parameters()}))
    (h1, s1, g1), (h2, s2, g2) = results
    assert close(h1, h2, dtype)
    for layer1, layer2 in zip(s1, s2):
        for a, b in zip(layer1, layer2):
            assert close(a, b, dtype)
    assert g1.keys() == g2.keys()
    for name in g1:
        assert close(g1[name], g2[name], dtype), name


@pytest.mark.parametrize("kind", KINDS)
def test_a_layer_equals_the_numpy_answer_key(kind):
    torch.manual_seed(2)
    cell = CELLS[kind](4, 5).double()
    layer = RecurrentLayer(cell, fused=True)
    x = torch.randn(2, 6, 4, dtype=torch.float64)
    state = cell.initial_state(2)
    output, final = layer(x, state)
    weights = [w.detach().numpy() for w in cell.kernel_weights()]
    step = {"rnn": by_hand.rnn_cell_step, "gru": by_hand.gru_cell_step, "lstm": by_hand.lstm_cell_step}[kind]
    numpy_state = tuple(s.numpy() for s in state)
    for t in range(6):
        result = step(x[:, t].numpy(), *numpy_state, *weights)
        numpy_state = result if isinstance(result, tuple) else (result,)
        assert np.allclose(output[:, t].detach().numpy(), numpy_state[0], atol=1e-12, rtol=0)
    assert np.allclose(final[-1].detach().numpy(), numpy_state[-1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("options", [{}, {"tie": True, "emb": 6}, {"adaptive_cutoffs": (8, 15)}],
                         ids=["full", "tied", "adaptive"])
@given(seed=st.integers(0, 2**16))
def test_every_distribution_sums_to_one_and_never_predicts_bos(options, seed):
    torch.manual_seed(seed)
    config = RNNConfig(cell="lstm", vocab_size=23, **{"emb": 7, "hidden": 6, "layers": 2, **options})
    model = RNNLanguageModel(config).double().eval()
    inputs = torch.randint(0, 23, (2, 5))
    hidden, _ = model.encode(inputs, model.initial_state(2))
    log_p = model.log_probs(hidden)                                          # (2, 5, 23)
    assert torch.allclose(log_p.exp().sum(-1), torch.ones(2, 5, dtype=torch.float64), atol=1e-6, rtol=0)
    assert torch.all(log_p[..., BOS_ID] == float("-inf"))
    targets = torch.randint(3, 23, (2, 5))
    assert torch.allclose(model.target_log_probs(hidden, targets), log_p.gather(-1, targets[..., None])[..., 0])


@given(p=st.floats(0.05, 0.9), seed=st.integers(0, 2**16))
def test_embedding_dropout_is_masking_the_embedding_matrix(p, seed):
    """Dropping looked-up rows gives what masking the whole (V, E) matrix gives (Merity et al.'s way), with
    the same random draws: a dropped word is zero at every occurrence, a kept one scaled by 1 / (1 - p)."""
    embedding = torch.nn.Embedding(30, 4)
    ids = torch.randint(0, 30, (3, 7), generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    dropped = embedding_dropout(embedding, ids, p, training=True)
    torch.manual_seed(seed)
    keep = torch.empty(30).bernoulli_(1 - p) / (1 - p)
    expected = torch.nn.functional.embedding(ids, embedding.weight * keep[:, None])
    torch.testing.assert_close(dropped, expected, rtol=0, atol=0)
    assert torch.equal(embedding_dropout(embedding, ids, p, training=False), embedding(ids))


def test_tied_weights_are_one_matrix_and_the_last_layer_has_emb_units():
    model = RNNLanguageModel(RNNConfig(vocab_size=50, emb=8, hidden=12, layers=2, tie=True))
    assert model.decoder.weight is model.embedding.weight
    assert model.layers[-1].cell.hidden_size == 8
    same_sizes = dict(vocab_size=50, emb=8, hidden=8, layers=2)
    tied, untied = RNNLanguageModel(RNNConfig(**same_sizes, tie=True)), RNNLanguageModel(RNNConfig(**same_sizes))
    assert untied.num_parameters() - tied.num_parameters() == 50 * 8  # one (V, E) matrix fewer


def test_the_training_loss_is_the_mean_negative_log_probability():
    torch.manual_seed(3)
    model = RNNLanguageModel(RNNConfig(vocab_size=30, emb=5, hidden=5, layers=1, dropout=0.0)).double().eval()
    inputs, targets = torch.randint(0, 30, (2, 4)), torch.randint(3, 30, (2, 4))
    loss, _ = model(inputs, targets, model.initial_state(2))
    hidden, _ = model.encode(inputs, model.initial_state(2))
    assert float(loss) == pytest.approx(float(-model.target_log_probs(hidden, targets).mean()), rel=1e-12)


@pytest.mark.parametrize("options, message", [
    ({"cell": "transformer"}, "unknown cell"),
    ({"hidden": 0}, "--hidden"),
    ({"layers": -1}, "--layers"),
    ({"dropout": 1.0}, "--dropout"),
    ({"embedding_dropout": -0.1}, "--embedding-dropout"),
    ({"tie": True, "adaptive_cutoffs": (10,)}, "cannot be combined"),
    ({"adaptive_cutoffs": (20, 10)}, "cutoffs"),
    ({"adaptive_cutoffs": (5, 99)}, "cutoffs"),
])
def test_bad_settings_are_one_line_errors(options, message):
    with pytest.raises(UserError, match=message) as error:
        RNNConfig(vocab_size=50, **options).check()
    assert "\n" not in str(error.value)
