"""`maestro audit ...`: verify the tenant's trail (exit 1 and the first break when it fails), search records,
digest now, and generate compliance reports. Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from maestro.cli.http import common_options, connect


def run(args: argparse.Namespace) -> int:
    api = connect(args)
    if args.audit == "verify":
        report = api.call("GET", "/audit/verify")
        if report["valid"]:
            print(
                f"valid: {report['records_checked']} records ({report['records_expired']} expired), "
                f"{report['digests_checked']} signed digests"
            )
            return 0
        b = report["first_break"]
        where = f"record {b['seq']}" if "seq" in b else f"digest {b.get('digest')}"
        print(f"BROKEN: {b['kind']} in the {b['where']} at {where}: {b['reason']}", file=sys.stderr)
        return 1
    if args.audit == "events":
        params = {
            k: v
            for k, v in vars(args).items()
            if k in ("start", "end", "principal", "action", "outcome") and v
        }
        cursor = None
        while True:
            page = api.call(
                "GET", "/audit/events", params={**params, **({"cursor": cursor} if cursor else {})}
            )
            for r in page["records"]:
                print(
                    f"{r['seq']}\t{r['occurred_at']}\t{r['principal']}\t{r['action']}\t{r['resource']}\t{r['outcome']}"
                )
            cursor = page["next_cursor"]
            if not cursor or not args.all:
                return 0
    if args.audit == "digest":
        print(json.dumps(api.call("POST", "/audit/digests"), indent=2))
        return 0
    body: dict[str, Any] = {"type": args.type}
    body |= {k: getattr(args, k) for k in ("start", "end", "subject") if getattr(args, k)}
    result = api.call("POST", "/audit/reports", json=body)
    print(json.dumps(result, indent=2))
    return 0


def add_parser(top: Any) -> None:
    audit = top.add_parser("audit", help="the tamper-evident audit trail").add_subparsers(
        dest="audit", required=True
    )
    common = common_options()
    audit.add_parser("verify", parents=[common], help="re-walk the chain, digests and archive")
    events = audit.add_parser("events", parents=[common], help="search records (tab-separated)")
    for name in ("start", "end", "principal", "action", "outcome"):
        events.add_argument(f"--{name}", default=None)
    events.add_argument("--all", action="store_true", help="follow every page")
    audit.add_parser("digest", parents=[common], help="archive and sign what is new now")
    report = audit.add_parser("report", parents=[common], help="a GDPR, SOC 2 or HIPAA report")
    report.add_argument("type", choices=["gdpr", "soc2", "hipaa"])
    report.add_argument("--subject", default=None, help="GDPR: the data subject's id")
    report.add_argument("--start", default=None)
    report.add_argument("--end", default=None)
    for sub in audit.choices.values():
        sub.set_defaults(run=run)
