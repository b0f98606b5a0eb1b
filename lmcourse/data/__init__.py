"""Corpora, vocabularies and encoded token streams.

    >>> from lmcourse.data import load_corpus
    >>> corpus = load_corpus("brown")            # or "synthetic", "ptb", a folder with train.txt, ...
    >>> train = corpus.split("train")            # EncodedSplit: .tokens (int32 ids), .sentence_starts
    >>> corpus.vocab.decode(train.tokens[:5])
"""

from lmcourse.data.corpus import SPLITS, Corpus, EncodedSplit
from lmcourse.data.registry import REGISTRY, CorpusSpec, get_spec, list_corpora, load_corpus
from lmcourse.data.vocabulary import BOS, BOS_ID, EOS, EOS_ID, UNK, UNK_ID, Vocabulary

__all__ = [
    "SPLITS", "Corpus", "EncodedSplit", "REGISTRY", "CorpusSpec", "get_spec", "list_corpora", "load_corpus",
    "Vocabulary", "UNK", "BOS", "EOS", "UNK_ID", "BOS_ID", "EOS_ID",
]
