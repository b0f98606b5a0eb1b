"""NumPy's huge-page advice, turned off for the course's own commands.

On Linux, NumPy asks the kernel to back every array of 4 MiB and more with transparent huge pages
(``madvise(MADV_HUGEPAGE)``; see NumPy's "Global state" documentation). Where the kernel's policy is
``madvise`` but it cannot hand out huge pages (``AnonHugePages: 0 kB`` in ``/proc/meminfo``), every first
touch of such an array pays for a failed attempt. On the 2-core machine this course is sized for, that made
first-touch work 10 to 25 times slower: ``np.arange`` of 16.7M int64 took 1.50 s with the advice and 0.06 s
without it, and counting the N-grams of 16M words 12.3 s against 7.2 s (measured 2026-12-01).

:func:`without_numpy_hugepage_advice` turns the advice off, unless the user has chosen for themselves with
the ``NUMPY_MADVISE_HUGEPAGE`` environment variable (NumPy reads it at import; 1 keeps the advice). The
``lmcourse`` command and the test suite call it; importing :mod:`lmcourse` in your own program changes nothing.
"""

from __future__ import annotations

import os

import numpy as np


def without_numpy_hugepage_advice() -> bool:
    """Turn NumPy's ``madvise`` huge-page hint off (unless NUMPY_MADVISE_HUGEPAGE is set); True if it was
    turned off here."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return False
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None) or getattr(np.core, "multiarray", None)
    toggle = getattr(multiarray, "_set_madvise_hugepage", None)
    if toggle is None:  # a NumPy without the switch: nothing to turn off
        return False
    toggle(False)
    return True
