"""Model rollouts' plan and routing: a plan must climb to 100% and name its holds in a form people write;
routing is sticky (a unit on the new version stays on it as traffic grows) and serves each version its share,
checked against the binomial distribution (scipy) on units the test makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from maestro.delivery.routing import version_for
from maestro.delivery.spec import RolloutRequest, seconds


def split(percent: float, rollout_id: str = "ro-1") -> dict[str, object]:
    return {"rollout_id": rollout_id, "from_version": 1, "to_version": 2, "percent": percent}


@pytest.mark.parametrize(
    ("text", "expected"), [("0s", 0), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400)]
)
def test_holds_read_as_seconds(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["5", "5 m", "-1m", "1w", "m", "1.5h"])
def test_other_holds_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="whole number and a unit"):
        seconds(text)


def test_the_default_plan_is_5_25_100_with_drift_guarded() -> None:
    request = RolloutRequest(model="m", alias="champion", to_version=2)
    assert [s.percent for s in request.steps] == [5, 25, 100]
    assert request.guardrails.drift and request.guardrails.check_every_s == 60


@pytest.mark.parametrize(
    ("steps", "why"),
    [
        ([{"percent": 50}, {"percent": 50}, {"percent": 100}], "more traffic than the one before"),
        ([{"percent": 5}, {"percent": 25}], "the last step must be 100"),
        ([{"percent": 0}, {"percent": 100}], "greater than 0"),
        ([{"percent": 100, "hold": "8d"}], "at most 7 days"),
    ],
)
def test_plans_that_do_not_climb_to_100_are_refused_naming_steps(steps: list[dict], why: str) -> None:
    with pytest.raises(ValidationError, match=why) as refused:
        RolloutRequest(model="m", alias="champion", to_version=2, steps=steps)
    assert refused.value.errors()[0]["loc"][0] == "steps"


@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=50, unique=True),
    st.floats(0, 100),
    st.floats(0, 100),
)
def test_a_unit_on_the_new_version_stays_on_it_as_traffic_grows(units: list[str], a: float, b: float) -> None:
    low, high = sorted((a, b))
    for unit in units:
        if version_for(split(low), unit) == 2:
            assert version_for(split(high), unit) == 2
    assert {version_for(split(0), u) for u in units} == {1}
    assert {version_for(split(100), u) for u in units} == {2}


@pytest.mark.parametrize("percent", [1, 5, 25, 50])
def test_each_version_serves_its_share_of_units(percent: float) -> None:
    n = 20_000
    on_new = sum(version_for(split(percent, "ro-share"), f"user-{i}") == 2 for i in range(n))
    # a two-sided binomial test: the share is what was asked for (1 in 10,000 false alarms)
    assert stats.binomtest(on_new, n, percent / 100).pvalue > 1e-4


def test_rollouts_of_different_ids_split_units_independently() -> None:
    n = 20_000
    first = {i for i in range(n) if version_for(split(50, "ro-a"), f"u{i}") == 2}
    second = {i for i in range(n) if version_for(split(50, "ro-b"), f"u{i}") == 2}
    # independent halves overlap on a quarter of the units
    assert stats.binomtest(len(first & second), n, 0.25).pvalue > 1e-4
