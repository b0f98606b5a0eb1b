"""``lmcourse compare``: every model of the course on one corpus, on the same predicted tokens.

The modules, in reading order:

- :mod:`~lmcourse.compare.stats`      what a comparison computes from per-token log-probabilities (a paired
  bootstrap interval for a difference in perplexity)
- :mod:`~lmcourse.compare.agreement`  minimal pairs: reading a TSV, scoring p(good) > p(bad) by distance and
  attractors
- :mod:`~lmcourse.compare.runner`     the models of a budget, trained and scored one after another; each finished
  row saved at once (``results.json``), ``--resume`` skipping them
- :mod:`~lmcourse.compare.report`     ``results.md``: the table and the figures linked
- :mod:`~lmcourse.compare.plots`      the figures (the only user of matplotlib in the library)
"""
