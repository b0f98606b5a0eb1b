"""The lmcourse command turns NumPy's huge-page advice off, unless the user chose with NUMPY_MADVISE_HUGEPAGE."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = ("import numpy as np; from lmcourse.hugepages import without_numpy_hugepage_advice as off; "
         "changed = off(); print(changed, np._core.multiarray._set_madvise_hugepage(True))")


def probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"} | env
    return subprocess.run([sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True,
                          check=True).stdout.split()


def test_the_advice_is_turned_off():
    assert probe() == ["True", "False"]  # turned off here; the switch then read False


def test_the_users_choice_is_kept():
    assert probe(NUMPY_MADVISE_HUGEPAGE="1") == ["False", "True"]
    assert probe(NUMPY_MADVISE_HUGEPAGE="0") == ["False", "False"]
