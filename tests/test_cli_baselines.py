"""``lmcourse baselines``: one JSON object with --json, a table beside the published figures without, and
one-line errors (exit 2) for an unknown task or a bad --folds. A made-up corpus stands in for the reviews."""

from __future__ import annotations

import json

import pytest
from cli_checks import refused, run_json
from test_tasks_baselines import toy_reviews

from lmcourse.cli import main
from lmcourse.tasks import TASKS


@pytest.fixture
def toy_task(monkeypatch):
    """movie_reviews' task with 2 x 100 made-up reviews in place of the corpus."""
    from dataclasses import replace

    monkeypatch.setitem(TASKS, "movie_reviews", replace(TASKS["movie_reviews"], load_documents=toy_reviews))


def test_json_is_one_object_and_logs_go_to_stderr(toy_task, capsys):
    assert main(["baselines", "--task", "movie_reviews", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # one object: anything else on stdout would not parse
    assert result["task"] == "movie_reviews" and result["protocol"] == "split"
    assert [row["key"] for row in result["baselines"]] == ["nb_unigrams", "nb_bigrams", "logreg_bigrams"]
    assert all(0 <= row["test_accuracy"] <= 1 for row in result["baselines"])
    assert "fitting Naive Bayes" in captured.err


def test_folds_json(toy_task, capsys):
    result = run_json(capsys, ["baselines", "--folds", "4", "--json"])
    assert result["protocol"] == "folds" and result["folds"] == 4 and result["fold_sizes"] == [50] * 4
    assert all(len(row["fold_accuracy"]) == 4 for row in result["baselines"])


def test_the_table_puts_the_published_figures_beside_ours(toy_task, capsys):
    assert main(["baselines"]) == 0
    out = capsys.readouterr().out
    assert "Naive Bayes, unigram presence" in out and "Pang & Lee 2004 86.4%" in out
    assert "Wang & Manning 2012 89.45%" in out and "95% interval" in out
    assert main(["baselines", "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validation" in out and "mean +- std" in out and "Pang & Lee 2004 86.4%" in out


def test_an_unknown_task_is_one_line(capsys):
    assert "unknown task 'imdb': use one of movie_reviews" in refused(capsys, ["baselines", "--task", "imdb"])


@pytest.mark.parametrize("folds", ["1", "0", "1001"])
def test_a_bad_number_of_folds_is_one_line(capsys, folds):
    line = refused(capsys, ["baselines", "--folds", folds, "--json"])
    assert "number of folds must be an integer from 2 to 1000" in line


def test_folds_that_are_not_a_number_are_one_line(capsys):
    assert "invalid int value" in refused(capsys, ["baselines", "--folds", "ten"])
