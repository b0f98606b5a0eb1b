"""Where corpora are looked for, and where downloads and caches go.

Lookup order for a corpus called NAME:

1. ``$LMCOURSE_DATA/NAME/``  (a shared data folder, e.g. ``../shared/data``)
2. ``<data home>/NAME/``     (the project's own ``data/`` folder, where ``lmcourse data fetch`` writes)
3. NLTK's data path          (for NLTK corpora: ``$NLTK_DATA``, ``nltk_data`` in the usual places, and
                              ``<data home>/nltk_data`` where ``lmcourse data fetch brown`` puts them)

The data home is ``$LMCOURSE_HOME`` if set, else the ``data/`` folder of the checkout this package runs
from, else ``~/.lmcourse/data``. Encoded corpora are cached in ``<data home>/cache/``.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path | None:
    """The checkout this package runs from (the folder holding ``pyproject.toml``), if any."""
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "pyproject.toml").is_file() else None


def data_home() -> Path:
    """The folder for downloads, generated corpora and caches (created on first use by writers)."""
    if os.environ.get("LMCOURSE_HOME"):
        return Path(os.environ["LMCOURSE_HOME"]).expanduser()
    root = repo_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".lmcourse" / "data"


def cache_dir() -> Path:
    return data_home() / "cache"


def nltk_download_dir() -> Path:
    return data_home() / "nltk_data"


def corpus_search_dirs(name: str) -> list[Path]:
    """The folders that may hold corpus ``name``, in lookup order."""
    dirs = []
    if os.environ.get("LMCOURSE_DATA"):
        dirs.append(Path(os.environ["LMCOURSE_DATA"]).expanduser() / name)
    dirs.append(data_home() / name)
    return dirs


def find_corpus_dir(name: str, required_any: tuple[str, ...]) -> Path | None:
    """The first search folder of ``name`` that holds at least one of the files ``required_any``."""
    for directory in corpus_search_dirs(name):
        if any((directory / filename).is_file() for filename in required_any):
            return directory
    return None


def use_nltk_download_dir() -> None:
    """Let NLTK also look where ``lmcourse data fetch`` downloads its corpora."""
    import nltk

    extra = str(nltk_download_dir())
    if extra not in nltk.data.path:
        nltk.data.path.append(extra)


def find_nltk_corpus(name: str) -> Path | None:
    """Where NLTK keeps corpus ``name`` (a folder or the ``.zip`` that ``nltk.download`` leaves), if anywhere."""
    import nltk

    use_nltk_download_dir()
    for resource in (f"corpora/{name}", f"corpora/{name}.zip"):
        try:
            found = nltk.data.find(resource)
        except LookupError:
            continue
        path = getattr(found, "path", None) or str(found)  # a zip is found as a ZipFilePathPointer
        return Path(str(path))
    return None
