"""SLO definitions: what is accepted, what is refused and why, and the windows' bounds."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from maestro.sla.slo import WORKBOOK_ALERTS, SloSpec, Window, epoch_minute


def spec(**changes: object) -> SloSpec:
    base: dict[str, object] = {
        "name": "checkout",
        "service": "checkout-api",
        "objectives": [{"kind": "availability", "target": 99.9}],
    }
    return SloSpec.model_validate(base | changes)


def test_defaults_are_a_rolling_30_day_window_with_the_workbook_alerts() -> None:
    slo = spec()
    assert slo.window.type == "rolling" and slo.window.days == 30
    assert [(a.long_window, a.short_window, a.burn_rate) for a in slo.alerts] == [
        ("1h", "5m", 14.4),
        ("6h", "30m", 6),
        ("3d", "6h", 1),
    ]
    assert slo.alerts == WORKBOOK_ALERTS


def test_p99_under_500ms_is_99_percent_of_requests_under_500ms() -> None:
    slo = spec(objectives=[{"kind": "latency", "threshold_ms": 500, "percentile": 99}])
    assert slo.objectives[0].target == 99 and slo.objectives[0].budget_ratio == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ([{"kind": "availability", "target": 100}], "less than 100"),
        ([{"kind": "latency", "target": 99}], "threshold_ms"),
        ([{"kind": "availability"}], "target"),
        ([{"kind": "availability", "target": 99, "threshold_ms": 3}], "only a target"),
        ([{"kind": "latency", "threshold_ms": 5, "target": 90, "percentile": 99}], "not two"),
        ([{"kind": "availability", "target": 99}] * 2, "differ"),
    ],
)
def test_bad_objectives_are_refused_with_the_reason(
    objectives: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(objectives=objectives)


def test_alert_windows_must_be_durations_and_the_short_one_shorter() -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        spec(alerts=[{"long_window": "1 hour", "short_window": "5m", "burn_rate": 14.4}])
    with pytest.raises(ValidationError, match="shorter"):
        spec(alerts=[{"long_window": "5m", "short_window": "1h", "burn_rate": 14.4}])


def test_exclusions_must_end_after_they_start() -> None:
    with pytest.raises(ValidationError, match="after start"):
        spec(exclusions=[{"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}])


def test_calendar_windows_start_at_the_period() -> None:
    now = epoch_minute(datetime(2026, 11, 27, 15, 30, tzinfo=UTC))  # a Friday
    month = Window(type="calendar", period="month").bounds(now)
    week = Window(type="calendar", period="week").bounds(now)
    day = Window(type="calendar", period="day").bounds(now)
    assert month == (epoch_minute(datetime(2026, 11, 1, tzinfo=UTC)), now)
    assert week == (epoch_minute(datetime(2026, 11, 23, tzinfo=UTC)), now)  # Monday
    assert day == (epoch_minute(datetime(2026, 11, 27, tzinfo=UTC)), now)
    assert Window(days=7).bounds(now) == (now - 7 * 1440, now)
