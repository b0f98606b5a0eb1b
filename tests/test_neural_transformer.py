"""The Transformer: written-out attention == PyTorch's fused kernel and nn.MultiheadAttention; causality;
the parameter formula; distributions sum to 1; the key/value cache; sliding-window scoring."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lmcourse.data.vocabulary import BOS_ID
from lmcourse.errors import UserError
from lmcourse.neural.transformer import (
    SelfAttention,
    TransformerConfig,
    TransformerLanguageModel,
    attention,
    causal_mask,
    sinusoidal_positions,
)

TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}
V = 29


def tiny_config(**options) -> TransformerConfig:
    fields = dict(vocab_size=V, layers=2, heads=2, d_model=8, context=10, dropout=0.0)
    return TransformerConfig(**{**fields, **options})


def tiny_model(dtype=torch.float64, seed=0, **options) -> TransformerLanguageModel:
    torch.manual_seed(seed)
    return TransformerLanguageModel(tiny_config(**options)).to(dtype).eval()


def close(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> bool:
    scale = max(1.0, float(b.detach().abs().max()))
    return float((a - b).detach().abs().max()) <= TOLERANCE[dtype] * scale


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("causal", [True, False])
def test_written_out_attention_equals_the_fused_kernel(causal, dtype):
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 5, generator=generator, dtype=dtype) for _ in range(3))   # (B, H, T, d)
    written, weights = attention(q, k, v, causal, fused=False)
    fused, _ = attention(q, k, v, causal, fused=True)
    assert close(written, fused, dtype)
    assert close(written, F.scaled_dot_product_attention(q, k, v, is_causal=causal), dtype)
    assert torch.allclose(weights.sum(-1), torch.ones((), dtype=dtype))
    if causal:
        assert (weights.triu(diagonal=1) == 0).all()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cached_keys_are_masked_as_the_last_queries(dtype):
    """With S > T (a key/value cache), query i is the (S - T + i)-th position: both paths agree with the
    full computation's last T rows."""
    generator = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 6, 4, generator=generator, dtype=dtype) for _ in range(3))
    full, _ = attention(q, k, v, causal=True, fused=False)
    for fused in (False, True):
        tail, _ = attention(q[:, :, -2:], k, v, causal=True, fused=fused)
        assert close(tail, full[:, :, -2:], dtype)
    assert causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("fused", [True, False])
def test_self_attention_equals_nn_multihead_attention(fused, dtype):
    torch.manual_seed(2)
    config = tiny_config(d_model=12, heads=3, fused=fused)
    ours = SelfAttention(config).to(dtype)
    theirs = nn.MultiheadAttention(12, 3, batch_first=True).to(dtype)
    with torch.no_grad():                       # the same weights: W_Q, W_K, W_V stacked, then W_O
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, 9, 12, dtype=dtype)
    mask = ~causal_mask(9, 9)                   # nn.MultiheadAttention: True = not allowed
    expected, expected_weights = theirs(x, x, x, attn_mask=mask, average_attn_weights=False)
    got, _, weights = ours(x, need_weights=True)
    assert close(got, expected, dtype)
    assert close(weights, expected_weights, dtype)
    if fused:
        fast, _, _ = ours(x)
        assert close(fast, expected, dtype)


@pytest.mark.parametrize("options", [{}, {"positions": "sinusoidal"}, {"fused": False}])
def test_written_out_model_equals_the_fused_one_values_and_gradients(options):
    fused = tiny_model(**options)
    scratch = tiny_model(**{**options, "fused": False})
    scratch.load_state_dict(fused.state_dict())
    inputs, targets = torch.randint(0, V, (3, 10)), torch.randint(3, V, (3, 10))
    grads = []
    for model in (fused, scratch):
        loss, _ = model(inputs, targets, None)
        loss.backward()
        grads.append({name: p.grad for name, p in model.named_parameters()})
    for name in grads[0]:
        assert close(grads[0][name], grads[1][name], torch.float64), name


@settings(max_examples=15)
@given(position=st.integers(0, 9), new_token=st.integers(0, V - 1), fused=st.booleans())
def test_changing_token_t_never_changes_an_output_before_t(position, new_token, fused):
    model = tiny_model(fused=fused)
    inputs = torch.randint(0, V, (1, 10), generator=torch.Generator().manual_seed(3))
    changed = inputs.clone()
    changed[0, position] = new_token
    before, _ = model.encode(inputs, None)
    after, _ = model.encode(changed, None)
    assert torch.equal(before[:, :position], after[:, :position])


def test_the_bidirectional_block_sees_the_future():
    model = tiny_model(causal=False)
    inputs = torch.randint(3, V, (1, 6), generator=torch.Generator().manual_seed(4))
    changed = inputs.clone()
    changed[0, 5] = (inputs[0, 5] + 1) % V
    assert not torch.allclose(model.encode(inputs, None)[0][:, 0], model.encode(changed, None)[0][:, 0])


@pytest.mark.parametrize("options", [{}, {"tie": False}, {"positions": "sinusoidal"}, {"mlp_ratio": 2},
                                     {"layers": 3, "heads": 4, "d_model": 16, "context": 5}, {"emb": 4},
                                     {"emb": 4, "tie": False}])
def test_the_parameter_count_is_the_docstring_formula(options):
    config = tiny_config(**options)
    assert TransformerLanguageModel(config).num_parameters() == config.num_parameters()


def test_tied_output_is_the_token_embedding():
    model = tiny_model()
    assert model.decoder.weight is model.token_embedding.weight


@settings(max_examples=10)
@given(seed=st.integers(0, 100), options=st.sampled_from([{}, {"tie": False}, {"positions": "sinusoidal"},
                                                         {"tie": False, "adaptive_cutoffs": (8,)}, {"emb": 4}]))
def test_every_distribution_sums_to_one_and_never_predicts_bos(seed, options):
    model = tiny_model(seed=seed, **options)
    hidden, _ = model.encode(torch.randint(0, V, (2, 7), generator=torch.Generator().manual_seed(seed)), None)
    log_p = model.log_probs(hidden)                                          # (2, 7, V)
    assert torch.allclose(log_p.exp().sum(-1), torch.ones((), dtype=torch.float64), atol=1e-12)
    assert (log_p[..., BOS_ID] == float("-inf")).all()


def test_the_training_loss_is_the_mean_negative_log_probability():
    model = tiny_model()
    inputs, targets = torch.randint(0, V, (2, 8)), torch.randint(3, V, (2, 8))
    loss, _ = model(inputs, targets, None)
    hidden, _ = model.encode(inputs, None)
    assert torch.allclose(loss, -model.target_log_probs(hidden, targets).mean())


@pytest.mark.parametrize("fused", [True, False])
def test_reading_one_token_at_a_time_with_the_cache_equals_reading_all_at_once(fused):
    model = tiny_model(fused=fused)
    inputs = torch.randint(0, V, (2, 10), generator=torch.Generator().manual_seed(5))
    whole, _ = model.encode(inputs, None)
    state, pieces = model.initial_state(2), []
    for t in range(10):
        hidden, state = model.encode(inputs[:, t:t + 1], state)
        assert state[1] is not None and state[1][0][0].size(2) == t + 1      # the cache grows by one key
        pieces.append(hidden)
    assert close(torch.cat(pieces, dim=1), whole, torch.float64)


def test_past_the_context_the_window_slides_over_the_last_tokens():
    model = tiny_model()                                                     # context 10
    inputs = torch.randint(0, V, (1, 14), generator=torch.Generator().manual_seed(6))
    state = model.initial_state(1)
    for t in range(14):
        hidden, state = model.encode(inputs[:, t:t + 1], state)
    alone, _ = model.encode(inputs[:, -10:], None)                           # the last 10 tokens afresh
    assert close(hidden[:, -1], alone[:, -1], torch.float64)
    assert state[0].shape == (1, 10)


def test_training_mode_keeps_no_cache_in_the_state():
    model = tiny_model().train()
    _, (tokens, cache) = model.encode(torch.randint(0, V, (2, 4)), None)
    assert cache is None and tokens.shape == (2, 4)


def test_a_sequence_longer_than_the_context_is_read_in_pieces():
    model = tiny_model()
    hidden, _ = model.encode(torch.randint(0, V, (2, 33)), None)
    assert hidden.shape == (2, 33, 8)


def test_sinusoidal_positions_follow_the_formula():
    table = sinusoidal_positions(7, 6)
    for p, i in [(0, 0), (3, 1), (6, 2)]:
        angle = p / 10000 ** (2 * i / 6)
        assert math.isclose(table[p, 2 * i].item(), math.sin(angle), abs_tol=1e-7)
        assert math.isclose(table[p, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-7)


def test_attention_maps_are_per_layer_and_head_and_causal():
    model = tiny_model()
    maps = model.attention_maps(torch.tensor([1, 5, 6, 7, 8]))
    assert maps.shape == (2, 2, 5, 5)
    assert torch.allclose(maps.sum(-1), torch.ones((), dtype=torch.float64))
    assert (maps.triu(diagonal=1) == 0).all()


@pytest.mark.parametrize("options, message", [
    ({"heads": 3}, "does not divide --d-model"),
    ({"context": 0}, "--context must be at least 1"),
    ({"dropout": 1.0}, "--dropout must be in [0, 1)"),
    ({"dropout": -0.1}, "--dropout must be in [0, 1)"),
    ({"embedding_dropout": 1.0}, "--embedding-dropout must be in [0, 1)"),
    ({"positions": "rotary"}, "unknown --positions"),
    ({"tie": True, "adaptive_cutoffs": (8,)}, "cannot be combined"),
    ({"stride": 11}, "--stride must be between"),
])
def test_bad_settings_are_one_line_errors(options, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        TransformerLanguageModel(tiny_config(**options))


# -- through the course's interface --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    from lmcourse.data import load_corpus
    from lmcourse.neural import TrainConfig, make_model

    corpus = load_corpus("synthetic")
    model = make_model("transformer", layers=1, heads=2, d_model=16, context=12, stride=5, dropout=0.0,
                       training=TrainConfig(optimizer="adamw", lr=1e-2, schedule="constant", batch=8, bptt=12,
                                            steps=30, eval_every=30, eval_batch=3))
    return model.fit(corpus, progress_bar=False), corpus


def brute_force_stream_log_probs(model, tokens: np.ndarray, context: int, stride: int) -> np.ndarray:
    """One column: the window ending at e = stride, 2 stride, ... read afresh from max(0, e - context)."""
    inputs = np.concatenate([[BOS_ID], tokens[:-1]])
    scores = np.zeros(len(tokens))
    for start in range(0, len(tokens), stride):
        end = min(start + stride, len(tokens))
        window = torch.from_numpy(inputs[max(0, end - context):end]).unsqueeze(0)
        with torch.no_grad():
            hidden, _ = model.module.encode(window, None)
            log_p = model.module.target_log_probs(hidden, torch.from_numpy(tokens[max(0, end - context):end])[None])
        scores[start:end] = log_p[0, -(end - start):].double().numpy()
    return scores


def test_sliding_window_scoring_reads_each_token_once_after_the_most_context_the_window_allows(fitted):
    model, corpus = fitted
    tokens = corpus.split("valid").tokens[:200]
    got = model.log_probs(dataclasses.replace(corpus.split("valid"), tokens=tokens), batch=1)
    expected = brute_force_stream_log_probs(model, np.asarray(tokens, dtype=np.int64), context=12, stride=5)
    assert got.shape == (200,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_every_predicted_token_is_scored_in_both_modes(fitted):
    model, corpus = fitted
    test = corpus.split("test")
    for per_sentence in (False, True):
        log_p = model.log_probs(test, per_sentence=per_sentence)
        assert log_p.shape == (test.num_predicted,) and np.isfinite(log_p).all() and (log_p < 0).all()
    assert abs(np.exp(model.log_distribution(["the"])).sum() - 1) < 1e-6


def test_cached_and_uncached_sampling_give_the_same_words(fitted):
    model, _ = fitted
    for seed in range(5):
        options = dict(seed=seed, max_words=30, top_k=20, top_p=0.95)
        assert model.generate(use_cache=True, **options) == model.generate(use_cache=False, **options)


def test_a_prompt_longer_than_the_context_is_cropped_with_a_warning(fitted):
    model, corpus = fitted
    prompt = corpus.vocab.decode(corpus.split("train").tokens[:40].tolist())
    prompt = [w for w in prompt if w not in ("</s>", "<s>")][:30]
    with pytest.warns(UserWarning, match="only the last 12 are read"):
        words = model.generate(seed=0, context=prompt)
    assert isinstance(words, list)


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    from lmcourse.data import load_corpus
    from lmcourse.neural import TrainConfig, make_model

    corpus = load_corpus("synthetic")

    def run(folder, steps, resume=False):
        training = TrainConfig(optimizer="adamw", lr=3e-3, schedule="constant", batch=4, bptt=8, steps=steps,
                               eval_every=5, seed=1)
        model = make_model("transformer", layers=1, heads=2, d_model=8, context=8, dropout=0.1, training=training)
        return model.fit(corpus, checkpoint_dir=folder, resume=resume, progress_bar=False)

    from lmcourse.neural import checkpoint

    run(tmp_path / "whole", 12)
    run(tmp_path / "split", 6)
    run(tmp_path / "split", 12, resume=True)
    whole, resumed = (checkpoint.load_checkpoint(tmp_path / name, checkpoint.LAST) for name in ("whole", "split"))
    assert whole["progress"]["step"] == resumed["progress"]["step"] == 12
    for name, weight in whole["model"].items():
        assert torch.equal(weight, resumed["model"][name]), name
