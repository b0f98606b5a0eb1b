"""The lesson 00 graders: full points for the reference, 0 for the stubs, and each catches planted bugs;
the ``lmcourse grade`` command line (tested here, on lesson 00, for every lesson)."""

from __future__ import annotations

import csv
import json

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
    exercise_names,
    max_total,
    planted_bug_file,
    prepared_exercises,
    stubs_file,
)

from lmcourse.cli import main

EXERCISE_NAMES = exercise_names("00")
MAX_TOTAL = max_total("00")
STUBS = stubs_file("00")

# Each planted bug is a plausible learner mistake. The file takes every reference function and replaces
# one of them with the buggy version; that exercise must score 0.
PLANTED_BUGS = {
    "tokenize: no lowercasing": ("tokenize", """
        import re
        def tokenize(text):
            return re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*|[0-9]+|[^\\sA-Za-z0-9]", text)
    """),
    "tokenize: split on white space": ("tokenize", """
        def tokenize(text):
            return text.lower().split()
    """),
    "tokenize: apostrophes split off": ("tokenize", """
        import re
        def tokenize(text):
            return re.findall(r"[a-z]+|[0-9]+|[^\\sa-z0-9]", text.lower())
    """),
    "count_types_and_tokens: swapped": ("count_types_and_tokens", """
        def count_types_and_tokens(sentences):
            words = [w for s in sentences for w in s]
            return len(words), len(set(words))
    """),
    "count_types_and_tokens: types case-folded": ("count_types_and_tokens", """
        def count_types_and_tokens(sentences):
            words = [w for s in sentences for w in s]
            return len({w.lower() for w in words}), len(words)
    """),
    "zipf_slope: counts not sorted": ("zipf_slope", """
        import numpy as np
        def zipf_slope(counts):
            ranks = np.arange(1, len(counts) + 1)
            return float(np.polyfit(np.log(ranks), np.log(counts), 1)[0])
    """),
    "zipf_slope: no logarithms": ("zipf_slope", """
        import numpy as np
        def zipf_slope(counts):
            f = np.sort(counts)[::-1]
            return float(np.polyfit(np.arange(1, len(f) + 1), f, 1)[0])
    """),
    "build_vocabulary: ties in reverse": ("build_vocabulary", """
        from collections import Counter
        def build_vocabulary(sentences, max_size=None, min_count=1):
            counts = Counter(w for s in sentences for w in s if w not in ("<unk>", "<s>", "</s>"))
            kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (counts[w], w),
                          reverse=True)
            return kept if max_size is None else kept[:max_size]
    """),
    "build_vocabulary: min_count ignored": ("build_vocabulary", """
        from collections import Counter
        def build_vocabulary(sentences, max_size=None, min_count=1):
            counts = Counter(w for s in sentences for w in s if w not in ("<unk>", "<s>", "</s>"))
            kept = sorted(counts, key=lambda w: (-counts[w], w))
            return kept if max_size is None else kept[:max_size]
    """),
    "build_vocabulary: special tokens kept": ("build_vocabulary", """
        from collections import Counter
        def build_vocabulary(sentences, max_size=None, min_count=1):
            counts = Counter(w for s in sentences for w in s)
            kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
            return kept if max_size is None else kept[:max_size]
    """),
    "oov_rate: types instead of tokens": ("oov_rate", """
        def oov_rate(sentences, vocabulary):
            types = {w for s in sentences for w in s}
            return len(types - set(vocabulary)) / len(types) if types else 0.0
    """),
    "oov_rate: no tokens divides by zero": ("oov_rate", """
        def oov_rate(sentences, vocabulary):
            words = [w for s in sentences for w in s]
            return sum(w not in vocabulary for w in words) / len(words)
    """),
}

# Another correct way of writing every function (not the reference's code): it must get full points.
CORRECT_REIMPLEMENTATION = """
    import math, re
    from collections import Counter

    def tokenize(text):
        return re.findall(r"[a-z]+(?:'[a-z]+)*|\\d+|[^\\sa-z0-9]", text.lower(), flags=re.ASCII)

    def count_types_and_tokens(sentences):
        words = [w for s in sentences for w in s]
        return (len(set(words)), len(words))

    def zipf_slope(counts):
        ys = [math.log(c) for c in sorted(counts, reverse=True)]
        xs = [math.log(r) for r in range(1, len(ys) + 1)]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)

    def build_vocabulary(sentences, max_size=None, min_count=1):
        counts = Counter(w for s in sentences for w in s)
        for special in ("<unk>", "<s>", "</s>"):
            counts.pop(special, None)
        words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= min_count]
        return words[:max_size] if max_size is not None else words

    def oov_rate(sentences, vocabulary):
        vocabulary = set(vocabulary)
        words = [w for s in sentences for w in s]
        return sum(w not in vocabulary for w in words) / len(words) if words else 0.0
"""

prepared = prepared_exercises("00")


def test_reference_gets_full_points():
    check_reference_gets_full_points("00")


def test_untouched_stubs_get_zero_with_a_reason(prepared):
    check_stubs_get_zero("00", prepared)


def test_every_exercise_has_a_planted_bug():
    check_every_exercise_has_a_planted_bug("00", PLANTED_BUGS)


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_grader_catches_planted_bug(bug, prepared, tmp_path):
    name, source = PLANTED_BUGS[bug]
    check_planted_bug(prepared, planted_bug_file("00", tmp_path, source), name, bug)


def test_a_correct_reimplementation_gets_full_points(prepared, tmp_path):
    """The graders accept other correct ways of writing the functions, not only the reference's code."""
    check_correct_reimplementation(prepared, tmp_path, CORRECT_REIMPLEMENTATION)


# -- the command line ----------------------------------------------------------------------------------------
def test_cli_reference_json(capsys):
    check_cli_grades_the_reference("00", capsys)


def test_cli_json_stays_one_object_when_the_learner_prints(capfd, tmp_path):
    path = tmp_path / "chatty.py"
    path.write_text("from lmcourse.tokens import *  # noqa: F403\nprint('loading my exercises')\n"
                    "def oov_rate(sentences, vocabulary):\n    print('oov!')\n    return 0.5\n")
    assert main(["grade", "00", "--file", str(path), "--json"]) == 1  # an exercise lost its points
    captured = capfd.readouterr()
    result = json.loads(captured.out)  # the learner's prints went to stderr
    assert "loading my exercises" in captured.err and "oov!" in captured.err
    assert result["total"] == result["max_total"] - 2
    assert [e["name"] for e in result["exercises"] if e["points"] == 0] == ["oov_rate"]


def test_cli_stubs_table_exit_one_unless_no_fail(capsys):
    assert main(["grade", "00", "--file", str(STUBS)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == f"grading {STUBS} (lesson 00, tokens and vocabularies)"
    out = captured.out
    assert out.splitlines()[0] == f"lesson 00, tokens and vocabularies: {STUBS}"
    assert out.count("NotImplementedError") == len(EXERCISE_NAMES)
    assert "total" in out and f"0/{MAX_TOTAL}" in out
    assert main(["grade", "00", "--file", str(STUBS), "--no-fail"]) == 0


def test_cli_bad_input(capsys, tmp_path):
    assert main(["grade", "99"]) == 2
    err = capsys.readouterr().err
    assert "unknown lesson '99'" in err and "graded lessons are 00 (tokens and vocabularies)" in err
    assert main(["grade", "00", "--file", str(tmp_path / "nope.py")]) == 2
    assert "no exercises file" in capsys.readouterr().err
    assert main(["grade", "00", "--submissions", str(tmp_path)]) == 2  # an empty folder
    assert "no .py files" in capsys.readouterr().err


@pytest.mark.parametrize("option, value, message", [
    ("--timeout", "0.001", "--timeout must be at least 0.5 seconds, got 0.001"),
    ("--timeout", "nan", "--timeout must be at least 0.5 seconds, got nan"),
    ("--timeout", "inf", "--timeout must be at least 0.5 seconds, got inf"),
    ("--memory-limit", "-1", "--memory-limit must be a number of GiB (0: no limit), got -1"),
    ("--memory-limit", "0.1", "--memory-limit 0.1 GiB is too little for Python to start: give 0.25 or more"),
])
def test_cli_refuses_limits_it_cannot_keep_before_grading(capsys, option, value, message):
    assert main(["grade", "00", "--file", str(STUBS), option, value]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"lmcourse: error: {message}\n"


def test_cli_submissions_csv(capsys, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "alice.py").write_text("from lmcourse.tokens import *  # noqa: F403\n")
    (submissions / "bob.py").write_text(STUBS.read_text())
    (submissions / "carol.py").write_text("from lmcourse.tokens import *  # noqa: F403\n"
                                          "def oov_rate(sentences, vocabulary):\n    return 1\n")
    (submissions / "dave.py").write_text("def tokenize(text)\n")
    out = tmp_path / "grades.csv"
    assert main(["grade", "00", "--submissions", str(submissions), "--out", str(out), "--json"]) == 1
    capsys.readouterr()
    assert main(["grade", "00", "--submissions", str(submissions), "--out", str(out), "--json", "--no-fail"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [learner["learner"] for learner in summary["learners"]] == ["alice", "bob", "carol", "dave"]

    with open(out, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["learner", *EXERCISE_NAMES, "total", "reasons"]
    by_learner = {row["learner"]: row for row in rows}
    assert by_learner["alice"]["total"] == "10" and by_learner["alice"]["reasons"] == ""
    assert by_learner["bob"]["total"] == "0" and by_learner["bob"]["reasons"].count("NotImplementedError") == 5
    assert by_learner["carol"]["total"] == "8" and by_learner["carol"]["oov_rate"] == "0"
    assert "oov_rate: fixed case 1" in by_learner["carol"]["reasons"] and "type int, expected float" in \
        by_learner["carol"]["reasons"]
    assert by_learner["dave"]["total"] == "0" and "SyntaxError" in by_learner["dave"]["reasons"]
    assert not list(tmp_path.glob(".grades.csv.*"))  # no temp file left behind


# -- pytest inside the lesson folder ---------------------------------------------------------------------
def test_pytest_in_the_lesson_folder_grades_the_reference():
    check_lesson_pytest_grades_the_reference("00")


def test_pytest_in_the_lesson_folder_grades_the_stubs():
    check_lesson_pytest_grades_the_stubs("00")
