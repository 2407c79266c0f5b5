"""The registry's domain and store against moto in-process: events, rename, cascade deletes, search."""

from __future__ import annotations

import pytest

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, NotFound
from maestro.registry.events import RegistryEvents
from maestro.registry.model_registry import ModelRegistry
from maestro.registry.store import RegistryStore
from maestro.registry.tracking import Tracking
from tests.integration.conftest import drain
from tests.support import create_table_with_gsi1

TABLE = "registry"


@pytest.fixture
def registry(bus_queue: str) -> tuple[Tracking, ModelRegistry]:
    create_table_with_gsi1(TABLE)
    auth = AuthContext.of("alice", "acme", frozenset({"ml-engineer"}))
    store = RegistryStore(TABLE, "acme")
    events = RegistryEvents(auth, "req-1")
    tracking = Tracking(store, auth, "artifacts", events)
    return tracking, ModelRegistry(store, auth, tracking, events)


def test_every_registry_mutation_emits_an_event(
    registry: tuple[Tracking, ModelRegistry], bus_queue: str
) -> None:
    _, models = registry
    models.create_registered_model("churn", "d", [])
    models.create_model_version(
        name="churn", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    models.set_alias("churn", "champion", "1")
    models.delete_alias("churn", "champion")
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
    registry: tuple[Tracking, ModelRegistry],
) -> None:
    _, models = registry
    models.create_registered_model("old", None, [])
    for _ in range(2):
        models.create_model_version(
            name="old",
            source="s3://b/k",
            run_id=None,
            tags=[],
            run_link=None,
            description=None,
            model_id=None,
        )
    models.set_alias("old", "champion", "2")
    renamed = models.rename_registered_model("old", "new")
    assert renamed["aliases"] == [{"alias": "champion", "version": "2"}]
    assert [v["version"] for v in models.search_model_versions("name = 'new'", None, None, None)[0]] == [
        "2",
        "1",
    ]
    with pytest.raises(NotFound):
        models.get_registered_model("old")
    models.create_registered_model("taken", None, [])
    with pytest.raises(Conflict):
        models.rename_registered_model("new", "taken")
    next_version = models.create_model_version(
        name="new", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    assert next_version["version"] == "3"  # the counter moved with the model


def test_deleting_a_model_takes_its_versions(registry: tuple[Tracking, ModelRegistry]) -> None:
    _, models = registry
    models.create_registered_model("gone", None, [])
    models.create_model_version(
        name="gone", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    models.delete_registered_model("gone")
    assert models.search_model_versions(None, None, None, None)[0] == []
    models.create_registered_model("gone", None, [])  # the name is free again, numbering restarts
    again = models.create_model_version(
        name="gone", source="s3://b/k", run_id=None, tags=[], run_link=None, description=None, model_id=None
    )
    assert again["version"] == "1"


def test_run_search_filters_orders_and_pages(registry: tuple[Tracking, ModelRegistry]) -> None:
    tracking, _ = registry
    experiment = tracking.create_experiment("e", None, [])
    ids = []
    for i, acc in enumerate([0.7, 0.9, 0.8, 0.95]):
        run = tracking.create_run(
            experiment_id=experiment, user_id=None, run_name=f"r{i}", start_time=1000 + i, tags=[]
        )
        tracking.log_batch(
            run["info"]["run_id"],
            metrics=[{"key": "acc", "value": acc, "timestamp": 1, "step": 0}],
            params=[{"key": "i", "value": str(i)}],
        )
        ids.append(run["info"]["run_id"])
    page1, token = tracking.search_runs(
        experiment_ids=[experiment],
        filter_string="metrics.acc >= 0.8",
        run_view_type=None,
        max_results=2,
        order_by=["metrics.acc DESC"],
        page_token=None,
    )
    page2, last = tracking.search_runs(
        experiment_ids=[experiment],
        filter_string="metrics.acc >= 0.8",
        run_view_type=None,
        max_results=2,
        order_by=["metrics.acc DESC"],
        page_token=token,
    )
    assert [r["info"]["run_name"] for r in page1 + page2] == ["r3", "r1", "r2"]
    assert last is None
    tracking.set_run_lifecycle(ids[3], "deleted")
    active, _ = tracking.search_runs(
        experiment_ids=[experiment],
        filter_string=None,
        run_view_type=None,
        max_results=None,
        order_by=None,
        page_token=None,
    )
    assert [r["info"]["run_name"] for r in active] == ["r2", "r1", "r0"]  # newest first by default
