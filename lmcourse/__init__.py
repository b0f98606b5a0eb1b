"""lmcourse: language models from counted N-grams to Transformers, compared on perplexity.

The pieces, in the order a learner meets them:

- ``lmcourse.data``        corpora, the :class:`~lmcourse.data.Vocabulary`, encoded token streams
- ``lmcourse.evaluation``  the one evaluation convention (perplexity over predicted tokens)
- ``lmcourse.synthetic``   the built-in corpus: a PCFG language with a known entropy floor
- ``lmcourse.ngram``       counted N-gram models, MLE to modified Kneser-Ney, ARPA files
- ``lmcourse.grading``     the pytest-based grader for lesson exercises
"""

__version__ = "0.1.0"
