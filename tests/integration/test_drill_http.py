"""Tenant exports and the restore drill over real HTTP against the local platform (moto's point-in-time
restores). An export is a consistent snapshot of one tenant's items and objects, checked here against the
tables and buckets themselves, and a failed export leaves no file. A platform loaded with registry, A/B, audit
and SLA data is restored table by table into new tables, and the copies are verified (every tenant's item
count and content digest equal the source's, every audit chain verifies on the restored copy, the latest
export restores and reads back, the mlflow client's reads are answered from the restored registry as from
the source), the copies are removed, and the report gives RTO and RPO, with BackupDrillPassed; a drill whose
verification fails reports it, removes its copies and says BackupDrillFailed. Operators only."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for

ML = "/api/2.0/mlflow"
TENANTS = ("acme", "globex")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("drill-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def load(platform: RunningPlatform, tenant: str) -> None:
    """Registry, A/B, SLA and audit data for `tenant`, through the API."""
    token = platform.token(tenant, ["ml-engineer"])

    def call(method: str, path: str, **kw: Any) -> Any:
        reply = platform.api(method, path, token, **kw)
        assert reply.ok, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else {}

    call("POST", f"{ML}/registered-models/create", json={"name": "churn"})
    for _ in range(2):
        call("POST", f"{ML}/model-versions/create", json={"name": "churn", "source": "s3://b/k"})
    call("POST", f"{ML}/registered-models/alias", json={"name": "churn", "alias": "champion", "version": "2"})
    experiment = call("POST", f"{ML}/experiments/create", json={"name": "drill"})["experiment_id"]
    run = call("POST", f"{ML}/runs/create", json={"experiment_id": experiment})["run"]["info"]["run_id"]
    call(
        "POST",
        f"{ML}/runs/log-metric",
        json={"run_id": run, "key": "auc", "value": 0.9, "timestamp": 1, "step": 0},
    )
    spec = {
        "name": "checkout",
        "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        "metrics": [{"name": "bought", "kind": "binomial", "event": "buy", "role": "primary"}],
    }
    ab = call("POST", "/ab/experiments", json=spec)["experiment_id"]
    call("POST", f"/ab/experiments/{ab}/start")
    events = [{"event_id": f"e{i}", "unit_id": f"u{i}", "type": "exposure"} for i in range(50)]
    call("POST", "/ab/events", json={"experiment_id": ab, "events": events})
    slo = {"name": "api", "service": "api", "objectives": [{"kind": "availability", "target": 99}]}
    call("POST", "/sla/slos", json=slo)
    at = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    observations = [{"service": "api", "timestamp": at, "latency_ms": 12.0, "status": 200} for _ in range(20)]
    call("POST", "/sla/observations", json={"observations": observations})
    auditor = platform.token(tenant, ["auditor"])
    # the events above reach the trail; a digest signs it, so the restored chain has one to verify against
    wait_for(
        lambda: len(platform.api("GET", "/audit/events", auditor).json().get("records", [])) >= 5,
        timeout_s=60,
    )
    assert platform.api("POST", "/audit/digests", auditor).ok


@pytest.fixture(scope="module")
def loaded(platform: RunningPlatform) -> RunningPlatform:
    operator = platform.token("platform", ["admin"], subject="op")
    for tenant in TENANTS:
        assert platform.api("POST", "/tenants", operator, json={"tenant_id": tenant, "name": tenant}).ok
        load(platform, tenant)
        for name, body in (("model.pkl", b"weights-" + tenant.encode()), ("data/train.csv", b"a,b\n1,2\n")):
            path = f"/api/2.0/mlflow-artifacts/artifacts/experiments/1/{name}"
            assert platform.api("PUT", path, platform.token(tenant, ["ml-engineer"]), data=body).ok
    return platform


def export(platform: RunningPlatform, tenant: str) -> dict[str, Any]:
    operator = platform.token("platform", ["admin"], subject="op")
    started = platform.api("POST", f"/tenants/{tenant}/exports", operator)
    assert started.status_code == 202, started.text
    path = f"/tenants/{tenant}/exports/{started.json()['export_id']}"

    def ended() -> dict[str, Any] | None:
        found: dict[str, Any] = platform.api("GET", path, operator).json()
        return found if found["status"] in ("COMPLETED", "FAILED") else None

    found: dict[str, Any] = wait_for(ended, timeout_s=120, interval_s=0.5)
    return found


def oracle_digest(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The export's digest, computed here from its definition: SHA-256 of each item's canonical DynamoDB
    JSON (binary values in base64), summed modulo 2**256."""
    total = 0
    for item in items:
        text = json.dumps(
            item, sort_keys=True, separators=(",", ":"), default=lambda b: base64.b64encode(b).decode()
        )
        total = (total + int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")) % 2**256
    return {"items": len(items), "digest": f"{total:064x}"}


def tenant_items(platform: RunningPlatform, table: str, tenant: str) -> list[dict[str, Any]]:
    pages = platform.aws("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [i for page in pages for i in page["Items"] if i["pk"]["S"].startswith(tenant + "#")]


def test_a_tenant_export_is_a_consistent_snapshot_of_its_own_items_and_objects(
    loaded: RunningPlatform,
) -> None:
    platform, s3 = loaded, loaded.aws("s3")
    bucket = platform.artifacts_bucket()
    report = export(platform, "acme")
    assert report["status"] == "COMPLETED", report
    manifest = requests.get(report["manifest_url"], timeout=10).json()
    assert manifest["tenant"] == "acme" and manifest["format"] == "maestro-tenant-export/1"
    # Quiet since the load: the export equals what these tables hold now (the audit trail and metering
    # may still be writing what the load's requests caused).
    for field in ("registry_table", "ab_table", "sla_table"):
        table = manifest["tables"][field]
        assert table["items"] > 0, field
        expected = oracle_digest(tenant_items(platform, table["table"], "acme"))
        assert {"items": table["items"], "digest": table["digest"]} == expected, field
        parts = s3.list_objects_v2(Bucket=bucket, Prefix=f"{manifest['root']}items/{field}/")["Contents"]
        lines = [
            json.loads(line)
            for part in parts
            for line in gzip.decompress(
                s3.get_object(Bucket=bucket, Key=part["Key"])["Body"].read()
            ).splitlines()
        ]
        assert oracle_digest(lines) == expected, field  # the files hold exactly those items
    # Every current object under tenants/acme/ (its exports aside), byte for byte, and nothing of globex.
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="tenants/acme/")["Contents"]
    own = {o["Key"] for o in listed if "/exports/" not in o["Key"]}
    index_parts = s3.list_objects_v2(
        Bucket=bucket, Prefix=f"{manifest['root']}objects/artifacts_bucket.index/"
    )
    index = [
        json.loads(line)
        for part in index_parts["Contents"]
        for line in gzip.decompress(s3.get_object(Bucket=bucket, Key=part["Key"])["Body"].read()).splitlines()
    ]
    assert {"tenants/acme/" + e["key"] for e in index} == own and len(own) >= 2
    for entry in index:
        original = s3.get_object(Bucket=bucket, Key="tenants/acme/" + entry["key"])["Body"].read()
        copied = s3.get_object(
            Bucket=bucket, Key=f"{manifest['root']}objects/artifacts_bucket/{entry['key']}"
        )
        assert (
            entry["sha256"]
            == hashlib.sha256(original).hexdigest()
            == hashlib.sha256(copied["Body"].read()).hexdigest()
        )
    assert manifest["buckets"]["audit_archive_bucket"]["objects"] >= 1  # the signed digest
    everything = s3.list_objects_v2(Bucket=bucket, Prefix=manifest["root"])["Contents"]
    assert not any("globex" in o["Key"] for o in everything)
    listed_exports = platform.api(
        "GET", "/tenants/acme/exports", platform.token("platform", ["admin"])
    ).json()
    assert listed_exports["exports"][0]["export_id"] == report["export_id"]


def test_a_failed_export_leaves_no_file_and_says_why(loaded: RunningPlatform) -> None:
    platform, s3 = loaded, loaded.aws("s3")
    fault = {"function": "tenants_export", "error": "Runtime.ExitError", "times": "10", "step": "finish"}
    assert requests.post(f"{platform.url}/_local/faults", params=fault, timeout=10).status_code == 201
    try:
        report = export(platform, "globex")
    finally:
        requests.delete(f"{platform.url}/_local/faults", timeout=10)
    assert report["status"] == "FAILED" and "Runtime.ExitError" in json.dumps(report["error"])
    prefix = f"tenants/globex/exports/{report['export_id']}/"
    assert (
        s3.list_object_versions(Bucket=platform.artifacts_bucket(), Prefix=prefix).get("Versions", []) == []
    )


def test_exports_are_for_operators_and_name_what_is_wrong(loaded: RunningPlatform) -> None:
    operator = loaded.token("platform", ["admin"], subject="op")
    assert loaded.api("POST", "/tenants/acme/exports", loaded.token("acme", ["admin"])).status_code == 403
    assert loaded.api("POST", "/tenants/nobody/exports", operator).status_code == 404
    platform_itself = loaded.api("POST", "/tenants/platform/exports", operator)
    assert (
        platform_itself.status_code == 422
        and platform_itself.json()["error"]["fields"][0]["field"] == "tenant_id"
    )
    missing = loaded.api("GET", "/tenants/acme/exports/export-20260101-000000-abcdef", operator)
    assert missing.status_code == 404


def drill(platform: RunningPlatform) -> dict[str, Any]:
    operator = platform.token("platform", ["admin"], subject="op")
    started = platform.api("POST", "/platform/drills", operator)
    assert started.status_code == 202, started.text
    drill_id = started.json()["drill_id"]

    def ended() -> dict[str, Any] | None:
        reply = platform.api("GET", f"/platform/drills/{drill_id}", operator)
        return reply.json() if reply.ok and reply.json()["status"] in ("PASSED", "FAILED") else None

    found: dict[str, Any] = wait_for(ended, timeout_s=180, interval_s=1.0)
    return found


def drill_tables(platform: RunningPlatform) -> list[str]:
    return [t for t in platform.aws("dynamodb").list_tables()["TableNames"] if "-drill-" in t]


def test_a_loaded_platform_restores_and_verifies_with_rto_and_rpo(loaded: RunningPlatform) -> None:
    platform = loaded
    exported = {tenant: export(platform, tenant) for tenant in TENANTS}
    assert all(e["status"] == "COMPLETED" for e in exported.values()), exported
    tap = platform.tap("drill-tap", {"source": ["maestro.platform"]})

    report = drill(platform)
    assert report["status"] == "PASSED", report.get("findings") or report.get("error")
    assert report["findings"] == [] and report["copies_removed"] is True
    assert report["rto_s"] > 0 and report["rpo_s"] >= 0 and report["restore_point"]
    checks = report["checks"]
    assert checks["tables"] == 10  # nine capabilities' tables and the platform table
    assert {"acme", "globex"} <= set(report["tables"]["registry_table"] and checks["audit_trails"])
    assert all(trail["valid"] and trail["records_checked"] > 0 for trail in checks["audit_trails"].values())
    # every model's reads as the mlflow client makes them: search, get, latest versions, alias, version, run
    assert checks["mlflow_requests_answered"] >= 2 * 5
    restored = checks["exports_restored"]
    assert {t: r["export_id"] for t, r in restored.items()} == {
        t: e["export_id"] for t, e in exported.items()
    }
    for tenant in TENANTS:
        assert restored[tenant]["items"] == exported[tenant]["totals"]["items"]
        assert restored[tenant]["objects"] == exported[tenant]["totals"]["objects"] >= 3
    assert not {"registry_table", "ab_table", "sla_table"} & set(restored["acme"]["changed_since_export"])
    scratch = restored["acme"]["scratch_prefix"]
    assert (
        platform.aws("s3").list_objects_v2(Bucket=platform.artifacts_bucket(), Prefix=scratch).get("KeyCount")
        == 0
    )
    # What the API wrote synchronously was quiet during the drill, so it was compared. Metering and the
    # audit trail land asynchronously; what changed while the drill read it is reported, not compared.
    changed = {(c["table"], c["tenant"]) for c in checks["changed_during_drill"]}
    for tenant in TENANTS:
        assert not changed & {(t, tenant) for t in ("registry_table", "ab_table", "sla_table")}, changed
    assert checks["verified"] >= 2 * 3
    for field in ("registry_table", "ab_table", "sla_table", "audit_table"):
        assert report["tables"][field]["items"] > 0 and report["tables"][field]["tenants"] >= 2, field
    assert drill_tables(platform) == []  # the copies are gone

    kinds: list[str] = []
    wait_for(
        lambda: kinds.extend(e["detail-type"] for e in platform.drain(tap)) or "BackupDrillPassed" in kinds
    )
    assert kinds[0] == "BackupDrillStarted"

    operator = platform.token("platform", ["admin"], subject="op")
    listed = platform.api("GET", "/platform/drills", operator).json()["drills"]
    assert listed[0]["drill_id"] == report["drill_id"]


def test_a_drill_that_cannot_verify_fails_removes_its_copies_and_says_so(platform: RunningPlatform) -> None:
    tap = platform.tap(
        "drill-failed-tap", {"source": ["maestro.platform"], "detail-type": ["BackupDrillFailed"]}
    )
    fault = {
        "function": "backup_drill",
        "error": "Runtime.ExitError",
        "times": "10",
        "step": "verify",
    }  # past its retries
    assert requests.post(f"{platform.url}/_local/faults", params=fault, timeout=10).status_code == 201
    try:
        report = drill(platform)
    finally:
        requests.delete(f"{platform.url}/_local/faults", timeout=10)
    assert report["status"] == "FAILED" and "Runtime.ExitError" in report["error"]["error"]
    assert drill_tables(platform) == []
    (event,) = wait_for(lambda: platform.drain(tap), timeout_s=30)
    assert event["detail"]["drill_id"] == report["drill_id"]


def test_only_platform_operators_run_drills(platform: RunningPlatform) -> None:
    admin = platform.token("acme", ["admin"])
    assert platform.api("POST", "/platform/drills", admin).status_code == 403
    assert (
        platform.api("GET", "/platform/drills", platform.token("acme", ["tenant-admin"])).status_code == 403
    )
    operator = platform.token("platform", ["admin"], subject="op")
    assert platform.api("GET", "/platform/drills/drill-000000000000", operator).status_code == 404


def test_the_cli_exports_a_tenant_runs_a_drill_and_prints_both(loaded: RunningPlatform) -> None:
    operator = loaded.token("platform", ["admin"], subject="op")
    ran = loaded.cli("backup", "export", "globex", "--wait", "--interval", "0.5", token=operator)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "COMPLETED" in ran.stdout and "manifest s3://" in ran.stdout
    listed = loaded.cli("backup", "exports", "globex", token=operator).stdout
    assert ran.stdout.split()[0] == listed.split()[0]

    ran = loaded.cli("backup", "drill", "--wait", "--interval", "0.5", token=operator)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout and "RTO" in ran.stdout and "audit chains verify" in ran.stdout
    assert (
        "mlflow client reads answered" in ran.stdout and f"export {listed.split()[0]} of globex" in ran.stdout
    )
    listed = loaded.cli("backup", "list", token=operator).stdout
    assert ran.stdout.split()[0] in listed
