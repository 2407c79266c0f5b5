"""The live graph, built from the events on the bus as they come: the registry's (a run's creation, its inputs
and the tags that say its project, task, feature sets, code or base model: the run is read again, so an
event delivered twice or late says what the run says now; a version's registration; an alias pointed at a
version: who promoted it, and which alias it reached), an explanation's submission (which version it
explains) and an A/B test's start and conclusion (the versions its variants serve; the one that won). Never
scans: one event reads one run, one version or one experiment. The events whose facts are in the event
itself (AUDITED) give the same facts from the audit trail's record of them, which the backfill replays. Must
never fail an event for a run, version or experiment that is gone since (it is skipped, and said so)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from maestro.core.observability import logger
from maestro.core.settings import get_settings
from maestro.insights.graph import (
    GRAPH_TAGS,
    Edge,
    ProjectFact,
    ab_edges,
    explanation_edge,
    project_fact,
    promotion_edges,
    run_edges,
    version_edges,
)
from maestro.insights.store import LIVE, InsightsStore

Facts = tuple[set[Edge], list[ProjectFact]]
RUN_EVENTS = ("RunCreated", "RunInputsLogged", "RunDataLogged")
VERSION_EVENTS = ("ModelVersionCreated",)


def event_ms(time: str) -> int:
    """An EventBridge or audit time ("2026-12-04T00:15:03Z") in ms."""
    return int(datetime.fromisoformat(time).timestamp() * 1000)


def run_facts(run: dict[str, Any], experiment: dict[str, Any]) -> Facts:
    return run_edges(run, experiment), [project_fact(run, experiment)]


def version_facts(history: Any, version: dict[str, Any]) -> Facts:
    found = history.run(version["run_id"]) if version.get("run_id") else None
    run, experiment = found if found else (None, None)
    return version_edges(version, run, experiment), []


def promotion_facts(tenant: str, detail: dict[str, Any], principal: str | None, time: str) -> Facts:
    if detail.get("version") is None:
        return set(), []
    return promotion_edges(
        detail["name"], detail["version"], detail.get("alias"), principal, event_ms(time)
    ), []


def explanation_facts(tenant: str, detail: dict[str, Any], principal: str | None, time: str) -> Facts:
    model = detail.get("model") or {}
    if not detail.get("job_id") or model.get("version") is None:
        return set(), []
    return {explanation_edge(detail["job_id"], model["name"], model["version"], event_ms(time))}, []


def ab_facts(tenant: str, detail: dict[str, Any], principal: str | None, time: str) -> Facts:
    """A test's start: the versions its variants serve; its conclusion: the version that won, if one did."""
    from maestro.ab.interface import served_versions

    served = served_versions(tenant, detail["experiment_id"])
    if not served:
        return set(), []
    if detail.get("status") == "concluded":
        winner = served.get(detail.get("winner") or "")
        return (ab_edges(detail["experiment_id"], [], winner, event_ms(time)) if winner else set()), []
    return ab_edges(detail["experiment_id"], served.values(), None, event_ms(time)), []


# "<capability>:<detail type>", as the audit trail names an event's action: the facts its event gives.
AUDITED: dict[str, Callable[[str, dict[str, Any], str | None, str], Facts]] = {
    "registry:ModelVersionAliasSet": promotion_facts,
    "explain:ExplanationSubmitted": explanation_facts,
    "ab:ExperimentStarted": ab_facts,
    "ab:ExperimentConcluded": ab_facts,
}
SOURCES = {f"maestro.{action.partition(':')[0]}" for action in AUDITED} | {"maestro.registry"}
DETAIL_TYPES = (*RUN_EVENTS, *VERSION_EVENTS, *(action.partition(":")[2] for action in AUDITED))


def facts_of(event: dict[str, Any], history: Any) -> Facts:
    """What one bus event adds to the graph (nothing, for an event that changes nothing it records)."""
    detail, kind = event["detail"], event["detail-type"]
    action = f"{event['source'].removeprefix('maestro.')}:{kind}"
    if action in AUDITED:
        return AUDITED[action](detail["tenant"], detail, detail.get("principal"), event["time"])
    if event["source"] != "maestro.registry":
        return set(), []
    if kind in RUN_EVENTS:
        if kind == "RunDataLogged" and not GRAPH_TAGS & set(detail.get("tags") or []):
            return set(), []
        found = history.run(detail["run_id"])
        return run_facts(*found) if found else (set(), [])
    if kind in VERSION_EVENTS:
        version = history.version(detail["name"], int(detail["version"]))
        return version_facts(history, version) if version else (set(), [])
    return set(), []


def on_event(event: dict[str, Any]) -> dict[str, Any]:
    from maestro.registry.interface import History  # the run or version as the registry holds it now

    tenant = event["detail"]["tenant"]
    edges, projects = facts_of(event, History(tenant))
    store = InsightsStore(get_settings().insights_table, tenant)
    changed = store.add_edges(LIVE, edges)
    store.add_projects(LIVE, projects)
    if not edges and not projects:
        logger.info("nothing for the graph", extra={"tenant": tenant, "detail_type": event["detail-type"]})
    return {"edges": len(edges), "changed": changed, "projects": len(projects)}
