"""N-gram language models: vectorized counting, nine smoothing methods, ARPA files, pruning.

API summary
-----------
Every model has the same interface (like ``nltk.lm``); ``order`` is N::

    from lmcourse.data import load_corpus
    from lmcourse.ngram import ModifiedKneserNey, make_model

    corpus = load_corpus("brown")
    model = ModifiedKneserNey(order=5).fit(corpus)        # counts the train split (or pass an EncodedSplit)
    model.score("jury", ["the", "grand"])                 # p(jury | the grand); strings or ids
    model.logscore("jury", ["the", "grand"])              # log2 of it (nltk.lm's convention)
    model.distribution(["<s>", "the"])                    # p(. | <s> the) over all ids; sums to 1; p(<s>) = 0
    model.log_probs(corpus.split("test"))                 # natural log p of every predicted token, vectorized
    model.perplexity(corpus.split("test"))                # lmcourse.evaluation's convention
    model.generate(seed=0, temperature=0.8)               # one sampled sentence (list of words)
    model.ngram_counts()                                  # distinct N-grams per order

    write_arpa(model, "brown5.arpa")                      # ARPA file (backoff-form models), atomically
    read_arpa("brown5.arpa", vocab=corpus.vocab)          # an ArpaModel that scores like the others
    prune(model, "0 0 1")                                 # drop N-grams seen <= 1 time at orders >= 3
    make_model("katz", order=3)                           # by the CLI's name: mle, addk, jm, katz, absdisc,
                                                          # kn, mkn, kn-backoff, stupid

Conventions: each sentence is padded with one ``<s>`` (context only, never predicted); every word and one
``</s>`` per sentence are predicted; ``<unk>`` is an ordinary word. A context is read as the middle of a
sentence unless it contains ``<s>``. The predictable ids are all ids but ``<s>``; for every normalized model
the probabilities over them sum to 1 for any context.

Modules: ``counting`` (NgramCounts: all orders at once as int64 keys), ``base`` (the interface and the
backoff form), ``mle``, ``additive`` (add-k / Laplace), ``interpolation`` (Jelinek-Mercer, EM-tuned),
``katz`` (Good-Turing + backoff), ``kneser_ney`` (absolute discounting, KN, modified KN, backoff KN),
``stupid_backoff`` (unnormalized scores), ``arpa`` (read/write ARPA files), ``pruning`` (count thresholds).
"""

from lmcourse.errors import UserError
from lmcourse.ngram.additive import Additive
from lmcourse.ngram.arpa import ArpaModel, read_arpa, write_arpa
from lmcourse.ngram.base import BackoffModel, BackoffTables, NgramModel
from lmcourse.ngram.counting import NgramCounts
from lmcourse.ngram.interpolation import JelinekMercer
from lmcourse.ngram.katz import KatzBackoff
from lmcourse.ngram.kneser_ney import (
    AbsoluteDiscounting,
    BackoffKneserNey,
    KneserNey,
    ModifiedKneserNey,
)
from lmcourse.ngram.mle import MaximumLikelihood
from lmcourse.ngram.pruning import prune
from lmcourse.ngram.stupid_backoff import StupidBackoff

MODELS: dict[str, type[NgramModel]] = {
    "mle": MaximumLikelihood,
    "addk": Additive,
    "jm": JelinekMercer,
    "katz": KatzBackoff,
    "absdisc": AbsoluteDiscounting,
    "kn": KneserNey,
    "mkn": ModifiedKneserNey,
    "kn-backoff": BackoffKneserNey,
    "stupid": StupidBackoff,
}
SMOOTHING_METHODS = tuple(MODELS)


def make_model(smoothing: str, order: int, **options) -> NgramModel:
    """A model by its short name (``SMOOTHING_METHODS``); ``options`` go to its constructor (``k=`` ...)."""
    if smoothing not in MODELS:
        raise UserError(f"unknown smoothing {smoothing!r}: use one of {', '.join(SMOOTHING_METHODS)}")
    return MODELS[smoothing](order, **options)


__all__ = [
    "NgramModel", "BackoffModel", "BackoffTables", "NgramCounts", "MaximumLikelihood", "Additive",
    "JelinekMercer", "KatzBackoff", "AbsoluteDiscounting", "KneserNey", "ModifiedKneserNey",
    "BackoffKneserNey", "StupidBackoff", "ArpaModel", "read_arpa", "write_arpa", "prune", "MODELS",
    "SMOOTHING_METHODS", "make_model",
]
