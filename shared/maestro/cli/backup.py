"""`maestro backup ...`: run a restore drill (every table restored to a point in time into a new table and
verified against its source; the copies removed), follow it, read its report with RTO and RPO. Needs a
platform operator's token (or, locally, makes one)."""

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
            f"{checks['registered_models_read']} registered models read"
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


def run(args: argparse.Namespace) -> int:
    api = connect(args, tenant="platform", roles=("admin",))
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
    for sub in backup.choices.values():
        sub.set_defaults(run=run)
