"""Insights for one tenant's caller, over its live graph: a node's neighbourhood, the most reused artifacts of
a period, reuse over time, recommendations for a project, and backfills (start one, follow it). Reads are
Queries of the tenant's own partitions, never scans, and never another tenant's. Must never recommend from
another tenant's history, nor an artifact the project already uses."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, DependencyUnavailable, NotFound, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import get_settings
from maestro.core.submissions import now_iso
from maestro.insights.backfill import new_backfill_id
from maestro.insights.graph import ARTIFACT_KINDS, Edge, Node, parse_node
from maestro.insights.store import LIVE, InsightsStore

Period = Literal["day", "week", "month"]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def period_start(ms: int, period: Period) -> int:
    day = datetime.fromtimestamp(ms / 1000, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        day = day.replace(day=1)
    elif period == "week":
        day = datetime.fromtimestamp(day.timestamp() - day.weekday() * 86_400, UTC)
    return int(day.timestamp() * 1000)


def shown_edge(edge: Edge, node: Node) -> dict[str, Any]:
    outgoing = edge.source == node
    other = edge.target if outgoing else edge.source
    return {
        "direction": "out" if outgoing else "in",
        "relation": edge.relation,
        "node": {"id": other.id, "kind": other.kind, "key": other.key},
        "at": _iso(edge.at),
    }


class InsightsService:
    def __init__(self, store: InsightsStore, auth: AuthContext, correlation_id: str | None) -> None:
        self.store, self.auth, self.correlation_id = store, auth, correlation_id

    @staticmethod
    def node(text: str, field: str = "node") -> Node:
        try:
            return parse_node(text)
        except ValueError as exc:
            raise ValidationError(field, str(exc)) from exc

    # -- the graph -------------------------------------------------------------------------------------------
    def neighbourhood(self, node_id: str) -> dict[str, Any]:
        node = self.node(node_id)
        edges = sorted(self.store.around(LIVE, node), key=lambda e: (e.at, e.relation, e.source, e.target))
        if not edges:
            raise NotFound(f"no node {node.id} in the tenant's graph")
        return {
            "node": {"id": node.id, "kind": node.kind, "key": node.key},
            "edges": [shown_edge(e, node) for e in edges],
        }

    def _reusers(self, since: int, until: int) -> tuple[dict[Node, set[Node]], list[Edge]]:
        """Per artifact, the projects that first used it in [since, until) besides its producer; the edges."""
        producers = {e.target: e.source for e in self.store.edges(LIVE, "produced")}
        users: dict[Node, set[Node]] = defaultdict(set)
        counted = []
        for e in self.store.edges(LIVE, "used", since, until):
            if producers.get(e.target) != e.source:
                users[e.target].add(e.source)
                counted.append(e)
        return users, counted

    def top_reused(self, since: int, until: int, kind: str | None, limit: int) -> dict[str, Any]:
        if since >= until:
            raise ValidationError("since", "must be before until")
        users, _ = self._reusers(since, until)
        ranked = sorted(
            ((a, len(p)) for a, p in users.items() if kind is None or a.kind == kind),
            key=lambda found: (-found[1], found[0]),
        )
        return {
            "since": _iso(since),
            "until": _iso(until),
            "kind": kind,
            "artifacts": [
                {"id": a.id, "kind": a.kind, "key": a.key, "projects": n} for a, n in ranked[:limit]
            ],
        }

    def timeline(self, node_id: str | None, since: int, until: int, period: Period) -> dict[str, Any]:
        """New reusing projects per period (a project counts in the period of its first use), for one
        artifact or for all."""
        if since >= until:
            raise ValidationError("since", "must be before until")
        node = self.node(node_id) if node_id else None
        if node is not None and node.kind not in ARTIFACT_KINDS:
            raise ValidationError(
                "node", f"{node.kind} is not an artifact kind ({', '.join(ARTIFACT_KINDS)})"
            )
        _, edges = self._reusers(since, until)
        counts: dict[int, int] = defaultdict(int)
        for e in edges:
            if node is None or e.target == node:
                counts[period_start(e.at, period)] += 1
        return {
            "node": node.id if node else None,
            "period": period,
            "counts": [{"period": _iso(p), "projects": n} for p, n in sorted(counts.items())],
        }

    # -- backfills -------------------------------------------------------------------------------------------
    def start_backfill(self) -> dict[str, Any]:
        for record in self.store.backfills(5):
            if self._reconciled(record)["status"] == "RUNNING":
                raise Conflict(f"backfill {record['backfill_id']} is still running")
        backfill_id, machine = new_backfill_id(), get_settings().insights_backfill_state_machine_arn
        # Recorded whole before the execution starts: the workflow's own steps then only ever update it.
        record = {
            "backfill_id": backfill_id,
            "status": "RUNNING",
            "stage": "starting",
            "requested_by": self.auth.principal,
            "requested_at": now_iso(),
            "execution_arn": workflows.execution_arn(machine, backfill_id),
        }
        self.store.put_backfill(record)
        payload = {
            "tenant": self.auth.tenant,
            "backfill_id": backfill_id,
            "requested_by": self.auth.principal,
        }
        try:
            workflows.start(machine, backfill_id, {"backfill": payload})
        except Exception as exc:
            self.store.put_backfill(record | {"status": "FAILED", "error": {"reason": "could not start"}})
            raise DependencyUnavailable("the backfill could not start; try again") from exc
        publish_safely(
            DomainEvent.by(
                self.auth,
                "insights",
                "GraphBackfillRequested",
                {"backfill_id": backfill_id},
                self.correlation_id,
            )
        )
        return self.shown(record)

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        record = self.store.backfill(backfill_id)
        if record is None:
            raise NotFound(f"no backfill {backfill_id}")
        return self.shown(self._reconciled(record))

    def _reconciled(self, record: dict[str, Any]) -> dict[str, Any]:
        """A RUNNING backfill whose workflow ended outside its own steps (stopped, timed out) is FAILED."""
        if record.get("status") != "RUNNING" or not record.get("execution_arn"):
            return record
        error = workflows.failure(record["execution_arn"])
        if error is None:
            return record
        failed = record | {"status": "FAILED", "error": error}
        self.store.put_backfill(failed)
        return failed

    def backfills(self, limit: int) -> list[dict[str, Any]]:
        return [self.shown(b) for b in self.store.backfills(limit)]

    @staticmethod
    def shown(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k != "execution_arn"}
