"""A pre-trained network fine-tuned on a task, scored on the task's test documents (``lmcourse finetune``).

    classifier, result = finetune("runs/gpt-reviews", "movie_reviews")                  # everything trained
    finetune("runs/gpt-reviews", "movie_reviews", FineTuneConfig(head_only=True))       # a linear probe
    finetune("runs/gpt-reviews", "movie_reviews", from_scratch=True)                    # the same network, fresh
    finetune("runs/gpt-reviews", "movie_reviews", train_size=200)                      # 100 labelled per class
    cross_validate("runs/gpt-brown", "movie_reviews", folds=10)                         # Pang & Lee's folds

The documents are the task's fixed split (:mod:`lmcourse.tasks.movie_reviews`): the classifier trains on
train, keeps its best epoch on valid, and is scored once on test. The network comes from a training folder
(``lmcourse train transformer|mlm|lstm ... --checkpoint DIR``); its vocabulary maps the documents' words
(others become ``<unk>``). How the network reads a document: :mod:`lmcourse.neural.classify`.

Cross-validation trains on k - 2 folds, keeps its best epoch on the next fold and tests on the fold; it is
refused for a network pre-trained on the task's own reviews, since their train split holds reviews that are
test reviews of some fold.
"""

from __future__ import annotations

import numpy as np

from lmcourse.errors import UserError
from lmcourse.neural.classify import (
    DocumentClassifier,
    FineTuneConfig,
    balanced_subset,
    check_pooling,
    classification_figures,
    config_dict,
    document_ids,
    document_windows,
    fine_tune,
    network_for,
    predict_probabilities,
)
from lmcourse.tasks import get_task


def labels_of(documents) -> np.ndarray:
    return np.array([d.label for d in documents], dtype=np.int64)


def windows_of(documents, vocab, context: int) -> list[list[np.ndarray]]:
    """Every document as its windows of ids (see :func:`lmcourse.neural.classify.document_windows`)."""
    return [document_windows(document_ids(d.sentences, vocab), context) for d in documents]


def train_and_test(location, task, train, valid, test, config: FineTuneConfig, from_scratch: bool = False,
                   progress_bar: bool = True) -> tuple[DocumentClassifier, dict]:
    """Fine-tune the network of ``location`` on ``train`` (best epoch on ``valid``) and score ``test``."""
    network, model, causal = network_for(location, from_scratch, config.seed, config.network_dropout)
    check_pooling(config.pooling, causal)
    classifier = DocumentClassifier(network, len(task.labels), config.pooling, config.dropout)

    def windows(documents):
        return windows_of(documents, model.vocab, classifier.context)

    history = fine_tune(classifier, (windows(train), labels_of(train)), (windows(valid), labels_of(valid)),
                        config, progress_bar)
    probabilities = predict_probabilities(classifier, windows(test))
    result = {"task": task.name, "labels": list(task.labels), "checkpoint": str(location), "network": model.kind,
              "pretrained_on": None if from_scratch else model.corpus_name, "from_scratch": from_scratch,
              "head_only": config.head_only, "parameters": sum(p.numel() for p in network.parameters()),
              "train_documents": len(train), "valid_documents": len(valid), "config": config_dict(config),
              **history, "test": classification_figures(labels_of(test), probabilities, task.labels, config.seed)}
    return classifier, result


def finetune(location, task_name: str = "movie_reviews", config: FineTuneConfig | None = None,
             from_scratch: bool = False, train_size: int | None = None,
             progress_bar: bool = True) -> tuple[DocumentClassifier, dict]:
    """The task's fixed split; ``train_size`` labelled documents (balanced, seeded) or all of train."""
    config = config or FineTuneConfig()
    config.check()
    task = get_task(task_name)
    split = task.split(task.load_documents())
    train = split["train"]
    train = [train[i] for i in balanced_subset(labels_of(train), train_size, config.seed)]
    return train_and_test(location, task, train, split["valid"], split["test"], config, from_scratch, progress_bar)


def cross_validate(location, task_name: str = "movie_reviews", folds: int = 10, config: FineTuneConfig | None = None,
                   from_scratch: bool = False, progress_bar: bool = True) -> dict:
    """Accuracy on each of ``folds`` folds (train on k - 2, best epoch on the next fold), their mean and spread."""
    config = config or FineTuneConfig()
    config.check()
    task = get_task(task_name)
    if folds < 3:
        raise UserError(f"--folds must be at least 3 (one to test, one to pick the epoch, one to train; got {folds})")
    if not from_scratch:
        _, model, _ = network_for(location)
        if model.corpus_name == task_name:
            raise UserError(f"{location} was pre-trained on {task_name}'s reviews, and its train split holds reviews "
                            "that some fold tests on: cross-validate --from-scratch, or a network pre-trained on "
                            "another corpus (brown), or drop --folds")
    parts = task.folds(task.load_documents(), folds)
    accuracies = []
    for k in range(folds):
        valid_fold = (k + 1) % folds
        train = [d for j, part in enumerate(parts) if j not in (k, valid_fold) for d in part]
        _, result = train_and_test(location, task, train, parts[valid_fold], parts[k], config, from_scratch,
                                   progress_bar)
        accuracies.append(result["test"]["accuracy"])
    return {"task": task.name, "checkpoint": str(location), "from_scratch": from_scratch,
            "head_only": config.head_only, "folds": folds, "fold_accuracies": accuracies,
            "mean_accuracy": float(np.mean(accuracies)), "std_accuracy": float(np.std(accuracies, ddof=1)),
            "config": config_dict(config)}
