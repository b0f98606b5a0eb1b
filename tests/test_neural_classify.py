"""Fine-tuning a network to classify documents: windows that cover a document, pooling with a padding mask,
batching that changes nothing, a head that learns a separable task, head-only training that leaves the network
alone, and a saved classifier that gives the same answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data.vocabulary import EOS_ID, Vocabulary
from lmcourse.errors import UserError
from lmcourse.neural.batches import SENTENCE_START_INPUT
from lmcourse.neural.classify import (
    DocumentClassifier,
    FineTuneConfig,
    balanced_subset,
    check_pooling,
    document_ids,
    document_windows,
    fine_tune,
    layer_depths,
    layer_groups,
    linear_schedule,
    masked_mean,
    pool,
    predict_probabilities,
)
from lmcourse.neural.masked import MaskedLMConfig, MaskedTransformer
from lmcourse.neural.transformer import TransformerConfig, TransformerLanguageModel

V = 40


def network(kind: str = "causal", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    if kind == "causal":
        return TransformerLanguageModel(TransformerConfig(vocab_size=V, layers=1, heads=2, d_model=16, context=8,
                                                          dropout=0.0))
    return MaskedTransformer(MaskedLMConfig(vocab_size=V + 1, layers=1, heads=2, d_model=16, context=8, dropout=0.0))


@given(length=st.integers(1, 60), context=st.integers(2, 12))
def test_windows_cover_the_document_in_order_and_none_is_padded(length, context):
    ids = np.arange(100, 100 + length)
    windows = document_windows(ids, context)
    assert all(w[0] == SENTENCE_START_INPUT for w in windows)
    assert all(len(w) == min(context, length + 1) for w in windows)        # full unless the document is short
    covered = np.concatenate([w[1:] for w in windows])
    assert set(covered) == set(ids) and windows[-1][-1] == ids[-1]
    body = np.concatenate([w[1:] for w in windows[:-1]] or [np.zeros(0, dtype=np.int64)])
    assert np.array_equal(body, ids[:len(body)])                           # consecutive, in reading order


def test_a_document_is_its_sentences_each_followed_by_the_sentence_end():
    vocab = Vocabulary(["good", "film", "bad"])
    ids = document_ids([["good", "film"], ["unseen"]], vocab)
    assert list(ids) == [vocab.lookup("good"), vocab.lookup("film"), EOS_ID, 0, EOS_ID]
    with pytest.raises(UserError, match="empty document"):
        document_windows(np.zeros(0, dtype=np.int64), 8)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(0, 10**6))
def test_masked_mean_averages_only_the_real_entries(counts, seed):
    rng = np.random.default_rng(seed)
    most = max(counts)
    vectors = torch.tensor(rng.normal(size=(len(counts), most, 3)))
    mask = torch.tensor([[1] * c + [0] * (most - c) for c in counts])
    result = masked_mean(vectors, mask)
    for row, count in enumerate(counts):
        assert torch.allclose(result[row], vectors[row, :count].mean(dim=0))


def test_pooling_takes_the_last_the_first_or_the_mean_position():
    hidden = torch.arange(24.0).reshape(2, 4, 3)
    assert torch.equal(pool(hidden, "last"), hidden[:, -1])
    assert torch.equal(pool(hidden, "first"), hidden[:, 0])
    assert torch.allclose(pool(hidden, "mean"), hidden.mean(dim=1))
    with pytest.raises(UserError, match="first position has read nothing"):
        check_pooling("first", causal=True)
    check_pooling("first", causal=False)
    check_pooling("last", causal=True)


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
def test_batching_documents_changes_no_document_vector(kind):
    classifier = DocumentClassifier(network(kind), classes=2).eval()
    rng = np.random.default_rng(0)
    documents = [document_windows(rng.integers(3, V, n), 8) for n in (3, 20, 7, 31)]
    together = classifier.document_vectors(documents)
    for row, doc in enumerate(documents):
        alone = classifier.document_vectors([doc])[0]
        assert torch.allclose(together[row], alone, atol=1e-5)
        windows = torch.stack([classifier.window_vectors([w])[0] for w in doc])
        assert torch.allclose(alone, windows.mean(dim=0), atol=1e-5)


def separable_task(count: int, seed: int) -> tuple[list, np.ndarray]:
    """Documents of filler words with a few 'good' (id 3) or 'bad' (id 4) words: label 1 for good."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    documents = []
    for label in labels:
        ids = rng.integers(5, V, 20)
        ids[rng.choice(20, 3, replace=False)] = 3 if label else 4
        documents.append(document_windows(ids, 8))
    return documents, labels


def test_fine_tuning_learns_a_separable_task_and_keeps_the_best_epoch():
    classifier = DocumentClassifier(network(), classes=2)
    config = FineTuneConfig(epochs=6, lr=3e-3, batch=8, train_windows=2, seed=0)
    result = fine_tune(classifier, separable_task(96, 0), separable_task(48, 1), config, progress_bar=False)
    assert result["best_valid_accuracy"] == max(entry["valid_accuracy"] for entry in result["log"])
    test_documents, test_labels = separable_task(64, 2)
    accuracy = (predict_probabilities(classifier, test_documents).argmax(1) == test_labels).mean()
    assert accuracy >= 0.9


def test_head_only_training_leaves_the_network_unchanged():
    body = network()
    before = {k: v.clone() for k, v in body.state_dict().items()}
    classifier = DocumentClassifier(body, classes=2)
    head_before = classifier.head.weight.detach().clone()
    fine_tune(classifier, separable_task(32, 0), separable_task(16, 1),
              FineTuneConfig(head_only=True, epochs=1, batch=8), progress_bar=False)
    assert all(torch.equal(before[k], v) for k, v in body.state_dict().items())
    assert not torch.equal(head_before, classifier.head.weight)


def test_probabilities_sum_to_one_and_the_schedule_warms_up_then_decays():
    classifier = DocumentClassifier(network("bidirectional"), classes=3, pooling="first")
    documents, _ = separable_task(5, 3)
    probabilities = predict_probabilities(classifier, documents, batch=2)
    assert probabilities.shape == (5, 3) and np.allclose(probabilities.sum(1), 1, atol=1e-6)
    factors = [linear_schedule(step, 100, 0.1) for step in range(100)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    decay = factors[9:]                                  # from the peak down, by 1/90 a step: the last is 1/90
    assert decay[0] == decay[1] == 1 and decay[-1] == pytest.approx(1 / 90)
    assert all(later < earlier for earlier, later in zip(decay[1:], decay[2:]))


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
def test_layer_decay_gives_the_head_lr_and_each_layer_below_one_more_factor(kind):
    if kind == "causal":   # two blocks: depths 0 (embeddings), 1, 2 (blocks), 3 (final norm, head)
        body = TransformerLanguageModel(TransformerConfig(vocab_size=V, layers=2, heads=2, d_model=16, context=8))
    else:
        body = MaskedTransformer(MaskedLMConfig(vocab_size=V + 1, layers=2, heads=2, d_model=16, context=8))
    classifier = DocumentClassifier(body, classes=2)
    depths = layer_depths(classifier)
    prefix = "network." if kind == "causal" else "network.encoder."
    assert depths[prefix + "token_embedding.weight"] == depths[prefix + "position_embedding.weight"] == 0
    assert depths[prefix + "blocks.0.attention.qkv.weight"] == 1 and depths[prefix + "blocks.1.mlp.up.bias"] == 2
    assert depths[prefix + "final_norm.weight"] == depths["head.weight"] == 3
    groups = layer_groups(classifier, lr=1e-3, decay=0.5)
    assert [group["lr"] for group in groups] == pytest.approx([1e-3 / 8, 1e-3 / 4, 1e-3 / 2, 1e-3])
    in_groups = [id(p) for group in groups for p in group["params"]]
    assert sorted(in_groups) == sorted(id(p) for p in classifier.parameters())   # each parameter once
    plain = layer_groups(classifier, lr=1e-3, decay=1.0)
    assert all(group["lr"] == 1e-3 for group in plain)


def test_layer_decay_below_one_keeps_the_embeddings_closer_to_their_pre_trained_values():
    moved = {}
    for decay in (1.0, 0.1):
        body = network()
        before = body.token_embedding.weight.detach().clone()
        classifier = DocumentClassifier(body, classes=2)
        fine_tune(classifier, separable_task(32, 0), separable_task(16, 1),
                  FineTuneConfig(epochs=1, lr=3e-3, batch=8, layer_decay=decay), progress_bar=False)
        moved[decay] = (body.token_embedding.weight.detach() - before).abs().max().item()
    assert 0 < moved[0.1] < moved[1.0] / 5


def test_a_balanced_subset_has_as_many_of_each_class():
    labels = np.array([0] * 80 + [1] * 80)
    picked = balanced_subset(labels, 50, seed=0)
    assert len(picked) == 50 and (labels[picked] == 0).sum() == 25
    assert np.array_equal(picked, balanced_subset(labels, 50, seed=0))
    assert len(balanced_subset(labels, None, seed=0)) == 160
    with pytest.raises(UserError, match="--train-size must be between 2 and 160"):
        balanced_subset(labels, 1, seed=0)
