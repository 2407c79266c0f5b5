"""What other capabilities may ask of SLOs; they never import its store: whether an SLO exists, and whether
it is breached now (a failed guardrail for a model rollout): one of its burn-rate alerts fires, or an
objective's error budget is spent."""

from __future__ import annotations

from typing import Any

from maestro.core.errors import NotFound
from maestro.core.settings import get_settings
from maestro.sla.evaluate import status
from maestro.sla.service import now_minute
from maestro.sla.slo import SloSpec
from maestro.sla.store import SlaStore, StoredSource

__all__ = ["slo_breach", "slo_exists"]


def slo_exists(tenant: str, slo_id: str) -> bool:
    try:
        SlaStore(get_settings().sla_table, tenant).get_slo(slo_id)
    except NotFound:
        return False
    return True


def slo_breach(tenant: str, slo_id: str, now: int | None = None) -> dict[str, Any] | None:
    """{slo_id, name, service, firing: [objective|alert], breached: [objective]} when the SLO is breached at
    minute `now` (default: this minute), None when it holds (or has no data yet). NotFound once deleted."""
    store = SlaStore(get_settings().sla_table, tenant)
    spec = SloSpec.model_validate(store.get_slo(slo_id)["spec"])
    report = status(spec, StoredSource(store, spec.service), now_minute() if now is None else now)
    firing = [
        f"{o['objective']}|{a['alert']}" for o in report["objectives"] for a in o["alerts"] if a["firing"]
    ]
    breached = [o["objective"] for o in report["objectives"] if o["level"] == "breached"]
    if not firing and not breached:
        return None
    return {
        "slo_id": slo_id,
        "name": spec.name,
        "service": spec.service,
        "firing": firing,
        "breached": breached,
    }
