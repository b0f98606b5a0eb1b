"""The registered corpora, read from the real data (skipped where it is absent)."""

import io

import pytest
from conftest import requires_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import REGISTRY, get_spec, load_corpus
from lmcourse.data.sources import (
    BROWN_FILEIDS,
    brown_sentences,
    nltk_corpus_files,
    nltk_corpus_reader,
    read_tinyshakespeare_words,
)
from lmcourse.errors import UserError


def test_every_corpus_says_where_it_comes_from():
    for spec in REGISTRY.values():
        assert spec.description and spec.source and spec.reader is not None
        assert spec.grammar or spec.nltk_package or spec.remote_files, f"{spec.name} cannot be fetched"


def test_unknown_corpus_names_the_known_ones():
    with pytest.raises(UserError, match="unknown corpus 'nope'.*brown"):
        load_corpus("nope")


def test_tinyshakespeare_word_tokens(tmp_path):
    (tmp_path / "input.txt").write_text("O'er the hill, 'tis 1599!\n\n" * 20)
    raw = read_tinyshakespeare_words(tmp_path)
    assert raw.splits["train"][0] == ["o'er", "the", "hill", ",", "'", "tis", "1599", "!"]
    assert [len(raw.splits[s]) for s in ("train", "valid", "test")] == [18, 1, 1]


def nltk_tagged_sentences(text: str) -> list[list[str]]:
    """What NLTK's Brown reader makes of ``text``: its TaggedCorpusReader's steps, on ``text`` in memory.

    (Blank-line paragraphs, one sentence a line, whitespace tokens, ``str2tuple``: the reader's defaults.)
    """
    from nltk.corpus.reader.util import read_blankline_block
    from nltk.tag.util import str2tuple
    from nltk.tokenize import RegexpTokenizer, WhitespaceTokenizer

    stream, sentences = io.StringIO(text), []
    while paragraphs := read_blankline_block(stream):
        for line in RegexpTokenizer("\n", gaps=True).tokenize(paragraphs[0]):
            sentences.append([str2tuple(token)[0].lower() for token in WhitespaceTokenizer().tokenize(line)])
    return sentences


word_part = st.text(alphabet="aZ/.'", min_size=1, max_size=4)  # a word may hold "/" itself: the last one ends it
tagged = st.builds(lambda word, tag: f"{word}/{tag}", word_part, st.text(alphabet="nN-$", max_size=3))
untagged = st.text(alphabet="aZ.", min_size=1, max_size=3)  # no "/": the whole token is the word
line = st.lists(tagged | untagged, min_size=1, max_size=5).map(" ".join)
blank = st.sampled_from(["", " ", "\t "])
brown_like = st.lists(st.tuples(st.sampled_from(["", "\t", " "]), line | blank), max_size=8).map(
    lambda lines: "".join(f"{indent}{text}\n" for indent, text in lines))


@settings(max_examples=60, deadline=None)
@given(brown_like)
def test_brown_sentences_are_what_nltks_tagged_reader_gives(text):
    assert brown_sentences(text) == nltk_tagged_sentences(text)


@requires_corpus("brown")
def test_brown_files_are_read_as_nltk_reads_them():
    files = nltk_corpus_files("brown", BROWN_FILEIDS)
    brown = nltk_corpus_reader("brown")
    assert [fileid for fileid, _ in files] == sorted(brown.fileids())
    for fileid, data in files[::50]:  # 10 of the 500 documents, from categories a to r
        assert brown_sentences(data.decode("ascii")) == [[w.lower() for w in s] for s in brown.sents(fileid)]


@requires_corpus("brown")
def test_brown_split_and_vocabulary_match_the_issue():
    corpus = load_corpus("brown")
    assert corpus.vocab_size == 10_001
    sizes = {name: (corpus.split(name).num_words, corpus.split(name).num_sentences)
             for name in ("train", "valid", "test")}
    assert sizes == {"train": (929_728, 46_175), "valid": (115_661, 5_523), "test": (115_803, 5_642)}
    assert corpus.split("valid").num_predicted == 121_184
    assert corpus.vocab.words[:3] == ["the", ",", "."]


@requires_corpus("brown")
def test_brown_second_load_comes_from_the_cache(monkeypatch):
    from lmcourse.data import registry

    load_corpus("brown")
    assert list(registry.cache_dir().glob("brown-*.npz")), "the first load writes a cache file"

    def no_rebuild(*args):
        raise AssertionError("the corpus was rebuilt although a cache file exists")

    monkeypatch.setattr(registry, "_build", no_rebuild)
    corpus = load_corpus("brown")
    assert corpus.split("train").num_words == 929_728


@requires_corpus("brown")
def test_brown_cache_matches_a_fresh_build():
    import numpy as np

    cached, fresh = load_corpus("brown"), load_corpus("brown", use_cache=False)
    assert cached.vocab == fresh.vocab
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(cached.split(split).tokens, fresh.split(split).tokens)
        np.testing.assert_array_equal(cached.split(split).sentence_starts, fresh.split(split).sentence_starts)


@requires_corpus("treebank")
def test_treebank_drops_null_elements():
    corpus = load_corpus("treebank")
    assert "*-1" not in corpus.vocab and "0" not in corpus.vocab.words[:50]
    assert corpus.split("train").num_sentences > corpus.split("test").num_sentences > 0


@requires_corpus("tinyshakespeare")
def test_tinyshakespeare_word_and_char_levels():
    words, chars = load_corpus("tinyshakespeare"), load_corpus("tinyshakespeare-char")
    assert chars.level == "char" and words.level == "word"
    assert words.split("train").num_sentences == chars.split("train").num_sentences
    total = sum(chars.split(s).num_sentences for s in ("train", "valid", "test"))
    assert chars.split("train").num_sentences == int(total * 0.9)
    assert " " in chars.vocab and "F" in chars.vocab and "f" in chars.vocab  # case is kept


@requires_corpus("ptb")
def test_ptb_without_train_says_which_split_is_missing():
    corpus = load_corpus("ptb")
    info = corpus.info()
    if info["train"] is None:
        assert "ptb.train.txt" in info["missing"]["train"]
        with pytest.raises(UserError, match="no train split"):
            corpus.split("train")
    assert info["valid"]["predicted_tokens"] == 73_760  # 70,390 words + 3,370 sentence ends
    assert corpus.split("valid").unk_rate > 0  # PTB's own <unk> is kept as our <unk>


def test_missing_file_corpus_names_fetch(isolated_data_home):
    with pytest.raises(UserError, match="lmcourse data fetch tinyshakespeare"):
        load_corpus("tinyshakespeare")
    assert not get_spec("tinyshakespeare").is_present()


line_text = st.lists(st.lists(st.sampled_from(["a", "b", "cat", "<unk>", "x\u00e9", "dog"]), max_size=6)
                     .map(" ".join), max_size=30)
separators = st.sampled_from(["\n", "\r\n", "\n\n", "  \n", "\t\n", "\r", "\u2028"])


@settings(max_examples=60, deadline=None)
@given(train=line_text, valid=line_text, seps=st.lists(separators, min_size=1, max_size=4),
       min_count=st.integers(1, 2), block=st.integers(1, 40))
def test_folder_corpus_read_as_ids_equals_reading_sentences(tmp_path_factory, train, valid, seps, min_count,
                                                            block):
    """The folder reader that keeps ids only (block by block) gives the ids of reading every sentence."""
    from lmcourse.data import sources
    from lmcourse.data.corpus import Corpus
    from lmcourse.data.registry import SPLIT_FILES, load_folder_corpus
    from lmcourse.data.vocabulary import Vocabulary

    folder = tmp_path_factory.mktemp("corpus")
    for name, lines in (("train", train), ("valid", valid)):
        (folder / f"{name}.txt").write_text("".join(line + seps[i % len(seps)] for i, line in enumerate(lines)),
                                            encoding="utf-8", newline="")
    raw = sources.read_split_files(folder, SPLIT_FILES)
    blocks = sources.line_blocks
    with pytest.MonkeyPatch.context() as patch:  # small blocks: many block boundaries in a small file
        patch.setattr(sources, "line_blocks", lambda text: blocks(text, block_chars=block))
        if raw.splits["train"] is None:
            with pytest.raises(UserError, match="has no train split"):
                load_folder_corpus(folder, min_count=min_count, use_cache=False)
            return
        got = load_folder_corpus(folder, min_count=min_count, use_cache=False)
    vocab = Vocabulary.from_sentences(raw.splits["train"], min_count=min_count)
    expected = Corpus.from_sentences(str(folder), raw.splits, vocab=vocab, missing=raw.missing)
    assert got.vocab == expected.vocab and got.missing == expected.missing
    for name in ("train", "valid", "test"):
        a, b = expected.splits[name], got.splits[name]
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tokens.dtype == b.tokens.dtype and a.sentence_starts.dtype == b.sentence_starts.dtype
            assert a.tokens.tolist() == b.tokens.tolist()
            assert a.sentence_starts.tolist() == b.sentence_starts.tolist()


@pytest.mark.parametrize("split, mark", [("train", "<s>"), ("valid", "</s>")])
def test_folder_corpus_sentence_marks_name_the_sentence(tmp_path, split, mark):
    from lmcourse.data.registry import load_folder_corpus

    (tmp_path / "train.txt").write_text("a b\nc d\n")
    (tmp_path / "valid.txt").write_text("a b\n")
    (tmp_path / f"{split}.txt").write_text(f"a b\n\nc {mark} d\n")
    with pytest.raises(UserError, match=f"sentence 2 holds the token '{mark}'"):
        load_folder_corpus(tmp_path, use_cache=False)
