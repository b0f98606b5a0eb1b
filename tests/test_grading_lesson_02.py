"""The lesson 02 graders: full points for the reference, 0 for the stubs, and each catches planted bugs."""

from __future__ import annotations

import ast

import pytest
from lesson_checks import (
    check_a_copy_of_the_lesson_folder_grades_its_own_file,
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
    stubs_file,
)

from lmcourse.grading.runner import Target, grade_target

# What the planted bugs use besides the reference functions.
BUG_IMPORTS = "from collections import Counter\nimport math\n"

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    "add_k_probability: k V forgotten in the denominator": ("add_k_probability", """
        def add_k_probability(counts, word, context, k, vocabulary_size):
            total = sum(c for g, c in counts.items() if g[:-1] == tuple(context))
            return (counts.get(tuple(context) + (word,), 0) + k) / (total + vocabulary_size)
    """),
    "add_k_probability: V + 1 outcomes": ("add_k_probability", """
        def add_k_probability(counts, word, context, k, vocabulary_size):
            total = sum(c for g, c in counts.items() if g[:-1] == tuple(context))
            return (counts.get(tuple(context) + (word,), 0) + k) / (total + k * (vocabulary_size + 1))
    """),
    "add_k_probability: c(h) from all n-grams": ("add_k_probability", """
        def add_k_probability(counts, word, context, k, vocabulary_size):
            return (counts.get(tuple(context) + (word,), 0) + k) / (sum(counts.values()) + k * vocabulary_size)
    """),
    "good_turing_count: n_r and n_{r+1} swapped": ("good_turing_count", """
        def good_turing_count(counts, r):
            n = Counter(counts.values())
            return (r + 1) * n[r] / n[r + 1]
    """),
    "good_turing_count: r instead of r + 1": ("good_turing_count", """
        def good_turing_count(counts, r):
            n = Counter(counts.values())
            return r * n[r + 1] / n[r]
    """),
    "good_turing_count: n_r = the number seen at least r times": ("good_turing_count", """
        def good_turing_count(counts, r):
            at_least = lambda s: sum(1 for c in counts.values() if c >= s)
            return (r + 1) * at_least(r + 1) / at_least(r)
    """),
    "katz_discount: n_r and n_{r+1} swapped in r*": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r + 1] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = ((r + 1) * n[r] / n[r + 1] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: r instead of r + 1 in r*": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = (r * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: no renormalization (d_r = r*/r)": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            d = (r + 1) * n[r + 1] / n[r] / r
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: counts above k discounted too": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: k n_k / n_1 instead of (k+1) n_{k+1} / n_1": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0 or k * n[k] >= n[1]:
                return 1.0
            common = k * n[k] / n[1]
            d = ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: no range check": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            return ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
    """),
    "katz_discount: a d_r of exactly 0 kept (0 <= d_r)": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 <= d <= 1 else 1.0
    """),
    "katz_discount: C >= 1 not checked": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or n[r] == 0:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "katz_discount: n_r = 0 divides by zero": ("katz_discount", """
        def katz_discount(counts, r, k=5):
            n = Counter(counts.values())
            if r > k or n[1] == 0 or (k + 1) * n[k + 1] >= n[1]:
                return 1.0
            common = (k + 1) * n[k + 1] / n[1]
            d = ((r + 1) * n[r + 1] / n[r] / r - common) / (1 - common)
            return d if 0 < d <= 1 else 1.0
    """),
    "continuation_count: raw counts": ("continuation_count", """
        def continuation_count(bigram_counts, word):
            return sum(c for (v, w), c in bigram_counts.items() if w == word)
    """),
    "continuation_count: words after instead of before": ("continuation_count", """
        def continuation_count(bigram_counts, word):
            return sum(1 for (v, w), c in bigram_counts.items() if v == word and c > 0)
    """),
    "continuation_probability: raw unigram frequency": ("continuation_probability", """
        def continuation_probability(bigram_counts, word):
            total = sum(bigram_counts.values())
            return sum(c for (v, w), c in bigram_counts.items() if w == word) / total if total else 0.0
    """),
    "continuation_probability: divided by distinct words": ("continuation_probability", """
        def continuation_probability(bigram_counts, word):
            words = {w for (v, w) in bigram_counts}
            return continuation_count(bigram_counts, word) / len(words) if words else 0.0
    """),
    "interpolated_kn_probability: lambda without N1+(v .), not normalized": ("interpolated_kn_probability", """
        def interpolated_kn_probability(bigram_counts, word, context, discount):
            seen = followers(bigram_counts, context)
            total = sum(seen.values())
            lower = continuation_probability(bigram_counts, word)
            if total == 0:
                return lower
            return max(seen.get(word, 0) - discount, 0) / total + discount / total * lower
    """),
    "interpolated_kn_probability: raw counts instead of continuation counts": ("interpolated_kn_probability", """
        def interpolated_kn_probability(bigram_counts, word, context, discount):
            seen = followers(bigram_counts, context)
            total = sum(seen.values())
            lower = sum(c for (v, w), c in bigram_counts.items() if w == word) / sum(bigram_counts.values())
            if total == 0:
                return lower
            return max(seen.get(word, 0) - discount, 0) / total + discount * len(seen) / total * lower
    """),
    "interpolated_kn_probability: no max(., 0)": ("interpolated_kn_probability", """
        def interpolated_kn_probability(bigram_counts, word, context, discount):
            seen = followers(bigram_counts, context)
            total = sum(seen.values())
            lower = continuation_probability(bigram_counts, word)
            if total == 0:
                return lower
            return (seen.get(word, 0) - discount) / total + discount * len(seen) / total * lower
    """),
    "interpolated_kn_probability: unseen context divides by zero": ("interpolated_kn_probability", """
        def interpolated_kn_probability(bigram_counts, word, context, discount):
            seen = followers(bigram_counts, context)
            total = sum(seen.values())
            lower = continuation_probability(bigram_counts, word)
            return max(seen.get(word, 0) - discount, 0) / total + discount * len(seen) / total * lower
    """),
    "modified_kn_discounts: Y = n1 / (n1 + n2)": ("modified_kn_discounts", """
        def modified_kn_discounts(counts):
            n = count_of_counts(counts)
            if 0 in n[1:]:
                return (0.5, 1.0, 1.5)
            y = n[1] / (n[1] + n[2])
            d = tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
            return d if all(0 <= x <= r for r, x in zip((1, 2, 3), d)) else (0.5, 1.0, 1.5)
    """),
    "modified_kn_discounts: no fallback for zero counts of counts": ("modified_kn_discounts", """
        def modified_kn_discounts(counts):
            n = count_of_counts(counts)
            y = n[1] / (n[1] + 2 * n[2])
            d = tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
            return d if all(0 <= x <= r for r, x in zip((1, 2, 3), d)) else (0.5, 1.0, 1.5)
    """),
    "modified_kn_discounts: no range check": ("modified_kn_discounts", """
        def modified_kn_discounts(counts):
            n = count_of_counts(counts)
            if 0 in n[1:]:
                return (0.5, 1.0, 1.5)
            y = n[1] / (n[1] + 2 * n[2])
            return tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
    """),
    "modified_kn_discounts: a D_r of exactly 0 taken for unusable (0 < d < r)": ("modified_kn_discounts", """
        def modified_kn_discounts(counts):
            n = count_of_counts(counts)
            if 0 in n[1:]:
                return (0.5, 1.0, 1.5)
            y = n[1] / (n[1] + 2 * n[2])
            d = tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
            return d if all(0 < x < r for r, x in zip((1, 2, 3), d)) else (0.5, 1.0, 1.5)
    """),
    "modified_kn_discounts: a list, not a tuple": ("modified_kn_discounts", """
        def modified_kn_discounts(counts):
            return list(by_hand_discounts(counts))
        from lmcourse.ngram.by_hand import modified_kn_discounts as by_hand_discounts
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    from collections import Counter, defaultdict

    def _by_context(counts):
        table = defaultdict(Counter)
        for ngram, c in counts.items():
            table[ngram[:-1]][ngram[-1]] += c
        return table

    def add_k_probability(counts, word, context, k, vocabulary_size):
        seen = _by_context(counts).get(tuple(context), Counter())
        return (seen[word] + k) / (sum(seen.values()) + k * vocabulary_size)

    def good_turing_count(counts, r):
        values = list(counts.values())
        return (r + 1) * values.count(r + 1) / values.count(r)

    def katz_discount(counts, r, k=5):
        # exact fractions, then one float (the reference decides in whole numbers, then divides floats)
        from fractions import Fraction
        n = Counter(counts.values())
        if r > k or n[1] == 0 or n[r] == 0:
            return 1.0
        big_c = Fraction((k + 1) * n[k + 1], n[1])
        if big_c >= 1:
            return 1.0
        d = (Fraction((r + 1) * n[r + 1], r * n[r]) - big_c) / (1 - big_c)
        return float(d) if 0 < d <= 1 else 1.0

    def continuation_count(bigram_counts, word):
        return len({v for (v, w), c in bigram_counts.items() if w == word and c})

    def continuation_probability(bigram_counts, word):
        kinds = [g for g, c in bigram_counts.items() if c > 0]
        return continuation_count(bigram_counts, word) / len(kinds) if kinds else 0.0

    def interpolated_kn_probability(bigram_counts, word, context, discount):
        p_cont = continuation_probability(bigram_counts, word)
        seen = _by_context(bigram_counts).get(tuple(context))
        if not seen:
            return p_cont
        c_v = sum(seen.values())
        weight = discount * len(seen) / c_v
        return max(seen[word] - discount, 0.0) / c_v + weight * p_cont

    def modified_kn_discounts(counts):
        n = Counter(counts.values())
        n1, n2, n3, n4 = (n[r] for r in (1, 2, 3, 4))
        if min(n1, n2, n3, n4) == 0:
            return (0.5, 1.0, 1.5)
        y = n1 / (n1 + 2 * n2)
        d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
        if 0 <= d1 <= 1 and 0 <= d2 <= 2 and 0 <= d3 <= 3:
            return (d1, d2, d3)
        return (0.5, 1.0, 1.5)
"""

prepared = prepared_exercises("02")


def test_reference_gets_full_points():
    check_reference_gets_full_points("02")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("02", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("02", PLANTED_BUGS)


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("02", tmp_path, source, BUG_IMPORTS), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


def test_cli_reference_json(capsys):
    result = check_cli_grades_the_reference("02", capsys)
    assert result["max_total"] == 13


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("02")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("02")


def test_a_copy_of_the_lesson_folder_grades_its_own_exercises(tmp_path, capsys):
    check_a_copy_of_the_lesson_folder_grades_its_own_file("02", tmp_path, capsys)


def test_a_wrong_helper_costs_only_its_own_points(prepared, tmp_path):
    """continuation_count off by one: 1 point lost, not the 6 of the exercises that call it (they are graded
    with the library's continuation_count in place of the learner's)."""
    buggy = '''
        def continuation_count(bigram_counts, word):
            return 1 + sum(1 for (_, w), c in bigram_counts.items() if w == word and c > 0)

        def continuation_probability(bigram_counts, word):  # right, but calls the wrong helper
            distinct = sum(1 for c in bigram_counts.values() if c > 0)
            return continuation_count(bigram_counts, word) / distinct if distinct else 0.0

        def interpolated_kn_probability(bigram_counts, word, context, discount):  # the same
            (v,) = context
            after = {w: c for (u, w), c in bigram_counts.items() if u == v and c > 0}
            total = sum(after.values())
            if total == 0:
                return continuation_probability(bigram_counts, word)
            seen = max(after.get(word, 0) - discount, 0) / total
            return seen + discount * len(after) / total * continuation_probability(bigram_counts, word)
        '''
    file = planted_bug_file("02", tmp_path, buggy)
    results = {r.name: r for r in grade_target(Target.from_file(file), prepared)}
    assert results["continuation_count"].points == 0
    for name in ("continuation_probability", "interpolated_kn_probability"):
        assert results[name].passed, results[name].reason
    assert sum(r.points for r in results.values()) == sum(p.exercise.points for p in prepared) - 1


def test_a_wrong_answer_that_uses_a_helper_says_which_were_substituted(prepared, tmp_path):
    buggy = '''
        def continuation_probability(bigram_counts, word):
            return continuation_count(bigram_counts, word) / max(len(bigram_counts), 1) / 2
        '''
    file = planted_bug_file("02", tmp_path, buggy)
    [result] = grade_target(Target.from_file(file), [p for p in prepared if p.exercise.name ==
                                                      "continuation_probability"])
    assert result.points == 0 and "graded with the library's continuation_count in place of yours" in result.reason


def test_the_stubs_import_nothing_of_the_answer_key():
    """The learner's file of lesson 02 brings its own count_ngrams: nothing of lmcourse (the answer key) in it."""
    tree = ast.parse(stubs_file("02").read_text())
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert modules and not [name for name in modules if name.split(".")[0] == "lmcourse"], modules
