"""Recommendations from the tenant's live graph: its projects as the ranker's past (task, team, and the
artifacts of one kind each used), a learned ranker fitted on them (insights.recommend), and each
recommendation's evidence: the earlier projects that used it, and what they achieved (versions produced,
versions promoted). The graph is read again only when its version moved (a warm container keeps the last
read of a few tenants). Must never rank an artifact the project already uses, nor learn from fewer projects
than a ranker can be fitted on (the answer then says why it has none)."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from maestro.core.errors import NotFound, ValidationError
from maestro.insights.graph import RELATIONS, Edge, Node
from maestro.insights.recommend import DatasetRanker, Evidence, Past, Query, because
from maestro.insights.store import LIVE, InsightsStore

Kind = Literal["dataset", "feature_set", "model_version"]
MIN_PROJECTS = 8  # fewer earlier projects than this leave the ranker nothing to learn from
KEPT_TENANTS = 8  # the graphs a warm container keeps, the least recently read dropped first


@dataclass(frozen=True)
class Ask:
    """What the caller says of the project: its id in the graph (the rest is read from there), or its task,
    team and the artifacts it already uses."""

    project: str | None
    task: str | None
    team: tuple[str, ...]
    known: tuple[str, ...]
    kind: Kind
    limit: int
    as_of_ms: int | None = None  # only what the tenant knew then: projects started before it


@dataclass
class TenantHistory:
    """A tenant's live graph as read: its edges by relation, and its projects' starts and tasks."""

    edges: dict[str, list[Edge]]
    projects: dict[Node, tuple[int, str | None]]

    @classmethod
    def read(cls, store: InsightsStore) -> TenantHistory:
        """The tenant's live graph, read again only when its version moved since this container last read
        it (the version first, then the graph: a graph kept is never older than its version). Never to be
        changed by its readers: the same object answers later requests."""
        version, key = store.version(), (store.table, store.tenant)
        with _READ_LOCK:
            kept = _READ.get(key)
            if kept is not None and kept[0] == version:
                _READ.move_to_end(key)
                return kept[1]
        history = cls({r: list(store.edges(LIVE, r)) for r in RELATIONS}, store.projects(LIVE))
        with _READ_LOCK:  # environments may share this module (the local runtime's threads)
            _READ[key] = (version, history)
            while len(_READ) > KEPT_TENANTS:
                _READ.popitem(last=False)
        return history

    def past(self, kind: Kind) -> list[Past]:
        team: dict[Node, set[str]] = defaultdict(set)
        used: dict[Node, set[str]] = defaultdict(set)
        for e in self.edges["ran"]:
            team[e.target].add(e.source.key)
        for e in self.edges["used"]:
            if e.target.kind == kind:
                used[e.source].add(e.target.id)
        return [
            Past(p.id, task or "", tuple(sorted(team[p])), tuple(sorted(used[p])), started)
            for p, (started, task) in sorted(self.projects.items(), key=lambda found: (found[1][0], found[0]))
        ]

    def achievements(self) -> dict[str, dict[str, int]]:
        """Per project: the versions it produced, and how many of them were promoted (an alias set)."""
        promoted = {e.target for e in self.edges["promoted"]}
        found: dict[str, dict[str, int]] = defaultdict(lambda: {"versions": 0, "promoted": 0})
        for e in self.edges["produced"]:
            found[e.source.id]["versions"] += 1
            found[e.source.id]["promoted"] += e.target in promoted
        return found


_READ: OrderedDict[tuple[str, str], tuple[int, TenantHistory]] = OrderedDict()
_READ_LOCK = threading.Lock()


def recommend(store: InsightsStore, ask: Ask, now_ms: int) -> dict[str, Any]:
    history = TenantHistory.read(store)
    projects = history.past(ask.kind)
    at = now_ms if ask.as_of_ms is None else ask.as_of_ms
    query, own = _query(ask, projects, at)
    earlier = [p for p in projects if p.project_id != ask.project and p.started_ms < at]
    answer: dict[str, Any] = {
        "project": ask.project,
        "task": query.task,
        "team": list(query.team),
        "kind": ask.kind,
    }
    if len(earlier) < MIN_PROJECTS:
        return answer | {
            "recommendations": [],
            "reason": f"the tenant has {len(earlier)} other projects; recommendations need {MIN_PROJECTS}",
        }
    evidence = Evidence()
    for p in earlier:
        evidence.add(p)
    candidates = [c for c in evidence.candidates if c not in own]
    try:
        ranker = DatasetRanker().fit(earlier)
    except ValueError:  # every candidate was always (or never) used: nothing to tell them apart
        return answer | {"recommendations": [], "reason": "the tenant's projects leave nothing to learn"}
    if not candidates:
        return answer | {"recommendations": [], "reason": "the project already uses every known artifact"}
    scores = ranker.scores(evidence, query, candidates)
    achieved = history.achievements()
    ranked = sorted(zip(candidates, scores, strict=True), key=lambda found: (-found[1], found[0]))
    return answer | {
        "model": {"method": "logistic ranker", "weights": ranker.weights(), "projects": len(earlier)},
        "recommendations": [
            {
                "id": artifact,
                "score": round(float(score), 6),
                "because": [
                    {
                        "project": p.project_id,
                        "task": p.task or None,
                        "shared_members": sorted(set(p.team) & set(query.team)),
                        **achieved.get(p.project_id, {"versions": 0, "promoted": 0}),
                    }
                    for p in because(evidence, query, artifact)
                ],
            }
            for artifact, score in ranked[: ask.limit]
        ],
    }


def _query(ask: Ask, projects: list[Past], now_ms: int) -> tuple[Query, set[str]]:
    if ask.project is None:
        if not ask.task:
            raise ValidationError("task", "is required when no project is given")
        return Query(ask.task, ask.team, now_ms, ask.known), set(ask.known)
    found = next((p for p in projects if p.project_id == ask.project), None)
    if found is None:
        raise NotFound(f"no project {ask.project} in the tenant's graph")
    team = tuple(sorted(set(found.team) | set(ask.team)))
    known = tuple(sorted(set(found.datasets) | set(ask.known)))
    return Query(ask.task or found.task, team, now_ms, known), set(known)
