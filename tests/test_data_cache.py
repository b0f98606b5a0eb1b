"""The corpus cache never lies and never crashes: damaged or foreign caches are rebuilt with a warning."""

import os
import time

import numpy as np
import pytest

from lmcourse.data import Corpus, EncodedSplit, load_corpus, registry


def make_folder(folder, train="a b a\nb c d\n", valid="a d\n", test="c c x\n"):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("train", train), ("valid", valid), ("test", test)):
        (folder / f"{name}.txt").write_text(text)
    return folder


def cache_files(home):
    return sorted(p for p in (home / "cache").glob("*.npz") if not p.name.startswith("."))


def assert_same(corpus, expected):
    assert corpus.vocab == expected.vocab
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(corpus.split(split).tokens, expected.split(split).tokens)
        np.testing.assert_array_equal(corpus.split(split).sentence_starts, expected.split(split).sentence_starts)


def assert_rebuilt_with_one_warning(folder, expected, capsys):
    corpus = load_corpus(folder)
    assert_same(corpus, expected)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning" in err and "rebuilding" in err, err
    capsys.readouterr()
    assert_same(load_corpus(folder), expected)  # the rebuilt cache is good: no second warning
    assert capsys.readouterr().err == ""


@pytest.fixture
def cached(tmp_path, isolated_data_home):
    """A folder corpus loaded once (so it is cached); yields (folder, fresh corpus, cache file)."""
    folder = make_folder(tmp_path / "c")
    expected = load_corpus(folder, use_cache=False)
    load_corpus(folder)
    (cache_file,) = cache_files(isolated_data_home)
    return folder, expected, cache_file


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a zip"])
def test_unreadable_cache_is_rebuilt(cached, capsys, damage):
    folder, expected, cache_file = cached
    data = cache_file.read_bytes()
    cache_file.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "not a zip": b"PK junk"}[damage])
    assert_rebuilt_with_one_warning(folder, expected, capsys)


def test_flipped_bytes_anywhere_are_caught(cached, capsys):
    folder, expected, cache_file = cached
    original = cache_file.read_bytes()
    for position in range(0, len(original), 5):  # every fifth byte: headers, arrays, directory
        damaged = bytearray(original)
        damaged[position] ^= 0xFF
        cache_file.write_bytes(bytes(damaged))
        assert_same(load_corpus(folder), expected)  # never a traceback, never wrong data
        capsys.readouterr()
        cache_file.write_bytes(original)


def test_another_corpus_cache_renamed_is_not_trusted(cached, tmp_path, isolated_data_home, capsys):
    folder, expected, cache_file = cached
    other = make_folder(tmp_path / "other", train="x y z w v\n", valid="x\n", test="y\n")
    load_corpus(other)
    (other_file,) = [p for p in cache_files(isolated_data_home) if p != cache_file]
    os.replace(other_file, cache_file)
    assert_rebuilt_with_one_warning(folder, expected, capsys)


def write_forged_cache(folder, cache_file, tokens, starts):
    """A cache with the right key and a valid digest, but the given train split."""
    spec_corpus = load_corpus(folder, use_cache=False)
    splits = dict(spec_corpus.splits)
    splits["train"] = EncodedSplit(np.asarray(tokens, dtype=np.int32), np.asarray(starts, dtype=np.int64))
    forged = Corpus(spec_corpus.name, spec_corpus.vocab, splits, spec_corpus.missing)
    key = registry._cache_key(registry.CorpusSpec(
        name=str(folder), description="", source="", files=("train.txt", "valid.txt", "test.txt"),
    ), folder)
    registry._write_cache(cache_file, forged, key)


@pytest.mark.parametrize("tokens, starts", [
    ([3, 4, 3, 99, 2], [0, 5]),  # an id outside the vocabulary
    ([3, 4, -1, 2], [0, 4]),  # a negative id
    ([3, 4, 2, 5, 2], [0, 3, 9]),  # offsets past the end of the stream
    ([3, 4, 2, 5, 2], [0, 4, 5]),  # a sentence that does not end in </s>
])
def test_inconsistent_cache_contents_are_rebuilt(cached, capsys, tokens, starts):
    folder, expected, cache_file = cached
    write_forged_cache(folder, cache_file, tokens, starts)
    assert_rebuilt_with_one_warning(folder, expected, capsys)


def test_cache_without_digest_is_rebuilt(cached, capsys):
    folder, expected, cache_file = cached
    with np.load(cache_file) as saved:
        arrays = {name: saved[name] for name in saved.files if name != "digest"}
    np.savez(cache_file, **arrays)
    assert_rebuilt_with_one_warning(folder, expected, capsys)


def test_orphaned_temp_files_are_ignored_and_old_ones_removed(cached, isolated_data_home, capsys):
    folder, expected, cache_file = cached
    cache_dir = isolated_data_home / "cache"
    old = cache_dir / f".{cache_file.name}.abc123.tmp.npz"
    new = cache_dir / f".{cache_file.name}.def456.tmp.npz"
    old.write_bytes(b"half a zip")
    new.write_bytes(b"half a zip")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    cache_file.unlink()
    assert_same(load_corpus(folder), expected)  # the temp files are not taken for the cache
    assert capsys.readouterr().err == ""
    assert not old.exists(), "a temp file left by a build killed hours ago is removed"
    assert new.exists(), "a recent temp file may belong to a build still running"


def test_edit_with_same_size_and_mtime_is_not_served_stale(cached):
    folder, _, _ = cached
    train = folder / "train.txt"
    stat = train.stat()
    train.write_text("a b a\nb c e\n")  # same size, one word changed
    os.utime(train, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert train.stat().st_size == stat.st_size
    assert "e" in load_corpus(folder).vocab.words
