"""Training specs and sweeps: what a spec refuses, metric gates, a grid's and a random search's trials, and
the best trial by the objective."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from maestro.training.spec import MetricDefinition, TrainingJobRequest, passes
from maestro.training.sweeps import Objective, SweepRequest, best

JOB: dict[str, Any] = {
    "entry_point": "train.py",
    "source": "s3://b/tenants/acme/src.tar.gz",
    "channels": {"train": {"s3_uri": "s3://b/tenants/acme/train/"}},
    "metrics": [{"name": "val_auc"}, {"name": "loss"}],
}


def test_a_spec_refuses_what_sagemaker_would_refuse_later() -> None:
    for change in (
        {"entry_point": "/abs/train.py"},
        {"entry_point": "../train.py"},
        {"entry_point": "src/.hidden/train.py"},
        {"instance_count": 21},
        {"spot": True, "max_wait_s": 10, "max_runtime_s": 20},
        {"max_wait_s": 100},
        {"hyperparameters": {"sagemaker_program": "x"}},
        {"channels": {"bad name": {"s3_uri": "s3://b/x"}}},
        {"register": {"model": "m", "gate": "f1 >= 0.5"}},
        {"metrics": [{"name": "a"}, {"name": "a"}]},
    ):
        with pytest.raises(ValidationError):
            TrainingJobRequest.model_validate(JOB | change)
    assert TrainingJobRequest.model_validate(JOB | {"entry_point": "src/models/train.py"}).entry_point


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_the_default_metric_regex_reads_back_what_a_script_prints(value: float) -> None:
    pattern = re.compile(MetricDefinition(name="val_auc").pattern())
    found = pattern.search(f"[7] val_auc={value!r} more text")
    assert found is not None and float(found.group(1)) == pytest.approx(value)


def test_gates_compare_the_final_metric() -> None:
    assert passes("val_auc >= 0.8", {"val_auc": 0.8}) == (True, "val_auc = 0.8 passes >= 0.8")
    assert passes("loss < 0.1", {"loss": 0.2})[0] is False
    assert passes("val_auc > 0.5", {}) == (False, "the job reported no val_auc")
    assert passes(None, {})[0] is True


def test_a_grid_runs_every_combination_and_random_search_is_reproducible() -> None:
    grid = SweepRequest.model_validate(
        {
            "job": JOB,
            "parameters": {"max_depth": {"values": [2, 4, 6]}, "eta": {"values": [0.1, 0.3]}},
            "objective": {"metric": "val_auc"},
        }
    )
    assert grid.combinations() == [
        {"eta": e, "max_depth": d} for e, d in itertools.product([0.1, 0.3], [2, 4, 6])
    ]
    random_search = {
        "job": JOB,
        "parameters": {
            "eta": {"min": 0.001, "max": 1.0, "scale": "log"},
            "depth": {"min": 1, "max": 9, "integer": True},
        },
        "strategy": "random",
        "trials": 50,
        "objective": {"metric": "loss", "goal": "minimize"},
        "seed": 3,
    }
    first = SweepRequest.model_validate(random_search).combinations()
    assert first == SweepRequest.model_validate(random_search).combinations()
    assert all(0.001 <= t["eta"] <= 1.0 and t["depth"] in range(1, 10) for t in first)
    # a log scale spreads the draws over the decades (uniform on [0.001, 1] would put 90% in the last)
    decades = [math.floor(math.log10(t["eta"])) for t in first]
    assert min(decades.count(d) for d in (-3, -2, -1)) >= 8, decades


def test_a_sweep_refuses_an_objective_its_trials_do_not_report_and_an_oversized_grid() -> None:
    base = {"job": JOB, "parameters": {"eta": {"values": [0.1]}}}
    with pytest.raises(ValidationError, match=r"objective\.metric"):
        SweepRequest.model_validate(base | {"objective": {"metric": "f1"}})
    with pytest.raises(ValidationError, match="combinations"):
        SweepRequest.model_validate(
            base
            | {
                "parameters": {n: {"values": list(range(5))} for n in "abc"},
                "objective": {"metric": "loss"},
            }
        )
    with pytest.raises(ValidationError, match="trials"):
        SweepRequest.model_validate(base | {"strategy": "random", "objective": {"metric": "loss"}})


def test_the_best_trial_is_the_best_succeeded_one_by_the_objective() -> None:
    trials = [
        {"trial": 0, "status": "SUCCEEDED", "metrics": {"loss": 0.3}},
        {"trial": 1, "status": "FAILED", "metrics": {"loss": 0.01}},
        {"trial": 2, "status": "SUCCEEDED", "metrics": {"loss": 0.2}},
        {"trial": 3, "status": "SUCCEEDED", "metrics": {}},
        {"trial": 4, "status": "SUCCEEDED", "metrics": {"loss": 0.2}},
    ]
    assert best(trials, Objective(metric="loss", goal="minimize"))["trial"] == 2  # ties: the earlier
    assert best(trials, Objective(metric="loss", goal="maximize"))["trial"] == 0
    assert best(trials[1:2], Objective(metric="loss")) is None
