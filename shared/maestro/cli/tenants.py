"""`maestro tenants ...`: the platform operator's tenant administration (create, show, update, suspend,
resume, delete with its progress, the billing export) and a tenant's role grants and usage. Talks to any
Maestro ML API; against the running local platform it acts as the platform tenant's admin."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

from maestro.cli.http import Api, common_options, connect
from maestro.core.settings import get_settings


def _quotas(pairs: list[str]) -> dict[str, int | None]:
    """`name=value` pairs; `name=unlimited` lifts the limit."""
    out: dict[str, int | None] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not value:
            raise SystemExit(f"--quota takes name=value (or name=unlimited), not {pair!r}")
        out[name] = None if value == "unlimited" else int(value)
    return out


def show(tenant: dict[str, Any]) -> None:
    print(f"{tenant['tenant_id']}  {tenant['name']}  plan {tenant['plan']}  {tenant['status']}")
    if tenant.get("status_reason"):
        print(f"  reason: {tenant['status_reason']} (since {tenant.get('status_changed_at')})")
    for name, quota in tenant["quotas"].items():
        limit = "unlimited" if quota["limit"] is None else f"{quota['limit']:,}"
        resets = f"  resets {quota['resets_at']}" if quota.get("resets_at") else ""
        print(f"  {name:<26} {quota['used']:>14,} of {limit}{resets}")
    if "deletion" in tenant:
        d = tenant["deletion"]
        print(f"  deletion: {d['status']} ({json.dumps(d.get('progress') or d.get('error') or {})})")


def wait_deleted(api: Api, tenant_id: str, timeout_s: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tenant = api.call("GET", f"/tenants/{tenant_id}")
        deletion = tenant.get("deletion") or {}
        progress = deletion.get("progress") or {}
        print(
            f"\r  sweep {progress.get('sweep', '-')}  {progress.get('target', '-'):<48} "
            f"removed {progress.get('removed', 0):,}",
            end="",
            file=sys.stderr,
            flush=True,
        )
        if deletion.get("status") in ("DELETED", "FAILED"):
            print(file=sys.stderr)
            return tenant
        time.sleep(2)
    raise SystemExit(f"tenant {tenant_id} is still being deleted after {timeout_s:.0f} s")


def run(args: argparse.Namespace) -> int:
    api = connect(args, tenant=get_settings().platform_tenant, roles=("admin",))
    command, tenant_id = args.tenants, str(getattr(args, "tenant_id", ""))
    if command == "list":
        for t in api.call("GET", "/tenants", params={"limit": 100})["tenants"]:
            print(f"{t['tenant_id']}\t{t['plan']}\t{t['status']}\t{t['name']}")
    elif command == "create":
        body = {"tenant_id": tenant_id, "name": args.name or tenant_id, "plan": args.plan}
        show(api.call("POST", "/tenants", json={**body, "quotas": _quotas(args.quota)}))
    elif command == "show":
        show(api.call("GET", f"/tenants/{tenant_id}"))
    elif command == "update":
        body = {k: v for k, v in (("name", args.name), ("plan", args.plan)) if v}
        if args.quota:
            body["quotas"] = _quotas(args.quota)
        show(api.call("PATCH", f"/tenants/{tenant_id}", json=body))
    elif command == "suspend":
        show(api.call("POST", f"/tenants/{tenant_id}/suspend", json={"reason": args.reason}))
    elif command == "resume":
        show(api.call("POST", f"/tenants/{tenant_id}/resume"))
    elif command == "delete":
        show(api.call("DELETE", f"/tenants/{tenant_id}"))
        if args.wait:
            tenant = wait_deleted(api, tenant_id)
            print(json.dumps(tenant["deletion"], indent=2))
            return 0 if tenant["deletion"]["status"] == "DELETED" else 1
    elif command == "users":
        for u in api.call("GET", f"/tenants/{tenant_id}/users")["users"]:
            print(f"{u['principal']}\t{u['status']}\t{','.join(u['roles'])}\t{u['updated_by']}")
    elif command == "grant":
        roles = [r for r in args.roles.split(",") if r]
        print(
            json.dumps(api.call("PUT", f"/tenants/{tenant_id}/users/{args.principal}", json={"roles": roles}))
        )
    elif command == "revoke":
        print(json.dumps(api.call("DELETE", f"/tenants/{tenant_id}/users/{args.principal}")))
    elif command == "usage":
        params = {k: v for k, v in (("start", args.start), ("end", args.end)) if v}
        usage = api.call("GET", f"/tenants/{tenant_id}/usage", params=params)
        print("day\trequests\terrors\tcompute_s\trows_explained\tstorage_bytes")
        for d in usage["days"]:
            print(
                f"{d['day']}\t{d['requests']['total']}\t{d['errors']['total']}\t"
                f"{d['compute_seconds']['total']}\t{d['rows_explained']}\t{d['storage_bytes'] or ''}"
            )
        print(f"total\t{json.dumps(usage['totals'])}")
    elif command == "export":
        result = api.call("POST", "/tenants/export", json={"start": args.start, "end": args.end})
        if args.out:
            Path(args.out).write_bytes(requests.get(result["url"], timeout=120).content)
            print(f"{result['rows']} rows written to {args.out}")
        else:
            print(json.dumps(result, indent=2))
    return 0


def add_parser(top: Any) -> None:
    tenants = top.add_parser("tenants", help="tenants, quotas, role grants, usage").add_subparsers(
        dest="tenants", required=True
    )
    common = common_options()

    def command(name: str, help: str, tenant: bool = True) -> argparse.ArgumentParser:
        sub = tenants.add_parser(name, parents=[common], help=help)
        if tenant:
            sub.add_argument("tenant_id")
        sub.set_defaults(run=run)
        return sub

    command("list", "every tenant (platform operators)", tenant=False)
    for name, help in (("create", "register a tenant"), ("update", "change its name, plan or quotas")):
        sub = command(name, help)
        sub.add_argument("--name", default=None)
        sub.add_argument(
            "--plan", choices=["free", "team", "enterprise"], default=None if name == "update" else "team"
        )
        sub.add_argument(
            "--quota", action="append", default=[], help="name=value or name=unlimited (repeatable)"
        )
    command("show", "status, plan and quotas with what is used")
    command("suspend", "refuse the tenant's requests, with a reason").add_argument("--reason", required=True)
    command("resume", "admit a suspended tenant again")
    command("delete", "delete the tenant and its data everywhere").add_argument(
        "--wait", action="store_true", help="follow the deletion and print its report"
    )
    command("users", "the tenant's role grants")
    grant = command("grant", "grant roles to a principal (replaces its granted roles)")
    grant.add_argument("principal")
    grant.add_argument("--roles", required=True, help="comma-separated")
    command("revoke", "remove a principal: its grants go and its requests are refused").add_argument(
        "principal"
    )
    usage = command("usage", "usage per day")
    usage.add_argument("--start", default=None)
    usage.add_argument("--end", default=None)
    export = command("export", "every tenant's usage per day as CSV (billing)", tenant=False)
    export.add_argument("--start", required=True)
    export.add_argument("--end", required=True)
    export.add_argument("--out", default=None, help="save the CSV here")
