"""``lmcourse data fetch NAME``: download a corpus from its canonical source, checked by SHA-256.

Plain files are streamed into a temporary file beside their destination, hashed on the way, and renamed
into place only if the hash matches: a failed or mismatching download leaves nothing behind. NLTK corpora
are fetched with ``nltk.download`` into ``<data home>/nltk_data`` (NLTK checks them itself).
"""

from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.request
from pathlib import Path

from lmcourse.data.paths import data_home, nltk_download_dir
from lmcourse.data.registry import CorpusSpec, RemoteFile, get_spec
from lmcourse.errors import UserError
from lmcourse.files import atomic_output

TIMEOUT_SECONDS = 15
CHUNK_BYTES = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def download(remote: RemoteFile, destination: Path, timeout: float = TIMEOUT_SECONDS) -> Path:
    """Download ``remote.url`` to ``destination`` if its SHA-256 matches ``remote.sha256``.

    A file already there with the right hash is kept as it is.
    """
    if destination.is_file() and sha256_of(destination) == remote.sha256:
        return destination
    try:
        with atomic_output(destination) as tmp:
            digest = hashlib.sha256()
            with urllib.request.urlopen(remote.url, timeout=timeout) as response, open(tmp, "wb") as out:
                for block in iter(lambda: response.read(CHUNK_BYTES), b""):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != remote.sha256:
                raise UserError(
                    f"checksum mismatch for {remote.url}: expected SHA-256 {remote.sha256}, got "
                    f"{digest.hexdigest()}; the partial file was deleted (the source may have changed)"
                )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise UserError(
            f"could not download {remote.url} ({reason}): check the internet connection, "
            f"or copy the file to {destination} by hand"
        ) from None
    return destination


def fetch(name: str, timeout: float = TIMEOUT_SECONDS) -> list[Path]:
    """Fetch corpus ``name`` into the data home; returns the files (or folders) written."""
    spec: CorpusSpec = get_spec(name)
    if spec.grammar:
        from lmcourse import synthetic

        return [synthetic.ensure_synthetic_corpus(grammar=spec.grammar)]
    if spec.nltk_package:
        return [fetch_nltk(spec.nltk_package, timeout)]
    target_dir = data_home() / spec.folder_name
    existed = target_dir.exists()
    try:
        return [download(remote, target_dir / remote.filename, timeout) for remote in spec.remote_files]
    except UserError:
        if not existed and target_dir.is_dir() and not any(target_dir.iterdir()):
            target_dir.rmdir()  # a failed first fetch leaves no empty folder behind
        raise


def fetch_nltk(package: str, timeout: float = TIMEOUT_SECONDS) -> Path:
    import nltk

    target = nltk_download_dir()
    target.mkdir(parents=True, exist_ok=True)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        ok = nltk.download(package, download_dir=str(target), quiet=True, raise_on_error=True)
    except Exception as error:  # nltk raises many kinds of network errors
        raise UserError(
            f"could not download NLTK corpus {package!r} ({error}): check the internet connection, "
            f"or point NLTK_DATA at a folder holding corpora/{package}.zip"
        ) from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    if not ok:
        raise UserError(f"nltk.download({package!r}) failed: check the internet connection, "
                        f"or point NLTK_DATA at a folder holding corpora/{package}.zip")
    return target / "corpora" / f"{package}.zip"
