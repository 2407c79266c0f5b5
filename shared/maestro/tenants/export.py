"""A tenant's export, a consistent and restorable snapshot of its items and objects, as the export state
machine's steps: start, walk (one bounded slice per invocation: first the copy of every table's items and
every current object version into the export's prefix, then a second read of the same that copies nothing),
finish (the manifest, written last) and fail (the partial files removed). The snapshot is consistent when the
second read finds exactly what was copied (the same item digest per table, the same object versions): the
tenant then held that state through the whole copy. Otherwise the copy starts again, at most MAX_ATTEMPTS
times. `restore` puts an export back: items into tables, objects under a prefix, and checks what it wrote.
Must never write a manifest for a copy the second read contradicted, nor leave a failed export's files."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from maestro.core import capabilities
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.item_digest import ItemDigest
from maestro.core.looping import dispatch
from maestro.core.settings import get_settings
from maestro.core.submissions import now_iso
from maestro.core.tenancy import tenant_prefix
from maestro.core.workflow_gateway import failure_reason
from maestro.tenants import export_store as files
from maestro.tenants.export_store import ExportStore

FORMAT = "maestro-tenant-export/1"
MAX_ATTEMPTS = 3
SLICE_S = 60.0


def new_export_id() -> str:
    return f"export-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def targets() -> list[tuple[str, str, str]]:
    """(kind, settings field, name) of every table, then every bucket, holding the tenant's data."""
    settings = get_settings()
    tables = [("table", f, n) for f, n in capabilities.state_tables(settings).items()]
    return tables + [("bucket", f, n) for f, n in capabilities.state_buckets(settings).items()]


def records() -> ExportStore:
    settings = get_settings()
    return ExportStore(settings.platform_table, settings.platform_tenant)


def _root(state: dict[str, Any]) -> str:
    return f"{files.export_prefix(state['tenant'], state['export_id'])}attempt-{state['attempt']}/"


def start(state: dict[str, Any]) -> dict[str, Any]:
    state = {**state, "attempt": 1, "started_at": now_iso()}
    _begin(state, "copy")
    _record(state, status="RUNNING", stage="copying")
    return state


def _begin(state: dict[str, Any], mode: str) -> None:
    state |= {"mode": mode, "target": 0, "cursor": None, "part": 0, "read": {}, "done": False}


def walk(state: dict[str, Any], slice_s: float = SLICE_S) -> dict[str, Any]:
    """What one slice of time allows (at least a page), target after target; at the end of the copy, the
    second read begins; at the end of that, the verdict: consistent (done), or a new attempt."""
    state = json.loads(json.dumps(state))  # a copy the slice may change freely
    names, deadline = targets(), time.monotonic() + slice_s
    while True:
        kind, field, name = names[state["target"]]
        if kind == "table":
            _table_page(state, field, name)
        else:
            _bucket_page(state, field, name)
        if state["cursor"] is None:
            state |= {"target": state["target"] + 1, "part": 0}
            if state["target"] == len(names):
                _ended_pass(state)
                break
        if time.monotonic() >= deadline:
            break
    if not state["done"]:
        copied = sum(int(r["items"]) for r in state["read"].values())
        _record(state, stage="copying" if state["mode"] == "copy" else "checking", progress=copied)
    return state


def _table_page(state: dict[str, Any], field: str, table: str) -> None:
    items, state["cursor"] = files.items_page(table, state["tenant"], state["cursor"])
    digest = ItemDigest.resumed(state["read"].get(field))
    lines = [digest.add(i) for i in items]
    if state["mode"] == "copy" and lines:
        state["part"] += 1
        key = f"{_root(state)}items/{field}/{state['part']:06d}.jsonl.gz"
        files.put_lines(get_settings().artifacts_bucket, key, lines)
    state["read"][field] = digest.shown()


def _bucket_page(state: dict[str, Any], field: str, bucket: str) -> None:
    """Objects are read by version: a later overwrite cannot change what is copied. The digest is over
    (key, version), what the second read compares."""
    versions, state["cursor"] = files.versions_page(bucket, state["tenant"], state["cursor"])
    digest = ItemDigest.resumed(state["read"].get(field))
    for version in versions:
        digest.add({"key": version["key"], "version_id": version["version_id"]})
    if state["mode"] == "copy" and versions:
        export_bucket, root, own = (
            get_settings().artifacts_bucket,
            _root(state),
            tenant_prefix(state["tenant"]),
        )
        lines = []
        for version in versions:
            relative = version["key"][len(own) :]
            copied = files.copy_hashed(
                bucket,
                version["key"],
                version["version_id"],
                export_bucket,
                f"{root}objects/{field}/{relative}",
            )
            lines.append(json.dumps({"key": relative, "version_id": version["version_id"], **copied}))
        state["part"] += 1
        files.put_lines(export_bucket, f"{root}objects/{field}.index/{state['part']:06d}.jsonl.gz", lines)
        sizes = state.setdefault("bytes", {})
        sizes[field] = int(sizes.get(field, 0)) + sum(v["size"] for v in versions)
    state["read"][field] = digest.shown() | {"bytes": int(state.get("bytes", {}).get(field, 0))}


def _ended_pass(state: dict[str, Any]) -> None:
    read = state["read"]
    if state["mode"] == "copy":
        state["copied"] = read
        _begin(state, "check")
        return
    changed = sorted(
        f
        for f in set(read) | set(state["copied"])
        if (read.get(f) or {}).get("digest") != (state["copied"].get(f) or {}).get("digest")
    )
    if not changed:
        state["done"] = True
        return
    if state["attempt"] >= MAX_ATTEMPTS:
        raise RuntimeError(
            f"tenant {state['tenant']} kept changing while it was exported ({', '.join(changed)} in "
            f"{MAX_ATTEMPTS} attempts); suspend it (POST /tenants/{{id}}/suspend) and export again"
        )
    files.remove_prefix(get_settings().artifacts_bucket, _root(state))
    state["attempt"] += 1
    state.pop("bytes", None)
    _begin(state, "copy")
    _record(state, stage="copying", retried_because=changed)


def finish(state: dict[str, Any]) -> dict[str, Any]:
    """The manifest, written last: an export without one is not complete."""
    settings, root = get_settings(), _root(state)
    names = {field: name for _, field, name in targets()}
    kinds = {field: kind for kind, field, _ in targets()}
    tables = {f: v | {"table": names[f]} for f, v in state["copied"].items() if kinds[f] == "table"}
    buckets = {
        f: {
            "objects": v["items"],
            "bytes": v.get("bytes", 0),
            "versions_digest": v["digest"],
            "bucket": names[f],
        }
        for f, v in state["copied"].items()
        if kinds[f] == "bucket"
    }
    manifest = {
        "format": FORMAT,
        "tenant": state["tenant"],
        "export_id": state["export_id"],
        "attempt": state["attempt"],
        "root": root,
        # the tenant held this state from the copy's start until the second read ended
        "consistent_from": state["started_at"],
        "consistent_until": now_iso(),
        "tables": tables,
        "buckets": buckets,
    }
    bucket = settings.artifacts_bucket
    key = files.export_prefix(state["tenant"], state["export_id"]) + "manifest.json"
    files.put_json(bucket, key, manifest)
    summary = {
        "items": sum(int(t["items"]) for t in tables.values()),
        "objects": sum(int(b["objects"]) for b in buckets.values()),
        "bytes": sum(int(b["bytes"]) for b in buckets.values()),
    }
    _record(
        state,
        status="COMPLETED",
        stage="completed",
        manifest=f"s3://{bucket}/{key}",
        snapshot={"from": manifest["consistent_from"], "until": manifest["consistent_until"]},
        tables={f: {"items": t["items"], "digest": t["digest"]} for f, t in tables.items()},
        totals=summary,
        attempts=state["attempt"],
        ended_at=now_iso(),
    )
    _event("TenantExported", state, **summary)
    return {"status": "COMPLETED", **summary}


def fail(state: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    reason = failure_reason(error, plain=("RuntimeError",))
    if state.get("export_id") and state.get("tenant"):
        prefix = files.export_prefix(state["tenant"], state["export_id"])
        files.remove_prefix(get_settings().artifacts_bucket, prefix)  # nothing half-written stays
        _record(state, status="FAILED", stage="failed", error=reason, ended_at=now_iso())
    _event("TenantExportFailed", state, **reason)
    return {"status": "FAILED", **reason}


def _record(state: dict[str, Any], **changes: Any) -> None:
    store = records()
    try:
        record = store.get(state["tenant"], state["export_id"])
    except Exception:  # noqa: BLE001 - started outside the API (a retried execution): record it anew
        record = {
            "tenant": state["tenant"],
            "export_id": state["export_id"],
            "requested_by": state.get("requested_by"),
            "requested_at": state.get("started_at") or now_iso(),
        }
    store.put(record | {"updated_at": now_iso(), "attempt": state.get("attempt", 1)} | changes)


def _event(kind: str, state: dict[str, Any], **detail: Any) -> None:
    """In the platform tenant's trail, as the tenant's administration is."""
    publish_safely(
        DomainEvent(
            "tenants",
            kind,
            get_settings().platform_tenant,
            {"tenant_id": state.get("tenant"), "export_id": state.get("export_id"), **detail},
            principal=state.get("requested_by"),
        )
    )


def run(event: dict[str, Any]) -> dict[str, Any]:
    return dispatch(event, "export", start, ("walk", walk), finish, fail)
