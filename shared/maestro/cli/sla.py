"""`maestro sla ...`: define SLOs, report observations from a JSONL/CSV file, and read statuses as a table,
with a PNG of each objective's error budget over time. Talks to any Maestro ML API; by default the running
local one."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from maestro.cli.http import Api, common_options, connect
from maestro.cli.rows import read_rows, truthy
from maestro.sla.observations import MAX_OBSERVATIONS, MINUTES_PER_BATCH


def read_observations(path: Path) -> list[dict[str, Any]]:
    """JSONL (one observation object per line) or CSV (service, timestamp, latency_ms, status, error)."""

    def from_csv(row: dict[str, str]) -> dict[str, Any]:
        observation: dict[str, Any] = {
            "service": row["service"],
            "timestamp": row["timestamp"],
            "latency_ms": float(row["latency_ms"]),
        }
        if row.get("status"):
            observation["status"] = int(row["status"])
        if truthy(row.get("error")):
            observation["error"] = True
        return observation

    return read_rows(path, from_csv)


def batches(observations: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Ordered by service and time, cut at 5,000 observations or 45 distinct minutes."""

    def minute(o: dict[str, Any]) -> str:
        return str(o["timestamp"])[:16]

    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    minutes: set[tuple[str, str]] = set()
    for o in sorted(observations, key=lambda o: (o["service"], str(o["timestamp"]))):
        key = (o["service"], minute(o))
        if current and (
            len(current) == MAX_OBSERVATIONS or (key not in minutes and len(minutes) == MINUTES_PER_BATCH)
        ):
            out.append(current)
            current, minutes = [], set()
        current.append(o)
        minutes.add(key)
    if current:
        out.append(current)
    return out


def _pct(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def table(status: dict[str, Any]) -> str:
    window = status["window"]
    error_rate = window["error_rate"]
    lines = [
        f"{status['slo_id']}  {status['name']}  (service {status['service']})",
        f"  window {window['start'][:16]} .. {window['end'][:16]}: {window['requests']:,.0f} requests, "
        f"{window['errors']:,.0f} errors ({_pct(None if error_rate is None else 100 * error_rate, 2)}), "
        f"p50 {_ms(window['p50'])}, p95 {_ms(window['p95'])}, p99 {_ms(window['p99'])}",
    ]
    if status.get("excluded_now"):
        lines.append("  inside an exclusion window: alerts are suppressed")
    windows = list(status["windows"])
    header = f"  {'objective':<28}{'target':>9}{'attained':>11}{'budget left':>13}  {'level':<9}"
    lines.append(header + "".join(f"{'burn ' + w:>11}" for w in windows))
    for o in status["objectives"]:
        burns = "".join(
            f"{'-' if o['burn_rates'][w] is None else format(o['burn_rates'][w], '.2f') + 'x':>11}"
            for w in windows
        )
        lines.append(
            f"  {o['objective']:<28}{o['target']:>8g}%{_pct(o['attainment']):>11}"
            f"{_pct(o['budget_remaining'], 1):>13}  {o['level'].upper():<9}{burns}"
        )
        for alert in o["alerts"]:
            if alert["firing"]:
                lines.append(
                    f"    FIRING {alert['alert']} ({alert['severity']}): burn {alert['long_burn_rate']:.2f}x "
                    f"over the long window, {alert['short_burn_rate']:.2f}x over the short one"
                )
    return "\n".join(lines)


def plot(reports: list[dict[str, Any]], path: Path) -> None:
    """Budget remaining over time, one line per objective, one panel per SLO (headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(reports), 1, figsize=(10, 3.2 * len(reports)), squeeze=False)
    for ax, report in zip(axes[:, 0], reports, strict=True):
        moments = [datetime.fromisoformat(p["at"]) for p in report["points"]]
        names = [o["objective"] for o in report["points"][0]["objectives"]] if report["points"] else []
        for i, name in enumerate(names):
            values = [p["objectives"][i]["budget_remaining"] for p in report["points"]]
            ax.plot(moments, [float("nan") if v is None else v for v in values], label=name, marker=".")
        ax.axhline(0, color="crimson", linewidth=1, linestyle="--")
        ax.set_title(f"{report['name']} ({report['service']}): error budget remaining")
        ax.set_ylabel("% of budget")
        ax.legend(loc="lower left", fontsize="small")
        ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    api: Api = connect(args)
    if args.sla == "create":
        print(
            json.dumps(api.call("POST", "/sla/slos", json=json.loads(Path(args.file).read_text())), indent=2)
        )
    elif args.sla == "list":
        for slo in api.call("GET", "/sla/slos")["slos"]:
            spec = slo["spec"]
            print(f"{slo['slo_id']}\t{spec['service']}\t{spec['name']}")
    elif args.sla == "observe":
        totals = {"accepted": 0, "duplicates": 0}
        for batch in batches(read_observations(Path(args.file))):
            reply = api.call("POST", "/sla/observations", json={"observations": batch})
            totals["accepted"] += reply["accepted"]
            totals["duplicates"] += int(reply["duplicate"])
        print(json.dumps(totals))
    elif args.sla == "status":
        ids = args.slo_ids or [s["slo_id"] for s in api.call("GET", "/sla/slos")["slos"]]
        if not ids:
            print("no SLOs defined", file=sys.stderr)
            return 0
        reports = []
        end = datetime.now(UTC)
        for slo_id in ids:
            print(table(api.call("GET", f"/sla/slos/{slo_id}/status")))
            if args.plot:
                params = {
                    "start": (end - timedelta(days=args.days)).isoformat(),
                    "end": end.isoformat(),
                    "step_hours": max(1, args.days * 24 // 120),
                }
                reports.append(api.call("GET", f"/sla/slos/{slo_id}/report", params=params))
        if args.plot:
            plot(reports, Path(args.plot))
            print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def add_parser(top: Any) -> None:
    sla = top.add_parser("sla", help="SLOs, observations and error budgets").add_subparsers(
        dest="sla", required=True
    )
    common = common_options()
    sla.add_parser("create", parents=[common], help="define an SLO").add_argument(
        "--file", required=True, help="SLO spec JSON"
    )
    sla.add_parser("list", parents=[common], help="the tenant's SLOs")
    sla.add_parser("observe", parents=[common], help="report observations").add_argument(
        "--file", required=True, help="JSONL, or CSV with service,timestamp,latency_ms,status,error"
    )
    status = sla.add_parser("status", parents=[common], help="status table (and a PNG of budget burn)")
    status.add_argument("slo_ids", nargs="*", help="default: every SLO of the tenant")
    status.add_argument("--plot", default=None, help="write a PNG of budget remaining over time")
    status.add_argument("--days", type=int, default=7, help="the plot's period")
    for sub in sla.choices.values():
        sub.set_defaults(run=run)
