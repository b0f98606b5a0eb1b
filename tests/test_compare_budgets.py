"""The rows of each budget (lmcourse.compare.budgets): the whole N-gram family, the three neural models, the
data-scaling runs, and --models selecting among them."""

from __future__ import annotations

import pytest

from lmcourse.compare.budgets import (
    BUDGETS,
    MIN_STEP_SHARE,
    NEURAL_KINDS,
    NGRAM_ORDERS,
    NGRAM_SMOOTHINGS,
    neural_run,
    plan,
    select,
)
from lmcourse.errors import UserError
from lmcourse.neural.presets import get_preset


@pytest.mark.parametrize("budget", BUDGETS)
def test_every_budget_has_the_whole_family(budget):
    names = [run.name for run in plan(budget)]
    assert len(names) == len(set(names))
    for smoothing in NGRAM_SMOOTHINGS:
        for order in NGRAM_ORDERS:
            assert f"{smoothing}-{order}" in names
    for kind in NEURAL_KINDS:
        assert kind in names
    scaled = {name for name in names if "@" in name}
    expected = set() if budget == "quick" else {f"{m}@{f}%" for m in ("mkn-5", "lstm", "transformer")
                                                 for f in (10, 30)}
    assert scaled == expected


def test_scaling_runs_get_a_share_of_the_steps_and_the_same_model():
    full, tenth = neural_run("lstm", "full"), neural_run("lstm", "full", 0.1)
    steps = get_preset("brown-30min", "lstm").training["steps"]
    assert tenth.train_fraction == 0.1 and tenth.model == full.model
    assert tenth.training["steps"] == pytest.approx(steps * MIN_STEP_SHARE, abs=1)
    assert tenth.label == "LSTM (10% of train)"


def test_seed_reaches_every_neural_run_only():
    runs = plan("quick", seed=7)
    assert all(run.training["seed"] == 7 for run in runs if run.family == "neural")
    assert all(run.training == {} for run in runs if run.family == "ngram")


def test_select_by_name_smoothing_kind_and_family_keeps_the_plan_order():
    runs = plan("standard")
    assert [r.name for r in select(runs, "lstm,mkn-5")] == ["mkn-5", "lstm"]
    assert [r.name for r in select(runs, "kn")] == [f"kn-{n}" for n in NGRAM_ORDERS]
    assert {r.family for r in select(runs, "neural")} == {"neural"}
    assert len(select(runs, "ngram")) == len(NGRAM_SMOOTHINGS) * len(NGRAM_ORDERS) + 2  # + mkn-5 at 10%, 30%
    assert [r.name for r in select(runs, "lstm@10%")] == ["lstm@10%"]
    assert select(runs, None) == runs


@pytest.mark.parametrize("models", ["bogus", " , ", "lstm@10%"])
def test_select_refuses_what_the_budget_lacks(models):
    with pytest.raises(UserError, match="--models"):
        select(plan("quick"), models)


def test_unknown_budget():
    with pytest.raises(UserError, match="unknown budget"):
        plan("huge")
