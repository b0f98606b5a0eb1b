"""``lmcourse data fetch``: checksum-verified, atomic downloads, tested against a local file server."""

import functools
import hashlib
import http.server
import threading

import pytest

from lmcourse.data.fetch import download, sha256_of
from lmcourse.data.registry import RemoteFile
from lmcourse.errors import UserError


@pytest.fixture
def file_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/served."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verifies_the_checksum(file_server, tmp_path):
    root, url = file_server
    payload = b"the cat sat\n" * 1000
    (root / "train.txt").write_bytes(payload)
    remote = RemoteFile(f"{url}/train.txt", "train.txt", hashlib.sha256(payload).hexdigest())
    destination = tmp_path / "data" / "train.txt"
    assert download(remote, destination) == destination
    assert destination.read_bytes() == payload
    assert sha256_of(destination) == remote.sha256


def test_checksum_mismatch_deletes_the_partial_file(file_server, tmp_path):
    root, url = file_server
    (root / "train.txt").write_bytes(b"tampered\n")
    remote = RemoteFile(f"{url}/train.txt", "train.txt", "0" * 64)
    destination = tmp_path / "data" / "train.txt"
    with pytest.raises(UserError, match="checksum mismatch.*deleted"):
        download(remote, destination)
    assert list((tmp_path / "data").iterdir()) == []  # neither the file nor a temp file


def test_file_url_source(tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("hello\n")
    remote = RemoteFile(source.as_uri(), "input.txt", sha256_of(source))
    assert download(remote, tmp_path / "out" / "input.txt").read_text() == "hello\n"


def test_unreachable_source_fails_fast_with_a_clear_error(file_server, tmp_path):
    _, url = file_server
    remote = RemoteFile(f"{url}/missing.txt", "missing.txt", "0" * 64)
    with pytest.raises(UserError, match="could not download .*missing.txt"):
        download(remote, tmp_path / "missing.txt", timeout=5)
    assert not (tmp_path / "missing.txt").exists()


def test_failed_first_fetch_leaves_no_folder(file_server, isolated_data_home, monkeypatch):
    from lmcourse.data import registry
    from lmcourse.data.fetch import fetch

    _, url = file_server
    spec = registry.REGISTRY["tinyshakespeare"]
    broken = registry.RemoteFile(f"{url}/absent.txt", "input.txt", "0" * 64)
    monkeypatch.setitem(registry.REGISTRY, "tinyshakespeare",
                        registry.CorpusSpec(**{**spec.__dict__, "remote_files": (broken,)}))
    with pytest.raises(UserError, match="could not download"):
        fetch("tinyshakespeare")
    assert not (isolated_data_home / "tinyshakespeare").exists()


def test_fetch_registered_corpus_from_a_local_mirror(file_server, isolated_data_home, monkeypatch):
    """`fetch` writes the corpus's files into the data home, where `load_corpus` then finds them."""
    from lmcourse.data import load_corpus, registry
    from lmcourse.data.fetch import fetch

    root, url = file_server
    text = b"First Citizen:\nBefore we proceed any further, hear me speak.\n" * 40
    (root / "input.txt").write_bytes(text)
    mirror = registry.RemoteFile(f"{url}/input.txt", "input.txt", hashlib.sha256(text).hexdigest())
    spec = registry.REGISTRY["tinyshakespeare"]
    monkeypatch.setitem(registry.REGISTRY, "tinyshakespeare",
                        registry.CorpusSpec(**{**spec.__dict__, "remote_files": (mirror,)}))
    (written,) = fetch("tinyshakespeare")
    assert written == isolated_data_home / "tinyshakespeare" / "input.txt"
    assert load_corpus("tinyshakespeare").split("train").num_sentences == 72
