from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.data.vocabulary import BOS_ID, EOS_ID, UNK_ID, Vocabulary

words = st.text(alphabet="abcde", min_size=1, max_size=3)


def test_special_ids_are_fixed():
    vocab = Vocabulary(["the", "cat"])
    assert (vocab.lookup("<unk>"), vocab.lookup("<s>"), vocab.lookup("</s>")) == (UNK_ID, BOS_ID, EOS_ID)
    assert vocab.lookup("the") == 3 and vocab.lookup("dog") == UNK_ID


def test_ranking_by_count_then_word():
    counts = Counter({"b": 5, "a": 5, "c": 7, "d": 1})
    assert Vocabulary.from_counts(counts).words == ["c", "a", "b", "d"]
    assert Vocabulary.from_counts(counts, max_size=2).words == ["c", "a"]
    assert Vocabulary.from_counts(counts, min_count=2).words == ["c", "a", "b"]


def test_special_tokens_in_text_are_not_words():
    vocab = Vocabulary.from_sentences([["<unk>", "a", "<unk>"]])
    assert vocab.words == ["a"]
    assert vocab.encode(["<unk>", "a"]).tolist() == [UNK_ID, 3]


@given(st.lists(st.lists(words, max_size=6), max_size=8), st.integers(1, 3))
def test_encode_decode_round_trip(sentences, min_count):
    vocab = Vocabulary.from_sentences(sentences, min_count=min_count)
    for sentence in sentences:
        ids = vocab.encode(sentence)
        assert ids.dtype == np.int32
        expected = [w if w in vocab else "<unk>" for w in sentence]
        assert vocab.decode(ids) == expected


tokens_and_marks = st.one_of(words, st.sampled_from(["<unk>", "<s>", "</s>"]))


@given(st.lists(words, max_size=20), st.lists(tokens_and_marks, max_size=40))
def test_encode_is_the_lookup_of_each_token(vocabulary_words, tokens):
    vocab = Vocabulary(dict.fromkeys(vocabulary_words))  # distinct, in first-seen order
    ids = vocab.encode(tokens)
    assert ids.dtype == np.int32 and ids.shape == (len(tokens),)
    assert ids.tolist() == [vocab.lookup(token) for token in tokens]  # the per-token definition
    # ... which is: a word's own id, <unk> (0) for anything outside the vocabulary, the marks at 1 and 2
    assert ids.tolist() == [vocab.id_to_token.index(t) if t in vocab.id_to_token else UNK_ID for t in tokens]
    assert vocab.encode(tuple(tokens)).tolist() == ids.tolist()  # any sequence, not only a list


@given(st.lists(st.lists(words, max_size=6), max_size=8), st.integers(1, 3), st.none() | st.integers(0, 4))
def test_from_sentences_counts_every_word_of_every_sentence(sentences, min_count, max_size):
    counts: Counter = Counter()
    for sentence in sentences:
        for word in sentence:
            counts[word] += 1
    expected = Vocabulary.from_counts(counts, max_size=max_size, min_count=min_count)
    assert Vocabulary.from_sentences(sentences, max_size=max_size, min_count=min_count) == expected
    one_pass = (sentence for sentence in sentences)  # a generator is read once
    assert Vocabulary.from_sentences(one_pass, max_size=max_size, min_count=min_count) == expected


def test_save_load(tmp_path):
    vocab = Vocabulary(["x", "y", "é"])
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json") == vocab
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left behind
