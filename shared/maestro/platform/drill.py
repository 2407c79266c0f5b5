"""The restore drill, one Lambda invocation a step, run by its state machine (monthly, or on request):
start (every tenant's item count and content digest in every state table: read A, whose end is the restore
point) -> [Wait -> check] until point-in-time recovery reaches the restore point, then a restore of each table
as of then into a new one, until the copies are ACTIVE -> verify: a tenant unchanged between read A and read B
(after the restore) has the same count and digest in the copy; each audit chain verifies on the copy; each
tenant's latest export is restored into the copies and a scratch prefix and read back against its manifest;
the mlflow client's reads are answered from the restored registry, as the source answers them. The copies
and the scratch prefix are removed, and the report gives the restore time (RTO) and the data's age at the
restore point (RPO); fail from every Catch removes them too. Must never leave a restored copy behind, nor
pass a drill whose copy differs from its source."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from maestro.audit.interface import verify_trail
from maestro.core import capabilities
from maestro.core.auth import AuthContext
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import get_settings
from maestro.core.workflow_gateway import failure_reason
from maestro.platform import drill_store
from maestro.platform.drill_exports import remove_scratch, restore_exports
from maestro.platform.drill_store import DrillStore
from maestro.registry.interface import client_answers

POLL_S = 5


def state_tables() -> dict[str, str]:
    """Every table that holds tenants' state, by its settings field."""
    return capabilities.state_tables(get_settings())


def _store() -> DrillStore:
    settings = get_settings()
    return DrillStore(settings.platform_table, settings.platform_tenant)


def _event(kind: str, drill: dict[str, Any], **detail: Any) -> None:
    settings = get_settings()
    operator = AuthContext.of(
        drill.get("requested_by") or "maestro:drill", settings.platform_tenant, frozenset()
    )
    publish_safely(
        DomainEvent.by(operator, "platform", kind, {"drill_id": drill["drill_id"], **detail}, None)
    )


def start(state: dict[str, Any]) -> dict[str, Any]:
    """Every tenant's count and digest in every state table (read A), ending at the restore point."""
    drill_id = state.get("drill_id") or f"drill-{uuid.uuid4().hex[:12]}"  # the execution's name
    started = time.time()
    tables: dict[str, dict[str, Any]] = {}
    latest = []
    for field, source in state_tables().items():
        point = drill_store.latest_restorable(source)
        if point is None:
            raise ValueError(f"table {source} has no point-in-time recovery: it cannot be restored")
        latest.append(point.timestamp())
        tables[field] = {
            "source": source,
            "target": drill_store.target_name(source, drill_id),
            "tenants": drill_store.tenant_digests(source),
        }
    restore_point = time.time()  # the read has ended: the copies are restored as of this moment
    drill = {
        "drill_id": drill_id,
        "status": "RUNNING",
        "stage": "awaiting_restore_point",
        "requested_by": state.get("requested_by"),
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(),
        "restore_point": datetime.fromtimestamp(restore_point, UTC).isoformat(),
        # how old restored data would be, had the platform been lost when the drill started
        "rpo_s": round(max(0.0, started - min(latest)), 3),
        "tables": tables,
    }
    _store().put(drill)
    _event("BackupDrillStarted", drill, tables=len(tables))
    return {"drill_id": drill_id, "ready": False, "wait_s": 0}


def check(state: dict[str, Any]) -> dict[str, Any]:
    """Restores every table as of the restore point once point-in-time recovery has reached it (it trails
    by minutes in AWS); then, whether every copy is ACTIVE."""
    store = _store()
    drill = store.get(state["drill_id"])
    waiting = {"drill_id": drill["drill_id"], "ready": False, "wait_s": POLL_S}
    if drill["stage"] == "awaiting_restore_point":
        point = datetime.fromisoformat(drill["restore_point"])
        if any(
            (drill_store.latest_restorable(t["source"]) or point) < point for t in drill["tables"].values()
        ):
            return waiting
        for table in drill["tables"].values():
            drill_store.restore(table["source"], table["target"], point)
        store.put(drill | {"stage": "restoring", "restore_started": time.time()})
        return waiting
    statuses = [drill_store.status(t["target"]) for t in drill["tables"].values()]
    if any(s is None for s in statuses):
        raise RuntimeError("a restored table disappeared while it was being restored")
    return waiting | {"ready": all(s == "ACTIVE" for s in statuses)}


def verify(state: dict[str, Any]) -> dict[str, Any]:
    store = _store()
    drill = store.get(state["drill_id"])
    restored_at = time.time()
    findings: list[dict[str, Any]] = []
    tables = drill["tables"]
    changed: list[dict[str, str]] = []
    for field, table in tables.items():
        copy = drill_store.tenant_digests(table["target"])
        now = drill_store.tenant_digests(table["source"])  # read B, after the restore point
        table["restored"] = copy
        for tenant in sorted(set(copy) | set(table["tenants"]) | set(now)):
            before = table["tenants"].get(tenant)
            if before != now.get(tenant):
                # written while the drill read it: its state at the restore point is not known here
                changed.append({"table": field, "tenant": tenant})
            elif copy.get(tenant) != before:
                findings.append(
                    {
                        "check": "content",
                        "table": field,
                        "tenant": tenant,
                        "source": before,
                        "restored": copy.get(tenant),
                    }
                )
    audit = tables.get("audit_table")
    trails = {}
    for tenant in sorted((audit or {}).get("restored", {})):
        report = verify_trail(tenant, audit["target"])
        trails[tenant] = {"valid": report["valid"], "records_checked": report["records_checked"]}
        if not report["valid"]:
            findings.append({"check": "audit_chain", "tenant": tenant, "first_break": report["first_break"]})
    exports, export_findings = restore_exports(drill)
    findings += export_findings
    requests = _registry_answers(drill, changed, exports, findings)
    verified_at = time.time()
    passed = not findings
    drill |= {
        "status": "PASSED" if passed else "FAILED",
        "stage": "verified",
        "rto_s": round(verified_at - float(drill["restore_started"]), 3),
        "restore_s": round(restored_at - float(drill["restore_started"]), 3),
        "checks": {
            "tables": len(tables),
            "tenants": len({t for table in tables.values() for t in table["tenants"]}),
            "items": sum(v["items"] for table in tables.values() for v in table["tenants"].values()),
            "audit_trails": trails,
            # the mlflow client's reads answered from the restored registry (equal to the source's where
            # the tenant did not change)
            "mlflow_requests_answered": requests,
            "exports_restored": exports,
            # (table, tenant) pairs whose source changed between the reads: compared by nothing
            "changed_during_drill": changed[:100],
            "verified": sum(len(t["tenants"]) for t in tables.values()) - len(changed),
        },
        "findings": findings[:100],
        "ended_at": datetime.now(UTC).isoformat(),
    }
    _remove_copies(drill)
    store.put(drill)
    summary = {k: drill[k] for k in ("rto_s", "rpo_s", "restore_point")} | {"findings": len(findings)}
    _event("BackupDrillPassed" if passed else "BackupDrillFailed", drill, **summary)
    return {"drill_id": drill["drill_id"], "passed": passed}


def _registry_answers(
    drill: dict[str, Any],
    changed: list[dict[str, str]],
    exports: dict[str, Any],
    findings: list[dict[str, Any]],
) -> int:
    """The mlflow client's reads of every model, answered from the restored registry; where the tenant's
    registry did not change during the drill (and no stale export replaced it in the copy), each answer must
    equal the source's. Elsewhere an alias or a version the copy cannot answer is a finding."""
    registry = drill["tables"].get("registry_table")
    if registry is None:
        return 0
    moved = {c["tenant"] for c in changed if c["table"] == "registry_table"}
    requests = 0
    for tenant in sorted(registry.get("restored", {})):
        answers = client_answers(tenant, registry["target"])
        requests += len(answers)
        if tenant not in moved and exports.get(tenant, {}).get("current", True):
            source = client_answers(tenant, registry["source"])
            differing = sorted(k for k in set(answers) | set(source) if answers.get(k) != source.get(k))
            now = drill_store.tenant_digests(registry["source"]).get(tenant) if differing else None
            if differing and now == registry["tenants"].get(tenant):
                findings.append({"check": "mlflow_client", "tenant": tenant, "differing": differing[:10]})
            continue
        refused = sorted(k for k, v in answers.items() if "error" in v)
        if refused:
            findings.append({"check": "mlflow_client", "tenant": tenant, "refused": refused[:10]})
    return requests


def _remove_copies(drill: dict[str, Any]) -> None:
    for table in drill["tables"].values():
        drill_store.remove(table["target"])
        table.pop("restored", None)
    if drill.get("drill_id"):
        remove_scratch(drill["drill_id"])
    drill["copies_removed"] = True


def fail(state: dict[str, Any], error: dict[str, Any]) -> None:
    store = _store()
    reason = failure_reason(error)
    try:
        drill = store.get(state["drill_id"])
    except Exception:  # noqa: BLE001 - it failed before its report existed: report the failure alone
        drill = {
            "drill_id": state.get("drill_id") or "unknown",
            "started_at": datetime.now(UTC).isoformat(),
            "tables": {},
        }
    _remove_copies(drill)
    drill |= {
        "status": "FAILED",
        "stage": "failed",
        "error": reason,
        "ended_at": datetime.now(UTC).isoformat(),
    }
    store.put(drill)
    _event("BackupDrillFailed", drill, **reason)


def run(event: dict[str, Any]) -> dict[str, Any] | None:
    """`drill`: the state ({drill_id} once started; {requested_by} from the API); `execution`: the
    execution's name, which is the drill's id."""
    step, state = event["step"], dict(event.get("drill") or {})
    state.setdefault("drill_id", event.get("execution"))
    if step == "start":
        return start(state)
    if step == "check":
        return check(state)
    if step == "verify":
        return verify(state)
    if step == "fail":
        fail(state, event.get("error") or {})
        return None
    raise ValueError(f"unknown step {step!r}")
