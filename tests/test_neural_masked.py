"""The masked language model: BERT's 80/10/10 masking, the loss on chosen positions only, a bidirectional
encoder, pseudo-log-likelihoods as the formula, and the course's interface (no perplexity, one-line errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data import load_corpus
from lmcourse.data.vocabulary import BOS_ID
from lmcourse.errors import UserError
from lmcourse.neural import TrainConfig, make_model
from lmcourse.neural.checkpoint import LAST, load_checkpoint
from lmcourse.neural.masked import (
    IGNORE,
    MaskedLanguageModel,
    MaskedLMConfig,
    MaskedTransformer,
    mask_tokens,
    pseudo_log_likelihoods,
    pseudo_perplexity,
)
from lmcourse.neural.model import NeuralLanguageModel
from lmcourse.neural.transformer import TransformerConfig, TransformerLanguageModel

V = 50  # 49 corpus ids + <mask>
MASK_ID = V - 1


def within_binomial(count: int, trials: int, p: float, z: float = 5.0) -> bool:
    """``count`` successes of ``trials`` lie within z standard deviations of the binomial mean."""
    mean, sd = trials * p, math.sqrt(trials * p * (1 - p))
    return abs(count - mean) <= z * sd + 1


def tiny_encoder(causal: bool = False, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    if causal:
        return TransformerLanguageModel(TransformerConfig(vocab_size=V, layers=2, heads=2, d_model=16, context=12,
                                                          dropout=0.0))
    return MaskedTransformer(MaskedLMConfig(vocab_size=V, layers=2, heads=2, d_model=16, context=12, dropout=0.0))



@given(seed=st.integers(0, 2**31 - 1), select=st.sampled_from([0.15, 0.3, 0.5]))
def test_masking_proportions_are_berts_within_binomial_bounds(seed, select):
    ids = torch.randint(3, MASK_ID, (40, 500), generator=torch.Generator().manual_seed(seed))
    inputs, labels = mask_tokens(ids, MASK_ID, select=select, generator=torch.Generator().manual_seed(seed + 1))
    chosen = labels != IGNORE
    n = int(chosen.sum())
    assert within_binomial(n, ids.numel(), select)
    masked = int((chosen & (inputs == MASK_ID)).sum())
    unchanged = int((chosen & (inputs == ids)).sum())
    randomized = n - masked - unchanged
    words = MASK_ID - 3   # a random replacement equals the original with probability 1 / words
    assert within_binomial(masked, n, 0.8)
    assert within_binomial(unchanged, n, 0.1 + 0.1 / words)
    assert within_binomial(randomized, n, 0.1 * (1 - 1 / words))
    assert torch.equal(inputs[~chosen], ids[~chosen])              # unchosen positions are never touched
    assert torch.equal(labels[chosen], ids[chosen])                # the label is the original token
    replaced = chosen & (inputs != MASK_ID) & (inputs != ids)
    assert bool(((inputs[replaced] >= 3) & (inputs[replaced] < MASK_ID)).all())   # random words, not specials


def test_sentence_start_is_never_chosen_and_masking_is_seeded():
    ids = torch.full((8, 200), BOS_ID)
    ids[:, 1::2] = 7
    inputs, labels = mask_tokens(ids, MASK_ID, select=0.9, generator=torch.Generator().manual_seed(3))
    assert bool((labels[ids == BOS_ID] == IGNORE).all()) and bool((inputs[ids == BOS_ID] == BOS_ID).all())
    again = mask_tokens(ids, MASK_ID, select=0.9, generator=torch.Generator().manual_seed(3))
    other = mask_tokens(ids, MASK_ID, select=0.9, generator=torch.Generator().manual_seed(4))
    assert torch.equal(inputs, again[0]) and torch.equal(labels, again[1])
    assert not torch.equal(labels, other[1])


def test_the_loss_is_the_mean_cross_entropy_over_chosen_positions_only():
    model = tiny_encoder()
    ids = torch.randint(3, MASK_ID, (4, 12), generator=torch.Generator().manual_seed(0))
    inputs, labels = mask_tokens(ids, MASK_ID, select=0.4, generator=torch.Generator().manual_seed(1))
    log_p = F.log_softmax(model.logits(model.hidden_states(inputs)), dim=-1)
    chosen = labels != IGNORE
    expected = -log_p[chosen].gather(1, labels[chosen].unsqueeze(1)).mean()
    assert torch.allclose(model.loss(inputs, labels), expected, atol=1e-6)
    # the targets at unchosen positions carry no loss: changing them changes nothing
    scrambled = torch.where(chosen, labels, IGNORE)
    assert torch.equal(model.loss(inputs, scrambled), model.loss(inputs, labels))
    # nothing chosen: a zero loss and zero gradients, not NaN
    empty = model.loss(inputs, torch.full_like(labels, IGNORE))
    empty.backward()
    assert float(empty.detach()) == 0 and all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_gradients_reach_the_logits_only_at_chosen_positions():
    model = tiny_encoder()
    ids = torch.randint(3, MASK_ID, (2, 12), generator=torch.Generator().manual_seed(5))
    inputs, labels = mask_tokens(ids, MASK_ID, select=0.3, generator=torch.Generator().manual_seed(6))
    logits = model.logits(model.hidden_states(inputs))
    logits.retain_grad()
    F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=IGNORE).backward()
    chosen = labels != IGNORE
    assert not logits.grad[~chosen].any() and bool(logits.grad[chosen].abs().sum(dim=-1).gt(0).all())


def test_the_encoder_reads_both_sides_and_the_decoder_only_the_left():
    ids = torch.randint(3, MASK_ID, (1, 12), generator=torch.Generator().manual_seed(2))
    later = ids.clone()
    later[0, 9] = (ids[0, 9] + 1 - 3) % (MASK_ID - 3) + 3          # another word at position 9
    encoder = tiny_encoder().eval()
    before, after = encoder.hidden_states(ids), encoder.hidden_states(later)
    assert not torch.allclose(before[0, :9], after[0, :9])         # earlier outputs see a later token
    decoder = tiny_encoder(causal=True).eval()
    causal_before = decoder.encode(ids, None)[0]
    causal_after = decoder.encode(later, None)[0]
    assert torch.allclose(causal_before[0, :9], causal_after[0, :9])


def test_mask_and_sentence_start_are_never_predicted_and_rows_sum_to_one():
    model = tiny_encoder()
    ids = torch.randint(3, MASK_ID, (2, 12))
    log_p = F.log_softmax(model.logits(model.hidden_states(ids)), dim=-1)
    assert bool(torch.isinf(log_p[..., MASK_ID]).all()) and bool(torch.isinf(log_p[..., BOS_ID]).all())
    assert torch.allclose(log_p.exp().sum(-1), torch.ones(2, 12), atol=1e-5)


def test_the_parameter_count_is_the_docstring_formula():
    for config in (MaskedLMConfig(vocab_size=V, layers=2, heads=2, d_model=16, context=12),
                   MaskedLMConfig(vocab_size=V, layers=1, heads=2, d_model=16, emb=8, context=10)):
        assert sum(p.numel() for p in MaskedTransformer(config).parameters()) == config.num_parameters()


def test_pseudo_log_likelihoods_are_each_token_masked_in_turn():
    model = tiny_encoder().eval()
    tokens = np.random.default_rng(0).integers(3, MASK_ID, 30)
    terms = pseudo_log_likelihoods(model, tokens, batch=7)
    stream = np.concatenate([[BOS_ID], tokens])
    width = model.config.context
    for t in (0, 5, 17, 29):                                       # token t is stream position t + 1
        start = min(max(t + 1 - width // 2, 0), len(stream) - width)
        window = torch.tensor(stream[start:start + width]).unsqueeze(0)
        window[0, t + 1 - start] = MASK_ID
        with torch.no_grad():
            log_p = F.log_softmax(model.logits(model.hidden_states(window)), dim=-1)[0, t + 1 - start]
        assert terms[t] == pytest.approx(float(log_p[tokens[t]]), abs=1e-5)
    assert pseudo_perplexity(terms) == pytest.approx(math.exp(-terms.mean()))
    assert len(pseudo_log_likelihoods(model, tokens, max_tokens=4)) == 4


def test_bad_masking_settings_are_one_line_errors():
    with pytest.raises(UserError, match="--to-mask and --to-random"):
        MaskedLMConfig(vocab_size=V, to_mask=0.9, to_random=0.2).check()
    with pytest.raises(UserError, match="causal must be False"):
        MaskedLMConfig(vocab_size=V, causal=True).check()
    with pytest.raises(UserError, match="--select"):
        make_model("mlm", select=0.0)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlm")
    corpus = load_corpus("synthetic")
    model = make_model("mlm", layers=1, heads=2, d_model=16, context=16, dropout=0.0,
                       training=TrainConfig(optimizer="adamw", lr=1e-2, schedule="constant", batch=8, bptt=16,
                                            steps=30, eval_every=15, seed=0))
    model.fit(corpus, checkpoint_dir=folder, progress_bar=False)
    return model, corpus, folder


def test_mask_joins_the_vocabulary_after_the_corpus_ids(fitted):
    model, corpus, _ = fitted
    assert model.config.vocab_size == len(corpus.vocab) + 1 == model.config.mask_id + 1
    assert model.vocab.id_to_token == corpus.vocab.id_to_token      # no corpus id moves


def test_a_fitted_mlm_reports_its_own_figures_and_no_perplexity(fitted):
    model, corpus, folder = fitted
    figures = model.evaluate(corpus.split("valid"), max_tokens=300)
    assert 0 < figures["masked_accuracy"] < 1 and figures["pseudo_perplexity_tokens"] == 300
    assert 1 < figures["pseudo_perplexity"] < len(corpus.vocab)
    assert figures["masked_perplexity"] == pytest.approx(model.best_valid_perplexity(), rel=1e-4)
    for call in (lambda: model.perplexity(corpus.split("test")), lambda: model.log_probs(corpus.split("test")),
                 lambda: model.generate(seed=0)):
        with pytest.raises(UserError, match="a masked language model has no"):
            call()
    loaded = NeuralLanguageModel.from_checkpoint(folder)
    assert isinstance(loaded, MaskedLanguageModel) and loaded.config == model.config
    assert loaded.evaluate(corpus.split("valid"), max_tokens=300) == figures


def test_training_resumes_exactly(tmp_path):
    """Masks are drawn from torch's generator, which a checkpoint saves: 5 steps + 5 resumed = 10 straight."""
    corpus = load_corpus("synthetic")

    def train(steps, folder, resume=False):
        model = make_model("mlm", layers=1, heads=2, d_model=16, context=16, dropout=0.1,
                           training=TrainConfig(optimizer="adamw", lr=1e-2, schedule="constant", batch=4, bptt=16,
                                                steps=steps, eval_every=5, seed=1))
        return model.fit(corpus, checkpoint_dir=folder, resume=resume, progress_bar=False)

    straight = train(10, tmp_path / "straight")
    train(5, tmp_path / "halves")
    resumed = train(10, tmp_path / "halves", resume=True)
    last = [load_checkpoint(tmp_path / name, LAST)["model"] for name in ("straight", "halves")]
    assert last[0].keys() == last[1].keys() and all(torch.equal(last[0][k], last[1][k]) for k in last[0])
    assert [e["valid_perplexity"] for e in straight.training_log] == [
        e["valid_perplexity"] for e in resumed.training_log]
