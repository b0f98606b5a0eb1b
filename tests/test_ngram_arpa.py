"""ARPA files: writing, reading back, and clear errors for malformed files."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.data import Corpus
from lmcourse.errors import UserError
from lmcourse.ngram import Additive, KatzBackoff, ModifiedKneserNey, StupidBackoff, arpa, read_arpa, write_arpa

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
    assert re.match(re.escape(str(path)) + r":\d+: ", str(error.value)), str(error.value)


# Each case: the file, the line the error must name, and words of the message.
@pytest.mark.parametrize("text, line, message", [
    # an empty 2-gram table, then a 3-gram whose context cannot be there
    (GOOD.replace("ngram 2=2", "ngram 2=0\nngram 3=1").replace("-0.3\t<s> a\n-0.2\ta </s>\n", "").replace(
        "\\end\\", "\\3-grams:\n-0.1\ta a </s>\n\n\\end\\"), 15,
     "the context of the 3-gram 'a a </s>' is not listed among the 2-grams"),
    (GOOD.replace("-0.6\t</s>\n", "-0.6\t</s>\n-0.7\t<unk>\n").replace("ngram 1=4", "ngram 1=5"), 9,
     "the 1-gram '<unk>' is listed twice (first on line 6)"),
    (GOOD.replace("-0.2\ta </s>", "-0.2\t<s> a"), 13, "the 2-gram '<s> a' is listed twice"),
    (GOOD.replace("-0.4\ta\t-0.1", "0.5\ta\t-0.1"), 9, "log10 probability 0.5 is positive"),
    (GOOD.replace("-0.3\t<s> a", "inf\t<s> a"), 12, "is positive"),
    (GOOD.replace("-0.2\ta </s>", "-0.2\tb </s>"), 13, "the word 'b' of the 2-gram 'b </s>' is not listed"),
])
def test_errors_found_after_parsing_name_the_line_of_the_ngram(tmp_path, text, line, message):
    path = tmp_path / "bad.arpa"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        read_arpa(path)
    assert str(error.value).startswith(f"{path}:{line}: malformed ARPA file: "), str(error.value)
    assert message in str(error.value)


def test_a_word_outside_the_given_vocabulary_names_its_line(corpus, tmp_path):
    path = tmp_path / "other.arpa"
    path.write_text(GOOD.replace("\ta\t", "\tzebra\t").replace(" a", " zebra").replace("\ta </s>",
                                                                                          "\tzebra </s>"))
    with pytest.raises(UserError, match=r"other\.arpa:9: the ARPA word 'zebra' is not in the given vocabulary"):
        read_arpa(path, vocab=corpus.vocab)


def test_an_empty_order_may_leave_out_its_section(tmp_path):
    path = tmp_path / "empty.arpa"
    path.write_text(GOOD.replace("ngram 2=2", "ngram 2=0").replace("\\2-grams:\n-0.3\t<s> a\n-0.2\ta </s>\n\n",
                                                                   ""))
    model = read_arpa(path)
    assert model.ngram_counts() == {1: 4, 2: 0}
    assert model.score("a", ["<s>"]) == pytest.approx(10 ** (-0.2 - 0.4))


def test_write_arpa_refuses_bad_targets_and_wraps_os_errors(corpus, tmp_path, monkeypatch):
    model = ModifiedKneserNey(2).fit(corpus)
    with pytest.raises(UserError, match="it is a folder"):
        write_arpa(model, tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        write_arpa(model, tmp_path / "missing" / "m.arpa")
    assert not (tmp_path / "missing").exists()

    def no_space(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(arpa, "atomic_output", no_space)
    with pytest.raises(UserError, match=r"cannot write ARPA file .*m\.arpa: No space left on device"):
        write_arpa(model, tmp_path / "m.arpa")


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
    with pytest.raises(UserError, match=r"bad\.arpa:17: malformed ARPA file: the context of the 3-gram "
                                        "'a a </s>' is not listed among the 2-grams"):
        read_arpa(path)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_arpa(tmp_path / "nope.arpa")


@pytest.fixture(scope="module")
def written_arpa(tmp_path_factory):
    path = tmp_path_factory.mktemp("arpa") / "model.arpa"
    write_arpa(ModifiedKneserNey(3).fit(Corpus.from_sentences("toy", {"train": TRAIN})), path)
    return path.read_bytes()


def reads_cleanly_or_refuses(path) -> None:
    """The promise for any file: a one-line UserError naming the file, or a normalized model."""
    from lmcourse.ngram.arpa import normalization_error

    try:
        model = read_arpa(path, check_normalization=True)
    except UserError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        return
    assert normalization_error(model)[0] <= 1e-4
    assert np.all(model.log_distribution(["<s>"]) <= 1e-9)


@settings(max_examples=60)
@given(data=st.data())
def test_fuzzed_files_give_a_clean_error_or_a_model(written_arpa, tmp_path_factory, data):
    original = bytearray(written_arpa)
    edit = data.draw(st.sampled_from(["flip", "truncate", "value"]))
    if edit == "flip":
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] ^= data.draw(st.integers(1, 255))
    elif edit == "truncate":
        original = original[: data.draw(st.integers(0, len(original) - 1))]
    else:
        text = original.decode()
        numbers = list(re.finditer(r"-?\d+\.\d+", text))
        match = data.draw(st.sampled_from(numbers))
        new = data.draw(st.sampled_from(["inf", "1e308", "-1_0", "nan", "0x10", "", "--1", "1e999"]))
        original = bytearray((text[: match.start()] + new + text[match.end():]).encode())
    path = tmp_path_factory.mktemp("fuzz") / "model.arpa"
    path.write_bytes(bytes(original))
    reads_cleanly_or_refuses(path)


@pytest.mark.parametrize("value", ["inf", "1e308", "-1_0", "nan", "1e999"])
def test_backoff_weights_must_be_finite_plain_numbers(tmp_path, value):
    path = tmp_path / "bad.arpa"
    path.write_text(GOOD.replace("-0.4\ta\t-0.1", f"-0.4\ta\t{value}"))
    with pytest.raises(UserError, match=r"bad.arpa:\d+: malformed ARPA file: backoff weight .* is not a number"):
        read_arpa(path)


def test_a_binary_file_names_the_line_and_the_byte(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(GOOD.encode()[:40] + b"\xff\xfe binary" + GOOD.encode()[40:])
    with pytest.raises(UserError, match=r"model.bin:\d+: not a text ARPA file: byte 0xff is not UTF-8"):
        read_arpa(path)


@pytest.mark.parametrize("model_class", [ModifiedKneserNey, KatzBackoff])
def test_written_files_pass_the_normalization_check_and_edited_ones_fail(corpus, tmp_path, model_class):
    from lmcourse.ngram.arpa import normalization_error

    model = model_class(3).fit(corpus)
    assert normalization_error(model)[0] < 1e-12  # the model in memory: exact
    path = tmp_path / "model.arpa"
    write_arpa(model, path)
    assert normalization_error(read_arpa(path, check_normalization=True))[0] < 1e-5  # 7 digits in the file
    lines = path.read_text().splitlines()
    bigram = next(i for i, line in enumerate(lines) if line.startswith("-") and line.split("\t")[1] == "the cat")
    fields = lines[bigram].split("\t")
    lines[bigram] = "\t".join([f"{float(fields[0]) + 0.2:.6f}", *fields[1:]])
    path.write_text("\n".join(lines) + "\n")
    refusal = r"after the context '(on |a |)the' sum to [\d.]+, not 1 \(tolerance 0.0001\).*write it again"
    with pytest.raises(UserError, match=refusal):
        read_arpa(path, check_normalization=True)
    read_arpa(path)  # without the check the file still loads (it is well-formed, only not normalized)
