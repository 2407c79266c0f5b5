"""`make bench`'s insights figures (issue 19), through the real API of a local platform: a synthetic history
of 300 projects (maestro.insights.synthetic, with its planted truth) loaded through the MLflow REST API as a
team's clients would record it; the graph the registry's events build; then, for each project of the latest
30% (a time split, never random), the recommendations POST /insights/recommendations gives as of the project's
start, from its task and team alone. They are scored (scikit-learn's ndcg_score, recall@10) against the
datasets the project really used, beside global popularity computed here from the same earlier projects.
Run by tests/bench.py in its own process."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import ndcg_score

from maestro.insights.synthetic import generate
from tests.bench import emit
from tests.insights_history import dataset_id, load
from tests.support import start_platform, wait_for

SEED = 1
PROJECTS = 300
TRAIN_SHARE = 0.7
K = 10


def main() -> None:
    history = generate(seed=SEED, projects=PROJECTS)
    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-insights-")))
    try:
        token = platform.token("bench", ["ml-engineer"])
        started = time.perf_counter()
        loaded = load(platform.url, token, history)
        last = loaded.projects[history.projects[-1].project_id]
        wait_for(
            lambda: platform.api("GET", "/insights/neighbourhood", token, params={"node": last}).ok,
            timeout_s=300,
            interval_s=1,
        )
        load_s = time.perf_counter() - started
        emit("insights.load.synthetic_history", load_s, "s", projects=PROJECTS, runs=loaded.runs)

        cut = int(len(history.projects) * TRAIN_SHARE)
        ours: list[tuple[float, float]] = []
        popular: list[tuple[float, float]] = []
        latencies = []
        for i, project in enumerate(history.projects[cut:], cut):
            earlier = [p for p in history.projects[:i] if p.started_ms < project.started_ms]
            popularity = Counter(dataset_id(d) for p in earlier for d in p.datasets)
            candidates = sorted(popularity)
            relevant = np.array([[c in {dataset_id(d) for d in project.datasets} for c in candidates]], float)
            if len(candidates) < 2 or not relevant.any():
                continue
            as_of = datetime.fromtimestamp(project.started_ms / 1000, UTC).isoformat()
            t = time.perf_counter()
            answer = platform.api(
                "POST",
                "/insights/recommendations",
                token,
                json={"task": project.task, "team": list(project.team), "as_of": as_of, "limit": 100},
            )
            latencies.append((time.perf_counter() - t) * 1000)
            assert answer.status_code == 200, answer.text
            given = {r["id"]: r["score"] for r in answer.json()["recommendations"]}
            for scores, into in (
                (np.array([given.get(c, -1.0) for c in candidates]), ours),
                (np.array([popularity[c] for c in candidates], float), popular),
            ):
                top = set(np.argsort(-scores, kind="stable")[:K])
                recall = sum(relevant[0, j] for j in top) / relevant.sum()
                into.append((float(recall), float(ndcg_score(relevant, scores[None, :], k=K))))
        for metric, index in (("ndcg_at_10", 1), ("recall_at_10", 0)):
            emit(
                f"insights.recommend.{metric}.synthetic_via_api",
                statistics.mean(o[index] for o in ours),
                "fraction",
                statistics.mean(p[index] for p in popular),
                held_out_projects=len(ours),
                baseline_is="global popularity among the same earlier projects",
            )
        emit(
            "insights.recommend.latency_p50",
            statistics.median(latencies),
            "ms",
            note=f"{cut}+ earlier projects, ranker fitted per request",
        )
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
