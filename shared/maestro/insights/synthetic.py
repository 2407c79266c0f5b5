"""Synthetic team histories with a planted truth, for judging the insights honestly: people, datasets and
base models, and hundreds of projects over time, each with a team, the artifacts it reused, its runs and
whether it succeeded. Some people and datasets really raise a project's odds of success; each task type has
datasets it tends to reuse, so what a project reuses is predictable, but not from global popularity alone.
Must never let an outcome depend on anything the generator does not record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

TASKS = ("churn", "fraud", "ranking", "forecast", "vision")
DAY_MS = 86_400_000
START_MS = 1_735_689_600_000  # 2025-01-01


@dataclass(frozen=True)
class Truth:
    """What the generator planted: who and what raises the log-odds of success, and by how much."""

    strong_people: frozenset[str]
    strong_datasets: frozenset[str]
    person_effect: float
    dataset_effect: float
    base_log_odds: float

    def probability(self, team: tuple[str, ...], datasets: tuple[str, ...]) -> float:
        """A project's true chance of success: each strong member and each strong dataset adds its effect."""
        log_odds = (
            self.base_log_odds
            + self.person_effect * sum(p in self.strong_people for p in team)
            + self.dataset_effect * sum(d in self.strong_datasets for d in datasets)
        )
        return 1 / (1 + math.exp(-log_odds))


@dataclass(frozen=True)
class Project:
    project_id: str
    task: str
    started_ms: int
    team: tuple[str, ...]
    datasets: tuple[str, ...]
    base_model: str | None
    runs: int
    succeeded: bool
    ended_ms: int


@dataclass
class History:
    people: list[str]
    datasets: list[str]
    base_models: list[str]
    projects: list[Project] = field(default_factory=list)
    truth: Truth | None = None


def generate(
    seed: int = 7,
    projects: int = 300,
    people: int = 40,
    datasets: int = 60,
    base_models: int = 12,
    days: int = 540,
) -> History:
    """A history over `days` days. Success: logistic in the planted effects (each strong member and each
    strong dataset adds its effect), so a model that sees who worked on what can learn it."""
    rng = np.random.default_rng(seed)
    names = [f"person-{i:02d}" for i in range(people)]
    sets = [f"dataset-{i:03d}" for i in range(datasets)]
    bases = [f"base-{i:02d}" for i in range(base_models)]
    truth = Truth(
        strong_people=frozenset(rng.choice(names, size=max(1, people // 5), replace=False).tolist()),
        strong_datasets=frozenset(rng.choice(sets, size=max(1, datasets // 6), replace=False).tolist()),
        person_effect=2.0,
        dataset_effect=2.0,
        base_log_odds=-2.6,
    )
    # Each task type favours a few datasets (Dirichlet weights concentrated on a handful): reuse is
    # predictable from the task, while global popularity mixes every task's favourites.
    affinity = {task: rng.dirichlet(np.full(datasets, 0.08)) for task in TASKS}
    expertise = {p: rng.choice(TASKS, size=2, replace=False).tolist() for p in names}
    history = History(names, sets, bases, truth=truth)
    for n in range(projects):
        task = str(rng.choice(TASKS))
        started = START_MS + int(rng.uniform(0, days)) * DAY_MS
        experts = [p for p in names if task in expertise[p]]
        size = int(rng.integers(1, 5))
        pool = experts if experts and rng.random() < 0.7 else names
        team = tuple(sorted(rng.choice(pool, size=min(size, len(pool)), replace=False).tolist()))
        used = tuple(sorted(set(rng.choice(sets, size=int(rng.integers(1, 4)), p=affinity[task]).tolist())))
        base = str(rng.choice(bases)) if rng.random() < 0.6 else None
        succeeded = bool(rng.random() < truth.probability(team, used))
        runs = int(rng.integers(3, 25))
        history.projects.append(
            Project(
                project_id=f"project-{n:03d}",
                task=task,
                started_ms=started,
                team=team,
                datasets=used,
                base_model=base,
                runs=runs,
                succeeded=succeeded,
                ended_ms=started + int(rng.integers(7, 90)) * DAY_MS,
            )
        )
    history.projects.sort(key=lambda p: p.started_ms)
    return history
