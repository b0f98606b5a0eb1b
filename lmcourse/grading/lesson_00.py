"""Lesson 00, tokens and vocabularies: the exercises, their points and their cases.

The reference answers are the functions of :mod:`lmcourse.tokens`; the learner's stubs are in
``lessons/00_tokens_and_vocabularies/exercises.py``.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from lmcourse import tokens
from lmcourse.grading.exercise import Case, Exercise, arguments, close

# -- inputs ------------------------------------------------------------------------------------------------
# Text built from pieces that exercise every branch of the token pattern (apostrophes, digits, case,
# punctuation, runs of white space), and plain random ASCII text.
TEXT_PIECES = ["the", "Cat", "SAT", "don't", "o'clock", "'tis", "rock'n'roll", "U.S.", "3.14", "1999", "a1b2",
               ",", ".", "!", "?", "'", '"', "-", "--", "$5", "(x)", " ", "  ", "\n", "\t", "e's'", "I'M"]
texts = st.one_of(
    st.lists(st.sampled_from(TEXT_PIECES), max_size=12).map("".join),
    st.text(alphabet=string.ascii_letters[:6] + string.digits[:3] + string.punctuation + " \t\n", max_size=40),
)

WORDS = ["the", "The", "a", "cat", "dog", "saw", "ran", "b", "B", ".", ","]
sentences = st.lists(st.lists(st.sampled_from(WORDS), max_size=8), max_size=6)
word_counts = st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=30)

EXERCISES = [
    Exercise(
        name="tokenize",
        points=2,
        reference=tokens.tokenize,
        summary="lowercase, then split into words (with inner apostrophes), numbers and single symbols",
        fixed_cases=[
            Case(("Don't panic: it's 4 o'clock!",)),
            Case(("The cat sat.",)),
            Case(("",)),
            Case(("  \n\t ",)),
            Case(("HELLO hello HeLLo",)),
            Case(("U.S. prices rose 3.14% -- 'really'?",)),
            Case(("rock'n'roll isn't dead'",)),
        ],
        generated_cases=arguments(texts),
        returns=list,
    ),
    Exercise(
        name="count_types_and_tokens",
        points=1,
        reference=tokens.count_types_and_tokens,
        summary="(number of distinct words, number of words)",
        fixed_cases=[
            Case(([["the", "cat", "saw", "the", "dog"]],)),
            Case(([["a"], ["a", "b"], []],)),
            Case(([["The", "the"]],)),
            Case(([],)),
        ],
        generated_cases=arguments(sentences),
        returns=tuple,
    ),
    Exercise(
        name="zipf_slope",
        points=2,
        reference=tokens.zipf_slope,
        summary="least-squares slope of log frequency against log rank",
        fixed_cases=[
            Case(([60, 30, 20, 15, 12],)),
            Case(([12, 60, 15, 30, 20],)),
            Case(([5, 5, 5],)),
            Case(([100, 1],)),
            Case(([1000, 250, 111, 62, 40, 28],)),
        ],
        generated_cases=arguments(word_counts),
        returns=float,
        compare=close(rel_tol=1e-6, abs_tol=1e-9),
    ),
    Exercise(
        name="build_vocabulary",
        points=3,
        reference=tokens.build_vocabulary,
        summary="words seen >= min_count times, most frequent first, ties alphabetical, at most max_size",
        fixed_cases=[
            Case(([["b", "a", "c", "a", "b", "a"]],)),
            Case(([["dog", "cat", "ant"]],)),
            Case(([["b", "B", "a"]],)),
            Case(([["b", "a", "c", "a", "b", "a"]],), {"max_size": 2}),
            Case(([["b", "a", "c", "a", "b", "a"]],), {"min_count": 2}),
            Case(([["x", "y"], ["y", "z"]],), {"max_size": 0}),
            Case(([["<unk>", "a", "<s>", "a", "</s>"]],)),
            Case(([["<s>", "<s>", "a", "b"]],), {"max_size": 2}),  # specials leave before the cut
            Case(([],)),
        ],
        generated_cases=arguments(
            sentences,
            max_size=st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
            min_count=st.integers(min_value=1, max_value=4),
        ),
        returns=list,
    ),
    Exercise(
        name="oov_rate",
        points=2,
        reference=tokens.oov_rate,
        summary="fraction of tokens not in the vocabulary",
        fixed_cases=[
            Case(([["a", "b", "c", "a"]], ["a"])),
            Case(([["x", "x", "x", "y"]], ["y"])),
            Case(([["a"], ["b", "a"]], [])),
            Case(([["a", "b"]], ["a", "b", "c"])),
            Case(([], ["a"])),
        ],
        generated_cases=arguments(sentences, st.lists(st.sampled_from(WORDS), unique=True)),
        returns=float,
        compare=close(rel_tol=1e-9, abs_tol=1e-12),
    ),
]
