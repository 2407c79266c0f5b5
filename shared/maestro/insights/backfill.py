"""A tenant's graph rebuilt from scratch, as the backfill state machine's steps: start, walk (one bounded
slice per invocation: the runs of experiment after experiment, then every registered version, then the
events the audit trail recorded whose facts are in the event: promotions, explanations, A/B tests), finish
and fail. The rebuild goes into a generation of its own, "backfill-<id>", through the same facts
(insights.incremental) the events give; finish compares it with the live graph edge by edge (each edge and
its time, each project's start and task), reports what differs, then merges it into the live graph (an edge
keeps its earliest time, so the merge adds what the events never brought, such as history from before
insights was installed) and removes the generation. Must never leave a backfill's generation behind,
finished or failed."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from maestro.core.events import DomainEvent, publish_safely
from maestro.core.looping import dispatch
from maestro.core.settings import get_settings
from maestro.core.submissions import now_iso
from maestro.core.workflow_gateway import failure_reason
from maestro.insights.graph import RELATIONS, Edge, Node, ProjectFact
from maestro.insights.incremental import AUDITED, Facts, run_facts, version_facts
from maestro.insights.store import LIVE, InsightsStore

SLICE_S = 60.0
SHOWN = 20  # differences listed by name in a backfill's record (all are counted)


def new_backfill_id() -> str:
    return f"backfill-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def _store(state: dict[str, Any]) -> InsightsStore:
    return InsightsStore(get_settings().insights_table, state["tenant"])


def _history(state: dict[str, Any]) -> Any:
    from maestro.registry.interface import History

    return History(state["tenant"])


def _write(store: InsightsStore, state: dict[str, Any], facts: Facts) -> None:
    edges, projects = facts
    store.add_edges(state["graph"], edges)
    store.add_projects(state["graph"], projects)
    state["edges_read"] += len(edges)


def start(state: dict[str, Any]) -> dict[str, Any]:
    state = {
        **state,
        "graph": state["backfill_id"],
        "stage": "runs",
        "experiments": _history(state).experiment_ids(),
        "index": 0,
        "runs": 0,
        "edges_read": 0,
        "done": False,
    }
    _record(state, status="RUNNING", stage="runs")
    return state


def walk(state: dict[str, Any], slice_s: float = SLICE_S) -> dict[str, Any]:
    """What one slice allows (at least one experiment's runs), stage after stage; done after the last."""
    state = json.loads(json.dumps(state))
    history, store, deadline = _history(state), _store(state), time.monotonic() + slice_s
    while not state["done"] and time.monotonic() < deadline:
        if state["stage"] == "runs" and state["index"] < len(state["experiments"]):
            experiment_id = state["experiments"][state["index"]]
            experiment = history.experiment(experiment_id)
            for run in history.runs_of(experiment_id) if experiment else []:
                _write(store, state, run_facts(run, experiment))
                state["runs"] += 1
            state["index"] += 1
        elif state["stage"] == "runs":
            state["stage"] = "versions"
        elif state["stage"] == "versions":
            versions = history.versions()
            for version in versions:
                _write(store, state, version_facts(history, version))
            state |= {"stage": "events", "versions": len(versions)}
        else:
            from maestro.audit.interface import records_of  # promotions, explanations, A/B tests, and when

            replayed: dict[str, int] = {}
            for record in records_of(state["tenant"], *AUDITED):
                facts = AUDITED[record["action"]](
                    state["tenant"], record["detail"], record.get("principal"), record["occurred_at"]
                )
                _write(store, state, facts)
                replayed[record["action"]] = replayed.get(record["action"], 0) + 1
            state |= {"events": replayed, "done": True}
    if not state["done"]:
        _record(
            state,
            stage=state["stage"],
            progress={"experiments": state["index"], "of": len(state["experiments"]), "runs": state["runs"]},
        )
    return state


def _graph(store: InsightsStore, graph: str) -> tuple[set[Edge], dict[Node, tuple[int, str | None]]]:
    return {e for r in RELATIONS for e in store.edges(graph, r)}, store.projects(graph)


def compare(
    rebuilt: set[Edge],
    rebuilt_projects: dict[Node, tuple[int, str | None]],
    live: set[Edge],
    live_projects: dict[Node, tuple[int, str | None]],
) -> dict[str, Any]:
    """The rebuilt graph against the live one: equal, or which edges and projects differ."""

    def shown(edges: set[Edge]) -> list[dict[str, Any]]:
        return [
            {"source": e.source.id, "relation": e.relation, "target": e.target.id, "at": e.at}
            for e in sorted(edges)[:SHOWN]
        ]

    projects = sorted(
        p.id
        for p in set(rebuilt_projects) | set(live_projects)
        if rebuilt_projects.get(p) != live_projects.get(p)
    )
    only_rebuilt, only_live = rebuilt - live, live - rebuilt
    return {
        "equal": not only_rebuilt and not only_live and not projects,
        "edges": {"rebuilt": len(rebuilt), "live": len(live)},
        "projects": {"rebuilt": len(rebuilt_projects), "live": len(live_projects)},
        "only_in_rebuilt": {"count": len(only_rebuilt), "edges": shown(only_rebuilt)},
        "only_in_live": {"count": len(only_live), "edges": shown(only_live)},
        "projects_differing": {"count": len(projects), "projects": projects[:SHOWN]},
    }


def finish(state: dict[str, Any]) -> dict[str, Any]:
    store = _store(state)
    rebuilt, rebuilt_projects = _graph(store, state["graph"])
    comparison = compare(rebuilt, rebuilt_projects, *_graph(store, LIVE))
    store.add_edges(LIVE, rebuilt)
    facts = [ProjectFact(p, at, task) for p, (at, task) in rebuilt_projects.items()]
    store.add_projects(LIVE, facts)
    store.drop(state["graph"])
    totals = {
        "experiments": len(state["experiments"]),
        "runs": state["runs"],
        "versions": state.get("versions", 0),
        "promotions": state.get("events", {}).get("registry:ModelVersionAliasSet", 0),
        "events": state.get("events", {}),
    }
    _record(
        state, status="SUCCEEDED", stage="finished", read=totals, comparison=comparison, ended_at=now_iso()
    )
    _event("GraphBackfilled", state, equal=comparison["equal"], **totals)
    return {"status": "SUCCEEDED", "equal": comparison["equal"]}


def fail(state: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    reason = failure_reason(error)
    if state.get("tenant") and state.get("backfill_id"):
        _store(state).drop(state["backfill_id"])  # nothing half-built stays
        _record(state, status="FAILED", stage="failed", error=reason, ended_at=now_iso())
    _event("GraphBackfillFailed", state, **reason)
    return {"status": "FAILED", **reason}


def _record(state: dict[str, Any], **changes: Any) -> None:
    store = _store(state)
    record = store.backfill(state["backfill_id"]) or {
        "backfill_id": state["backfill_id"],
        "requested_by": state.get("requested_by"),
        "requested_at": now_iso(),
    }
    store.put_backfill(record | {"updated_at": now_iso()} | changes)


def _event(kind: str, state: dict[str, Any], **detail: Any) -> None:
    publish_safely(
        DomainEvent(
            "insights",
            kind,
            state["tenant"],
            {"backfill_id": state.get("backfill_id"), **detail},
            principal=state.get("requested_by"),
        )
    )


def run(event: dict[str, Any]) -> dict[str, Any]:
    return dispatch(event, "backfill", start, ("walk", walk), finish, fail)
