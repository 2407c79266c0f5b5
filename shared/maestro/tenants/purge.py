"""Deleting a tenant, as the purge state machine's steps: start (stop its running work), sweep
(its data in every table and bucket, one bounded slice per invocation, until a whole sweep finds nothing
more: what was written while the first sweep ran is found by the next), finish (the report; the tenant
becomes deleted) and fail. Must never call a deletion done while its last sweep still found data, and never
touch another tenant's keys or objects."""

from __future__ import annotations

import time
from typing import Any

from maestro.core import capabilities
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.looping import dispatch
from maestro.core.observability import logger
from maestro.core.settings import Settings, get_settings
from maestro.core.workflow_gateway import failure_reason
from maestro.tenants.plans import iso_ms
from maestro.tenants.purge_store import Page, purge_bucket_page, purge_table_page
from maestro.tenants.store import TenantStore, now_ms

MAX_SWEEPS = 3
SLICE_S = 60.0  # one sweep invocation works this long, then hands its cursor back to the state machine
NOT_COVERED = [
    "CloudWatch Logs of the functions (kept 3 months), which name the tenant in request logs",
    "S3 server access logs (kept 1 year), which name object keys under the tenant's prefix",
    "accounts in the identity provider (Cognito or your OIDC issuer): Maestro ML refuses their tokens",
]
KEPT = [
    "the tenant's profile, as a tombstone with status deleted: its id is never reused",
    "its usage per day: the platform's billing records",
    "the platform tenant's audit trail of its administration (TenantCreated ... TenantDeleted)",
]


def targets(settings: Settings) -> list[str]:
    """Where a tenant's data lives: every installed capability's tables, the platform table, then every
    bucket (once, though several capabilities keep objects in one)."""
    tables = [f"dynamodb:{t}" for t in capabilities.state_tables(settings).values()]
    return tables + [f"s3:{b}" for b in capabilities.state_buckets(settings).values()]


def start(state: dict[str, Any]) -> dict[str, Any]:
    """Stop the tenant's running work first (each capability's that has some): it would go on writing."""
    stopped: dict[str, int] = {}
    for capability in capabilities.installed():
        if capability.stop is not None:
            stopped |= capability.stop(state["tenant"])
    state = {
        **state,
        "started_at": now_ms(),
        "stopped": stopped,
        "sweep": 1,
        "target": 0,
        "cursor": None,
        "found": 0,
        "removed": {},
        "retained": {},
        "done": False,
    }
    _progress(state)
    return state


def sweep(state: dict[str, Any], slice_s: float = SLICE_S) -> dict[str, Any]:
    """Remove what one slice of time allows (at least one page), target after target, and hand back where to
    go on."""
    settings, tenant = get_settings(), state["tenant"]
    names = targets(settings)
    deadline = time.monotonic() + slice_s
    state = {**state, "removed": dict(state["removed"]), "retained": dict(state["retained"])}
    while True:
        target = names[state["target"]]
        kind, name = target.split(":", 1)
        purge = purge_table_page if kind == "dynamodb" else purge_bucket_page
        page = purge(name, tenant, state["cursor"])
        _tally(state, target, page)
        state["cursor"] = page.cursor
        if page.cursor is None:
            state["target"] += 1
            if state["target"] == len(names):
                if state["found"] == 0:  # a whole sweep found nothing more: the tenant's data is gone
                    state["done"] = True
                    break
                if state["sweep"] >= MAX_SWEEPS:
                    found, sweeps = state["found"], state["sweep"]
                    raise RuntimeError(
                        f"the tenant's data kept appearing: sweep {sweeps} still removed {found}"
                    )
                state |= {"sweep": state["sweep"] + 1, "target": 0, "found": 0, "retained": {}}
        if time.monotonic() >= deadline:
            break
    _progress(state)
    return state


def _tally(state: dict[str, Any], target: str, page: Page) -> None:
    removed = state["removed"].setdefault(target, {"removed": 0, "bytes": 0})
    removed["removed"] += page.removed
    removed["bytes"] += page.removed_bytes
    state["found"] += page.removed
    if page.retained:
        retained = state["retained"].setdefault(target, {"objects": 0, "bytes": 0, "until": None})
        retained["objects"] += page.retained
        retained["bytes"] += page.retained_bytes
        if page.retained_until and (retained["until"] is None or page.retained_until > retained["until"]):
            retained["until"] = page.retained_until


def _progress(state: dict[str, Any]) -> None:
    """Where the deletion is, for GET /tenants/{id}: the sweep, the store it is in, what it removed so far."""
    settings = get_settings()
    names = targets(settings)
    TenantStore(settings.platform_table, state["tenant"]).update_deletion(
        progress={
            "sweep": state["sweep"],
            "target": names[min(state["target"], len(names) - 1)],
            "removed": sum(t["removed"] for t in state["removed"].values()),
        }
    )


def finish(state: dict[str, Any]) -> dict[str, Any]:
    settings, tenant = get_settings(), state["tenant"]
    store = TenantStore(settings.platform_table, tenant)
    for capability in capabilities.installed():  # what capabilities made outside their stores
        if capability.remove is not None:
            state.setdefault("removed_elsewhere", {}).update(capability.remove(tenant))
    report = {
        "tenant": tenant,
        "requested_by": state.get("requested_by"),
        "started_at": iso_ms(state.get("started_at")),
        "finished_at": iso_ms(now_ms()),
        "sweeps": state["sweep"],
        **{f"{kind}_stopped": n for kind, n in state.get("stopped", {}).items()},
        "removed": state["removed"],
        "removed_elsewhere": state.get("removed_elsewhere", {}),
        "retained_by_object_lock": state["retained"],
        "kept": KEPT,
        "not_covered": NOT_COVERED,
    }
    profile = store.require_profile()
    if profile["status"] == "deleting":
        store.update_profile(
            {"status": "deleted", "status_changed_at": now_ms(), "updated_at": now_ms()},
            int(profile["version"]),
            statuses=("deleting",),
        )
    store.update_deletion(status="DELETED", finished_at=now_ms(), report=report)
    totals = {
        "items_and_objects": sum(t["removed"] for t in state["removed"].values()),
        "bytes": sum(t["bytes"] for t in state["removed"].values()),
        "retained_objects": sum(t["objects"] for t in state["retained"].values()),
    }
    _event("TenantDeleted", state, **totals)
    return {"status": "DELETED", **totals}


def fail(state: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The deletion stopped: the tenant stays refused (deleting) with the reason; DELETE starts it again."""
    reason = failure_reason(error)
    TenantStore(get_settings().platform_table, state["tenant"]).update_deletion(
        status="FAILED", finished_at=now_ms(), error=reason
    )
    logger.error("tenant deletion failed", extra={"tenant": state["tenant"], **reason})
    _event("TenantDeletionFailed", state, **reason)
    return {"status": "FAILED", **reason}


def _event(detail_type: str, state: dict[str, Any], **detail: Any) -> None:
    """In the platform tenant's trail: the deleted tenant's own trail is gone."""
    publish_safely(
        DomainEvent(
            "tenants",
            detail_type,
            get_settings().platform_tenant,
            {"tenant_id": state["tenant"], **detail},
            principal=state.get("requested_by"),
        )
    )


def run(event: dict[str, Any]) -> dict[str, Any]:
    return dispatch(event, "purge", start, ("sweep", sweep), finish, fail)
