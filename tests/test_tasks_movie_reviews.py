"""The sentiment task's data: its split and folds (on file ids alone, then on the real corpus), and the
language-modelling corpus made of the same reviews."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import requires_corpus
from hypothesis import given
from hypothesis import strategies as st

from lmcourse.errors import UserError
from lmcourse.tasks import TASKS, get_task
from lmcourse.tasks.movie_reviews import Document, folds, review_number, task_split


def needs_movie_reviews(test):
    """Run ``test`` only where NLTK's movie_reviews is (skipped, with the reason, elsewhere)."""
    return pytest.mark.needs_corpus(requires_corpus("movie_reviews")(test))


def fake_reviews() -> list[Document]:
    """2,000 reviews with the real corpus's file id pattern (and made-up HTML numbers), no text."""
    return [Document(f"{name}/cv{number:03d}_{(number * 7919) % 30000}.txt", label, ((name, str(number)),))
            for label, name in enumerate(("neg", "pos")) for number in range(1000)]


def per_class(documents) -> Counter:
    return Counter(document.label for document in documents)


def test_split_is_800_100_100_per_class_disjoint_and_by_the_rule():
    documents = fake_reviews()
    split = task_split(documents)
    assert {name: per_class(docs) for name, docs in split.items()} == {
        "train": {0: 800, 1: 800}, "valid": {0: 100, 1: 100}, "test": {0: 100, 1: 100}}
    ids = [d.fileid for docs in split.values() for d in docs]
    assert len(ids) == len(set(ids)) == 2000
    assert {review_number(d.fileid) % 10 for d in split["valid"]} == {8}
    assert {review_number(d.fileid) % 10 for d in split["test"]} == {9}
    assert "neg/cv009_14580.txt" not in {d.fileid for d in split["train"]}


def test_split_is_deterministic_and_keeps_the_order():
    documents = fake_reviews()
    assert task_split(documents) == task_split(list(documents))
    assert task_split(documents[::-1])["test"] == task_split(documents)["test"][::-1]


def test_ten_folds_are_pang_and_lees():
    result = folds(fake_reviews(), 10)
    assert len(result) == 10
    assert all(per_class(fold) == {0: 100, 1: 100} for fold in result)
    assert {review_number(d.fileid) for d in result[0]} == set(range(100))
    assert {review_number(d.fileid) for d in result[9]} == set(range(900, 1000))
    assert sorted(d.fileid for fold in result for d in fold) == sorted(d.fileid for d in fake_reviews())


@given(st.integers(min_value=2, max_value=1000))
def test_any_k_partitions_into_balanced_runs_of_numbers(k):
    result = folds(fake_reviews(), k)
    assert len(result) == k and sum(len(fold) for fold in result) == 2000
    sizes = [len(fold) for fold in result]
    assert max(sizes) - min(sizes) <= 2
    for fold in result:
        numbers = sorted({review_number(d.fileid) for d in fold})
        assert numbers == list(range(numbers[0], numbers[-1] + 1))  # a run of consecutive numbers
        assert per_class(fold)[0] == per_class(fold)[1]


@pytest.mark.parametrize("k", [1, 0, -3, 1001, 2.5, True])
def test_bad_numbers_of_folds_are_refused(k):
    with pytest.raises(UserError, match="number of folds must be an integer from 2 to 1000"):
        folds(fake_reviews(), k)


def test_a_file_id_of_another_shape_is_refused():
    with pytest.raises(UserError, match="unexpected movie_reviews file 'neg/readme.txt'.*data fetch movie_reviews"):
        task_split([Document("neg/readme.txt", 0, ())])


def test_unknown_task_names_the_known_ones():
    with pytest.raises(UserError, match="unknown task 'imdb': use one of movie_reviews"):
        get_task("imdb")
    assert get_task("movie_reviews") is TASKS["movie_reviews"]


def test_a_missing_corpus_names_the_fetch_command(monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setenv("LMCOURSE_HOME", str(tmp_path / "home"))
    with pytest.raises(UserError, match="not downloaded: run `lmcourse data fetch movie_reviews`"):
        get_task("movie_reviews").load_documents()


def test_fetch_asks_nltk_for_movie_reviews(monkeypatch, tmp_path):
    import nltk

    from lmcourse.data.fetch import fetch

    asked = []
    monkeypatch.setenv("LMCOURSE_HOME", str(tmp_path))
    monkeypatch.setattr(nltk, "download", lambda package, **options: asked.append(package) or True)
    assert fetch("movie_reviews") == [tmp_path / "nltk_data" / "corpora" / "movie_reviews.zip"]
    assert asked == ["movie_reviews"]


# -- the real corpus ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def documents():
    return get_task("movie_reviews").load_documents()


@needs_movie_reviews
def test_the_corpus_is_2000_reviews_in_file_id_order_with_nltk_tokens(documents):
    from lmcourse.data.sources import nltk_corpus_reader

    assert len(documents) == 2000 and per_class(documents) == {0: 1000, 1: 1000}
    assert [d.fileid for d in documents] == sorted(d.fileid for d in documents)
    assert documents[0].fileid == "neg/cv000_29416.txt" and documents[0].label == 0
    assert all(d.label == (d.fileid.startswith("pos/")) for d in documents)
    reader = nltk_corpus_reader("movie_reviews")
    for document in documents[::250]:
        assert document.words == list(reader.words(document.fileid))  # NLTK's tokens, unchanged
    assert documents[0].sentences[0][:4] == ("plot", ":", "two", "teen")
    assert all(word == word.lower() for d in documents for word in d.words)


@needs_movie_reviews
def test_the_real_split_and_folds(documents):
    split = get_task("movie_reviews").split(documents)
    assert {name: per_class(docs) for name, docs in split.items()} == {
        "train": {0: 800, 1: 800}, "valid": {0: 100, 1: 100}, "test": {0: 100, 1: 100}}
    assert all(per_class(fold) == {0: 100, 1: 100} for fold in folds(documents, 10))


@needs_movie_reviews
def test_the_lm_corpus_holds_each_split_s_reviews_exactly(documents):
    from lmcourse.data import load_corpus
    from lmcourse.tasks.movie_reviews import read_movie_reviews_lm

    raw = read_movie_reviews_lm()
    split = task_split(documents)
    for name in ("train", "valid", "test"):
        assert raw.splits[name] == [list(s) for d in split[name] for s in d.sentences]
    # No test review's text is in train: a test review shares at most two long sentences with the train
    # reviews (a reviewer's signature line), where a near-copy would share most of its own.
    train_sentences = {tuple(s) for s in raw.splits["train"]}
    for document in split["test"]:
        long = [s for s in document.sentences if len(s) > 12]
        assert sum(s in train_sentences for s in long) <= 2, document.fileid
    corpus = load_corpus("movie_reviews")
    assert corpus.vocab_size == 10_001
    for name in ("train", "valid", "test"):
        assert corpus.split(name).num_words == sum(len(d.words) for d in split[name])
        assert corpus.split(name).num_sentences == sum(len(d.sentences) for d in split[name])
