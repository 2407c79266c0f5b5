"""The registry's entities and stores against moto in-process: events, rename, cascade deletes, search."""

from __future__ import annotations

import pytest

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, NotFound
from maestro.registry.search import Request
from maestro.registry.services import Registry, open_registry
from tests.integration.conftest import drain
from tests.support import create_table_with_gsi1

TABLE = "registry"


@pytest.fixture
def registry(bus_queue: str) -> Registry:
    create_table_with_gsi1(TABLE)
    auth = AuthContext.of("alice", "acme", frozenset({"ml-engineer"}))
    return open_registry(auth, "req-1", table=TABLE, bucket="artifacts")


def test_every_registry_mutation_emits_an_event(registry: Registry, bus_queue: str) -> None:
    registry.models.create("churn", "d", [])
    registry.versions.create(
        name="churn", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    registry.versions.set_alias("churn", "champion", "1")
    registry.versions.delete_alias("churn", "champion")
    events = drain(bus_queue)
    assert [e["detail-type"] for e in events] == [
        "RegisteredModelCreated",
        "ModelVersionCreated",
        "ModelVersionAliasSet",
        "ModelVersionAliasDeleted",
    ]
    assert all(e["source"] == "maestro.registry" and e["detail"]["tenant"] == "acme" for e in events)
    assert events[1]["detail"]["version"] == 1
    assert (
        events[2]["detail"] | {"alias": "champion", "version": 1, "principal": "alice"} == events[2]["detail"]
    )


def test_rename_keeps_versions_and_aliases_and_frees_the_old_name(
    registry: Registry,
) -> None:
    registry.models.create("old", None, [])
    for _ in range(2):
        registry.versions.create(
            name="old",
            source="s3://b/k",
            run_id=None,
            tags=[],
            run_link=None,
            description=None,
            model_id=None,
        )
    registry.versions.set_alias("old", "champion", "2")
    renamed = registry.models.rename("old", "new")
    assert renamed["aliases"] == [{"alias": "champion", "version": "2"}]
    assert [v["version"] for v in registry.versions.search(Request("name = 'new'"))[0]] == [
        "2",
        "1",
    ]
    with pytest.raises(NotFound):
        registry.models.get("old")
    registry.models.create("taken", None, [])
    with pytest.raises(Conflict):
        registry.models.rename("new", "taken")
    next_version = registry.versions.create(
        name="new", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    assert next_version["version"] == "3"  # the counter moved with the model


def test_deleting_a_model_takes_its_versions(registry: Registry) -> None:
    registry.models.create("gone", None, [])
    registry.versions.create(
        name="gone", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    registry.models.delete("gone")
    assert registry.versions.search(Request())[0] == []
    registry.models.create("gone", None, [])  # the name is free again, numbering restarts
    again = registry.versions.create(
        name="gone", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    assert again["version"] == "1"


def test_run_search_filters_orders_and_pages(registry: Registry) -> None:
    experiment = registry.experiments.create("e", None, [])
    ids = []
    for i, acc in enumerate([0.7, 0.9, 0.8, 0.95]):
        run = registry.runs.create(
            experiment_id=experiment, user_id=None, run_name=f"r{i}", start_time=1000 + i, tags=[]
        )
        registry.run_data.log_batch(
            run["info"]["run_id"],
            metrics=[{"key": "acc", "value": acc, "timestamp": 1, "step": 0}],
            params=[{"key": "i", "value": str(i)}],
        )
        ids.append(run["info"]["run_id"])
    page1, token = registry.runs.search(
        experiment_ids=[experiment],
        filter_string="metrics.acc >= 0.8",
        run_view_type=None,
        max_results=2,
        order_by=["metrics.acc DESC"],
        page_token=None,
    )
    page2, last = registry.runs.search(
        experiment_ids=[experiment],
        filter_string="metrics.acc >= 0.8",
        run_view_type=None,
        max_results=2,
        order_by=["metrics.acc DESC"],
        page_token=token,
    )
    assert [r["info"]["run_name"] for r in page1 + page2] == ["r3", "r1", "r2"]
    assert last is None
    registry.runs.set_lifecycle(ids[3], "deleted")
    active, _ = registry.runs.search(
        experiment_ids=[experiment],
        filter_string=None,
        run_view_type=None,
        max_results=None,
        order_by=None,
        page_token=None,
    )
    assert [r["info"]["run_name"] for r in active] == ["r2", "r1", "r0"]  # newest first by default
