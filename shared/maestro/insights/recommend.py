"""Which datasets a project will reuse, learned from the tenant's earlier projects: a logistic ranker over
what the project's task, team and known datasets say about each candidate (their share of earlier projects
that used it), against global popularity. Every feature of a project is computed from projects that started
before it, in training and evaluation alike. Must never let a project's own datasets or later history in."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ndcg_score

FEATURES = ("task_share", "team_share", "co_usage", "popularity", "recent_share")
RECENT_MS = 90 * 86_400_000


@dataclass(frozen=True)
class Query:
    """A new or running project: what is known of it when it asks."""

    task: str
    team: tuple[str, ...]
    at_ms: int
    known: tuple[str, ...] = ()  # datasets it already uses


@dataclass(frozen=True)
class Past:
    """An earlier project, as the graph records it."""

    project_id: str
    task: str
    team: tuple[str, ...]
    datasets: tuple[str, ...]
    started_ms: int
    succeeded: bool | None = None  # None: not finished


class Evidence:
    """Counts over the projects seen so far (added in start order)."""

    def __init__(self) -> None:
        self.projects: list[Past] = []
        self.popularity: Counter[str] = Counter()
        self.by_task: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.task_projects: Counter[str] = Counter()
        self.by_person: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.person_projects: Counter[str] = Counter()
        self.together: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def add(self, project: Past) -> None:
        self.projects.append(project)
        used = set(project.datasets)
        self.popularity.update(used)
        self.by_task[project.task].update(used)
        self.task_projects[project.task] += 1
        for person in project.team:
            self.by_person[person].update(used)
            self.person_projects[person] += 1
        for d in used:
            self.together[d].update(used - {d})

    @property
    def candidates(self) -> list[str]:
        return sorted(self.popularity)

    def features(self, query: Query, candidates: Sequence[str]) -> np.ndarray:
        n = max(1, len(self.projects))
        recent = Counter(
            d for p in self.projects if p.started_ms >= query.at_ms - RECENT_MS for d in set(p.datasets)
        )
        rows = []
        for d in candidates:
            task_share = self.by_task[query.task][d] / max(1, self.task_projects[query.task])
            team_share = max(
                (
                    self.by_person[p][d] / self.person_projects[p]
                    for p in query.team
                    if self.person_projects[p]
                ),
                default=0.0,
            )
            co_usage = max(
                (self.together[k][d] / max(1, self.popularity[k]) for k in query.known), default=0.0
            )
            rows.append([task_share, team_share, co_usage, self.popularity[d] / n, recent[d] / n])
        return np.array(rows, dtype=float).reshape(len(candidates), len(FEATURES))


def replay(projects: Iterable[Past]) -> Iterable[tuple[Past, Evidence]]:
    """Each project with the evidence of the projects that started before it."""
    evidence = Evidence()
    for project in sorted(projects, key=lambda p: p.started_ms):
        yield project, evidence
        evidence.add(project)


class DatasetRanker:
    def __init__(self) -> None:
        self.model = LogisticRegression(max_iter=1000)

    def fit(self, projects: Sequence[Past]) -> DatasetRanker:
        xs: list[np.ndarray] = []
        ys: list[bool] = []
        for project, evidence in replay(projects):
            candidates = evidence.candidates
            if len(evidence.projects) < 5 or not candidates:
                continue
            xs.append(evidence.features(query_of(project), candidates))
            ys.extend(d in project.datasets for d in candidates)
        self.model.fit(np.vstack(xs), np.asarray(ys, dtype=np.int64))
        return self

    def scores(self, evidence: Evidence, query: Query, candidates: Sequence[str]) -> np.ndarray:
        result: np.ndarray = self.model.predict_proba(evidence.features(query, candidates))[:, 1]
        return result

    def weights(self) -> dict[str, float]:
        return dict(zip(FEATURES, (float(w) for w in self.model.coef_[0]), strict=True))


def query_of(project: Past) -> Query:
    """What a project asking at its start knows of itself: its task and team, not its datasets."""
    return Query(task=project.task, team=project.team, at_ms=project.started_ms)


@dataclass(frozen=True)
class Figures:
    recall_at_10: float
    ndcg_at_10: float
    popularity_recall_at_10: float
    popularity_ndcg_at_10: float
    projects: int


def evaluate(projects: Sequence[Past], train_share: float = 0.7, k: int = 10) -> Figures:
    """Time split: the ranker learns on the earliest projects; each later project is ranked with the
    evidence of every project that started before it. Projects with no dataset seen before are skipped."""
    ordered = sorted(projects, key=lambda p: p.started_ms)
    cut = int(len(ordered) * train_share)
    ranker = DatasetRanker().fit(ordered[:cut])
    ours: list[tuple[float, float]] = []
    popular: list[tuple[float, float]] = []
    for project, evidence in replay(ordered):
        if len(evidence.projects) < cut:
            continue
        candidates = evidence.candidates
        relevant = np.array([[d in project.datasets for d in candidates]], dtype=float)
        if len(candidates) < 2 or not relevant.any():
            continue
        for scores, into in (
            (ranker.scores(evidence, query_of(project), candidates), ours),
            (np.array([evidence.popularity[d] for d in candidates], dtype=float), popular),
        ):
            top = set(np.argsort(-scores, kind="stable")[:k])
            recall = sum(relevant[0, i] for i in top) / relevant.sum()
            into.append((float(recall), float(ndcg_score(relevant, scores[None, :], k=k))))
    return Figures(
        recall_at_10=_mean(r for r, _ in ours),
        ndcg_at_10=_mean(n for _, n in ours),
        popularity_recall_at_10=_mean(r for r, _ in popular),
        popularity_ndcg_at_10=_mean(n for _, n in popular),
        projects=len(ours),
    )


def _mean(values: Iterable[float]) -> float:
    found = list(values)
    return sum(found) / len(found) if found else math.nan


def because(evidence: Evidence, query: Query, dataset: str, most: int = 5) -> list[Past]:
    """The earlier projects that make `dataset` a recommendation: those of the same task or sharing a member
    that used it, newest first."""
    related = [
        p
        for p in evidence.projects
        if dataset in p.datasets and (p.task == query.task or set(p.team) & set(query.team))
    ]
    return sorted(related, key=lambda p: -p.started_ms)[:most]
