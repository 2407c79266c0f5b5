"""The tenant's explanation rows of the day (quota explanation_rows_per_day): refused early at submission
where the count is known, reserved atomically when a job selects its rows (before any is explained), given
back when the attempt fails or is cancelled, and metered as explained when it succeeds. Must never reserve
twice for one attempt."""

from __future__ import annotations

import time
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import QuotaExceeded
from maestro.explain.errors import ExplainError
from maestro.explain.spec import ExplanationRequest
from maestro.tenants.counters import DailyRows
from maestro.tenants.plans import Limit, day_of


def check(auth: AuthContext, request: ExplanationRequest) -> None:
    """Refuse at once what the quota cannot admit: the exact count where the request gives it (inline rows,
    indices), else any row once today's quota is used up."""
    maximum = auth.limits.get(Limit.EXPLANATION_ROWS_PER_DAY)
    if maximum is None:
        return
    day = day_of(time.time())
    if request.rows.indices is not None:
        wanted = len(request.rows.indices)
    elif request.dataset.rows is not None:
        stop = len(request.dataset.rows) if request.rows.stop is None else request.rows.stop
        wanted = max(1, min(stop, len(request.dataset.rows)) - request.rows.start)
    else:
        wanted = 1
    DailyRows(auth.tenant).refuse_if_over(day, wanted, maximum)


def reserve(tenant: str, rows: int) -> str:
    """Reserve `rows` of today's quota (the limit read from the tenant's profile); the day they count on.
    A job over the quota fails with the quota's reason (ExplainError)."""
    day = day_of(time.time())
    try:
        DailyRows(tenant).reserve(day, rows)
    except QuotaExceeded as exc:
        raise ExplainError(exc.message) from exc
    return day


def release(tenant: str, item: dict[str, Any]) -> None:
    """An attempt that failed or was cancelled gives its reserved rows back to the day it took them from."""
    if item.get("rows_reserved"):
        DailyRows(tenant).give_back(item["rows_day"], int(item["rows_reserved"]))


def meter(tenant: str, rows: int) -> None:
    DailyRows(tenant).explained(day_of(time.time()), rows)
