"""`maestro backup ...`: export a tenant (a consistent snapshot of its items and objects) and list its
exports; run a restore drill (every table restored to a point in time into a new table, each tenant's latest
export restored beside it, all verified against the sources; the copies removed), follow it, read its report
with RTO and RPO. Needs a platform operator's token (or, locally, makes one)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from maestro.cli.http import common_options, connect

FINAL = ("PASSED", "FAILED")


def summary(drill: dict[str, Any]) -> str:
    lines = [f"{drill['drill_id']}  {drill['status']}  restore point {drill.get('restore_point', '-')}"]
    if "rto_s" in drill:
        lines.append(f"  RTO {drill['rto_s']:.1f} s (restore and verification)  RPO {drill['rpo_s']:.1f} s")
    checks = drill.get("checks") or {}
    if checks:
        trails = checks.get("audit_trails") or {}
        lines.append(
            f"  {checks['tables']} tables, {checks['tenants']} tenants, {checks['items']} items; "
            f"{sum(t['valid'] for t in trails.values())}/{len(trails)} audit chains verify; "
            f"{checks.get('mlflow_requests_answered', 0)} mlflow client reads answered from the copy"
        )
        for tenant, export in (checks.get("exports_restored") or {}).items():
            state = "current" if export["current"] else "older: " + ", ".join(export["changed_since_export"])
            lines.append(
                f"  export {export['export_id']} of {tenant} restored: {export['items']} items, "
                f"{export['objects']} objects ({state})"
            )
        changed = checks.get("changed_during_drill") or []
        lines.append(
            f"  {checks.get('verified', 0)} (table, tenant) pairs compared; "
            f"{len(changed)} written during the drill and not compared"
        )
    for finding in drill.get("findings") or []:
        lines.append(f"  finding: {json.dumps(finding)}")
    if drill.get("error"):
        lines.append(f"  failed: {drill['error'].get('reason', '')}")
    return "\n".join(lines)


def exported(export: dict[str, Any]) -> str:
    line = f"{export['export_id']}  {export['status']:<9} {export.get('stage', '')}"
    totals = export.get("totals")
    if totals:
        line += f"  {totals['items']} items, {totals['objects']} objects, {totals['bytes']} bytes"
        snapshot = export["snapshot"]
        line += f"\n  manifest {export['manifest']}  consistent {snapshot['from']} .. {snapshot['until']}"
    if export.get("error"):
        line += f"\n  failed: {export['error'].get('reason', '')}"
    return line


def export(api: Any, args: argparse.Namespace) -> int:
    if args.backup == "exports":
        for found in api.call("GET", f"/tenants/{args.tenant_id}/exports", params={"limit": args.limit})[
            "exports"
        ]:
            print(exported(found))
        return 0
    started = api.call("POST", f"/tenants/{args.tenant_id}/exports")
    path = f"/tenants/{args.tenant_id}/exports/{started['export_id']}"
    while args.wait:
        found = api.call("GET", path)
        sys.stderr.write(f"\r{found['status']:<9} {found.get('stage', '')} {found.get('progress', '')}   ")
        if found["status"] in ("COMPLETED", "FAILED"):
            sys.stderr.write("\n")
            print(exported(found))
            return 0 if found["status"] == "COMPLETED" else 1
        time.sleep(args.interval)
    print(started["export_id"])
    return 0


def run(args: argparse.Namespace) -> int:
    api = connect(args, tenant="platform", roles=("admin",))
    if args.backup in ("export", "exports"):
        return export(api, args)
    if args.backup == "drill":
        started = api.call("POST", "/platform/drills")
        print(started["drill_id"], file=sys.stderr)
        if not args.wait:
            print(started["drill_id"])
            return 0
        while True:
            drill = api.call("GET", f"/platform/drills/{started['drill_id']}")
            sys.stderr.write(f"\r{drill['status']:<9} {drill.get('stage', '')}   ")
            if drill["status"] in FINAL:
                sys.stderr.write("\n")
                print(summary(drill))
                return 0 if drill["status"] == "PASSED" else 1
            time.sleep(args.interval)
    if args.backup == "report":
        drill = api.call("GET", f"/platform/drills/{args.drill_id}")
        print(json.dumps(drill, indent=2) if args.json else summary(drill))
        return 0 if drill["status"] != "FAILED" else 1
    for drill in api.call("GET", "/platform/drills", params={"limit": args.limit})["drills"]:
        rto = drill.get("rto_s", "-")
        print(f"{drill['drill_id']}  {drill['status']:<8} {drill['started_at'][:19]}  RTO {rto} s")
    return 0


def add_parser(top: Any) -> None:
    backup = top.add_parser("backup", help="restore drills").add_subparsers(dest="backup", required=True)
    common = common_options()
    drill = backup.add_parser("drill", parents=[common], help="run a restore drill")
    drill.add_argument("--wait", action="store_true", help="follow it and print its report")
    drill.add_argument("--interval", type=float, default=2.0)
    report = backup.add_parser("report", parents=[common], help="a drill's report")
    report.add_argument("drill_id")
    report.add_argument("--json", action="store_true")
    backup.add_parser("list", parents=[common], help="recent drills").add_argument(
        "--limit", type=int, default=25
    )
    exporting = backup.add_parser("export", parents=[common], help="export a tenant's items and objects")
    exporting.add_argument("tenant_id")
    exporting.add_argument("--wait", action="store_true", help="follow it and print its manifest's summary")
    exporting.add_argument("--interval", type=float, default=2.0)
    exports = backup.add_parser("exports", parents=[common], help="a tenant's exports, newest first")
    exports.add_argument("tenant_id")
    exports.add_argument("--limit", type=int, default=20)
    for sub in backup.choices.values():
        sub.set_defaults(run=run)
