"""ARPA files: writing, reading back, and clear errors for malformed files."""

from __future__ import annotations

import numpy as np
import pytest

from lmcourse.data import Corpus
from lmcourse.errors import UserError
from lmcourse.ngram import Additive, KatzBackoff, ModifiedKneserNey, StupidBackoff, read_arpa, write_arpa

TRAIN = [s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat ran on a mat", "the cat",
                             "a dog sat on the cat", "the mat ran"]]
TEST = [["the", "cat", "ran", "zebra"], ["a", "dog"], ["mat", "the", "cat", "sat"]]

GOOD = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-0.5\t<unk>
-99\t<s>\t-0.2
-0.6\t</s>
-0.4\ta\t-0.1

\\2-grams:
-0.3\t<s> a
-0.2\ta </s>

\\end\\
"""


@pytest.fixture
def corpus():
    return Corpus.from_sentences("toy", {"train": TRAIN, "valid": TEST, "test": TEST})


@pytest.mark.parametrize("model_class", [ModifiedKneserNey, KatzBackoff])
def test_write_then_read_scores_the_same(corpus, tmp_path, model_class):
    model = model_class(3).fit(corpus)
    path = write_arpa(model, tmp_path / "m.arpa")
    again = read_arpa(path, vocab=corpus.vocab)
    split = corpus.split("test")
    assert np.allclose(again.log_probs(split), model.log_probs(split), atol=1e-5)
    assert again.ngram_counts() == model.ngram_counts()
    assert abs(again.distribution(["the", "cat"]).sum() - 1) < 1e-5
    # without a vocabulary the file's own words are used; scores by string agree
    own = read_arpa(path)
    assert own.score("cat", ["<s>", "the"]) == pytest.approx(model.score("cat", ["<s>", "the"]), rel=1e-5)
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed away


def test_hand_written_file_scores_by_the_backoff_rule(tmp_path):
    path = tmp_path / "hand.arpa"
    path.write_text(GOOD)
    model = read_arpa(path)
    assert model.score("a", ["<s>"]) == pytest.approx(10 ** -0.3)
    # "a a" is not listed: backoff(a) * p(a)
    assert model.score("a", ["a"]) == pytest.approx(10 ** (-0.1 - 0.4))
    assert model.score("<s>", []) == 0.0


def test_models_without_backoff_form_are_refused(corpus, tmp_path):
    for model in (Additive(2).fit(corpus), StupidBackoff(2).fit(corpus)):
        with pytest.raises(UserError):
            write_arpa(model, tmp_path / "x.arpa")
    assert not (tmp_path / "x.arpa").exists()


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("\\end\\\n", ""), "truncated"),
    (GOOD[: GOOD.index("-0.2\ta </s>")], "truncated"),
    (GOOD.replace("ngram 2=2", "ngram two=2"), "bad counts header"),
    (GOOD.replace("ngram 2=2", "ngram 3=2"), "counts header"),
    (GOOD.replace("ngram 1=4", "ngram 1=5"), "declares 5 1-grams"),
    (GOOD.replace("-0.4\ta\t-0.1", "-0.4x\ta\t-0.1"), "not a number"),
    (GOOD.replace("-0.3\t<s> a", "oops\t<s> a"), "not a number"),
    (GOOD.replace("-0.3\t<s> a", "-0.3\t<s> a b c"), "fields"),
    (GOOD.replace("\\data\\\n", "hello\n"), "expected '\\data\\'"),
    (GOOD.replace("-0.2\ta </s>", "-0.2\tb </s>"), "not listed among the 1-grams"),
])
def test_malformed_files_give_a_clear_error_naming_the_line(tmp_path, text, message):
    path = tmp_path / "bad.arpa"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        read_arpa(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_error_names_the_line_number(tmp_path):
    path = tmp_path / "bad.arpa"
    path.write_text(GOOD.replace("-0.4\ta\t-0.1", "-0.4\ta\tNaNx"))
    with pytest.raises(UserError, match=r"bad\.arpa:9: "):
        read_arpa(path)


def test_missing_context_of_a_trigram(tmp_path):
    text = GOOD.replace("ngram 2=2", "ngram 2=2\nngram 3=1").replace(
        "\\end\\", "\\3-grams:\n-0.1\ta a </s>\n\n\\end\\")
    path = tmp_path / "bad.arpa"
    path.write_text(text)
    with pytest.raises(UserError, match="context of the 3-gram 'a a </s>' is not listed among the 2-grams"):
        read_arpa(path)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_arpa(tmp_path / "nope.arpa")
