"""Shared test helpers.

Tests that need a real corpus are marked with ``requires_corpus("brown")``: they run where the corpus is
present (CI sets NLTK_DATA and LMCOURSE_DATA to ../shared) and skip, with the reason, where it is not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from lmcourse.hugepages import without_numpy_hugepage_advice

# Property tests: no per-example deadline (a loaded 2-core CI machine must not turn slowness into failures);
# in CI, the same examples every run (reproducible), and no example database written into the checkout.
settings.register_profile("lmcourse", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "lmcourse")
without_numpy_hugepage_advice()  # as the lmcourse command does (see lmcourse/hugepages.py)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Reference figures measured beside the project (never copied into it): ../shared/reference.
REFERENCE_DIR = Path(os.environ.get("LMCOURSE_REFERENCE", REPO_ROOT.parent / "shared" / "reference"))


def corpus_present(name: str) -> bool:
    from lmcourse.data import get_spec

    return get_spec(name).is_present()


def requires_corpus(name: str):
    """Skip the test (with a reason) unless corpus ``name`` can be loaded here."""
    return pytest.mark.skipif(
        not corpus_present(name),
        reason=f"corpus {name!r} not found: set NLTK_DATA / LMCOURSE_DATA (see README) or "
        f"`lmcourse data fetch {name}`",
    )


def requires_reference(filename: str):
    """Skip unless ``../shared/reference/<filename>`` (or $LMCOURSE_REFERENCE/<filename>) exists."""
    return pytest.mark.skipif(
        not (REFERENCE_DIR / filename).is_file(),
        reason=f"reference file {REFERENCE_DIR / filename} not found (it lives beside the project in "
        "../shared/reference)",
    )


@pytest.fixture
def isolated_data_home(tmp_path, monkeypatch):
    """A fresh, empty data home (downloads, caches), with no shared data folder."""
    monkeypatch.setenv("LMCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LMCOURSE_DATA", raising=False)
    return tmp_path / "home"
