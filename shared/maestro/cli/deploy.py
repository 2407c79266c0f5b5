"""`maestro deploy ...`: start a model rollout (an alias moves from its version to another in traffic steps,
each held and gated by guardrails), follow it with a live line (step, traffic, guardrail checks), read its
status and history, abort it. Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from maestro.cli.http import Api, common_options, connect, follow

FINAL = ("COMPLETED", "ROLLED_BACK", "FAILED")
BAR_WIDTH = 30


def spec_from(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(Path(args.file).read_text()) if args.file else {}
    for option in ("model", "alias", "to_version"):
        if getattr(args, option) is not None:
            spec[option] = getattr(args, option)
    if args.steps:
        # "5:10m,25:10m,100" -> [{percent: 5, hold: 10m}, ...]
        spec["steps"] = []
        for part in args.steps.split(","):
            percent, _, hold = part.partition(":")
            spec["steps"].append({"percent": float(percent), **({"hold": hold} if hold else {})})
    for slo in args.slo or []:
        spec.setdefault("guardrails", {}).setdefault("slos", []).append(slo)
    if args.no_drift:
        spec.setdefault("guardrails", {})["drift"] = False
    if args.check_every:
        spec.setdefault("guardrails", {})["check_every"] = args.check_every
    return spec


def line(rollout: dict[str, Any]) -> str:
    """[#########.....................] step 2/3  25% to v2  RUNNING"""
    percent = float(rollout.get("percent") or 0)
    filled = int(BAR_WIDTH * percent / 100)
    step = int(rollout.get("step", -1)) + 1
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] step {step}/{rollout.get('steps', '?')}  "
        f"{percent:g}% to v{rollout['to_version']}  {rollout['status']}"
    )


def summary(rollout: dict[str, Any]) -> str:
    lines = [
        f"{rollout['rollout_id']}  {rollout['status']}  {rollout['model']}@{rollout['alias']}: "
        f"v{rollout['from_version']} -> v{rollout['to_version']}"
    ]
    for entry in rollout.get("history") or []:
        what = {
            "stepped": lambda e: f"step {int(e['step']) + 1}: {float(e['percent']):g}% to the new version",
            "rolled_back": lambda e: f"rolled back at {float(e['percent']):g}%: {e['reason']}",
            "completed": lambda e: "completed: the alias points at the new version",
            "failed": lambda e: f"failed: {e.get('reason', '')}",
        }.get(entry["event"], lambda e: e["event"])(entry)
        lines.append(f"  {entry['at'][:19]}  {what}")
    return "\n".join(lines)


def wait(api: Api, rollout_id: str, interval_s: float, out: Any = sys.stderr) -> dict[str, Any]:
    return follow(api, f"/deployments/{rollout_id}", line, FINAL, interval_s, out)


def run(args: argparse.Namespace) -> int:
    api = connect(args)
    if args.deploy == "start":
        rollout = api.call("POST", "/deployments", json=spec_from(args))
        print(rollout["rollout_id"])
        if not args.wait:
            return 0
        rollout = wait(api, rollout["rollout_id"], args.interval)
        print(summary(rollout))
        return 0 if rollout["status"] == "COMPLETED" else 1
    if args.deploy == "status":
        rollout = (
            wait(api, args.rollout_id, args.interval)
            if args.wait
            else api.call("GET", f"/deployments/{args.rollout_id}")
        )
        print(json.dumps(rollout, indent=2) if args.json else summary(rollout))
        return 0 if rollout["status"] in ("RUNNING", "COMPLETED") else 1
    if args.deploy == "list":
        for r in api.call("GET", "/deployments", params={"limit": args.limit})["rollouts"]:
            print(
                f"{r['rollout_id']}  {r['status']:<11} {r['model']}@{r['alias']}  "
                f"v{r['from_version']} -> v{r['to_version']}  {float(r.get('percent') or 0):g}%"
            )
        return 0
    print(summary(api.call("POST", f"/deployments/{args.rollout_id}/abort")))
    return 0


def add_parser(top: Any) -> None:
    deploy = top.add_parser("deploy", help="model rollouts behind an alias").add_subparsers(
        dest="deploy", required=True
    )
    common = common_options()
    start = deploy.add_parser("start", parents=[common], help="start a rollout (prints its id)")
    start.add_argument("--file", default=None, help="the rollout as JSON (see POST /deployments)")
    start.add_argument("--model", default=None)
    start.add_argument("--alias", default=None, help="e.g. champion")
    start.add_argument("--to-version", dest="to_version", type=int, default=None)
    start.add_argument("--steps", default=None, help="PERCENT:HOLD,... e.g. 5:10m,25:10m,100")
    start.add_argument("--slo", action="append", help="an SLO id guarding the rollout (repeatable)")
    start.add_argument("--no-drift", dest="no_drift", action="store_true", help="ignore drift monitors")
    start.add_argument("--check-every", dest="check_every", default=None, help="guardrail checks, e.g. 30s")
    start.add_argument("--wait", action="store_true", help="follow it with a live progress line")
    start.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    status = deploy.add_parser("status", parents=[common], help="a rollout's status and history")
    status.add_argument("rollout_id")
    status.add_argument("--wait", action="store_true", help="follow it until it ends")
    status.add_argument("--interval", type=float, default=2.0)
    status.add_argument("--json", action="store_true", help="the whole rollout as JSON")
    deploy.add_parser("list", parents=[common], help="recent rollouts").add_argument(
        "--limit", type=int, default=25
    )
    deploy.add_parser("abort", parents=[common], help="abort: roll back at the next check").add_argument(
        "rollout_id"
    )
    for sub in deploy.choices.values():
        sub.set_defaults(run=run)
