"""The insights store on moto's DynamoDB: facts written in any order, and again, keep each edge once at its
earliest time, exactly the graph the pure fold (insights.graph.merged, .projects) makes of them; a node's
neighbourhood and a relation's edges by time come back from it; a backfill's generation is dropped whole
and the live one never; tenants never see each other's graph."""

from __future__ import annotations

import random

import pytest

from maestro.insights.graph import RELATIONS, Edge, Node, ProjectFact, merged, projects
from maestro.insights.store import LIVE, MAX_KEY, InsightsStore
from tests.support import create_table_with_gsi1, waiting_machine

TABLE = "insights"
PEOPLE = [Node("principal", p) for p in ("ana", "bo", "cy")]
PROJECTS = [Node("project", f"experiment:{i}") for i in range(4)]
ARTIFACTS = [Node("dataset", f"d{i}@s3:s3://b/d{i}") for i in range(3)] + [
    Node("dataset", "x" * (MAX_KEY + 50) + "@s3:s3://long"),  # keyed by its digest
    Node("model_version", "m/1"),
]


def facts(rng: random.Random) -> tuple[list[Edge], list[ProjectFact]]:
    edges = [Edge(rng.choice(PEOPLE), "ran", rng.choice(PROJECTS), rng.randrange(100)) for _ in range(12)] + [
        Edge(rng.choice(PROJECTS), "used", rng.choice(ARTIFACTS), rng.randrange(100)) for _ in range(20)
    ]
    edges.append(Edge(PROJECTS[0], "produced", Node("model_version", "m/1"), rng.randrange(100)))
    found = [
        ProjectFact(rng.choice(PROJECTS), rng.randrange(100), rng.choice([None, "churn", "fraud"]))
        for _ in range(15)
    ]
    return edges, found


def read(store: InsightsStore, graph: str) -> dict[tuple[Node, str, Node], int]:
    return {(e.source, e.relation, e.target): e.at for r in RELATIONS for e in store.edges(graph, r)}


@pytest.fixture
def store(aws: None) -> InsightsStore:
    create_table_with_gsi1(TABLE)
    return InsightsStore(TABLE, "acme")


@pytest.mark.parametrize("seed", range(4))
def test_facts_in_any_order_and_repeated_keep_each_edge_at_its_earliest(
    store: InsightsStore, seed: int
) -> None:
    rng = random.Random(seed)
    edges, found = facts(rng)
    shuffled = edges * 2
    rng.shuffle(shuffled)
    store.add_edges(LIVE, shuffled)
    store.add_projects(LIVE, sorted(found, key=lambda _: rng.random()))
    assert read(store, LIVE) == merged(edges)
    assert store.projects(LIVE) == projects(found)
    for node in PROJECTS + ARTIFACTS:
        expected = {
            e
            for e in (Edge(s, r, t, at) for (s, r, t), at in merged(edges).items())
            if node in (e.source, e.target)
        }
        assert set(store.around(LIVE, node)) == expected
    assert [e.at for e in store.edges(LIVE, "used", 20, 60)] == sorted(
        at for (s, r, t), at in merged(edges).items() if r == "used" and 20 <= at < 60
    )


def test_a_backfill_generation_is_dropped_whole_and_the_live_graph_never(store: InsightsStore) -> None:
    edges, found = facts(random.Random(9))
    for graph in (LIVE, "backfill-1"):
        store.add_edges(graph, edges)
        store.add_projects(graph, found)
    assert store.drop("backfill-1") > 0
    assert read(store, "backfill-1") == {} and store.projects("backfill-1") == {}
    assert all(store.around("backfill-1", n) == [] for n in PROJECTS + ARTIFACTS)
    assert read(store, LIVE) == merged(edges)
    with pytest.raises(ValueError, match="never dropped"):
        store.drop(LIVE)


def test_a_tenant_s_graph_is_its_own(store: InsightsStore) -> None:
    edges, _ = facts(random.Random(3))
    store.add_edges(LIVE, edges)
    other = InsightsStore(TABLE, "globex")
    assert read(other, LIVE) == {} and other.around(LIVE, PROJECTS[0]) == []


def test_a_tenant_s_deletion_stops_its_running_backfills(
    store: InsightsStore, monkeypatch: pytest.MonkeyPatch
) -> None:

    import boto3

    from maestro.core.settings import get_settings
    from maestro.insights.tenancy import stop

    monkeypatch.setenv("MAESTRO_INSIGHTS_TABLE", TABLE)
    get_settings.cache_clear()
    sfn = boto3.client("stepfunctions")
    machine = waiting_machine("Maestro-GraphBackfill")
    running = sfn.start_execution(stateMachineArn=machine, name="backfill-1")["executionArn"]
    store.put_backfill({"backfill_id": "backfill-1", "status": "RUNNING", "execution_arn": running})
    store.put_backfill({"backfill_id": "backfill-0", "status": "SUCCEEDED", "execution_arn": running})
    assert stop("acme") == {"graph_backfills": 1}
    assert sfn.describe_execution(executionArn=running)["status"] == "ABORTED"
    assert stop("globex") == {"graph_backfills": 0}


def test_the_live_graph_s_version_moves_with_every_change_and_only_then(store: InsightsStore) -> None:
    from maestro.insights.advice import TenantHistory

    edges, found = facts(random.Random(9))
    assert store.version() == 0
    store.add_edges(LIVE, edges)
    store.add_projects(LIVE, found)
    moved = store.version()
    first = TenantHistory.read(store)
    assert moved > 0 and TenantHistory.read(store) is first  # unchanged: the graph kept is answered again
    store.add_edges(LIVE, edges)  # the same facts again, and later ones: nothing changes
    store.add_edges(LIVE, [Edge(e.source, e.relation, e.target, e.at + 1) for e in edges])
    store.add_projects(LIVE, found)
    store.add_edges("backfill-1", edges)  # another generation is not the live graph
    assert store.version() == moved and TenantHistory.read(store) is first
    new = Edge(PEOPLE[0], "ran", Node("project", "experiment:new"), 5)
    store.add_edges(LIVE, [new])
    assert store.version() > moved
    again = TenantHistory.read(store)
    assert again is not first and new in again.edges["ran"]
    other = InsightsStore(TABLE, "globex")
    assert other.version() == 0 and TenantHistory.read(other).edges["used"] == []
