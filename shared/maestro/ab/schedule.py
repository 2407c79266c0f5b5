"""Scheduled analysis of every running experiment: ExperimentAnalyzed each time, SampleRatioMismatch and
ExperimentDecisionReached when they appear (not repeated while they hold), and, only where the experiment
opted in, concluding it and pointing a registry alias at the winner's model version.
Must never promote a model on a sample ratio mismatch, a harmed guardrail, or without the opt-in."""

from __future__ import annotations

from typing import Any

from maestro.ab.analysis import analyze
from maestro.ab.experiments import ExperimentSpec
from maestro.ab.service import AbService
from maestro.ab.store import AbStore, running_experiments
from maestro.core.auth import AuthContext
from maestro.core.observability import logger
from maestro.core.settings import get_settings

SCHEDULER = "maestro-ab-scheduler"


def analyze_running(correlation_id: str | None = None) -> list[dict[str, Any]]:
    settings = get_settings()
    summaries = []
    for item in running_experiments(settings.ab_table):
        tenant = item["gsi1sk"].split("#", 1)[0]
        try:
            summaries.append(_one(tenant, item, correlation_id))
        except Exception:  # noqa: BLE001 - one broken experiment must not stop the others' analysis
            logger.exception(
                "scheduled analysis of %s failed", item["experiment_id"], extra={"tenant": tenant}
            )
    return summaries


def _one(tenant: str, item: dict[str, Any], correlation_id: str | None) -> dict[str, Any]:
    auth = AuthContext.of(SCHEDULER, tenant, frozenset({"service"}))
    ab = AbService(AbStore(get_settings().ab_table, tenant), auth, correlation_id)
    experiment_id = item["experiment_id"]
    spec = ExperimentSpec.model_validate(item["spec"])
    needs_units = any(m.kind == "quantile" for m in spec.metrics)
    report = analyze(
        experiment_id,
        spec,
        ab.store.statistics(experiment_id),
        ab.store.unit_values(experiment_id) if needs_units else None,
    )
    decision, srm = report["decision"], report["srm"]
    ab.emit(
        "ExperimentAnalyzed",
        experiment_id=experiment_id,
        units=report["variants"],
        decision=decision,
        srm_p_value=srm["p_value"] if srm else None,
    )
    state = item.get("alerts", {})
    new_state = {"srm": bool(srm and srm["mismatch"]), "decision": decision["action"]}
    if new_state["srm"] and not state.get("srm"):
        ab.emit("SampleRatioMismatch", experiment_id=experiment_id, units=report["variants"], **srm)
    if decision["action"] in ("ship", "stop") and state.get("decision") != decision["action"]:
        ab.emit("ExperimentDecisionReached", experiment_id=experiment_id, **decision)
    if new_state != state:
        ab.store.save_experiment(
            {**item, "alerts": new_state, "version": item["version"] + 1}, item["version"]
        )
    if decision["action"] == "ship" and spec.auto_conclude.enabled and not new_state["srm"]:
        _promote(ab, experiment_id, spec, decision["winner"])
    return {"tenant": tenant, "experiment_id": experiment_id, "decision": decision["action"]}


def _promote(ab: AbService, experiment_id: str, spec: ExperimentSpec, winner: str) -> None:
    """Conclude, then point the configured registry alias at the winning model version (audited), unless a
    monitor of that version shows drift: a failed guardrail, ExperimentPromotionHeld says so."""
    from maestro.monitoring.interface import drift_alert  # deferred: only a promotion needs these
    from maestro.registry.interface import ModelLookup, point_alias

    ab.act(experiment_id, "conclude", winner=winner)
    model = next(v for v in spec.variants if v.key == winner).model
    alias = spec.auto_conclude.alias
    if model is None or not alias:
        ab.emit("ExperimentAutoConcluded", experiment_id=experiment_id, winner=winner, promoted=None)
        return
    number = ModelLookup(ab.auth.tenant).version_number(model.name, model.version, model.alias)
    drift = drift_alert(ab.auth.tenant, model.name, number) if number is not None else None
    if drift is not None:
        held = {"model": model.name, "version": number, "alias": alias, "drift": drift}
        ab.record(experiment_id, "promotion_held", **held)
        ab.emit("ExperimentPromotionHeld", experiment_id=experiment_id, winner=winner, **held)
        ab.emit(
            "ExperimentAutoConcluded", experiment_id=experiment_id, winner=winner, promoted=None, held=held
        )
        return
    version = point_alias(ab.auth, ab.correlation_id, model.name, alias, model.version, model.alias)
    promoted = {"model": model.name, "version": version, "alias": alias}
    ab.record(experiment_id, "promoted", **promoted)
    ab.emit("ExperimentAutoConcluded", experiment_id=experiment_id, winner=winner, promoted=promoted)
