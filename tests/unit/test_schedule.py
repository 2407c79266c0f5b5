from datetime import UTC, datetime, timedelta

import pytest

from maestro.local.schedule import Schedule, UnsupportedSchedule

T0 = datetime(2026, 11, 27, 2, 59, 30, tzinfo=UTC)  # a Friday


def test_rate_is_due_after_its_interval() -> None:
    s = Schedule.parse("rate(5 minutes)")
    assert not s.due(T0, T0 + timedelta(minutes=4, seconds=59))
    assert s.due(T0, T0 + timedelta(minutes=5))
    assert Schedule.parse("rate(1 day)").interval == timedelta(days=1)


def test_cron_fires_once_at_its_minute() -> None:
    nightly = Schedule.parse("cron(0 3 * * ? *)")
    assert nightly.due(T0, T0 + timedelta(seconds=31))  # 03:00:01 passed
    assert not nightly.due(T0 + timedelta(seconds=31), T0 + timedelta(minutes=30))


@pytest.mark.parametrize(
    ("expression", "at", "expected"),
    [
        ("cron(0/15 * * * ? *)", datetime(2026, 1, 1, 10, 45, tzinfo=UTC), True),
        ("cron(0/15 * * * ? *)", datetime(2026, 1, 1, 10, 46, tzinfo=UTC), False),
        ("cron(0 8 ? * MON-FRI *)", datetime(2026, 11, 27, 8, 0, tzinfo=UTC), True),  # Friday
        ("cron(0 8 ? * MON-FRI *)", datetime(2026, 11, 28, 8, 0, tzinfo=UTC), False),  # Saturday
        ("cron(0 8 ? * 1 *)", datetime(2026, 11, 29, 8, 0, tzinfo=UTC), True),  # 1 = Sunday in EventBridge
        ("cron(30 12 1 JAN,JUL ? 2026-2027)", datetime(2027, 7, 1, 12, 30, tzinfo=UTC), True),
        ("cron(30 12 1 JAN,JUL ? 2026-2027)", datetime(2028, 7, 1, 12, 30, tzinfo=UTC), False),
    ],
)
def test_cron_fields(expression: str, at: datetime, expected: bool) -> None:
    assert Schedule.parse(expression).matches(at) is expected


@pytest.mark.parametrize(
    "expression", ["cron(0 12 L * ? *)", "cron(0 12 ? * 6#3 *)", "every day", "cron(0 12 *)"]
)
def test_unsupported_expressions_are_reported_not_guessed(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        Schedule.parse(expression)
