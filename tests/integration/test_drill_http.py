"""The restore drill over real HTTP against the local platform (moto's point-in-time restores): a platform
loaded with registry, A/B, audit and SLA data is restored table by table into new tables, and the copies are
verified (every tenant's item count and content digest equal the source's, every audit chain verifies on the
restored copy, the registry's models and aliases read from it), the copies are removed, and the report gives
RTO and RPO, with BackupDrillPassed; a drill whose verification fails reports it, removes its copies and says
BackupDrillFailed. Operators only."""

from __future__ import annotations

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


def test_a_loaded_platform_restores_and_verifies_with_rto_and_rpo(platform: RunningPlatform) -> None:
    operator = platform.token("platform", ["admin"], subject="op")
    for tenant in TENANTS:
        platform.api("POST", "/tenants", operator, json={"tenant_id": tenant, "name": tenant})
        load(platform, tenant)
    tap = platform.tap("drill-tap", {"source": ["maestro.platform"]})

    report = drill(platform)
    assert report["status"] == "PASSED", report.get("findings") or report.get("error")
    assert report["findings"] == [] and report["copies_removed"] is True
    assert report["rto_s"] > 0 and report["rpo_s"] >= 0 and report["restore_point"]
    checks = report["checks"]
    assert checks["tables"] == 9  # eight capabilities' tables and the platform table
    assert {"acme", "globex"} <= set(report["tables"]["registry_table"] and checks["audit_trails"])
    assert all(trail["valid"] and trail["records_checked"] > 0 for trail in checks["audit_trails"].values())
    assert checks["registered_models_read"] >= 2
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


def test_the_cli_runs_a_drill_and_prints_its_report(platform: RunningPlatform) -> None:
    operator = platform.token("platform", ["admin"], subject="op")
    ran = platform.cli("backup", "drill", "--wait", "--interval", "0.5", token=operator)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout and "RTO" in ran.stdout and "audit chains verify" in ran.stdout
    listed = platform.cli("backup", "list", token=operator).stdout
    assert ran.stdout.split()[0] in listed
