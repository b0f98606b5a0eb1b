"""Checks shared by the lesson tests (``test_grading_lesson_XX.py``, ``test_lesson_XX_notebook.py``).

Each lesson's test file keeps its own test functions (so that pytest reports every lesson on its own) and
what is particular to it: its planted bugs, its correct reimplementation, what its notebook must show. The
checks that are the same for every lesson are written once, here:

- the grader: the reference gets full points, the untouched stubs get 0 with a reason, a planted bug scores
  0 on its exercise, ``pytest lessons/XX_...`` grades the reference and the stubs;
- the notebook: executed top to bottom in a fresh kernel (fast mode), its printed text, its images.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import corpus_present

from lmcourse.cli import main
from lmcourse.grading import get_lesson, grade_lesson
from lmcourse.grading.runner import PreparedExercise, Target, grade_target, prepare

REPO_ROOT = Path(__file__).resolve().parents[1]


# -- the grader ----------------------------------------------------------------------------------------------
def exercise_names(lesson_id: str) -> list[str]:
    """The names of lesson ``lesson_id``'s exercises, in the order they are graded."""
    return [exercise.name for exercise in get_lesson(lesson_id).exercises()]


def max_total(lesson_id: str) -> int:
    """The most points lesson ``lesson_id`` gives: the sum of its exercises' points."""
    return sum(exercise.points for exercise in get_lesson(lesson_id).exercises())


def stubs_file(lesson_id: str) -> Path:
    """The lesson's ``exercises.py`` as committed: stubs that raise ``NotImplementedError``."""
    return REPO_ROOT / "lessons" / get_lesson(lesson_id).folder / "exercises.py"


def check_stubs_do_not_import_the_answer_key(lesson_id: str) -> None:
    """The learner's file never imports lmcourse (the library is the answer key)."""
    text = stubs_file(lesson_id).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+lmcourse", text, flags=re.MULTILINE)


def prepared_exercises(lesson_id: str):
    """A module-scoped fixture ``prepared``: the lesson's exercises with their cases drawn and answered once.

    In a lesson's test file: ``prepared = prepared_exercises("01")``.
    """

    @pytest.fixture(scope="module", name="prepared")
    def prepared_fixture() -> list[PreparedExercise]:
        return prepare(get_lesson(lesson_id).exercises())

    return prepared_fixture


def check_reference_gets_full_points(lesson_id: str, min_cases: int = 20) -> None:
    """The library's reference answers score every exercise in full, on more than ``min_cases`` cases each."""
    results = grade_lesson(lesson_id, reference=True)
    assert [r.name for r in results] == exercise_names(lesson_id)
    for result in results:
        assert (result.points, result.reason) == (result.max_points, ""), result.name
        assert result.cases_checked > min_cases, result.name  # the fixed cases and the generated ones


def check_stubs_get_zero(lesson_id: str, prepared: list[PreparedExercise]) -> None:
    """The untouched ``exercises.py`` scores 0 everywhere, each with the stub's line as the reason."""
    results = grade_target(Target.from_file(stubs_file(lesson_id)), prepared)
    assert [r.name for r in results] == exercise_names(lesson_id)
    for result in results:
        assert result.points == 0
        assert "raised NotImplementedError" in result.reason and "(exercises.py, line" in result.reason


def check_every_exercise_has_a_planted_bug(lesson_id: str, planted_bugs: dict[str, tuple[str, str]]) -> None:
    """``planted_bugs`` (``{bug: (exercise name, source)}``) plants at least one bug in every exercise."""
    assert {name for name, _ in planted_bugs.values()} == set(exercise_names(lesson_id))


def write_exercises_file(folder: Path, source: str, header: str = "") -> Path:
    """``folder/exercises.py`` holding ``header`` then ``source`` (dedented): a learner's file to grade."""
    path = folder / "exercises.py"
    path.write_text(header + textwrap.dedent(source))
    return path


def planted_bug_file(lesson_id: str, folder: Path, source: str, imports: str = "") -> Path:
    """A learner's file with one planted bug: every reference function, then ``source`` replacing one of them.

    ``imports`` are the lines the buggy source needs (e.g. ``"import math\\n"``).
    """
    reference = get_lesson(lesson_id).reference_module
    return write_exercises_file(folder, source, f"from {reference} import *  # noqa: F403\n{imports}")


def check_planted_bug(prepared: list[PreparedExercise], file: Path, exercise_name: str, bug: str) -> None:
    """Exercise ``exercise_name`` of ``file`` (which holds ``bug``) scores 0, failing on a checked case."""
    this_exercise = [p for p in prepared if p.exercise.name == exercise_name]
    [result] = grade_target(Target.from_file(file), this_exercise)
    assert result.points == 0, f"the {exercise_name} grader did not catch: {bug}"
    assert result.reason.startswith(("fixed case", "generated case"))


def check_correct_reimplementation(prepared: list[PreparedExercise], folder: Path, source: str) -> None:
    """``source``, another correct way of writing every exercise, scores every exercise in full."""
    results = grade_target(Target.from_file(write_exercises_file(folder, source)), prepared)
    assert [(r.name, r.points, r.reason) for r in results] == [
        (p.exercise.name, p.exercise.points, "") for p in prepared
    ]


def check_cli_grades_the_reference(lesson_id: str, capsys: pytest.CaptureFixture) -> dict:
    """``lmcourse grade XX --reference --json``: exit 0, one JSON object, full points; returns the object."""
    assert main(["grade", lesson_id, "--reference", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == result["max_total"] == max_total(lesson_id)
    assert [e["name"] for e in result["exercises"]] == exercise_names(lesson_id)
    assert all(e["points"] == e["max"] and e["reason"] == "" for e in result["exercises"])
    return result


def run_lesson_pytest(folder: Path, reference: bool) -> subprocess.CompletedProcess:
    """``pytest -q <folder>`` in a child process, as a learner runs it; ``reference``: grade the answer key."""
    env = dict(os.environ, LMCOURSE_GRADE_REFERENCE="1" if reference else "0")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def check_lesson_pytest_grades_the_reference(lesson_id: str) -> None:
    """``LMCOURSE_GRADE_REFERENCE=1 pytest lessons/XX_...`` passes every exercise and prints a full score."""
    run = run_lesson_pytest(stubs_file(lesson_id).parent, reference=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(exercise_names(lesson_id))} passed" in run.stdout
    assert f"score table, lesson {lesson_id}" in run.stdout
    total = max_total(lesson_id)
    assert re.search(rf"^total +{total}/{total}$", run.stdout, flags=re.MULTILINE)


def check_lesson_pytest_grades_the_stubs(lesson_id: str) -> None:
    """``pytest lessons/XX_...`` on the untouched stubs fails every exercise, each with its reason."""
    run = run_lesson_pytest(stubs_file(lesson_id).parent, reference=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{len(exercise_names(lesson_id))} failed" in run.stdout
    assert run.stdout.count("raised NotImplementedError") >= len(exercise_names(lesson_id))


def check_a_copy_of_the_lesson_folder_grades_its_own_file(lesson_id: str, tmp_path: Path, capsys) -> None:
    """In a copy of the lesson folder holding a correct ``exercises.py`` (the checkout's are stubs), both
    ``pytest`` and ``lmcourse grade XX`` (run there) grade the copy's file, and say so first."""
    import shutil

    copy = tmp_path / get_lesson(lesson_id).folder
    shutil.copytree(stubs_file(lesson_id).parent, copy, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    (copy / "exercises.py").write_text(f"from {get_lesson(lesson_id).reference_module} import *  # noqa: F403\n")
    env = dict(os.environ, LMCOURSE_GRADE_REFERENCE="0")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(copy)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(exercise_names(lesson_id))} passed" in run.stdout
    # the score table, though the copy has no lessons/conftest.py above it, names the file graded first
    assert f"score table, lesson {lesson_id}" in run.stdout, run.stdout
    table = run.stdout.split(f"score table, lesson {lesson_id}", 1)[1].splitlines()[1]
    assert table == f"lesson {lesson_id}, {get_lesson(lesson_id).title}: {copy / 'exercises.py'}", run.stdout

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        assert main(["grade", lesson_id]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0].startswith(f"grading {copy / 'exercises.py'} (lesson {lesson_id}")
    assert captured.out.splitlines()[0].endswith(f": {copy / 'exercises.py'}")


# -- the notebook --------------------------------------------------------------------------------------------
def requires_a_lesson_corpus():
    """Skip (with the reason) unless brown or the synthetic corpus, which the notebooks fall back on, loads."""
    return pytest.mark.skipif(
        not (corpus_present("brown") or corpus_present("synthetic")),
        reason="neither the brown nor the synthetic corpus can be loaded here",
    )


def execute_notebook(path: Path, results_dir: Path | None = None, env: dict[str, str] | None = None):
    """The notebook at ``path`` executed in a fresh ``python3`` kernel with LMCOURSE_FAST=1.

    ``results_dir`` becomes LMCOURSE_RESULTS (where the notebook writes its figures and results.json);
    ``env`` adds other variables. Any error in a cell fails here.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    variables = {"LMCOURSE_FAST": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline", **(env or {})}
    if results_dir is not None:
        variables["LMCOURSE_RESULTS"] = str(results_dir)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def code_cells(notebook) -> list:
    """The notebook's code cells, in order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_text(cell) -> str:
    """What a code cell printed or displayed as text (streams, then the ``text/plain`` of results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def notebook_text(notebook) -> str:
    """The text of every code cell's output, in order."""
    return "\n".join(cell_text(cell) for cell in code_cells(notebook))


def check_every_cell_ran(notebook) -> None:
    """Every code cell was executed and none of them ended in an error."""
    cells = code_cells(notebook)
    assert all(cell.execution_count is not None for cell in cells)
    assert all(output["output_type"] != "error" for cell in cells for output in cell.outputs)


def images(notebook) -> list:
    """The PNG images (plots) the notebook's code cells displayed."""
    return [output for cell in code_cells(notebook) for output in cell.outputs
            if "image/png" in output.get("data", {})]


def check_by_hand_matches_library(text: str, expected_lines: int) -> None:
    """Each ``...: by hand X, library Y`` line of the notebook's ``text`` shows X == Y (to 1e-6)."""
    lines = [line for line in text.splitlines() if ": by hand " in line]
    assert len(lines) == expected_lines
    for line in lines:
        ours, library = line.split(": by hand ")[1].split(", library ")
        assert float(ours) == pytest.approx(float(library), abs=1e-6)


def check_perplexities_above_the_floor(summary: dict, baseline: str = "kn3") -> None:
    """A synthetic-corpus notebook's perplexities: finite, above the grammar's floor (by more than sampling
    noise on test), and modified KN order 3 (the row ``baseline``) far above it whatever the mode."""
    from lmcourse.synthetic import check_not_below_floor

    floor = summary["floor_perplexity"]
    for name, row in summary["perplexity"].items():
        for split in ("valid", "test"):
            assert math.isfinite(row[split]) and row[split] > floor, (name, split)
        check_not_below_floor(row["test"], summary["test_predicted_tokens"])
    # the N-gram baselines do not depend on the mode: on synthetic, modified KN is far above the floor
    assert summary["perplexity"][baseline]["test"] < 100


def check_agreement_recorded(summary: dict, models) -> None:
    """200 minimal pairs scored for every model; the N-gram models about a guess."""
    for name in models:
        row = summary["agreement"][name]
        assert row["pairs"] == 200
        assert all(0 <= row[key] <= 1 for key in ("accuracy", "singular_subject", "plural_subject"))
    # the words an N-gram model sees before the verb say nothing about the subject's number: about a guess
    for name in ("kn3", "kn5"):
        assert 0.35 < summary["agreement"][name]["accuracy"] < 0.65, name
