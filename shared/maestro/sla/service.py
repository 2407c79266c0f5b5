"""SLO operations for one tenant: definitions with events, observation batches, status and budget reports.
Must never evaluate an SLO of another tenant: every store is built for the caller's tenant."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.sla.evaluate import status
from maestro.sla.observations import ObservationBatch, group
from maestro.sla.slo import SloSpec, minute_datetime
from maestro.sla.store import MINUTE_RETENTION_DAYS, SlaStore, StoredSource

MAX_TRANSACTION_BUCKETS = 99  # DynamoDB's 100 items per transaction, less the batch marker
MAX_REPORT_POINTS = 500


def now_minute() -> int:
    return int(time.time()) // 60


@dataclass
class SlaService:
    store: SlaStore
    auth: AuthContext
    correlation_id: str | None = None

    def emit(self, detail_type: str, **detail: Any) -> None:
        publish_safely(DomainEvent.by(self.auth, "sla", detail_type, detail, self.correlation_id))

    # -- definitions --------------------------------------------------------------------------------------
    def create(self, spec: SloSpec) -> dict[str, Any]:
        when = int(time.time() * 1000)
        slo = {
            "slo_id": f"slo-{uuid.uuid4().hex[:12]}",
            "spec": spec.model_dump(mode="json"),
            "version": 1,
            "created_at": when,
            "updated_at": when,
            "created_by": self.auth.principal,
            "state": {},
        }
        self.store.put_slo(slo, None)
        self.emit("SloCreated", slo_id=slo["slo_id"], name=spec.name, service=spec.service)
        return slo

    def update(self, slo_id: str, spec: SloSpec) -> dict[str, Any]:
        current = self.store.get_slo(slo_id)
        slo = {
            **current,
            "spec": spec.model_dump(mode="json"),
            "version": current["version"] + 1,
            "updated_at": int(time.time() * 1000),
        }
        self.store.put_slo(slo, current["version"])
        self.emit("SloUpdated", slo_id=slo_id, name=spec.name, service=spec.service)
        return slo

    def delete(self, slo_id: str) -> None:
        self.store.delete_slo(slo_id)
        self.emit("SloDeleted", slo_id=slo_id)

    # -- observations -------------------------------------------------------------------------------------
    def observe(self, batch: ObservationBatch, now: int | None = None) -> dict[str, Any]:
        current = now_minute() if now is None else now
        groups = group(batch.observations, current, current - MINUTE_RETENTION_DAYS * 1440 + 60)
        buckets = len(groups) + len({(s, m - m % 60) for s, m in groups})
        if buckets > MAX_TRANSACTION_BUCKETS:
            raise ValidationError(
                "observations",
                f"span {buckets} service-minute and service-hour buckets; one batch may touch at most "
                f"{MAX_TRANSACTION_BUCKETS} (send a service's observations of a few minutes per batch)",
            )
        batch_id = batch.effective_batch_id()
        recorded = self.store.record(batch_id, groups)
        return {
            "batch_id": batch_id,
            "accepted": len(batch.observations) if recorded else 0,
            "duplicate": not recorded,
        }

    # -- status and reports -------------------------------------------------------------------------------
    def status(self, slo_id: str, now: int | None = None) -> dict[str, Any]:
        slo = self.store.get_slo(slo_id)
        spec = SloSpec.model_validate(slo["spec"])
        at = now_minute() if now is None else now
        report = status(spec, StoredSource(self.store, spec.service), at)
        return {"slo_id": slo_id, "name": spec.name, "service": spec.service, **_readable(report)}

    def budget_report(self, slo_id: str, start: int, end: int, step_hours: int) -> dict[str, Any]:
        """Per objective, attainment and budget remaining at every `step_hours` whole hour from start, and at
        end itself (each point judged over the SLO window ending there): the budget's history. Each hour is
        read and judged once, whatever the number of points; a rolling window's far edge is taken at
        whole hours."""
        slo = self.store.get_slo(slo_id)
        spec = SloSpec.model_validate(slo["spec"])
        if end < start:
            raise ValidationError("end", "must not be before start")
        first_point = -(-start // 60) * 60
        moments = [*range(first_point, end + 1, 60 * step_hours)]
        if not moments or moments[-1] != end:
            moments.append(end)
        if len(moments) > MAX_REPORT_POINTS:
            raise ValidationError("step_hours", f"gives more than {MAX_REPORT_POINTS} points; widen it")
        excluded = [e.minutes for e in spec.exclusions]
        source = StoredSource(self.store, spec.service)
        first = min(spec.window.bounds(at)[0] for at in moments)
        first -= first % 60
        source.load_hours(first, end)
        hours: dict[int, tuple[float, list[float]]] = {}
        for hour in range(first, end, 60):
            seen = source.aggregate(hour, min(hour + 60, end), excluded)
            if seen.count:
                hours[hour] = (seen.count, [seen.bad(o) for o in spec.objectives])
        points = []
        for at in moments:
            window_start, _ = spec.window.bounds(at)
            inside = [v for h, v in hours.items() if window_start - window_start % 60 <= h < at]
            total = sum(count for count, _ in inside)
            points.append(
                {
                    "at": minute_datetime(at).isoformat(),
                    "requests": total,
                    "objectives": [
                        _budget(o.name, o.target, total, sum(bad[i] for _, bad in inside), o.budget_ratio)
                        for i, o in enumerate(spec.objectives)
                    ],
                }
            )
        return {"slo_id": slo_id, "name": spec.name, "service": spec.service, "points": points}


def _budget(name: str, target: float | None, total: float, bad: float, ratio: float) -> dict[str, Any]:
    allowed = ratio * total
    return {
        "objective": name,
        "target": target,
        "attainment": 100 * (1 - bad / total) if total else None,
        "budget_remaining": 100 * (1 - bad / allowed) if allowed else None,
    }


def _readable(report: dict[str, Any]) -> dict[str, Any]:
    window = report["window"]
    return {
        **report,
        "now": minute_datetime(report["now"]).isoformat(),
        "window": {
            **window,
            "start": minute_datetime(window["start"]).isoformat(),
            "end": minute_datetime(window["end"]).isoformat(),
        },
    }
