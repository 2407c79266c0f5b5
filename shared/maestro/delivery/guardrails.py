"""A rollout's guardrails, checked while each step is held: the new version's drift monitors
(monitoring.interface.drift_alert) and the SLOs of its serving path (sla.interface.slo_breach). What breaches
them, one entry each; an SLO deleted during the rollout is a breach (nothing guards the step any more)."""

from __future__ import annotations

from typing import Any

from maestro.core.errors import NotFound
from maestro.delivery.spec import Guardrails
from maestro.monitoring.interface import drift_alert
from maestro.sla.interface import slo_breach


def breaches(tenant: str, rollout: dict[str, Any]) -> list[dict[str, Any]]:
    guardrails = Guardrails.model_validate(rollout["request"]["guardrails"])
    found: list[dict[str, Any]] = []
    if guardrails.drift:
        drift = drift_alert(tenant, rollout["model"], int(rollout["to_version"]))
        if drift:
            found.append({"guardrail": "drift", **drift})
    for slo_id in guardrails.slos:
        try:
            breach = slo_breach(tenant, slo_id)
        except NotFound:
            breach = {"slo_id": slo_id, "deleted": True}
        if breach:
            found.append({"guardrail": "slo", **breach})
    return found


def reason(found: list[dict[str, Any]]) -> str:
    parts = []
    for breach in found:
        if breach["guardrail"] == "drift":
            parts.append(
                f"drift on monitor {breach['monitor_id']} ({', '.join(breach['columns']) or 'dataset'})"
            )
        elif breach.get("deleted"):
            parts.append(f"SLO {breach['slo_id']} was deleted")
        else:
            what = breach["firing"] or [f"{o} budget spent" for o in breach["breached"]]
            parts.append(f"SLO {breach['name']} ({breach['slo_id']}): {', '.join(what)}")
    return "; ".join(parts)
