"""EventBridge schedule expressions, rate(...) and cron(...), evaluated by the local scheduler.
Must never fire a schedule it cannot evaluate: unsupported cron features are reported, not guessed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
DAYS = {
    d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)
}  # EventBridge: 1 = Sunday
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


class UnsupportedSchedule(ValueError):
    pass


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """None means "any" (* or ?)."""
    if text in ("*", "?"):
        return None
    numeric = text.upper()
    for name, number in (names or {}).items():
        numeric = numeric.replace(name, str(number))
    if any(c in numeric for c in "LW#"):  # last day, nearest weekday, nth weekday
        raise UnsupportedSchedule(f"cron feature in {text!r} is not evaluated locally")
    text = numeric
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = int(a), int(b)
        else:
            start = int(part)
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    expression: str
    interval: timedelta | None = None
    fields: tuple[frozenset[int] | None, ...] = ()

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        expression = expression.strip()
        if m := RATE.match(expression):
            unit = m.group(2).rstrip("s")
            return cls(expression, interval=timedelta(**{f"{unit}s": int(m.group(1))}))
        if expression.startswith("cron(") and expression.endswith(")"):
            parts = expression[5:-1].split()
            if len(parts) != 6:
                raise UnsupportedSchedule(f"cron needs 6 fields: {expression}")
            minute, hour, dom, month, dow, year = parts
            return cls(
                expression,
                fields=(
                    _field(minute, 0, 59),
                    _field(hour, 0, 23),
                    _field(dom, 1, 31),
                    _field(month, 1, 12, MONTHS),
                    _field(dow, 1, 7, DAYS),
                    _field(year, 1970, 2199),
                ),
            )
        raise UnsupportedSchedule(f"not a schedule expression: {expression}")

    def matches(self, at: datetime) -> bool:
        """For cron: does the minute `at` (UTC) match?"""
        minute, hour, dom, month, dow, year = self.fields
        weekday = (at.isoweekday() % 7) + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        checks = (
            (minute, at.minute),
            (hour, at.hour),
            (dom, at.day),
            (month, at.month),
            (dow, weekday),
            (year, at.year),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)

    def due(self, last: datetime, now: datetime) -> bool:
        """Did a firing time fall in (last, now]?"""
        if self.interval is not None:
            return now - last >= self.interval
        t = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= now:
            if self.matches(t):
                return True
            t += timedelta(minutes=1)
        return False
