"""Tenants over real HTTP against the local platform: the operators' lifecycle (every change in the audit
trail), role grants within a tenant, quotas at their edge under concurrency, the rate limit, metering and
the billing export, and a deletion that removes a tenant's data everywhere and says what it removed."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for

MLFLOW = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("tenants-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def operator(platform: RunningPlatform) -> str:
    return platform.token("platform", ["admin"], subject="olga")


def create(platform: RunningPlatform, operator: str, tenant: str, **body: Any) -> dict[str, Any]:
    reply = platform.api(
        "POST", "/tenants", operator, json={"tenant_id": tenant, "name": tenant.title(), **body}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def token(platform: RunningPlatform, tenant: str, *roles: str, subject: str = "alice") -> str:
    return platform.token(tenant, list(roles), subject=subject, register=False)


def answered(
    platform: RunningPlatform, status: int, method: str, path: str, bearer: str, **kw: Any
) -> requests.Response:
    """The response once a request answers `status`: a change reaches every function environment within a
    second (admission's lease). (A 4xx Response is falsy, so wait_for gets a list.)"""
    replies: list[requests.Response] = []

    def reached() -> list[requests.Response]:
        replies.append(platform.api(method, path, bearer, **kw))
        return replies[-1:] if replies[-1].status_code == status else []

    return wait_for(reached, timeout_s=5)[0]


def trail(platform: RunningPlatform, auditor: str, action: str, count: int = 1) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        reply = platform.api("GET", "/audit/events", auditor, params={"action": action})
        records = reply.json()["records"] if reply.ok else []
        return records if len(records) >= count else []

    return wait_for(found, timeout_s=30)


def test_operators_create_change_suspend_and_resume_tenants_and_every_change_is_audited(
    platform: RunningPlatform, operator: str
) -> None:
    created = create(platform, operator, "initech", plan="free", quotas={"registered_models": 3})
    assert created["status"] == "active" and created["plan"] == "free"
    assert created["quotas"]["registered_models"] == {"limit": 3, "used": 0}
    assert created["quotas"]["requests_per_minute"]["limit"] == 600
    again = platform.api("POST", "/tenants", operator, json={"tenant_id": "initech", "name": "x"})
    assert again.status_code == 409
    bad = platform.api(
        "POST", "/tenants", operator, json={"tenant_id": "Not_Valid", "name": "x", "plan": "gold"}
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["error"]["fields"]} == {"body.tenant_id", "body.plan"}

    changed = platform.api("PATCH", "/tenants/initech", operator, json={"plan": "team", "quotas": {}})
    assert changed.json()["plan"] == "team" and changed.json()["quotas"]["registered_models"]["limit"] == 200

    viewer = token(platform, "initech", "viewer")
    assert platform.api("GET", "/whoami", viewer).status_code == 200
    suspended = platform.api(
        "POST", "/tenants/initech/suspend", operator, json={"reason": "invoice 42 is unpaid"}
    )
    assert suspended.json()["status"] == "suspended"
    # Each function environment re-reads its tenant at least every second (admission's lease).
    refused = answered(platform, 403, "GET", "/whoami", viewer)
    assert refused.json()["error"]["code"] == "TENANT_SUSPENDED"
    assert "invoice 42 is unpaid" in refused.json()["error"]["message"]
    mlflow = platform.api("GET", f"{MLFLOW}/registered-models/search", viewer)  # the registry's own shape
    assert mlflow.status_code == 403 and mlflow.json()["error_code"] == "PERMISSION_DENIED"
    assert mlflow.json()["maestro_code"] == "TENANT_SUSPENDED"
    assert platform.api("POST", "/tenants/initech/resume", operator).json()["status"] == "active"
    answered(platform, 200, "GET", "/whoami", viewer)

    listed = platform.api("GET", "/tenants", operator, params={"limit": 100}).json()["tenants"]
    assert "initech" in {t["tenant_id"] for t in listed}
    auditor = token(platform, "platform", "auditor", subject="aud")
    for action in ("TenantCreated", "TenantUpdated", "TenantSuspended", "TenantResumed"):
        records = trail(platform, auditor, f"tenants:{action}")
        (record,) = [r for r in records if r["detail"]["tenant_id"] == "initech"]
        assert record["principal"] == "olga" and record["record_class"] in ("change", "security")


def test_tenant_admins_grant_and_revoke_roles_in_their_own_tenant_only(
    platform: RunningPlatform, operator: str
) -> None:
    create(platform, operator, "umbrella")
    create(platform, operator, "stark")
    admin = token(platform, "umbrella", "tenant-admin", subject="root")
    bob = token(platform, "umbrella", "viewer", subject="bob")
    spec = {
        "name": "x",
        "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        "metrics": [{"name": "m", "kind": "binomial", "event": "e", "role": "primary"}],
    }
    assert platform.api("POST", "/ab/experiments", bob, json=spec).status_code == 403
    granted = platform.api("PUT", "/tenants/umbrella/users/bob", admin, json={"roles": ["ml-engineer"]})
    assert granted.status_code == 200 and granted.json()["roles"] == ["ml-engineer"]

    def holds(permission: str) -> bool:
        reply = platform.api("POST", "/whoami/check", bob, json={"permissions": [permission]})
        return reply.status_code == 200 and reply.json()["granted"] == [permission]

    wait_for(lambda: holds("ab:write"), timeout_s=5)  # within a lease's second
    assert platform.api("POST", "/ab/experiments", bob, json=spec).status_code == 201
    listed = platform.api("GET", "/tenants/umbrella/users", admin).json()["users"]
    assert [(u["principal"], u["status"]) for u in listed] == [("bob", "active")]
    no_admin = platform.api("PUT", "/tenants/umbrella/users/eve", admin, json={"roles": ["admin"]})
    assert no_admin.status_code == 422 and no_admin.json()["error"]["fields"][0]["field"] == "body.roles.0"

    removed = platform.api("DELETE", "/tenants/umbrella/users/bob", admin)
    assert removed.json()["status"] == "removed"
    locked_out = answered(platform, 403, "GET", "/whoami", bob)
    assert locked_out.json()["error"]["code"] == "PRINCIPAL_REMOVED"
    assert platform.api("DELETE", "/tenants/umbrella/users/root", admin).status_code == 409  # not yourself

    for method, path in (("GET", "/tenants/stark"), ("GET", "/tenants/stark/users"), ("GET", "/tenants")):
        assert platform.api(method, path, admin).status_code == 403, path
    assert (
        platform.api("PUT", "/tenants/stark/users/bob", admin, json={"roles": ["viewer"]}).status_code == 403
    )
    auditor = token(platform, "umbrella", "auditor", subject="aud")
    (grant,) = trail(platform, auditor, "tenants:RoleGranted")
    (revoke,) = trail(platform, auditor, "tenants:RoleRevoked")
    assert (grant["principal"], grant["record_class"], grant["detail"]["subject"]) == (
        "root",
        "security",
        "bob",
    )
    assert grant["roles"] == ["tenant-admin"] and grant["detail"]["granted_roles"] == ["ml-engineer"]
    assert revoke["detail"]["revoked_roles"] == ["ml-engineer"] and revoke["roles"] == ["tenant-admin"]


def test_a_hundred_concurrent_creates_against_a_quota_of_ten_leave_exactly_ten(
    platform: RunningPlatform, operator: str
) -> None:
    create(platform, operator, "cyberdyne", quotas={"registered_models": 10, "running_experiments": 2})
    engineer = token(platform, "cyberdyne", "ml-engineer")

    def register(n: int) -> requests.Response:
        return platform.api(
            "POST", f"{MLFLOW}/registered-models/create", engineer, json={"name": f"model-{n}"}
        )

    with ThreadPoolExecutor(max_workers=25) as pool:
        replies = list(pool.map(register, range(100)))
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) == 10 and statuses.count(403) == 90, sorted(set(statuses))
    refusal = next(r.json() for r in replies if r.status_code == 403)
    assert (refusal["error_code"], refusal["maestro_code"], refusal["limit"]) == (
        "RESOURCE_LIMIT_EXCEEDED",
        "QUOTA_EXCEEDED",
        "registered_models",
    )
    models = platform.api("GET", f"{MLFLOW}/registered-models/search", engineer, params={"max_results": 1000})
    assert len(models.json()["registered_models"]) == 10
    tenant = platform.api("GET", "/tenants/cyberdyne", token(platform, "cyberdyne", "viewer")).json()
    assert tenant["quotas"]["registered_models"] == {"limit": 10, "used": 10}

    spec = {
        "name": "x",
        "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        "metrics": [{"name": "m", "kind": "binomial", "event": "e", "role": "primary"}],
    }
    ids = [
        platform.api("POST", "/ab/experiments", engineer, json=spec).json()["experiment_id"] for _ in range(8)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        starts = list(pool.map(lambda i: platform.api("POST", f"/ab/experiments/{i}/start", engineer), ids))
    assert sorted(r.status_code for r in starts) == [200] * 2 + [403] * 6
    running = [
        e
        for e in platform.api("GET", "/ab/experiments", engineer).json()["experiments"]
        if e["status"] == "running"
    ]
    assert len(running) == 2


def test_past_the_rate_limit_a_tenant_gets_429_with_when_to_retry(
    platform: RunningPlatform, operator: str
) -> None:
    create(platform, operator, "oscorp", quotas={"requests_per_minute": 5})
    create(platform, operator, "oscorp-2", quotas={"requests_per_minute": 5})
    viewer = token(platform, "oscorp", "viewer")
    while datetime.now(UTC).second > 45:  # all six requests within one minute
        time.sleep(1)
    codes = [platform.api("GET", "/whoami", viewer).status_code for _ in range(5)]
    limited = platform.api("GET", "/whoami", viewer)
    assert codes == [200] * 5 and limited.status_code == 429
    error = limited.json()["error"]
    assert (
        error["code"] == "RATE_LIMITED" and error["limit"] == "requests_per_minute" and error["maximum"] == 5
    )
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and limited.json()["correlation_id"]
    other = token(platform, "oscorp-2", "viewer")
    with ThreadPoolExecutor(max_workers=10) as pool:  # concurrent requests at the limit's edge
        statuses = sorted(
            r.status_code for r in pool.map(lambda _: platform.api("GET", "/whoami", other), range(10))
        )
    assert statuses == [200] * 5 + [429] * 5  # one tenant's limit is its own, and exactly its limit
    create(platform, operator, "oscorp-3", quotas={"requests_per_minute": 20})
    third = token(platform, "oscorp-3", "viewer")
    while datetime.now(UTC).second > 45:
        time.sleep(1)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(
            r.status_code for r in pool.map(lambda _: platform.api("GET", "/whoami", third), range(40))
        )
    assert statuses == [200] * 20 + [429] * 20


def test_usage_is_metered_per_capability_and_exported_for_billing(
    platform: RunningPlatform, operator: str
) -> None:
    create(platform, operator, "hooli")
    engineer = token(platform, "hooli", "ml-engineer")
    for _ in range(3):
        assert platform.api("GET", "/whoami", engineer).status_code == 200
    for name in ("a", "b"):
        platform.api("POST", f"{MLFLOW}/registered-models/create", engineer, json={"name": name})
    auditor = token(platform, "hooli", "auditor")

    def today() -> dict[str, Any] | None:
        requests.post(platform.url + "/_local/logs/flush", timeout=30)
        days = platform.api("GET", "/tenants/hooli/usage", auditor).json()["days"]
        return days[-1] if days and days[-1]["requests"]["registry"] >= 2 else None

    day = wait_for(today, timeout_s=30)
    assert day["requests"]["platform"] == 3 and day["requests"]["registry"] == 2
    assert day["compute_seconds"]["registry"] > 0 and day["errors"]["total"] == 0
    assert platform.api("GET", "/tenants/hooli/usage", engineer).status_code == 403  # usage:read

    iso = datetime.now(UTC).date().isoformat()
    export = platform.api("POST", "/tenants/export", operator, json={"start": iso, "end": iso})
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(requests.get(export.json()["url"], timeout=30).text)))
    (hooli,) = [r for r in rows if r["tenant_id"] == "hooli"]
    assert hooli["day"] == iso and hooli["plan"] == "team" and int(hooli["requests_registry"]) == 2
    assert export.json()["rows"] == len(rows)
    wide = platform.api("POST", "/tenants/export", operator, json={"start": "2025-01-01", "end": iso})
    assert wide.status_code == 422 and wide.json()["error"]["fields"][0]["field"] == "end"


def test_deleting_a_tenant_removes_its_data_everywhere_and_reports_what_it_removed(
    platform: RunningPlatform, operator: str
) -> None:
    create(platform, operator, "doomed")
    create(platform, operator, "spared")
    for tenant in ("doomed", "spared"):
        engineer, auditor = token(platform, tenant, "ml-engineer"), token(platform, tenant, "auditor")
        platform.api("POST", f"{MLFLOW}/registered-models/create", engineer, json={"name": "churn"})
        artifact = platform.api(
            "PUT", "/api/2.0/mlflow-artifacts/artifacts/experiments/1/model.pkl", engineer, data=b"weights"
        )
        assert artifact.status_code == 200, artifact.text
        slo = {"name": "x", "service": "svc", "objectives": [{"kind": "availability", "target": 99}]}
        assert platform.api("POST", "/sla/slos", engineer, json=slo).status_code == 201
        trail(platform, auditor, "sla:SloCreated")
        assert platform.api("POST", "/audit/digests", auditor).status_code == 200  # a locked archive object
    ddb, s3 = platform.aws("dynamodb"), platform.aws("s3")
    tables = ddb.list_tables()["TableNames"]
    artifacts, archive = platform.artifacts_bucket(), platform.physical("maestro-auditarchivebucket")

    def items(tenant: str) -> dict[str, list[str]]:
        """The tenant's items, but its usage per day, which the meter writes from its requests' log lines."""
        out = {}
        for table in tables:
            scanned = ddb.scan(
                TableName=table,
                FilterExpression="begins_with(pk, :t)",
                ExpressionAttributeValues={":t": {"S": tenant + "#"}},
            )
            keys = (f"{i['pk']['S']}|{i['sk']['S']}" for i in scanned["Items"])
            out[table] = sorted(k for k in keys if not k.startswith(f"{tenant}#TENANT#USAGE|"))
        return out

    def versions(bucket: str, tenant: str) -> list[str]:
        listed = s3.list_object_versions(Bucket=bucket, Prefix=f"tenants/{tenant}/")
        return sorted(v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []))

    spared_items, spared_objects = items("spared"), versions(artifacts, "spared")
    assert sum(map(len, items("doomed").values())) > 10 and versions(artifacts, "doomed")
    deletions = platform.tap(
        "test-tenant-deleted", {"source": ["maestro.tenants"], "detail-type": ["TenantDeleted"]}
    )

    started = platform.api("DELETE", "/tenants/doomed", operator)
    assert started.status_code == 202 and started.json()["status"] == "deleting"
    doomed = token(platform, "doomed", "ml-engineer")
    gone = answered(platform, 403, "GET", "/whoami", doomed)
    assert gone.json()["error"]["code"] == "TENANT_DELETED"
    assert platform.api("DELETE", "/tenants/doomed", operator).status_code in (200, 202)  # idempotent

    def deleted() -> dict[str, Any] | None:
        shown = platform.api("GET", "/tenants/doomed", operator).json()
        return shown if shown.get("deletion", {}).get("status") == "DELETED" else None

    shown = wait_for(deleted, timeout_s=120, interval_s=1)
    assert shown["status"] == "deleted"
    report = shown["deletion"]["report"]
    removed = report["removed"]
    assert removed[f"s3:{artifacts}"]["removed"] >= 1 and removed[f"s3:{artifacts}"]["bytes"] >= len(
        b"weights"
    )
    registry_table = platform.physical("Maestro-RegistryRegistryTable")
    assert removed[f"dynamodb:{registry_table}"]["removed"] >= 1
    (locked,) = report["retained_by_object_lock"].values()
    assert locked["objects"] >= 1 and locked["until"]
    assert report["sweeps"] >= 2 and report["not_covered"]

    left = items("doomed")
    platform_table = platform.physical("Maestro-StoragePlatformTable")
    assert all(not keys for table, keys in left.items() if table != platform_table)
    assert {k.split("|")[1] for k in left[platform_table] if k.startswith("doomed#TENANT|")} == {
        "PROFILE",
        "DELETION",
    }
    assert all(k.startswith("doomed#TENANT|") for k in left[platform_table])
    assert versions(artifacts, "doomed") == []
    assert versions(archive, "doomed") and all("/audit/" in k for k in versions(archive, "doomed"))
    assert items("spared") == spared_items and versions(artifacts, "spared") == spared_objects
    (event,) = [e for e in platform.drain(deletions) if e["detail"]["tenant_id"] == "doomed"]
    assert event["detail"]["tenant"] == "platform" and event["detail"]["principal"] == "olga"
    assert (
        platform.api("POST", "/tenants", operator, json={"tenant_id": "doomed", "name": "again"}).status_code
        == 409
    )
    assert json.loads(platform.api("GET", "/whoami", doomed).text)["error"]["code"] == "TENANT_DELETED"


def test_the_cli_administers_a_tenant_and_follows_its_deletion(
    platform: RunningPlatform, operator: str
) -> None:
    created = platform.cli(
        "tenants", "create", "wayne", "--plan", "free", "--quota", "registered_models=3", token=operator
    )
    assert created.returncode == 0, created.stderr
    assert (
        "plan free" in created.stdout
        and "of 3" in created.stdout.split("registered_models")[1].splitlines()[0]
    )
    suspended = platform.cli("tenants", "suspend", "wayne", "--reason", "audit pending", token=operator)
    assert "suspended" in suspended.stdout and "reason: audit pending" in suspended.stdout
    listed = platform.cli("tenants", "list", token=operator)
    assert "wayne\tfree\tsuspended\twayne" in listed.stdout.splitlines()
    deleted = platform.cli("tenants", "delete", "wayne", "--wait", token=operator)
    assert deleted.returncode == 0, deleted.stderr
    report = json.loads(deleted.stdout[deleted.stdout.index("\n{") :])
    assert report["status"] == "DELETED" and report["report"]["tenant"] == "wayne"
    create(platform, operator, "wayne-2")
    refused = platform.cli("tenants", "show", "wayne", token=token(platform, "wayne-2", "admin"))
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout
