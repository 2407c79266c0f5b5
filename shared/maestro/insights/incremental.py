"""The live graph, built from the registry's events on the bus as they come: a run's creation, its inputs
and the tags that say its project, task, code or base model (the run is read again, so an event delivered
twice or late says what the run says now); a version's registration; an alias pointed at a version (who
promoted what, at the event's time). Never scans: one event reads one run or one version. Must never fail an
event for a run or version that is gone since (it is skipped, and said so)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maestro.core.observability import logger
from maestro.core.settings import get_settings
from maestro.insights.graph import (
    GRAPH_TAGS,
    Edge,
    ProjectFact,
    project_fact,
    promotion_edge,
    run_edges,
    version_edges,
)
from maestro.insights.store import LIVE, InsightsStore

Facts = tuple[set[Edge], list[ProjectFact]]
RUN_EVENTS = ("RunCreated", "RunInputsLogged", "RunDataLogged")
VERSION_EVENTS = ("ModelVersionCreated",)
PROMOTION_EVENTS = ("ModelVersionAliasSet",)
DETAIL_TYPES = RUN_EVENTS + VERSION_EVENTS + PROMOTION_EVENTS


def event_ms(time: str) -> int:
    """An EventBridge or audit time ("2026-12-04T00:15:03Z") in ms."""
    return int(datetime.fromisoformat(time).timestamp() * 1000)


def run_facts(run: dict[str, Any], experiment: dict[str, Any]) -> Facts:
    return run_edges(run, experiment), [project_fact(run, experiment)]


def version_facts(history: Any, version: dict[str, Any]) -> Facts:
    found = history.run(version["run_id"]) if version.get("run_id") else None
    run, experiment = found if found else (None, None)
    return version_edges(version, run, experiment), []


def promotion_facts(detail: dict[str, Any], principal: str | None, time: str) -> Facts:
    if not principal or detail.get("version") is None:
        return set(), []
    return {promotion_edge(detail["name"], detail["version"], principal, event_ms(time))}, []


def facts_of(event: dict[str, Any], history: Any) -> Facts:
    """What one bus event adds to the graph (nothing, for an event that changes nothing it records)."""
    detail, kind = event["detail"], event["detail-type"]
    if kind in RUN_EVENTS:
        if kind == "RunDataLogged" and not GRAPH_TAGS & set(detail.get("tags") or []):
            return set(), []
        found = history.run(detail["run_id"])
        return run_facts(*found) if found else (set(), [])
    if kind in VERSION_EVENTS:
        version = history.version(detail["name"], int(detail["version"]))
        return version_facts(history, version) if version else (set(), [])
    if kind in PROMOTION_EVENTS:
        return promotion_facts(detail, detail.get("principal"), event["time"])
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
