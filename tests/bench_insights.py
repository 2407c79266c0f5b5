"""`make bench`'s insights figures (issue 19), through the real API of a local platform: a synthetic history
of 1,000 projects (maestro.insights.synthetic, with its planted truth) loaded through the MLflow REST API as
a team's clients would record it, three clients at a time; the graph the registry's events build; then
- for every fifth project of the latest 30% (a time split, never random), the recommendations POST
  /insights/recommendations gives as of the project's start, from its task and team alone, scored
  (scikit-learn's ndcg_score, recall@10) against the datasets the project really used, beside global
  popularity computed here from the same earlier projects;
- the success forecast POST /insights/forecast/train learns (its held-out ROC AUC, Brier score and ECE beside
  the base rate's and team size alone's, and the planted truth's own on the same projects);
- team suggestions for every fifth of those later projects: how often the person suggested first is one the
  generator planted as strong, beside how often a candidate is.
Then, in process, the forecast on six histories each of 1,000 and of 2,000 projects, where 300 and 600
held-out projects make ECE meaningful, beside the planted truth's own figures on the same projects (the noise
floor) and the truth's form fitted on the same earlier projects (the estimation floor).
Run by tests/bench.py in its own process."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, ndcg_score, roc_auc_score

from maestro.insights.forecast import Definition, Features, ece, evaluate
from maestro.insights.recommend import Past
from maestro.insights.synthetic import History, generate
from tests.bench import emit
from tests.insights_history import Loaded, dataset_id, expected_edges, load
from tests.support import start_platform

SEED = 1
PROJECTS = 1000  # 300 held out: fewer leave ECE's noise floor above the bar (see forecast_in_process)
WORKERS = 3
SAMPLE = 5  # recommendations and team suggestions for every 5th held-out project (each a request)
TRAIN_SHARE = 0.7
K = 10


def main() -> None:
    history = generate(seed=SEED, projects=PROJECTS)
    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-insights-")))
    try:
        # a thousand projects register ~300 models; the team plan allows 200: the bench tenant is enterprise
        tenant = {"tenant_id": "bench", "name": "insights bench", "plan": "enterprise"}
        operator = platform.token("platform", ["admin"], subject="bench-operator")
        made = platform.api("POST", "/tenants", operator, json=tenant)
        assert made.status_code == 201, made.text
        token = platform.token("bench", ["ml-engineer"], register=False)
        started = time.perf_counter()
        loaded = load(platform.url, token, history, workers=WORKERS)
        settle(platform, token, history, loaded)
        load_s = time.perf_counter() - started
        emit(
            "insights.load.synthetic_history",
            load_s,
            "s",
            projects=PROJECTS,
            runs=loaded.runs,
            workers=WORKERS,
            note="through the MLflow API until the graph holds every project's and version's edges",
        )

        cut = int(len(history.projects) * TRAIN_SHARE)
        ours: list[tuple[float, float]] = []
        popular: list[tuple[float, float]] = []
        latencies = []
        for i, project in list(enumerate(history.projects[cut:], cut))[::SAMPLE]:
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
            note=f"{cut}+ earlier projects, ranker fitted per request, the graph read once (it is unchanged)",
        )
        emit(
            "insights.recommend.latency_first",
            latencies[0],
            "ms",
            note="the first request, which reads the tenant's whole graph",
        )
        forecast_via_api(platform, token, history, loaded, cut)
    finally:
        platform.stop()
    forecast_in_process()


def settle(platform: Any, token: str, history: History, loaded: Loaded, timeout_s: float = 1800) -> None:
    """Until the graph holds every project's edges and every promoted version's (the bus is asynchronous)."""

    def edges(node: str) -> int:
        answer = platform.api("GET", "/insights/neighbourhood", token, params={"node": node})
        return len(answer.json()["edges"]) if answer.status_code == 200 else 0

    pending = list(history.projects)
    deadline = time.monotonic() + timeout_s
    while pending:
        pending = [
            p
            for p in pending
            if edges(loaded.projects[p.project_id]) < expected_edges(p)
            or (p.succeeded and edges(f"model_version:{p.project_id}-model/1") < 3)
        ]
        assert time.monotonic() < deadline, f"{len(pending)} projects not in the graph yet"
        time.sleep(1 if pending else 0)


def forecast_via_api(platform: Any, token: str, history: History, loaded: Loaded, cut: int) -> None:
    trained = platform.api("POST", "/insights/forecast/train", token, json={"success_days": 90})
    assert trained.status_code == 200, trained.text
    figures = trained.json()["figures"]
    truth = history.truth
    assert truth is not None
    # the planted truth's own figures on the same held-out projects (the latest by start): the noise floor
    latest = history.projects[len(history.projects) - figures["held_out_projects"] :]
    planted = np.array([truth.probability(q.team, q.datasets) for q in latest])
    outcome = np.array([q.succeeded for q in latest], dtype=int)
    held = {
        "held_out_projects": figures["held_out_projects"],
        "planted_truth": {
            "auc": round(float(roc_auc_score(outcome, planted)), 3),
            "ece": round(ece(outcome, planted), 3),
            "brier": round(float(brier_score_loss(outcome, planted)), 3),
        },
    }
    emit(
        "insights.forecast.auc.synthetic_via_api",
        figures["auc"],
        "auc",
        figures["team_size_only"]["auc"],
        baseline_is="logistic regression on team size alone",
        **held,
    )
    emit(
        "insights.forecast.brier.synthetic_via_api",
        figures["brier"],
        "brier",
        figures["base_rate"]["brier"],
        baseline_is="the base rate",
        **held,
    )
    emit(
        "insights.forecast.ece.synthetic_via_api",
        figures["ece"],
        "ece",
        figures["base_rate"]["ece"],
        baseline_is="the base rate",
        **held,
    )
    strong, candidates_strong = [], []
    for project in history.projects[cut::SAMPLE]:
        node = loaded.projects[project.project_id].removeprefix("project:")
        size = {"size": len(project.team) + 1}
        answer = platform.api("POST", f"/insights/projects/{node}/team", token, json=size)
        assert answer.status_code == 200, answer.text
        suggestions = answer.json()["suggestions"]
        if suggestions:
            strong.append(suggestions[0]["principal"] in truth.strong_people)
            others = [p for p in history.people if p not in project.team]
            candidates_strong.append(sum(p in truth.strong_people for p in others) / len(others))
    emit(
        "insights.team.suggested_is_planted_strong.synthetic_via_api",
        statistics.mean(strong),
        "fraction",
        statistics.mean(candidates_strong),
        baseline_is="a candidate picked at random",
        projects=len(strong),
    )


def correctly_specified(history: History, cut: int) -> np.ndarray:
    """The planted truth's own form (team size, strong members, strong datasets), its weights fitted on the
    same earlier projects: what any model estimating from this many projects can at best reach."""
    truth = history.truth
    assert truth is not None
    rows = []
    for p in history.projects:
        strong = (
            sum(q in truth.strong_people for q in p.team),
            sum(d in truth.strong_datasets for d in p.datasets),
        )
        rows.append([len(p.team), *strong])
    x = np.array(rows, float)
    y = np.array([p.succeeded for p in history.projects], int)
    fitted = LogisticRegression(C=1e6, max_iter=2000).fit(x[:cut], y[:cut])
    result: np.ndarray = fitted.predict_proba(x[cut:])[:, 1]
    return result


def forecast_in_process() -> None:
    """The forecast on six histories per size, each judged on its latest 30%, beside the planted truth's own
    probabilities and the truth's form fitted on the same projects. ECE on a few hundred projects has a floor
    well above zero (the truth itself scores about 0.03 at 300), so both sizes are reported."""
    for size in (1000, 2000):
        rows = []
        for seed in range(1, 7):
            generated = generate(seed=seed, projects=size)
            truth = generated.truth
            assert truth is not None
            projects = [
                Past(p.project_id, p.task, p.team, p.datasets, p.started_ms, p.succeeded)
                for p in generated.projects
            ]
            features = Features(sorted(generated.people), sorted(generated.datasets))
            model = evaluate(projects, features, Definition(90))
            cut = len(projects) - model.figures["held_out_projects"]
            held = generated.projects[cut:]
            planted = np.array([truth.probability(q.team, q.datasets) for q in held])
            outcome = np.array([q.succeeded for q in held], dtype=int)
            fitted = correctly_specified(generated, cut)
            rows.append(
                (
                    model.figures,
                    {"auc": float(roc_auc_score(outcome, planted)), "ece": ece(outcome, planted)},
                    {"auc": float(roc_auc_score(outcome, fitted)), "ece": ece(outcome, fitted)},
                )
            )
        for metric in ("auc", "ece"):
            emit(
                f"insights.forecast.{metric}.synthetic_in_process_{size}",
                statistics.mean(f[metric] for f, _, _ in rows),
                metric,
                statistics.mean(t[metric] for _, t, _ in rows),
                baseline_is="the planted truth's own probabilities on the same held-out projects",
                correctly_specified_model=round(statistics.mean(c[metric] for _, _, c in rows), 3),
                per_history=[round(f[metric], 4) for f, _, _ in rows],
                histories=len(rows),
                held_out_projects=sum(f["held_out_projects"] for f, _, _ in rows),
            )
        emit(
            f"insights.forecast.auc_vs_team_size.synthetic_in_process_{size}",
            statistics.mean(f["auc"] for f, _, _ in rows),
            "auc",
            statistics.mean(f["team_size_only"]["auc"] for f, _, _ in rows),
            baseline_is="logistic regression on team size alone",
        )


if __name__ == "__main__":
    main()
