"""SLO definitions: what is promised for a monitored service (availability and/or latency, request-based),
over which window (rolling days or a calendar period), with a warning level, exclusion windows and the
multi-window, multi-burn-rate alert pairs of the Google SRE Workbook. Must never accept a target of 100%:
a zero error budget makes every burn rate infinite."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from maestro.core.fields import Moment

MINUTE = 60
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}


def duration_minutes(text: str) -> int:
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"'{text}' is not a duration like 5m, 6h or 3d")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]


def epoch_minute(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) // MINUTE


def minute_datetime(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * MINUTE, UTC)


class Objective(BaseModel):
    """Request-based: `target` percent of requests must be good. Availability: good = not a server error
    (status < 500). Latency: good = at most `threshold_ms`; "p99 under 500 ms" is the same promise as
    "99% of requests under 500 ms", so `percentile` may be given instead of `target`."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["availability", "latency"]
    target: float | None = Field(None, gt=0, lt=100, description="percent of requests that must be good")
    threshold_ms: float | None = Field(None, gt=0, description="latency objectives: the good latency")
    percentile: float | None = Field(None, gt=0, lt=100, description="latency: 'p99 under X' sets 99")

    @model_validator(mode="after")
    def _complete(self) -> Objective:
        if self.kind == "latency" and self.threshold_ms is None:
            raise ValueError("latency objectives need threshold_ms")
        if self.kind == "availability" and (self.threshold_ms is not None or self.percentile is not None):
            raise ValueError("availability objectives take only a target")
        if self.percentile is not None:
            if self.target is not None and self.target != self.percentile:
                raise ValueError("give target or percentile, not two different values")
            self.target = self.percentile
        if self.target is None:
            raise ValueError("a target (percent of good requests) is required")
        return self

    @property
    def name(self) -> str:
        if self.kind == "availability":
            return f"availability>={self.target:g}%"
        return f"latency<={self.threshold_ms:g}ms@{self.target:g}%"

    @property
    def budget_ratio(self) -> float:
        """The fraction of requests allowed to be bad."""
        assert self.target is not None
        # Rounded: 1 - 99.9/100 is 0.00099999999999989 in binary, which would breach an SLO met exactly.
        return round(1 - self.target / 100, 12)


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["rolling", "calendar"] = "rolling"
    days: int = Field(30, ge=1, le=90, description="rolling windows: their length")
    period: Literal["day", "week", "month"] = Field("month", description="calendar windows: the period")

    def bounds(self, now_minute: int) -> tuple[int, int]:
        """[start, end) in epoch minutes: the last `days` for rolling windows, the current period so far
        (UTC; weeks start on Monday) for calendar ones."""
        if self.type == "rolling":
            return now_minute - self.days * 1440, now_minute
        now = minute_datetime(now_minute)
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.period == "week":
            start -= timedelta(days=start.weekday())
        elif self.period == "month":
            start = start.replace(day=1)
        return epoch_minute(start), now_minute


class Exclusion(BaseModel):
    """A maintenance window: its observations do not count and no alert fires inside it."""

    model_config = ConfigDict(extra="forbid")

    start: Moment
    end: Moment
    reason: str = Field("", max_length=256)

    @model_validator(mode="after")
    def _ordered(self) -> Exclusion:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        return epoch_minute(self.start), -(-int(_aware(self.end).timestamp()) // MINUTE)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class BurnRateAlert(BaseModel):
    """Fires when the burn rate over both windows is at least `burn_rate` (the Workbook's pairing: the long
    window proves significance, the short one that it is still happening)."""

    model_config = ConfigDict(extra="forbid")

    long_window: str
    short_window: str
    burn_rate: float = Field(gt=0)
    severity: Literal["page", "ticket"] = "page"

    @field_validator("long_window", "short_window")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration_minutes(value)
        return value

    @model_validator(mode="after")
    def _short_is_shorter(self) -> BurnRateAlert:
        if duration_minutes(self.short_window) >= duration_minutes(self.long_window):
            raise ValueError("short_window must be shorter than long_window")
        return self

    @property
    def name(self) -> str:
        return f"{self.long_window}/{self.short_window}@{self.burn_rate:g}x"


# The SRE Workbook's recommendation for a 30-day SLO: 2% of the budget in 1 hour, 5% in 6 hours (pages),
# 10% in 3 days (ticket).
WORKBOOK_ALERTS = [
    BurnRateAlert(long_window="1h", short_window="5m", burn_rate=14.4, severity="page"),
    BurnRateAlert(long_window="6h", short_window="30m", burn_rate=6, severity="page"),
    BurnRateAlert(long_window="3d", short_window="6h", burn_rate=1, severity="ticket"),
]


class Probe(BaseModel):
    """A synthetic check of the service's health URL on every SLA check run (each minute)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", max_length=2048)
    timeout_ms: int = Field(3000, ge=100, le=10_000)


class SloSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    service: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:/\-]+$",
        description="the monitored service, as its observations name it (Maestro ML's own: maestro:<fn>)",
    )
    objectives: list[Objective] = Field(min_length=1, max_length=4)
    window: Window = Field(default_factory=Window)
    warning_budget_remaining: float = Field(
        25, ge=0, lt=100, description="SloWarning when the remaining error budget falls to this percent"
    )
    exclusions: list[Exclusion] = Field(default_factory=list, max_length=50)
    alerts: list[BurnRateAlert] = Field(default_factory=lambda: list(WORKBOOK_ALERTS), max_length=6)
    probe: Probe | None = None

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, objectives: list[Objective]) -> list[Objective]:
        names = [o.name for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError("objectives must differ")
        return objectives

    def excluded(self, minute: int) -> bool:
        return any(start <= minute < end for start, end in (e.minutes for e in self.exclusions))
