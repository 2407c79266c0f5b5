"""Tenants in-process against moto: admission (counting, grants, refusals) and what it costs, the quota
counters each capability moves in its own transactions, metering, the hourly measurement, and deletion."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from maestro.core.auth import AuthContext
from maestro.core.aws import client
from maestro.core.errors import Conflict, QuotaExceeded, TooManyRequests
from maestro.core.settings import get_settings
from maestro.tenants.admission import PrincipalRemoved, TenantDeleted, TenantSuspended, TenantUnknown, admit
from maestro.tenants.service import TenantService, register
from maestro.tenants.store import TenantStore
from tests.support import create_table_with_gsi1, locked_bucket, waiting_machine

NOON = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC).timestamp()
OPERATOR = AuthContext.of("op", "platform", frozenset({"admin"}))


def tenant(name: str, plan: str = "team", **quotas: int | None) -> TenantStore:
    store = TenantStore("platform", name)
    register(store, name, plan, quotas, "tests")
    return store


def caller(name: str, *roles: str, principal: str = "alice") -> AuthContext:
    return AuthContext.of(principal, name, frozenset(roles))


def operations(service: str) -> list[str]:
    """Every request made with the shared `service` client from now on (tests run without tenant roles)."""
    seen: list[str] = []
    client(service).meta.events.register(
        f"before-send.{service}", lambda **kw: seen.append(kw["request"].url)
    )
    return seen


def test_admission_counts_requests_and_refuses_past_the_limit_until_the_minute_ends(aws: None) -> None:
    tenant("initech", requests_per_minute=3)
    for _ in range(3):
        assert admit(caller("initech", "viewer"), now=NOON).limits["requests_per_minute"] == 3
    with pytest.raises(TooManyRequests) as refused:
        admit(caller("initech", "viewer"), now=NOON + 10)
    assert refused.value.details["retry_after_s"] == 45 and refused.value.details["used"] == 3
    assert admit(caller("initech", "viewer"), now=NOON + 60).tenant == "initech"  # a new minute


def test_leases_never_reserve_more_than_the_limit_and_strand_at_most_a_block(aws: None) -> None:
    from maestro.tenants import admission

    tenant("initech", requests_per_minute=1000)
    admitted = 0
    for _ in range(1200):
        try:
            admit(caller("initech", "viewer"), now=NOON)
            admitted += 1
        except TooManyRequests:
            pass
    reserved = int(TenantStore("platform", "initech").require_profile()["rate_count"])
    assert admitted == reserved == 1000  # blocks that no longer fit fall back to one request: exact
    assert 1000 // admission.LIMIT_SHARE == 50  # the largest block this limit allows


def test_admission_costs_at_most_a_request_per_request_and_a_busy_tenant_far_fewer(aws: None) -> None:
    tenant("initech")
    sent = operations("dynamodb")
    admit(caller("initech", "viewer", principal="bob"), now=NOON)
    assert len(sent) == 2  # the minute's first request opens its count: one update fails, one opens
    for _ in range(99):
        admit(caller("initech", "viewer", principal="bob"), now=NOON)
    assert len(sent) == 2 + 6  # blocks of 2, 4, 8, 16, 32 and 64 cover the other 99: one update each
    admin = TenantService(get_settings(), admit(caller("initech", "tenant-admin"), now=NOON))
    admin.grant("initech", "bob", ["ml-engineer"], None)
    assert admit(caller("initech", "viewer", principal="bob"), now=NOON).roles == {"viewer"}  # the lease's
    sent.clear()
    later = admit(caller("initech", "viewer", principal="bob"), now=NOON + 1.5)  # after the lease's second
    assert later.roles == {"viewer", "ml-engineer"} and len(sent) == 2  # a new lease, and bob's grant read


def test_a_granted_role_joins_the_tokens_and_a_removed_principal_is_refused(aws: None) -> None:
    tenant("initech")
    clock = iter(NOON + 1.5 * n for n in range(100))  # each step a lease's lifetime after the last
    admin = TenantService(
        get_settings(), admit(caller("initech", "tenant-admin", principal="root"), next(clock))
    )

    def bob(*roles: str) -> AuthContext:
        return admit(caller("initech", *roles, principal="bob"), now=next(clock))

    assert not bob("viewer").can("ab:write")  # type: ignore[arg-type]
    admin.grant("initech", "bob", ["ml-engineer"], "Bob")
    assert bob("viewer").can("ab:write")  # type: ignore[arg-type]
    removed = admin.remove("initech", "bob")
    assert removed["status"] == "removed" and removed["roles"] == []
    with pytest.raises(PrincipalRemoved, match="bob was removed from tenant 'initech' by root"):
        bob("admin")  # whatever its token says
    admin.grant("initech", "bob", ["viewer"], None)
    assert bob("viewer").roles == {"viewer"}
    with pytest.raises(Conflict, match="cannot remove yourself"):
        admin.remove("initech", "root")


def test_unknown_suspended_and_deleting_tenants_are_refused_with_their_reason(aws: None) -> None:
    with pytest.raises(TenantUnknown, match="'hooli' is not registered"):
        admit(caller("hooli", "viewer"), now=NOON)
    tenant("initech")
    operator = TenantService(get_settings(), OPERATOR)
    operator.suspend("initech", "invoice 42 is unpaid")
    with pytest.raises(TenantSuspended, match="suspended: invoice 42 is unpaid") as suspended:
        admit(caller("initech", "viewer"), now=NOON)
    assert suspended.value.details["reason"] == "invoice 42 is unpaid"
    operator.resume("initech")
    with pytest.raises(TenantSuspended):  # this environment read it less than a lease's time ago
        admit(caller("initech", "viewer"), now=NOON + 0.5)
    assert admit(caller("initech", "viewer"), now=NOON + 1.5).tenant == "initech"
    store = TenantStore("platform", "initech")
    store.update_profile({"status": "deleting"}, int(store.require_profile()["version"]))
    with pytest.raises(TenantDeleted):
        admit(caller("initech", "viewer"), now=NOON + 3)
    assert admit(caller("platform", "admin"), now=NOON).can("platform:admin")  # type: ignore[arg-type]


def test_a_tenant_id_is_never_reused_and_tenants_address_only_themselves(aws: None) -> None:
    operator = TenantService(get_settings(), OPERATOR)
    operator.create("initech", "Initech", "free", {})
    with pytest.raises(Conflict, match="already exists"):
        operator.create("initech", "Initech again", "free", {})
    outsider = TenantService(get_settings(), caller("acme", "admin"))
    with pytest.raises(Exception, match="may address only their own tenant"):
        outsider.get("initech")
    assert outsider.get("acme")["tenant_id"] == "acme"


# -- quota counters, moved by each capability's own transaction ----------------------------------------
def test_registered_models_are_counted_with_the_models_and_held_to_the_quota(aws: None) -> None:
    from maestro.registry.services import open_registry
    from maestro.registry.stores.models import ModelStore

    create_table_with_gsi1("maestro-registry")
    quota = tenant("initech", registered_models=2)
    auth = admit(caller("initech", "ml-engineer"), now=NOON)
    models = open_registry(auth, None, table="maestro-registry", bucket="artifacts").models
    models.create("a", None, [])
    models.create("b", None, [])
    with pytest.raises(QuotaExceeded, match="registered_models: 2 of 2 used") as refused:
        models.create("c", None, [])
    assert refused.value.details == {
        "limit": "registered_models",
        "maximum": 2,
        "used": 2,
        "requested": 1,
        "resets_at": None,
    }
    with pytest.raises(Conflict, match="already exists"):  # a taken name is not a quota refusal
        models.create("a", None, [])
    models.delete("a")
    models.create("c", None, [])
    assert quota.get_quota()["registered_models"] == ModelStore("maestro-registry", "initech").count() == 2


def test_running_experiments_are_counted_by_the_lifecycle_and_held_to_the_quota(aws: None) -> None:
    from maestro.ab.experiments import ExperimentSpec
    from maestro.ab.service import AbService
    from maestro.ab.store import AbStore

    create_table_with_gsi1("maestro-ab")
    quota = tenant("initech", running_experiments=1)
    auth = admit(caller("initech", "ml-engineer"), now=NOON)
    ab = AbService(AbStore("maestro-ab", "initech"), auth)
    spec = ExperimentSpec.model_validate(
        {
            "name": "x",
            "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "metrics": [{"name": "m", "kind": "binomial", "event": "e", "role": "primary"}],
        }
    )
    first, second = ab.create(spec)["experiment_id"], ab.create(spec)["experiment_id"]
    ab.act(first, "start")
    with pytest.raises(QuotaExceeded, match="running_experiments: 1 of 1 used"):
        ab.act(second, "start")
    assert ab.get(second)["status"] == "draft"  # nothing half-written
    ab.act(first, "pause")
    ab.act(second, "start")
    with pytest.raises(QuotaExceeded):
        ab.act(first, "resume")
    ab.act(second, "conclude")
    ab.act(first, "resume")
    assert quota.get_quota()["running_experiments"] == 1


def test_explanation_rows_are_reserved_per_day_and_given_back(aws: None) -> None:
    quota = tenant("initech", explanation_rows_per_day=100)
    quota.reserve_rows("2026-12-01", 60, 100)
    with pytest.raises(QuotaExceeded, match="60 of 100 used, 50 more requested") as refused:
        quota.reserve_rows("2026-12-01", 50, 100)
    assert refused.value.details["resets_at"] == "2026-12-02T00:00:00Z"
    quota.add_usage("2026-12-01", {"rows_reserved": -60})  # a failed job gives its rows back
    quota.reserve_rows("2026-12-01", 100, 100)
    quota.reserve_rows("2026-12-02", 100, 100)  # a new day, a new quota
    assert quota.rows_reserved("2026-12-01") == quota.rows_reserved("2026-12-02") == 100


# -- metering ---------------------------------------------------------------------------------------------
def awslogs(lines: list[dict[str, Any]]) -> dict[str, Any]:
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/Maestro-registry",
        "logStream": "s",
        "subscriptionFilters": ["maestro-metering"],
        "logEvents": [
            {"id": f"e{i}", "timestamp": 0, "message": json.dumps({"maestro_observation": line})}
            for i, line in enumerate(lines)
        ],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def test_a_delivered_batch_of_outcome_lines_is_metered_once(aws: None) -> None:
    from maestro.tenants.meter import meter_logs

    at = datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp()
    line = {"service": "maestro:registry", "timestamp": at, "latency_ms": 30.0, "status": 200}
    event = awslogs(
        [
            {**line, "tenant": "acme", "capability": "registry", "kind": "request"},
            {**line, "tenant": "acme", "capability": "registry", "kind": "request", "status": 500},
            {**line, "tenant": "globex", "capability": "explain", "kind": "job", "latency_ms": 2500.0},
            line,  # the platform's own work: no tenant
        ]
    )
    assert meter_logs(event) == {"lines": 3, "tenant_days": 2}
    assert meter_logs(event) == {"lines": 3, "tenant_days": 0}  # redelivered: counted once
    (acme,) = TenantStore("platform", "acme").usage("2026-12-01", "2026-12-01")
    assert (acme["requests_registry"], acme["errors_registry"], acme["compute_ms_registry"]) == (2, 1, 60)
    (globex,) = TenantStore("platform", "globex").usage("2026-12-01", "2026-12-01")
    assert globex["compute_ms_explain"] == 2500 and "requests_explain" not in globex


def test_the_hourly_measurement_records_storage_and_corrects_drifted_counters(aws: None) -> None:
    from maestro.tenants.meter import measure

    for table in ("maestro-registry", "maestro-ab", "maestro-training"):  # the capabilities that count
        create_table_with_gsi1(table)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="tenants/acme/artifacts/model.pkl", Body=b"x" * 1000)
    s3.put_object(Bucket="artifacts", Key="tenants/acme/data/eval.csv", Body=b"y" * 234)
    s3.put_object(Bucket="artifacts", Key="tenants/acme-2/other.bin", Body=b"z" * 99)  # not acme's
    acme = TenantStore("platform", "acme")
    acme.set_counter("registered_models", 7, 0)  # drifted: acme has no model
    result = measure(now=NOON)
    assert result["tenants"] == 2 and result["counters_corrected"] == 2  # acme's models and storage
    assert acme.get_quota()["registered_models"] == 0 and acme.get_quota()["storage_bytes"] == 1234
    (today,) = acme.usage("2026-12-01", "2026-12-01")
    assert today["storage_bytes"] == 1234
    exported = s3.get_object(Bucket="artifacts", Key="tenants/platform/billing/daily/2026-11-30.csv")
    assert exported["Body"].read().decode().startswith("day,tenant_id,plan,requests")
    assert measure(now=NOON)["exported"] == 0  # yesterday's export is written once


# -- deletion ---------------------------------------------------------------------------------------------
CAPABILITY_TABLES = ("maestro-registry", "maestro-ab", "maestro-sla", "maestro-audit", "maestro-explain")
CAPABILITY_TABLES += ("maestro-monitoring", "maestro-training", "maestro-delivery", "maestro-insights")


@pytest.fixture
def every_store(aws: None) -> None:
    for table in CAPABILITY_TABLES:
        create_table_with_gsi1(table)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_bucket_versioning(Bucket="artifacts", VersioningConfiguration={"Status": "Enabled"})
    locked_bucket("maestro-audit-archive")


def items_of(tenant_id: str) -> dict[str, list[tuple[str, str]]]:
    ddb, out = boto3.client("dynamodb"), {}
    for table in ddb.list_tables()["TableNames"]:
        keys = [(i["pk"]["S"], i["sk"]["S"]) for i in ddb.scan(TableName=table)["Items"]]
        out[table] = sorted(k for k in keys if k[0].startswith(tenant_id + "#"))
    return out


def versions_of(bucket: str, prefix: str) -> list[str]:
    listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]


def test_deleting_a_tenant_removes_its_data_everywhere_and_nothing_of_another(every_store: None) -> None:
    from maestro.tenants import purge

    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    tenant("acme-2")  # acme is registered already; acme-2's keys start with "acme" too: they must survive
    for name in ("acme", "acme-2"):
        for table in CAPABILITY_TABLES:
            for n in range(3):
                ddb.put_item(TableName=table, Item={"pk": {"S": f"{name}#X#{n}"}, "sk": {"S": "s"}})
        s3.put_object(Bucket="artifacts", Key=f"tenants/{name}/artifacts/m.pkl", Body=b"v1")
        s3.put_object(Bucket="artifacts", Key=f"tenants/{name}/artifacts/m.pkl", Body=b"v2 longer")
        s3.put_object(Bucket="artifacts", Key=f"tenants/{name}/data/gone.csv", Body=b"old")
        s3.delete_object(Bucket="artifacts", Key=f"tenants/{name}/data/gone.csv")  # a version behind a marker
        s3.put_object(Bucket="maestro-audit-archive", Key=f"tenants/{name}/audit/1.jsonl", Body=b"locked")
    TenantStore("platform", "acme").add_usage("2026-12-01", {"requests_registry": 5})
    before_other = items_of("acme-2")

    TenantStore("platform", "acme").put_deletion({"status": "RUNNING"})  # as DELETE /tenants/acme does
    state = purge.start({"tenant": "acme", "requested_by": "op"})
    while not state["done"]:
        state = purge.sweep(state, slice_s=0.0)  # one page per invocation: the cursor is handed on
    TenantStore("platform", "acme").update_profile({"status": "deleting"}, 1)
    result = purge.finish(state)

    left = items_of("acme")
    assert left["platform"] == [
        ("acme#TENANT", "DELETION"),
        ("acme#TENANT", "PROFILE"),
        ("acme#TENANT#USAGE", "2026-12-01"),
    ]
    assert all(not keys for table, keys in left.items() if table != "platform")
    assert versions_of("artifacts", "tenants/acme/") == []
    assert versions_of("maestro-audit-archive", "tenants/acme/") == ["tenants/acme/audit/1.jsonl"]  # locked
    assert items_of("acme-2") == before_other
    assert len(versions_of("artifacts", "tenants/acme-2/")) == 4
    report = TenantStore("platform", "acme").get_deletion()["report"]
    assert report["sweeps"] == 2 and result["retained_objects"] == 1
    assert report["removed"]["dynamodb:maestro-registry"]["removed"] == 3
    assert report["removed"]["dynamodb:maestro-monitoring"]["removed"] == 3  # a capability plugged in by name
    assert report["removed"]["dynamodb:platform"]["removed"] == 1  # the quota counters; not the kept records
    assert report["removed"]["s3:artifacts"] == {"removed": 4, "bytes": len(b"v1v2 longerold")}
    (retained,) = report["retained_by_object_lock"].values()
    assert retained["objects"] == 1 and retained["until"] > "2026"
    assert TenantStore("platform", "acme").require_profile()["status"] == "deleted"


def test_records_still_queued_for_a_deleted_tenant_do_not_recreate_its_trail(every_store: None) -> None:
    from maestro.audit.ingest import ingest, parse

    tenant("initech")
    store = TenantStore("platform", "initech")
    event = {
        "id": "1",
        "source": "maestro.registry",
        "detail-type": "RegisteredModelCreated",
        "time": "2026-12-01T00:00:00Z",
        "detail": {"event_id": "e1", "tenant": "initech", "principal": "bob", "name": "m"},
    }
    store.update_profile({"status": "deleted"}, 1)
    totals = ingest([parse(json.dumps(event))], "maestro-audit")
    assert totals["dropped"] == 1 and totals["appended"] == 0
    assert items_of("initech")["maestro-audit"] == []


def test_a_deletion_whose_workflow_ended_outside_its_steps_shows_failed_not_running(aws: None) -> None:
    sfn = boto3.client("stepfunctions")
    machine = waiting_machine("deletion")
    execution = sfn.start_execution(stateMachineArn=machine, name="initech-1")["executionArn"]
    sfn.stop_execution(executionArn=execution, cause="stopped by an operator")
    store = tenant("initech")
    store.update_profile({"status": "deleting"}, 1)
    store.put_deletion({"status": "RUNNING", "execution_arn": execution, "requested_at": 1})
    shown = TenantService(get_settings(), OPERATOR).get("initech")
    assert shown["deletion"]["status"] == "FAILED"
    assert shown["deletion"]["error"]["error"] == "ExecutionAborted"
    # AWS's DescribeExecution gives a stopped execution's cause; moto's gives none, and the status stands in
    # (worded as for an explanation job: both read it through core.workflow_gateway).
    assert shown["deletion"]["error"]["reason"] in ("stopped by an operator", "its workflow ended ABORTED")
    assert store.get_deletion()["status"] == "FAILED"  # recorded: DELETE starts it again


def _export(state: dict[str, Any], between: Any = None) -> dict[str, Any]:
    """The export workflow's steps, one page a walk; `between` runs each time the copy gives way to the
    second read."""
    from maestro.tenants import export

    state = export.start(state)
    while not state["done"]:
        mode = state["mode"]
        state = export.walk(state, slice_s=0.0)
        if between and mode == "copy" and state["mode"] == "check":
            between(state)
    return state


def test_an_export_that_saw_the_tenant_change_copies_again_and_restores_what_it_finally_saw(
    every_store: None,
) -> None:
    from maestro.tenants import export, restore

    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    tenant("acme-2")
    for name in ("acme", "acme-2"):
        for n in range(3):
            item = {"pk": {"S": f"{name}#X#{n}"}, "sk": {"S": "s"}, "blob": {"B": bytes([n, 255])}}
            ddb.put_item(TableName="maestro-registry", Item=item)
        s3.put_object(Bucket="artifacts", Key=f"tenants/{name}/artifacts/m.pkl", Body=b"v1")
    writes = []

    def write_once(state: dict[str, Any]) -> None:  # a write lands while the first copy is checked
        if not writes:
            writes.append(state["attempt"])
            ddb.put_item(TableName="maestro-registry", Item={"pk": {"S": "acme#X#late"}, "sk": {"S": "s"}})
            s3.put_object(Bucket="artifacts", Key="tenants/acme/artifacts/m.pkl", Body=b"v2 longer")

    state = _export({"tenant": "acme", "export_id": "export-20261203-000000-aaaaaa"}, write_once)
    assert state["attempt"] == 2  # the first copy was contradicted by the second read
    export.finish(state)
    manifest = restore.manifest("acme", "export-20261203-000000-aaaaaa")
    assert manifest["tables"]["registry_table"]["items"] == 4  # what the second attempt saw, late item too
    assert manifest["buckets"]["artifacts_bucket"]["bytes"] == len(b"v2 longer")
    assert not versions_of("artifacts", "tenants/acme/exports/export-20261203-000000-aaaaaa/attempt-1/")

    # Restorable: lose acme's items and object, restore in place, and get exactly them back.
    before = {
        "items": items_of("acme"),
        "object": s3.get_object(Bucket="artifacts", Key="tenants/acme/artifacts/m.pkl"),
    }
    body = before["object"]["Body"].read()
    for pk, sk in before["items"]["maestro-registry"]:
        ddb.delete_item(TableName="maestro-registry", Key={"pk": {"S": pk}, "sk": {"S": sk}})
    s3.delete_object(Bucket="artifacts", Key="tenants/acme/artifacts/m.pkl")
    result = restore.restore(
        manifest, {"registry_table": "maestro-registry"}, {"artifacts_bucket": ("artifacts", "tenants/acme/")}
    )
    assert result["findings"] == [] and result["tables"]["registry_table"]["items"] == 4
    assert items_of("acme")["maestro-registry"] == before["items"]["maestro-registry"]
    restored = ddb.get_item(TableName="maestro-registry", Key={"pk": {"S": "acme#X#1"}, "sk": {"S": "s"}})
    assert restored["Item"]["blob"]["B"] == bytes([1, 255])  # binary attributes come back as bytes
    assert s3.get_object(Bucket="artifacts", Key="tenants/acme/artifacts/m.pkl")["Body"].read() == body
    assert len(items_of("acme-2")["maestro-registry"]) == 3  # acme-2 was never part of it


def test_an_export_of_a_tenant_that_keeps_changing_fails_and_leaves_no_file(every_store: None) -> None:
    from maestro.tenants import export

    ddb, writes = boto3.client("dynamodb"), []

    def write(state: dict[str, Any]) -> None:
        writes.append(1)
        item = {"pk": {"S": f"acme#X#{len(writes)}"}, "sk": {"S": "s"}}
        ddb.put_item(TableName="maestro-ab", Item=item)

    state = {"tenant": "acme", "export_id": "export-20261203-000000-bbbbbb"}
    with pytest.raises(RuntimeError, match="kept changing") as failed:
        _export(state, write)
    assert "ab_table" in str(failed.value) and len(writes) == export.MAX_ATTEMPTS
    ended = export.fail(
        state,
        {
            "Error": "RuntimeError",
            "Cause": json.dumps({"errorType": "RuntimeError", "errorMessage": str(failed.value)}),
        },
    )
    assert ended["status"] == "FAILED" and "suspend it" in ended["reason"]
    assert versions_of("artifacts", "tenants/acme/exports/") == []
    assert export.records().get("acme", state["export_id"])["status"] == "FAILED"


def test_a_restore_that_reads_back_something_else_than_the_export_says_so(every_store: None) -> None:
    from maestro.tenants import export, restore
    from maestro.tenants.export_store import get_lines, put_lines

    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    for n in range(3):
        ddb.put_item(TableName="maestro-sla", Item={"pk": {"S": f"acme#S#{n}"}, "sk": {"S": "s"}})
    s3.put_object(Bucket="artifacts", Key="tenants/acme/a.bin", Body=b"abc")
    export.finish(_export({"tenant": "acme", "export_id": "export-20261203-000000-cccccc"}))
    manifest = restore.manifest("acme", "export-20261203-000000-cccccc")
    (part,) = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="artifacts", Prefix=manifest["root"] + "items/sla_table/")[
            "Contents"
        ]
    ]
    lines = get_lines("artifacts", part)
    put_lines("artifacts", part, [lines[0].replace('"s"', '"tampered"'), *lines[1:]])
    s3.put_object(Bucket="artifacts", Key=manifest["root"] + "objects/artifacts_bucket/a.bin", Body=b"abd")
    create_table_with_gsi1("scratch-sla")
    result = restore.restore(
        manifest, {"sla_table": "scratch-sla"}, {"artifacts_bucket": ("artifacts", "drills/x/")}
    )
    checks = {f["check"]: f for f in result["findings"]}
    assert (
        checks["export_items"]["exported"]["items"] == 3 and checks["export_items"]["restored"]["items"] == 3
    )
    assert checks["export_items"]["exported"]["digest"] != checks["export_items"]["restored"]["digest"]
    assert checks["export_objects"]["sha256_differs"] == ["a.bin"]
