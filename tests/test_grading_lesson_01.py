"""The lesson 01 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

from __future__ import annotations

import pytest
from lesson_checks import (
    check_cli_grades_the_reference,
    check_correct_reimplementation,
    check_every_exercise_has_a_planted_bug,
    check_lesson_pytest_grades_the_reference,
    check_lesson_pytest_grades_the_stubs,
    check_planted_bug,
    check_reference_gets_full_points,
    check_stubs_get_zero,
    planted_bug_file,
    prepared_exercises,
)

# What the planted bugs use besides the reference functions.
BUG_IMPORTS = "from collections import Counter\nimport math\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    "count_ngrams: no </s>": ("count_ngrams", """
        def count_ngrams(sentences, n):
            counts = Counter()
            for sentence in sentences:
                padded = ["<s>"] * (n - 1) + list(sentence)
                for end in range(n, len(padded) + 1):
                    counts[tuple(padded[end - n:end])] += 1
            return counts
    """),
    "count_ngrams: n <s> instead of n-1": ("count_ngrams", """
        def count_ngrams(sentences, n):
            counts = Counter()
            for sentence in sentences:
                padded = ["<s>"] * n + list(sentence) + ["</s>"]
                for end in range(n, len(padded) + 1):
                    counts[tuple(padded[end - n:end])] += 1
            return counts
    """),
    "count_ngrams: always one <s>": ("count_ngrams", """
        def count_ngrams(sentences, n):
            counts = Counter()
            for sentence in sentences:
                padded = ["<s>"] + list(sentence) + ["</s>"]
                for end in range(n, len(padded) + 1):
                    counts[tuple(padded[end - n:end])] += 1
            return counts
    """),
    "count_ngrams: n-grams cross sentences": ("count_ngrams", """
        def count_ngrams(sentences, n):
            padded = ["<s>"] * (n - 1)
            for sentence in sentences:
                padded += list(sentence) + ["</s>"]
            return Counter(tuple(padded[end - n:end]) for end in range(n, len(padded) + 1))
    """),
    "mle_probability: unseen context divides by zero": ("mle_probability", """
        def mle_probability(counts, word, context):
            total = sum(c for g, c in counts.items() if g[:-1] == tuple(context))
            return counts.get(tuple(context) + (word,), 0) / total
    """),
    "mle_probability: joint instead of conditional": ("mle_probability", """
        def mle_probability(counts, word, context):
            return counts.get(tuple(context) + (word,), 0) / sum(counts.values())
    """),
    "mle_probability: divides by distinct followers": ("mle_probability", """
        def mle_probability(counts, word, context):
            total = sum(1 for g in counts if g[:-1] == tuple(context))
            return counts.get(tuple(context) + (word,), 0) / total if total else 0.0
    """),
    "sentence_logprob: </s> not predicted": ("sentence_logprob", """
        def sentence_logprob(counts, sentence):
            n = len(next(iter(counts)))
            padded = ["<s>"] * (n - 1) + list(sentence)
            total = 0.0
            for end in range(n, len(padded) + 1):
                p = mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
                if p == 0:
                    return float("-inf")
                total += math.log(p)
            return total
    """),
    "sentence_logprob: log10": ("sentence_logprob", """
        def sentence_logprob(counts, sentence):
            n = len(next(iter(counts)))
            padded = pad_sentence(sentence, n)
            total = 0.0
            for end in range(n, len(padded) + 1):
                p = mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
                if p == 0:
                    return float("-inf")
                total += math.log10(p)
            return total
    """),
    "sentence_logprob: math.log(0) not handled": ("sentence_logprob", """
        def sentence_logprob(counts, sentence):
            n = len(next(iter(counts)))
            padded = pad_sentence(sentence, n)
            return sum(math.log(mle_probability(counts, padded[e - 1], padded[e - n:e - 1]))
                       for e in range(n, len(padded) + 1))
    """),
    "sentence_logprob: always one <s>": ("sentence_logprob", """
        def sentence_logprob(counts, sentence):
            n = len(next(iter(counts)))
            padded = ["<s>"] + list(sentence) + ["</s>"] if n > 1 else list(sentence) + ["</s>"]
            total = 0.0
            for end in range(n, len(padded) + 1):
                p = mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
                if p == 0:
                    return float("-inf")
                total += math.log(p)
            return total
    """),
    "sentence_probability_mass: the final p(</s> | ...) left out": ("sentence_probability_mass", """
        import itertools

        def sentence_probability_mass(counts, max_words):
            n = len(next(iter(counts)))
            words = sorted({g[-1] for g in counts} - {"</s>"})
            total = 0.0
            for m in range(max_words + 1):
                for sentence in itertools.product(words, repeat=m):
                    padded = ["<s>"] * (n - 1) + list(sentence)
                    p = 1.0
                    for end in range(n, len(padded) + 1):
                        p *= mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
                    total += p
            return total
    """),
    "sentence_probability_mass: sentences of max_words words left out": ("sentence_probability_mass", """
        import itertools

        def sentence_probability_mass(counts, max_words):
            words = sorted({g[-1] for g in counts} - {"</s>"})
            return sum(math.exp(sentence_logprob(counts, list(s)))
                       for m in range(max_words) for s in itertools.product(words, repeat=m))
    """),
    "sentence_probability_mass: the empty sentence left out": ("sentence_probability_mass", """
        import itertools

        def sentence_probability_mass(counts, max_words):
            words = sorted({g[-1] for g in counts} - {"</s>"})
            return sum(math.exp(sentence_logprob(counts, list(s)))
                       for m in range(1, max_words + 1) for s in itertools.product(words, repeat=m))
    """),
    "sentence_probability_mass: </s> taken for a word inside sentences": ("sentence_probability_mass", """
        import itertools

        def sentence_probability_mass(counts, max_words):
            words = sorted({g[-1] for g in counts})
            return sum(math.exp(sentence_logprob(counts, list(s)))
                       for m in range(max_words + 1) for s in itertools.product(words, repeat=m))
    """),
    "sentence_probability_mass: one <s> whatever the order": ("sentence_probability_mass", """
        import itertools

        def sentence_probability_mass(counts, max_words):
            n = len(next(iter(counts)))
            words = sorted({g[-1] for g in counts} - {"</s>"})
            total = 0.0
            for m in range(max_words + 1):
                for sentence in itertools.product(words, repeat=m):
                    padded = ["<s>"] + list(sentence) + ["</s>"] if n > 1 else list(sentence) + ["</s>"]
                    p = 1.0
                    for end in range(n, len(padded) + 1):
                        p *= mle_probability(counts, padded[end - 1], padded[end - n:end - 1])
                    total += p
            return total
    """),
    "perplexity_from_logprobs: base 2": ("perplexity_from_logprobs", """
        def perplexity_from_logprobs(log_probs):
            return 2 ** (-sum(log_probs) / len(log_probs))
    """),
    "perplexity_from_logprobs: sign flipped": ("perplexity_from_logprobs", """
        def perplexity_from_logprobs(log_probs):
            return math.exp(sum(log_probs) / len(log_probs))
    """),
    "perplexity_from_logprobs: one token too many": ("perplexity_from_logprobs", """
        def perplexity_from_logprobs(log_probs):
            return math.exp(-sum(log_probs) / (len(log_probs) + 1))
    """),
    "sample_next_word: words not sorted": ("sample_next_word", """
        def sample_next_word(counts, context, u):
            seen = [(g[-1], c) for g, c in counts.items() if g[:-1] == tuple(context)]
            total = sum(c for _, c in seen)
            running = 0
            for word, c in seen:
                running += c
                if running / total > u:
                    return word
            return seen[-1][0]
    """),
    "sample_next_word: >= instead of >": ("sample_next_word", """
        def sample_next_word(counts, context, u):
            seen = sorted((g[-1], c) for g, c in counts.items() if g[:-1] == tuple(context))
            total = sum(c for _, c in seen)
            running = 0
            for word, c in seen:
                running += c
                if running / total >= u:
                    return word
            return seen[-1][0]
    """),
    "sample_next_word: a float running total, None when it ends just below u": ("sample_next_word", """
        def sample_next_word(counts, context, u):
            seen = sorted((g[-1], c) for g, c in counts.items() if g[:-1] == tuple(context))
            total = sum(c for _, c in seen)
            running = 0.0
            for word, c in seen:
                running += c / total
                if running > u:
                    return word
    """),
    "sample_next_word: context ignored": ("sample_next_word", """
        def sample_next_word(counts, context, u):
            unigrams = Counter()
            for g, c in counts.items():
                unigrams[g[-1]] += c
            total = sum(unigrams.values())
            running = 0
            for word in sorted(unigrams):
                running += unigrams[word]
                if running / total > u:
                    return word
            return sorted(unigrams)[-1]
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math
    from collections import Counter, defaultdict

    def count_ngrams(sentences, n):
        counts = Counter()
        for sentence in sentences:
            tokens = ("<s>",) * (n - 1) + tuple(sentence) + ("</s>",)
            counts.update(zip(*(tokens[i:] for i in range(n))))
        return counts

    def _followers(counts, context):
        table = defaultdict(dict)
        for ngram, c in counts.items():
            table[ngram[:-1]][ngram[-1]] = c
        return table.get(tuple(context), {})

    def mle_probability(counts, word, context):
        seen = _followers(counts, context)
        return seen.get(word, 0) / sum(seen.values()) if seen else 0.0

    def sentence_logprob(counts, sentence):
        n = len(next(iter(counts)))
        tokens = ["<s>"] * (n - 1) + list(sentence) + ["</s>"]
        probabilities = [mle_probability(counts, tokens[i], tuple(tokens[i - n + 1:i]))
                         for i in range(n - 1, len(tokens))]
        if min(probabilities) == 0:
            return -math.inf
        return math.fsum(math.log(p) for p in probabilities)

    def sentence_probability_mass(counts, max_words):
        # every sentence, one by one (the docstring's way; the reference goes length by length)
        import itertools
        words = sorted({ngram[-1] for ngram in counts if ngram[-1] != "</s>"})
        return math.fsum(math.exp(sentence_logprob(counts, list(sentence)))
                         for m in range(max_words + 1) for sentence in itertools.product(words, repeat=m))

    def perplexity_from_logprobs(log_probs):
        if -math.inf in log_probs:
            return math.inf
        return math.exp(-math.fsum(log_probs) / len(log_probs))

    def sample_next_word(counts, context, u):
        seen = _followers(counts, context)
        total = sum(seen.values())
        cumulative = 0.0
        for word in sorted(seen):
            cumulative += seen[word] / total
            if cumulative > u:
                return word
        return max(seen)
"""

prepared = prepared_exercises("01")


def test_reference_gets_full_points():
    check_reference_gets_full_points("01")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("01", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("01", PLANTED_BUGS)


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("01", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("01", capsys)
    assert result["max_total"] == 12


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("01")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("01")
