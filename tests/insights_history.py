"""A synthetic team history (maestro.insights.synthetic) loaded into a running platform through its HTTP API,
as a team's mlflow clients would record it: an experiment per project (tagged with its task), runs by its
members (each logging the project's datasets, its code version, its base model and its task's feature set),
and for a project that succeeded a registered version pointed at by the `production` alias. The expected
graph facts are kept from the generator itself, never read back from the platform: they are what the
platform is checked against."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from maestro.insights.synthetic import DAY_MS, History, Project

API = "/api/2.0/mlflow"


def dataset_id(name: str) -> str:
    """The graph's id of a synthetic dataset as loaded below (digest, source type and source)."""
    return f"dataset:{digest(name)}@s3:s3://team-data/{name}.parquet"


def feature_set(project: Project) -> str:
    """The feature set a synthetic project's runs read: its task's."""
    return f"{project.task}-features"


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


@dataclass
class Loaded:
    """What was sent, by project: its graph id, members, datasets, base model and promoted version."""

    projects: dict[str, str] = field(default_factory=dict)  # synthetic id -> graph id
    run_ids: dict[str, list[str]] = field(default_factory=dict)  # synthetic id -> its runs' ids
    promotions: int = 0
    runs: int = 0


class Loader:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.session = url, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.session.post(self.url + API + path, json=body, timeout=120)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        found: dict[str, Any] = answer.json()
        return found

    def project(self, project: Project, runs: int, loaded: Loaded) -> None:
        experiment = self.post(
            "/experiments/create",
            {"name": project.project_id, "tags": [{"key": "maestro.task", "value": project.task}]},
        )["experiment_id"]
        loaded.projects[project.project_id] = f"project:experiment:{experiment}"
        run_ids = []
        for k in range(max(runs, len(project.team))):  # each member runs one at least
            tags = [
                {"key": "mlflow.source.git.commit", "value": digest(f"{project.project_id}-{k % 2}")},
                {"key": "maestro.feature_set", "value": feature_set(project)},
            ]
            if project.base_model:
                tags.append({"key": "maestro.base_model", "value": f"{project.base_model}/1"})
            run = self.post(
                "/runs/create",
                {
                    "experiment_id": experiment,
                    "start_time": project.started_ms + k * DAY_MS // 4,
                    "user_id": project.team[k % len(project.team)],
                    "tags": tags,
                },
            )["run"]["info"]["run_id"]
            datasets = [
                {
                    "dataset": {
                        "name": name,
                        "digest": digest(name),
                        "source_type": "s3",
                        "source": f"s3://team-data/{name}.parquet",
                    },
                    "tags": [{"key": "mlflow.data.context", "value": "training"}],
                }
                for name in project.datasets
            ]
            if k == 0:  # the project's first run logs its datasets (the graph keeps each use at its first)
                self.post("/runs/log-inputs", {"run_id": run, "datasets": datasets})
            run_ids.append(run)
            loaded.runs += 1
        loaded.run_ids[project.project_id] = run_ids
        if project.succeeded and run_ids:
            name = f"{project.project_id}-model"
            self.post("/registered-models/create", {"name": name})
            version = self.post(
                "/model-versions/create",
                {"name": name, "source": f"runs:/{run_ids[-1]}/model", "run_id": run_ids[-1]},
            )["model_version"]["version"]
            self.post("/registered-models/alias", {"name": name, "alias": "production", "version": version})
            loaded.promotions += 1


def expected_edges(project: Project, runs_per_project: int = 2) -> int:
    """How many edges a loaded project has: its team, datasets, feature set, two code versions, base model,
    produced version and runs."""
    edges = len(project.team) + len(project.datasets) + 1 + 2 + bool(project.base_model) + project.succeeded
    return edges + max(runs_per_project, len(project.team))


def load(url: str, token: str, history: History, runs_per_project: int = 2, workers: int = 1) -> Loaded:
    """Every project of `history` (in start order, `workers` at a time); what was loaded."""
    loaded, local = Loaded(), threading.local()

    def one(project: Project) -> Loaded:
        if not hasattr(local, "loader"):
            local.loader = Loader(url, token)  # a session per thread
        found = Loaded()
        local.loader.project(project, runs_per_project, found)
        return found

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for found in pool.map(one, history.projects):
            loaded.projects |= found.projects
            loaded.run_ids |= found.run_ids
            loaded.promotions += found.promotions
            loaded.runs += found.runs
    return loaded
