"""The reuse graph's facts off the registry's own shapes: a run's project (its tag, its experiment's, or the
experiment), that the project logged it, who ran it, the datasets, feature sets, code and base model it used;
a version's producer and logged model; a promotion and the alias it reached; from the bus, an explanation of
a version, and an A/B test's versions and winner (an alias-named variant names no version). The graph is
the same whatever order or repeats its facts come in (events at least once, a backfill reading everything
again), and reuse counts distinct projects, never the producer itself."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.insights.graph import (
    Edge,
    Node,
    merged,
    neighbourhood,
    project_of,
    promotion_edges,
    reuse,
    run_edges,
    version_edges,
)
from maestro.insights.incremental import event_ms, facts_of


def run(
    run_id: str,
    experiment: str,
    *,
    user: str = "ana",
    start: int = 1_000,
    datasets: str = "",
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "info": {"run_id": run_id, "experiment_id": experiment, "user_id": user, "start_time": start},
        "data": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        "inputs": {
            "dataset_inputs": [
                {"dataset": {"name": d, "digest": f"d-{d}", "source_type": "s3", "source": f"s3://b/{d}"}}
                for d in datasets.split(",")
                if d
            ]
        },
    }


EXPERIMENT = {"experiment_id": "7", "name": "churn", "tags": []}


def test_a_run_says_who_ran_its_project_and_what_the_project_used() -> None:
    found = run_edges(
        run(
            "r1",
            "7",
            datasets="train,valid",
            tags={
                "mlflow.source.git.commit": "abc123",
                "maestro.base_model": "bert/3",
                "maestro.feature_set": "customer-v2, clicks ,",
            },
        ),
        EXPERIMENT,
    )
    project = Node("project", "experiment:7")
    assert found == {
        Edge(project, "logged", Node("run", "r1"), 1_000),
        Edge(Node("principal", "ana"), "ran", project, 1_000),
        Edge(project, "used", Node("feature_set", "customer-v2"), 1_000),
        Edge(project, "used", Node("feature_set", "clicks"), 1_000),
        Edge(project, "used", Node("dataset", "d-train@s3:s3://b/train"), 1_000),
        Edge(project, "used", Node("dataset", "d-valid@s3:s3://b/valid"), 1_000),
        Edge(project, "used", Node("code", "abc123"), 1_000),
        Edge(project, "used", Node("model_version", "bert/3"), 1_000),
    }


def test_a_project_is_the_run_s_tag_else_its_experiment_s_else_the_experiment() -> None:
    tagged_experiment = {**EXPERIMENT, "tags": [{"key": "maestro.project", "value": "retention"}]}
    assert project_of(run("r", "7", tags={"maestro.project": "churn-v2"}), tagged_experiment) == Node(
        "project", "tag:churn-v2"
    )
    assert project_of(run("r", "7"), tagged_experiment) == Node("project", "tag:retention")
    assert project_of(run("r", "7"), EXPERIMENT) == Node("project", "experiment:7")


def test_a_version_is_produced_by_its_run_s_project_and_derived_from_its_logged_model() -> None:
    version = {"name": "churn", "version": "2", "model_id": "m-1", "creation_timestamp": 5_000}
    node = Node("model_version", "churn/2")
    assert version_edges(version, run("r1", "7"), EXPERIMENT) == {
        Edge(Node("project", "experiment:7"), "produced", node, 5_000),
        Edge(node, "derived_from", Node("logged_model", "m-1"), 5_000),
    }
    assert version_edges({**version, "model_id": None}, None, None) == set()
    assert promotion_edges("churn", 2, "production", "bo", 9_000) == {
        Edge(Node("principal", "bo"), "promoted", node, 9_000),
        Edge(node, "reached", Node("alias", "production"), 9_000),
    }


def test_reuse_counts_distinct_projects_in_the_period_and_never_the_producer() -> None:
    train = Node("dataset", "d-train@s3:s3://b/train")
    edges = set()
    for n, (experiment, start) in enumerate([("1", 100), ("1", 150), ("2", 200), ("3", 300), ("4", 900)]):
        edges |= run_edges(
            run(f"r{n}", experiment, start=start, datasets="train"), {"experiment_id": experiment}
        )
    made = version_edges(
        {"name": "m", "version": "1", "creation_timestamp": 120}, run("r0", "1"), {"experiment_id": "1"}
    )
    edges |= made | run_edges(
        run("r9", "2", start=400, tags={"maestro.base_model": "m/1"}), {"experiment_id": "2"}
    )
    graph = merged(edges)
    assert reuse(graph)[train] == 4  # experiment 1's two runs are one project
    assert reuse(graph, since=150, until=900)[train] == 2  # projects 2 and 3 first used it in the period
    assert reuse(graph)[Node("model_version", "m/1")] == 1  # project 2 reused it; project 1 made it


node_strategy = st.builds(
    Node, st.sampled_from(["project", "dataset", "code", "principal"]), st.sampled_from(["a", "b", "c"])
)
edge_strategy = st.builds(
    Edge, node_strategy, st.sampled_from(["used", "ran", "produced"]), node_strategy, st.integers(0, 10_000)
)


@given(st.lists(edge_strategy, max_size=40), st.randoms())
def test_the_graph_is_the_same_whatever_the_order_and_repeats_of_its_facts(
    edges: list[Edge], rng: random.Random
) -> None:
    replayed = edges + rng.sample(edges, k=len(edges) // 2)
    rng.shuffle(replayed)
    assert merged(replayed) == merged(edges)
    for (source, relation, target), at in merged(edges).items():
        assert at == min(
            e.at for e in edges if (e.source, e.relation, e.target) == (source, relation, target)
        )


def test_a_node_s_neighbourhood_runs_both_ways_oldest_first() -> None:
    project = Node("project", "experiment:7")
    graph = merged(
        run_edges(run("r1", "7", start=50, datasets="train"), EXPERIMENT)
        | version_edges({"name": "m", "version": "1", "creation_timestamp": 80}, run("r1", "7"), EXPERIMENT)
    )
    assert neighbourhood(graph, project) == [
        ("in", "ran", Node("principal", "ana"), 50),
        ("out", "logged", Node("run", "r1"), 50),
        ("out", "used", Node("dataset", "d-train@s3:s3://b/train"), 50),
        ("out", "produced", Node("model_version", "m/1"), 80),
    ]


def bus(source: str, kind: str, time: str = "2026-12-04T00:00:10Z", **detail: Any) -> dict[str, Any]:
    return {"source": source, "detail-type": kind, "time": time, "detail": {"tenant": "t", **detail}}


def test_explanations_and_ab_tests_from_the_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    at = event_ms("2026-12-04T00:00:10Z")
    version = Node("model_version", "churn/2")
    submitted = bus(
        "maestro.explain", "ExplanationSubmitted", job_id="j-1", model={"name": "churn", "version": 2}
    )
    assert facts_of(submitted, None) == ({Edge(Node("explanation", "j-1"), "explained", version, at)}, [])
    assert facts_of(bus("maestro.registry", "ExplanationSubmitted", job_id="j-1"), None) == (set(), [])

    served = {"control": ("churn", "1"), "v2": ("churn", "2")}  # what the experiment's variants name
    monkeypatch.setattr(
        "maestro.ab.interface.served_versions", lambda tenant, exp: served if exp == "e-1" else None
    )
    test = Node("ab_test", "e-1")
    started = bus("maestro.ab", "ExperimentStarted", experiment_id="e-1", status="running")
    assert facts_of(started, None)[0] == {
        Edge(test, "tested", Node("model_version", "churn/1"), at),
        Edge(test, "tested", version, at),
    }
    won = bus("maestro.ab", "ExperimentConcluded", experiment_id="e-1", status="concluded", winner="v2")
    assert facts_of(won, None)[0] == {Edge(version, "won", test, at)}
    assert facts_of({**won, "detail": {**won["detail"], "winner": None}}, None)[0] == set()
    gone = bus("maestro.ab", "ExperimentStarted", experiment_id="e-9", status="running")
    assert facts_of(gone, None)[0] == set()
