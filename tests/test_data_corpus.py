"""Encoded corpora, folder corpora, the cache, and export."""

from itertools import accumulate

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.cli import main
from lmcourse.data import EOS_ID, UNK_ID, Corpus, EncodedSplit, Vocabulary, load_corpus
from lmcourse.data.vocabulary import BOS, EOS
from lmcourse.errors import UserError


def test_stream_layout():
    vocab = Vocabulary(["the", "cat", "a", "dog", "ran"])
    split = EncodedSplit.from_sentences([["the", "cat"], ["a", "dog", "ran", "zebra"]], vocab)
    assert split.tokens.tolist() == [3, 4, EOS_ID, 5, 6, 7, UNK_ID, EOS_ID]
    assert split.sentence_starts.tolist() == [0, 3, 8]
    assert (split.num_sentences, split.num_words, split.num_predicted) == (2, 6, 8)
    assert split.unk_rate == pytest.approx(1 / 6)
    assert [s.tolist() for s in split.sentences()] == [[3, 4, 2], [5, 6, 7, 0, 2]]


def test_empty_sentence_is_just_an_end():
    split = EncodedSplit.from_sentences([[], ["a"]], Vocabulary(["a"]))
    assert split.tokens.tolist() == [EOS_ID, 3, EOS_ID]


words = st.text(alphabet="abcd", min_size=1, max_size=2) | st.just("<unk>")
sentence_lists = st.lists(st.lists(words, max_size=5), max_size=8)


@given(st.lists(words, max_size=10), sentence_lists)
def test_encoded_split_is_each_sentence_looked_up_word_by_word_then_ended(vocabulary_words, sentences):
    vocab = Vocabulary(dict.fromkeys(vocabulary_words))
    split = EncodedSplit.from_sentences(sentences, vocab)
    expected = [[vocab.lookup(word) for word in sentence] + [EOS_ID] for sentence in sentences]
    assert [ids.tolist() for ids in split.sentences()] == expected
    assert split.sentence_starts.tolist() == list(accumulate(map(len, expected), initial=0))
    assert (split.tokens.dtype, split.sentence_starts.dtype) == (np.int32, np.int64)


@given(sentence_lists.filter(any), st.data(), st.sampled_from([BOS, EOS]))
def test_a_sentence_mark_anywhere_is_refused_naming_the_first_sentence_that_holds_it(sentences, data, mark):
    number = data.draw(st.sampled_from([i for i, sentence in enumerate(sentences) if sentence]))
    position = data.draw(st.integers(0, len(sentences[number]) - 1))
    sentences[number][position] = mark
    vocab = Vocabulary.from_sentences([["a", "b"]])
    with pytest.raises(UserError, match=f"^sentence {number + 1} holds the token {mark!r}"):
        EncodedSplit.from_sentences(sentences, vocab)


def test_missing_split_is_a_clear_error():
    corpus = Corpus.from_sentences("toy", {"train": [["a"]]})
    with pytest.raises(UserError, match="no test split"):
        corpus.split("test")


def write_folder(folder, train, valid, test):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("train", train), ("valid", valid), ("test", test)):
        if text is not None:
            (folder / f"{name}.txt").write_text(text)


def test_folder_corpus_vocabulary_and_min_count(tmp_path, isolated_data_home):
    write_folder(tmp_path / "c", "a b a\nb c\n\n", "a d\n", "c c\n")
    corpus = load_corpus(tmp_path / "c")
    assert corpus.vocab.words == ["a", "b", "c"]
    assert corpus.split("valid").tokens.tolist() == [3, UNK_ID, EOS_ID]
    assert corpus.split("train").num_sentences == 2  # the empty line is skipped
    thresholded = load_corpus(tmp_path / "c", min_count=2)
    assert thresholded.vocab.words == ["a", "b"]


def test_cache_is_used_and_invalidated(tmp_path, isolated_data_home):
    write_folder(tmp_path / "c", "a b\n", "a\n", "b\n")
    first = load_corpus(tmp_path / "c")
    cached = list((isolated_data_home / "cache").glob("*.npz"))
    assert len(cached) == 1
    second = load_corpus(tmp_path / "c")
    assert second.vocab == first.vocab
    np.testing.assert_array_equal(second.split("train").tokens, first.split("train").tokens)
    (tmp_path / "c" / "train.txt").write_text("a b c c\n")  # changed input: a new cache entry
    third = load_corpus(tmp_path / "c")
    assert third.vocab.words == ["c", "a", "b"]
    assert len(list((isolated_data_home / "cache").glob("*.npz"))) == 2


def test_damaged_cache_is_rebuilt(tmp_path, isolated_data_home):
    write_folder(tmp_path / "c", "a b\n", "a\n", "b\n")
    load_corpus(tmp_path / "c")
    (cache_file,) = (isolated_data_home / "cache").glob("*.npz")
    cache_file.write_bytes(b"not a zip")
    assert load_corpus(tmp_path / "c").vocab.words == ["a", "b"]


def test_empty_split_file_is_reported_missing(tmp_path, isolated_data_home):
    write_folder(tmp_path / "c", "a b\n", "\n\n", "a z\n")
    corpus = load_corpus(tmp_path / "c")
    assert corpus.splits["valid"] is None and "has no sentences" in corpus.missing["valid"]
    with pytest.raises(UserError, match="no valid split"):
        corpus.split("valid")


def test_a_file_is_not_a_corpus_folder(tmp_path, isolated_data_home):
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(UserError, match="is a file, not a corpus folder"):
        load_corpus(tmp_path / "notes.txt")


def test_folder_without_train_is_a_clear_error(tmp_path, isolated_data_home):
    write_folder(tmp_path / "c", None, "a\n", "b\n")
    with pytest.raises(UserError, match="no train.txt"):
        load_corpus(tmp_path / "c")


def test_export_round_trips_through_a_folder_corpus(tmp_path, isolated_data_home, capsys):
    write_folder(tmp_path / "c", "a b a\nb c\n", "a d\n", "c c x\n")
    out = tmp_path / "export"
    out.mkdir()  # --out's folder must exist, as --arpa's (tests/test_cli_data.py)
    for split in ("train", "valid", "test"):
        assert main(["data", "export", str(tmp_path / "c"), "--split", split,
                     "--out", str(out / f"{split}.txt")]) == 0
    assert (out / "valid.txt").read_text() == "a <unk>\n"
    original, exported = load_corpus(tmp_path / "c"), load_corpus(out)
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(original.split(split).tokens, exported.split(split).tokens)


# -- corpus files that are not plain UTF-8 ------------------------------------------------------------------
def write_train_bytes(folder, data):
    write_folder(folder, "a\n", "a\n", "a\n")
    (folder / "train.txt").write_bytes(data)


def refused_one_line(folder, *patterns):
    with pytest.raises(UserError) as caught:
        load_corpus(folder)
    message = str(caught.value)
    assert "\n" not in message and str(folder / "train.txt") in message, message
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_latin1_file_names_the_line_byte_and_fix(tmp_path, isolated_data_home):
    write_train_bytes(tmp_path / "c", "a b\ncaf\u00e9 c\n".encode("latin-1"))
    refused_one_line(tmp_path / "c", "not UTF-8", "line 2", "byte 7", "iconv")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_refused_with_the_fix(tmp_path, isolated_data_home, encoding):
    write_train_bytes(tmp_path / "c", "a b\nc d\n".encode(encoding))
    refused_one_line(tmp_path / "c", "UTF-16", "iconv -f UTF-16 -t UTF-8")


def test_unreadable_file_is_a_clear_error(tmp_path, isolated_data_home, monkeypatch):
    from pathlib import Path

    write_folder(tmp_path / "c", "a b\n", "a\n", "b\n")
    train, read_bytes = tmp_path / "c" / "train.txt", Path.read_bytes

    def denied(path):  # tests run as root, where chmod 000 does not stop a read
        if path == train:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    refused_one_line(tmp_path / "c", "permission denied", "chmod")


def test_utf8_bom_is_stripped(tmp_path, isolated_data_home):
    write_train_bytes(tmp_path / "c", "\ufeffthe cat\nthe dog\n".encode())
    corpus = load_corpus(tmp_path / "c")
    assert corpus.vocab.words == ["the", "cat", "dog"]


def test_tinyshakespeare_reader_refuses_non_utf8(tmp_path):
    from lmcourse.data.sources import read_tinyshakespeare_chars

    (tmp_path / "input.txt").write_bytes(b"ok\n\xff\n")
    with pytest.raises(UserError, match=r"input.txt is not UTF-8: line 2, byte 3 \(0xff\)"):
        read_tinyshakespeare_chars(tmp_path)


def test_sentence_marks_in_the_text_are_refused_and_unk_is_the_unknown_word(tmp_path, capsys):
    for number, mark in enumerate(("<s>", "</s>")):
        folder = tmp_path / f"marks{number}"
        folder.mkdir(parents=True)
        (folder / "train.txt").write_text(f"the cat\nthe {mark} dog\n")
        assert main(["data", "info", str(folder)]) == 2
        error = capsys.readouterr().err.strip()
        assert error == (f"lmcourse: error: sentence 2 holds the token {mark!r}, which lmcourse reserves for "
                         "sentence boundaries (one sentence a line, no marks): remove it, or write it differently "
                         f"(e.g. {mark.replace('<', '&lt;').replace('>', '&gt;')!r})")
    folder = tmp_path / "unk"
    folder.mkdir()
    (folder / "train.txt").write_text("the <unk> cat\n")
    corpus = load_corpus(folder)
    assert list(corpus.split("train").tokens[:2]) == [corpus.vocab.lookup("the"), UNK_ID]
