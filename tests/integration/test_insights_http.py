"""Insights over real HTTP against the local platform: a synthetic team history loaded through the MLflow API,
the live graph the registry's events build (each project's members, datasets, code, base model, produced and
promoted versions, checked against what the generator sent), reuse per period and over time, recommendations
with their evidence, a backfill whose rebuilt graph equals the live one, the success forecast (trained,
registered in the tenant's own registry, each project's outcome as the generator decided it) and team
suggestions, the CLI, roles and tenants."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from maestro.insights.synthetic import History, generate
from tests.insights_history import Loaded, dataset_id, digest, expected_edges, feature_set, load
from tests.support import RunningPlatform, start_platform, wait_for

PROMOTER = "release-manager"  # who loads the history, and so points every `production` alias
PROJECTS = 32  # a forecast needs 30 finished projects


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("insights-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def history() -> History:
    return generate(seed=11, projects=PROJECTS, people=8, datasets=12, days=120)


@pytest.fixture(scope="module")
def loaded(platform: RunningPlatform, history: History) -> Loaded:
    token = platform.token("acme", ["ml-engineer"], subject=PROMOTER)
    found = load(platform.url, token, history)

    def settled() -> bool:  # the events are handled asynchronously: wait for the last project's edges
        last = found.projects[history.projects[-1].project_id]
        answer = platform.api("GET", "/insights/neighbourhood", token, params={"node": last})
        return answer.status_code == 200 and len(answer.json()["edges"]) >= expected_edges(
            history.projects[-1]
        )

    wait_for(settled, timeout_s=120, interval_s=0.5)
    return found


def audited(platform: RunningPlatform, token: str, action: str) -> int:
    """How many records of `action` the tenant's audit trail holds (the backfill replays them)."""
    params = {"action": action, "start": "2020-01-01T00:00:00Z"}
    return len(platform.api("GET", "/audit/events", token, params=params).json()["records"])


def ended(platform: RunningPlatform, token: str, backfill_id: str) -> dict[str, Any]:
    """The backfill's record once it is no longer RUNNING."""

    def finished() -> dict[str, Any] | None:
        found = platform.api("GET", f"/insights/backfills/{backfill_id}", token).json()
        return found if found["status"] != "RUNNING" else None

    found: dict[str, Any] = wait_for(finished, timeout_s=120, interval_s=0.5)
    return found


def edges_of(platform: RunningPlatform, token: str, node: str) -> set[tuple[str, str, str]]:
    answer = platform.api("GET", "/insights/neighbourhood", token, params={"node": node})
    assert answer.status_code == 200, answer.text
    return {(e["direction"], e["relation"], e["node"]["id"]) for e in answer.json()["edges"]}


def test_each_project_s_neighbourhood_is_what_its_team_recorded(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    token = platform.token("acme", ["viewer"])
    for project in history.projects:
        node = loaded.projects[project.project_id]
        expected = {("in", "ran", f"principal:{p}") for p in project.team}
        expected |= {("out", "logged", f"run:{r}") for r in loaded.run_ids[project.project_id]}
        expected |= {("out", "used", f"feature_set:{feature_set(project)}")}
        expected |= {("out", "used", dataset_id(d)) for d in project.datasets}
        expected |= {("out", "used", f"code:{digest(f'{project.project_id}-{k}')}") for k in (0, 1)}
        if project.base_model:
            expected.add(("out", "used", f"model_version:{project.base_model}/1"))
        if project.succeeded:
            expected.add(("out", "produced", f"model_version:{project.project_id}-model/1"))
        try:
            wait_for(lambda: edges_of(platform, token, node) == expected, timeout_s=30)  # noqa: B023
        except AssertionError:
            found = edges_of(platform, token, node)
            raise AssertionError((project.project_id, found - expected, expected - found)) from None
    for project in [p for p in history.projects if p.succeeded]:
        version = f"model_version:{project.project_id}-model/1"
        assert edges_of(platform, token, version) == {
            ("in", "produced", loaded.projects[project.project_id]),
            ("in", "promoted", f"principal:{PROMOTER}"),
            ("out", "reached", "alias:production"),
        }


def test_reuse_counts_distinct_projects_per_period(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    token = platform.token("acme", ["viewer"])
    window = {"since": "2024-12-01T00:00:00Z", "until": "2025-12-01T00:00:00Z"}
    answer = platform.api("GET", "/insights/reuse", token, params={**window, "kind": "dataset", "limit": 100})
    assert answer.status_code == 200, answer.text
    counted = {a["id"]: a["projects"] for a in answer.json()["artifacts"]}
    expected = Counter(dataset_id(d) for p in history.projects for d in p.datasets)
    assert counted == dict(expected)
    ranks = [a["projects"] for a in answer.json()["artifacts"]]
    assert ranks == sorted(ranks, reverse=True)

    busiest = max(expected, key=lambda d: (expected[d], d))
    timeline = platform.api(
        "GET", "/insights/reuse/timeline", token, params={**window, "node": busiest, "period": "month"}
    )
    assert timeline.status_code == 200, timeline.text
    by_month = Counter(
        _month(p.started_ms) for p in history.projects for d in p.datasets if dataset_id(d) == busiest
    )
    assert {c["period"][:7]: c["projects"] for c in timeline.json()["counts"]} == dict(by_month)


def _month(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def test_recommendations_name_the_projects_behind_them(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    token = platform.token("acme", ["data-scientist"])
    project = history.projects[-1]
    node = loaded.projects[project.project_id]
    answer = platform.api("POST", "/insights/recommendations", token, json={"project": node, "limit": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    own = {dataset_id(d) for d in project.datasets}
    recommended = [r["id"] for r in body["recommendations"]]
    assert recommended and not own & set(recommended) and len(recommended) <= 5
    scores = [r["score"] for r in body["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    by_graph_id = {loaded.projects[p.project_id]: p for p in history.projects}
    for r in body["recommendations"]:
        for evidence in r["because"]:
            earlier = by_graph_id[evidence["project"]]
            assert r["id"] in {dataset_id(d) for d in earlier.datasets}
            assert earlier.task == project.task or set(earlier.team) & set(project.team)
            assert evidence["promoted"] == int(earlier.succeeded)
    # a new project, described rather than named
    fresh = platform.api(
        "POST", "/insights/recommendations", token, json={"task": project.task, "team": list(project.team)}
    )
    assert fresh.status_code == 200 and fresh.json()["recommendations"], fresh.text
    sets = platform.api(
        "POST",
        "/insights/recommendations",
        token,
        json={"task": project.task, "team": list(project.team), "kind": "feature_set"},
    )
    assert sets.status_code == 200, sets.text
    assert sets.json()["recommendations"][0]["id"] == f"feature_set:{feature_set(project)}"
    missing = platform.api("POST", "/insights/recommendations", token, json={"team": ["person-01"]})
    assert missing.status_code == 422 and "task" in missing.text


def test_a_backfill_rebuilds_the_graph_the_events_built(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    admin = platform.token("acme", ["tenant-admin"])
    # the backfill reads who promoted what from the audit trail: wait until the trail holds every promotion
    wait_for(
        lambda: audited(platform, admin, "registry:ModelVersionAliasSet") == loaded.promotions,
        timeout_s=60,
        interval_s=0.5,
    )
    started = platform.api("POST", "/insights/backfills", admin)
    assert started.status_code == 202, started.text
    backfill_id = started.json()["backfill_id"]
    again = platform.api("POST", "/insights/backfills", admin)
    assert again.status_code in (202, 409), again.text

    record = ended(platform, admin, backfill_id)
    assert record["status"] == "SUCCEEDED", record
    assert record["read"]["runs"] == loaded.runs and record["read"]["promotions"] == loaded.promotions
    assert record["comparison"]["equal"], record["comparison"]
    assert record["comparison"]["projects"]["rebuilt"] == PROJECTS
    listed = platform.api("GET", "/insights/backfills", admin).json()["backfills"]
    assert backfill_id in [b["backfill_id"] for b in listed]


def test_roles_tenants_and_bad_input(platform: RunningPlatform, history: History, loaded: Loaded) -> None:
    node = loaded.projects[history.projects[0].project_id]
    other = platform.token("globex", ["tenant-admin"])
    assert platform.api("GET", "/insights/neighbourhood", other, params={"node": node}).status_code == 404
    reused = platform.api("GET", "/insights/reuse", other, params={"since": "2024-01-01T00:00:00Z"})
    assert reused.status_code == 200 and reused.json()["artifacts"] == []
    viewer = platform.token("acme", ["viewer"])
    assert platform.api("POST", "/insights/backfills", viewer).status_code == 403
    bad = platform.api("GET", "/insights/neighbourhood", viewer, params={"node": "planet:mars"})
    assert bad.status_code == 422 and "node" in bad.text
    window = platform.api(
        "GET",
        "/insights/reuse",
        viewer,
        params={"since": "2026-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
    )
    assert window.status_code == 422 and "since" in window.text


def test_the_cli_prints_tables_and_draws_a_project_s_graph(
    platform: RunningPlatform, history: History, loaded: Loaded, tmp_path: Any
) -> None:
    token = platform.token("acme", ["ml-engineer"])
    project = max(history.projects, key=lambda p: len(p.datasets))
    node = loaded.projects[project.project_id]
    shown = platform.cli("insights", "neighbourhood", node, token=token)
    assert shown.returncode == 0, shown.stderr
    for d in project.datasets:
        assert f"used          {dataset_id(d)[:47]}" in shown.stdout
    reuse = platform.cli(
        "insights", "reuse", "--since", "2024-12-01T00:00:00Z", "--kind", "dataset", token=token
    )
    assert reuse.returncode == 0 and dataset_id(project.datasets[0]) in reuse.stdout, reuse.stderr
    out = tmp_path / "graph.png"
    drawn = platform.cli("insights", "graph", node, "--out", str(out), token=token)
    assert drawn.returncode == 0, drawn.stderr
    # the project, its team, its datasets, its feature set, its two code versions, its base model and
    # version, and every other project that used one of its datasets, its feature set or its base model
    reusers = {
        p.project_id
        for p in history.projects
        if p is not project
        and (
            set(p.datasets) & set(project.datasets)
            or (project.base_model and p.base_model == project.base_model)
            or p.task == project.task  # the same feature set
        )
    }
    expected = 1 + len(project.team) + len(project.datasets) + 1 + 2 + bool(project.base_model)
    expected += project.succeeded + len(reusers)
    assert drawn.stdout.strip() == f"{expected} nodes drawn to {out}"
    from PIL import Image

    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] >= 1000


def test_the_forecast_is_trained_registered_and_served_with_team_suggestions(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    admin = platform.token("acme", ["tenant-admin"])
    viewer = platform.token("acme", ["viewer"])
    assert platform.api("GET", "/insights/forecast", viewer).status_code == 404  # none trained yet
    assert platform.api("POST", "/insights/forecast/train", viewer, json={}).status_code == 403
    trained = platform.api("POST", "/insights/forecast/train", admin, json={"success_days": 90})
    assert trained.status_code == 200, trained.text
    model = trained.json()
    figures = model["figures"]
    assert figures["training_projects"] + figures["held_out_projects"] == PROJECTS
    assert figures["success_rate"] == pytest.approx(sum(p.succeeded for p in history.projects) / PROJECTS)
    assert platform.api("GET", "/insights/forecast", viewer).json()["version"] == model["version"]

    # dogfooding: the model is a version in the tenant's own registry, its run holding the same figures
    ml = "/api/2.0/mlflow"
    version = platform.api(
        "GET",
        f"{ml}/model-versions/get",
        admin,
        params={"name": model["registered_model"], "version": model["version"]},
    )
    assert version.status_code == 200, version.text
    run = platform.api(
        "GET", f"{ml}/runs/get", admin, params={"run_id": version.json()["model_version"]["run_id"]}
    )
    metrics = {m["key"]: m["value"] for m in run.json()["run"]["data"]["metrics"]}
    assert metrics["brier"] == pytest.approx(figures["brier"]) and metrics["ece"] == pytest.approx(
        figures["ece"]
    )

    sample = history.projects[::3]  # every third project: both outcomes among them (asserted)
    assert {p.succeeded for p in sample} == {True, False}
    for project in sample:
        node = loaded.projects[project.project_id]
        answer = platform.api("GET", f"/insights/projects/{node.removeprefix('project:')}/forecast", viewer)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["outcome"] is project.succeeded  # what the generator decided, read back off the graph
        assert 0 < found["probability"] < 1 and len(found["top_features"]) == 5
        assert found["band"]["bin"] == min(9, int(found["probability"] * 10))
        assert sorted(found["team"]) == sorted(project.team)

    project = history.projects[-1]
    node = loaded.projects[project.project_id].removeprefix("project:")
    size = len(project.team) + 2
    suggested = platform.api("POST", f"/insights/projects/{node}/team", viewer, json={"size": size})
    assert suggested.status_code == 200, suggested.text
    team = suggested.json()
    added = [s["principal"] for s in team["suggestions"]]
    assert len(added) <= 2 and not set(added) & set(project.team)
    chances = [team["probability"]] + [s["probability_after"] for s in team["suggestions"]]
    assert chances == sorted(chances) and all(s["gain"] > 0 for s in team["suggestions"])
    assert team["probability_with_suggestions"] == pytest.approx(chances[-1])
    too_big = platform.api(
        "POST",
        f"/insights/projects/{node}/team",
        viewer,
        json={"size": 1, "keep": ["person-01", "person-02"]},
    )
    assert too_big.status_code == 422 and "size" in too_big.text
    other = platform.token("globex", ["tenant-admin"])
    assert platform.api("GET", f"/insights/projects/{node}/forecast", other).status_code == 404

    # the daily retraining learns it again and registers the next version
    schedules = requests.get(platform.url + "/_local/schedules", timeout=10).json()["schedules"]
    (daily,) = [name for name in schedules if "DailyRetraining" in name]
    assert requests.post(platform.url + "/_local/schedules/fire", params={"rule": daily}, timeout=120).ok
    retrained = platform.api("GET", "/insights/forecast", viewer).json()
    assert (
        int(retrained["version"]) == int(model["version"]) + 1
        and retrained["trained_by"] == "maestro:insights-retrain"
    )
    for figure in ("auc", "brier", "ece", "held_out_projects"):  # the same projects, the same model
        assert retrained["figures"][figure] == pytest.approx(figures[figure])


def test_an_a_b_win_is_a_success_and_the_backfill_replays_the_test(
    platform: RunningPlatform, history: History, loaded: Loaded
) -> None:
    """A project that never reached `production`: two versions of its model in an A/B test, the second the
    winner. The graph records the test and the win, the project's outcome becomes a success (unless the
    forecast was trained not to count A/B wins), and a backfill replays both from the audit trail."""
    admin = platform.token("acme", ["tenant-admin"])
    project = next(p for p in reversed(history.projects) if not p.succeeded)
    node = loaded.projects[project.project_id]
    name, run = f"{project.project_id}-challenger", loaded.run_ids[project.project_id][-1]
    ml = "/api/2.0/mlflow"
    assert platform.api("POST", f"{ml}/registered-models/create", admin, json={"name": name}).ok
    for _ in (1, 2):
        version = {"name": name, "source": f"runs:/{run}/model", "run_id": run}
        assert platform.api("POST", f"{ml}/model-versions/create", admin, json=version).ok
    spec = {
        "name": f"{name}-test",
        "variants": [
            {"key": "control", "weight": 0.5, "model": {"name": name, "version": "1"}},
            {"key": "challenger", "weight": 0.5, "model": {"name": name, "version": "2"}},
        ],
        "metrics": [{"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"}],
    }
    created = platform.api("POST", "/ab/experiments", admin, json=spec)
    assert created.status_code in (200, 201), created.text
    test = created.json()["experiment_id"]
    assert platform.api("POST", f"/ab/experiments/{test}/start", admin).ok
    concluded = platform.api("POST", f"/ab/experiments/{test}/conclude", admin, json={"winner": "challenger"})
    assert concluded.ok, concluded.text

    viewer = platform.token("acme", ["viewer"])
    expected = {
        ("in", "produced", node),
        ("in", "tested", f"ab_test:{test}"),
        ("out", "won", f"ab_test:{test}"),
    }
    wait_for(lambda: edges_of(platform, viewer, f"model_version:{name}/2") == expected, timeout_s=30)
    first = f"model_version:{name}/1"
    assert edges_of(platform, viewer, first) == {
        ("in", "produced", node),
        ("in", "tested", f"ab_test:{test}"),
    }

    path = f"/insights/projects/{node.removeprefix('project:')}/forecast"
    assert platform.api("GET", path, viewer).json()["outcome"] is True  # the model counts A/B wins
    not_counted = {"success_days": 90, "ab_wins": False, "success_aliases": ["production"]}
    assert platform.api("POST", "/insights/forecast/train", admin, json=not_counted).status_code == 200
    assert platform.api("GET", path, viewer).json()["outcome"] is False
    nothing = platform.api(
        "POST", "/insights/forecast/train", admin, json={"ab_wins": False, "success_aliases": []}
    )
    assert nothing.status_code == 422 and "success_aliases" in nothing.text

    wait_for(lambda: audited(platform, admin, "ab:ExperimentConcluded") > 0, timeout_s=60, interval_s=0.5)
    started = platform.api("POST", "/insights/backfills", admin)
    assert started.status_code == 202, started.text
    record = ended(platform, admin, started.json()["backfill_id"])
    assert record["status"] == "SUCCEEDED" and record["comparison"]["equal"], record
    assert record["read"]["events"]["ab:ExperimentStarted"] == 1
    assert record["read"]["events"]["ab:ExperimentConcluded"] == 1
