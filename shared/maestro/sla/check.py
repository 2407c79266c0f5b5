"""The scheduled SLO check: for every tenant's SLO, run its synthetic probe if it has one, compute its status
at the schedule's moment, and emit what changed (SloWarning, SloBreached, BurnRateAlert, SloRecovered).
Must never let one broken SLO stop the others' checks, and never repeat an event while its condition holds."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict
from maestro.core.observability import logger
from maestro.core.settings import get_settings
from maestro.sla.evaluate import status, transitions
from maestro.sla.observations import Observation, ObservationBatch
from maestro.sla.service import SlaService
from maestro.sla.slo import Probe, SloSpec
from maestro.sla.store import SlaStore, StoredSource, every_slo

CHECKER = "maestro-sla-checker"


def check_all(now_minute: int, correlation_id: str | None = None) -> list[dict[str, Any]]:
    summaries = []
    for tenant, slo in every_slo(get_settings().sla_table):
        try:
            summaries.append(check_one(tenant, slo, now_minute, correlation_id))
        except Exception:  # noqa: BLE001 - one broken SLO must not stop the others' checks
            logger.exception("SLO check of %s failed", slo["slo_id"], extra={"tenant": tenant})
    return summaries


def check_one(
    tenant: str, slo: dict[str, Any], now_minute: int, correlation_id: str | None
) -> dict[str, Any]:
    store = SlaStore(get_settings().sla_table, tenant)
    sla = SlaService(store, AuthContext.of(CHECKER, tenant, frozenset({"service"})), correlation_id)
    spec = SloSpec.model_validate(slo["spec"])
    if spec.probe:
        sla.observe(probe(spec.service, spec.probe, slo["slo_id"], now_minute))
    report = status(spec, StoredSource(store, spec.service), now_minute)
    state, events = transitions(slo["state"], report)
    if state != slo["state"]:
        # The new state is saved first, conditionally: of two checks of the same moment (a redelivered
        # schedule, an on-demand run) only the one that saves emits, so no event is sent twice.
        try:
            store.put_slo({**slo, "state": state, "version": slo["version"] + 1}, slo["version"])
        except Conflict:
            logger.info("SLO %s changed during its check; the other check emits", slo["slo_id"])
            events = []
    for event in events:
        sla.emit(event.pop("type"), slo_id=slo["slo_id"], name=spec.name, service=spec.service, **event)
    return {
        "tenant": tenant,
        "slo_id": slo["slo_id"],
        "levels": state.get("levels", {}),
        "firing": state.get("firing", []),
        "events": len(events),
    }


def probe(service: str, spec: Probe, slo_id: str, now_minute: int) -> ObservationBatch:
    """One GET of the health URL: its latency and status (a network failure or timeout is an error)."""
    started = time.perf_counter()
    status_code: int | None = None
    failed = False
    try:
        with urllib.request.urlopen(spec.url, timeout=spec.timeout_ms / 1000) as response:  # noqa: S310 - http(s) only (validated)
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code = exc.code
    except (urllib.error.URLError, TimeoutError, OSError):
        failed = True
    latency = (time.perf_counter() - started) * 1000
    observation = Observation(
        service=service,
        timestamp=datetime.fromtimestamp(now_minute * 60, UTC),
        latency_ms=latency,
        status=status_code,
        error=failed or None,
    )
    return ObservationBatch(batch_id=f"probe:{slo_id}:{now_minute}", observations=[observation])
