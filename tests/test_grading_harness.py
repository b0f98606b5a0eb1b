"""The grading harness survives anything a learner's file does, and says why it gave 0 points."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import strategies as st

from lmcourse.grading.exercise import Case, Exercise, arguments, checked_cases, close, generate_cases
from lmcourse.grading.runner import Target, grade_target, prepare, score_table, summary

LOOP_TIMEOUT = 2.0  # seconds: short, so that the endless-loop tests stay fast
TIMEOUT = 60.0  # elsewhere generous, so that a busy machine cannot turn a slow start into a failure

DOUBLE = Exercise(
    name="double", points=2, reference=lambda n: 2 * n,
    fixed_cases=[Case((1,)), Case((0,))],
    generated_cases=arguments(st.integers(min_value=-1000, max_value=1000)), n_generated=20,
    returns=int,
)
HALF = Exercise(
    name="half", points=1, reference=lambda x: x / 2,
    fixed_cases=[Case((3,)), Case((-1.0,))], returns=float, compare=close(),
)


@pytest.fixture(scope="module")
def prepared():
    return prepare([DOUBLE, HALF])


def grade_source(tmp_path, source: str, prepared, timeout: float = TIMEOUT) -> dict:
    path = tmp_path / "exercises.py"
    path.write_text(textwrap.dedent(source))
    return {r.name: r for r in grade_target(Target.from_file(path), prepared, timeout=timeout)}


def test_correct_file_gets_full_points(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return n + n

        def half(x):
            return x * 0.5
    """, prepared)
    assert [(r.points, r.reason) for r in results.values()] == [(2, ""), (1, "")]
    assert results["double"].cases_checked > len(DOUBLE.fixed_cases)  # generated cases were checked too


def test_syntax_error_scores_zero_everywhere(tmp_path, prepared):
    results = grade_source(tmp_path, "def double(n)\n    return 2 * n\n", prepared)
    for result in results.values():
        assert result.points == 0
        assert "could not import exercises.py" in result.reason and "SyntaxError" in result.reason


def test_exception_at_import(tmp_path, prepared):
    results = grade_source(tmp_path, "import no_such_module_for_lmcourse_tests\n", prepared)
    assert all(r.points == 0 and "ModuleNotFoundError" in r.reason for r in results.values())


def test_missing_function_and_wrong_answer(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return 2 * n + 1
    """, prepared)
    assert results["double"].points == 0
    assert results["double"].reason == "fixed case 1: double(1) returned 3, expected 2"
    assert results["half"].points == 0 and results["half"].reason == "exercises.py has no function named half"


def test_exception_gives_its_type_message_and_line(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            raise ValueError("not today")

        def half(x):
            return x / 2
    """, prepared)
    assert results["double"].points == 0
    assert results["double"].reason == "fixed case 1: double(1) raised ValueError: not today (exercises.py, line 3)"
    assert results["half"].points == 1


def test_wrong_return_type(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return str(2 * n)

        def half(x):
            return x // 2
    """, prepared)
    assert results["double"].reason == "fixed case 1: double(1) returned type str, expected int"
    assert results["half"].reason == "fixed case 1: half(3) returned type int, expected float"


def test_numpy_numbers_are_accepted_where_a_float_is_expected(tmp_path, prepared):
    results = grade_source(tmp_path, """
        import numpy as np

        def half(x):
            return np.float64(x) / 2
    """, prepared)
    assert (results["half"].points, results["half"].reason) == (1, "")


def test_an_answer_that_would_run_code_when_read_back_is_refused(tmp_path, prepared):
    marker = tmp_path / "pwned"
    results = grade_source(tmp_path, f"""
        import os

        class Sneaky:
            def __reduce__(self):
                return (os.system, ("touch {marker}",))

        def double(n):
            return Sneaky()
    """, prepared)
    assert results["double"].points == 0
    assert results["double"].reason == "fixed case 1: double(1) returned type Sneaky, expected int"
    assert not marker.exists()


def test_wrong_only_on_generated_inputs(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return 2 * n if n >= 0 else -2 * n
    """, prepared)
    assert results["double"].points == 0
    assert results["double"].reason.startswith("generated case ")
    assert "returned" in results["double"].reason and "expected -" in results["double"].reason


def test_endless_loop_times_out_and_the_rest_is_graded(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            while True:
                pass

        def half(x):
            return x / 2
    """, prepared, timeout=LOOP_TIMEOUT)
    assert results["double"].points == 0
    assert results["double"].reason == (
        f"fixed case 1: double(1) did not finish within {LOOP_TIMEOUT:g} s (an endless loop?)")
    assert results["half"].points == 1


def test_endless_loop_at_import(tmp_path, prepared):
    results = grade_source(tmp_path, "while True:\n    pass\n", prepared, timeout=LOOP_TIMEOUT)
    for result in results.values():
        assert result.points == 0
        assert result.reason == f"importing exercises.py did not finish within {LOOP_TIMEOUT:g} s (an endless " \
            "loop at the top of the file?)"


def test_exit_and_crash_of_the_process(tmp_path, prepared):
    results = grade_source(tmp_path, """
        import os, sys

        def double(n):
            sys.exit("bye")

        def half(x):
            os._exit(3)
    """, prepared)
    assert results["double"].reason == "fixed case 1: double(1) raised SystemExit: bye (exercises.py, line 5)"
    assert results["half"].reason == "the Python process stopped (exit 3) during fixed case 1"


def test_input_at_import_does_not_wait(tmp_path, prepared):
    results = grade_source(tmp_path, "name = input('your name? ')\n", prepared)
    assert all(r.points == 0 and "EOFError" in r.reason for r in results.values())


def test_result_that_cannot_be_sent_back(tmp_path, prepared):
    results = grade_source(tmp_path, """
        def double(n):
            return (2 * n for _ in range(1))
    """, prepared)
    assert results["double"].points == 0
    assert "returned a generator, which cannot be sent back" in results["double"].reason


def test_printing_learner_does_not_disturb_grading(tmp_path, prepared, capfd):
    results = grade_source(tmp_path, """
        print("hello from the top of the file")

        def double(n):
            print("doubling", n)
            return 2 * n

        def half(x):
            return x / 2
    """, prepared)
    assert sum(r.points for r in results.values()) == 3
    captured = capfd.readouterr()
    assert "doubling 1" in captured.err and "doubling" not in captured.out


def test_generated_cases_are_the_same_every_time():
    strategy = arguments(st.lists(st.integers()), flag=st.booleans())
    first, second = generate_cases(strategy, 30), generate_cases(strategy, 30)
    assert first == second and len(first) > 10
    assert [c.expected for c in checked_cases(DOUBLE)] == [c.expected for c in checked_cases(DOUBLE)]


def test_score_table_and_summary(tmp_path, prepared):
    results = grade_source(tmp_path, "def double(n):\n    return 2 * n\n", prepared)
    table = score_table(list(results.values()))
    assert table[0].split() == ["exercise", "points", "result"]
    assert table[2].split()[:2] == ["double", "2/2"]
    assert table[3].split()[:2] == ["half", "0/1"] and "no function named half" in table[3]
    assert table[-1].split() == ["total", "2/3"]
    assert summary(list(results.values()))["total"] == 2 and summary(list(results.values()))["max_total"] == 3


def test_cli_default_timeout_matches_the_runner():
    from lmcourse.cli import grade
    from lmcourse.grading import runner

    assert grade.DEFAULT_TIMEOUT == runner.DEFAULT_TIMEOUT
    assert grade.DEFAULT_MEMORY_GIB * 2**30 == runner.DEFAULT_MEMORY_LIMIT


def test_a_wrong_list_answer_shows_where_it_first_differs():
    from lmcourse.grading.exercise import equal

    expected = ["u", ".", "s", ".", "prices", "rose", "3", ".", "14", "%", "-", "-", "'", "really", "'", "?"]
    actual = expected[:12] + ["'really'", "?"]
    reason = equal(expected, actual)
    assert "first difference at index 12: \"'really'\" instead of \"'\"" in reason
    assert equal({"a": 1, "b": 2}, {"a": 1, "b": 3}).endswith("at key 'b': 3 instead of 2")
    assert equal([1, 2], [1, 2]) is None


def test_grading_leaves_no_hypothesis_folder_in_the_current_folder(tmp_path):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", "import sys; from lmcourse.cli import main; sys.exit(main())",
                          "grade", "02", "--reference"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failing_case_is_shown_in_full_or_written_to_a_script(tmp_path):
    import subprocess
    import sys

    total = Exercise(name="total", points=1, reference=sum, returns=int,
                     fixed_cases=[Case((list(range(60)),)), Case((list(range(1000, 1200)),))])
    prepared = prepare([total])
    path = tmp_path / "exercises.py"
    path.write_text("def total(numbers):\n    return sum(numbers[:50])\n")
    [medium] = grade_target(Target.from_file(path), prepared)  # fails on fixed case 1: shown in full
    assert medium.reason.startswith(f"fixed case 1: total({list(range(60))}) returned")

    path.write_text("def total(numbers):\n    return sum(numbers) if len(numbers) < 100 else -1\n")
    [long] = grade_target(Target.from_file(path), prepared)  # fails on fixed case 2: 200 numbers
    assert long.reason.startswith("fixed case 2: total([1000, 1001,")
    assert "(the full call: python " in long.reason
    assert long.reason.endswith(" YOUR_FILE.py) returned -1, expected 219900")
    script = long.reason.split("(the full call: python ")[1].split()[0]
    assert f"# The call: total({list(range(1000, 1200))})" in open(script).read()
    run = subprocess.run([sys.executable, script, str(path)], capture_output=True, text=True, timeout=60)
    assert run.stdout == "total(...) returned -1\n"
    [again] = grade_target(Target.from_file(path), prepared)  # a second run reuses the same file, in one folder
    assert again.reason == long.reason and Path(script).parent.name.startswith("lmcourse-cases-")
