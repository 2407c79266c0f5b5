"""`maestro ab ...`: create, start, assign, ingest a CSV/JSONL of events, analyze (a readable table and a PNG
of each metric's lift with its interval). Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from maestro.cli.http import common_options, connect
from maestro.cli.rows import read_rows, truthy

BATCH = 5000


def read_events(path: Path) -> list[dict[str, Any]]:
    """JSONL (one event object per line) or CSV (event_id, unit_id, type, name, value, pre_period)."""

    def from_csv(row: dict[str, str]) -> dict[str, Any]:
        event: dict[str, Any] = {k: row[k] for k in ("event_id", "unit_id", "type")}
        if row.get("name"):
            event["name"] = row["name"]
        if row.get("value"):
            event["value"] = float(row["value"])
        if truthy(row.get("pre_period")):
            event["pre_period"] = True
        return event

    return read_rows(path, from_csv)


def table(report: dict[str, Any]) -> str:
    lines = [f"experiment {report['experiment_id']} ({report.get('status')}): units {report['variants']}"]
    srm = report.get("srm")
    if srm:
        lines.append(
            f"sample ratio: p = {srm['p_value']:.3g}" + ("  MISMATCH" if srm["mismatch"] else "  ok")
        )
    header = (
        f"{'metric':<18}{'role':<10}{'variant':<12}{'control':>12}{'treatment':>12}{'lift':>9}"
        f"{'95% CI (lift)':>22}{'p':>10}{'p adj':>10}"
    )
    lines += [header, "-" * len(header)]
    for metric in report["metrics"]:
        for c in metric["comparisons"]:
            if "error" in c:
                lines.append(f"{metric['name']:<18}{metric['role']:<10}{c['variant']:<12}  {c['error']}")
                continue
            rel = c.get("relative")
            ci = c.get("relative_ci") or [float("nan"), float("nan")]
            lift = f"{rel:+.2%}" if rel is not None else "n/a"
            interval = (
                f"[{ci[0]:+.2%}, {ci[1]:+.2%}]"
                if metric["kind"] != "quantile"
                else f"[{c['ci'][0]:+.3g}, {c['ci'][1]:+.3g}]"
            )
            lines.append(
                f"{metric['name']:<18}{metric['role']:<10}{c['variant']:<12}{c['control']:>12.4g}"
                f"{c['treatment']:>12.4g}{lift:>9}{interval:>22}{c['p_value']:>10.3g}"
                f"{c.get('p_adjusted', float('nan')):>10.3g}"
            )
    decision = report["decision"]
    lines.append(
        f"decision: {decision['action'].upper()}"
        + (f" ({decision['winner']})" if decision.get("winner") else "")
    )
    lines += [f"  - {reason}" for reason in decision["reasons"]]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    """A panel per metric x variant, each on its own axis: the relative lift with its interval (quantile
    metrics: the absolute difference), green when the interval excludes 0 upwards, red downwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(m, c) for m in report["metrics"] for c in m["comparisons"] if "error" not in c]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.3 * len(rows) + 0.8), squeeze=False)
    for ax, (metric, c) in zip(axes[:, 0], rows, strict=True):
        relative = metric["kind"] != "quantile"
        centre = c["relative"] if relative else c["diff"]
        low, high = c["relative_ci"] if relative else c["ci"]
        colour = "tab:green" if low > 0 else "tab:red" if high < 0 else "tab:gray"
        ax.errorbar([centre], [0], xerr=[[centre - low], [high - centre]], fmt="o", color=colour, capsize=5)
        ax.axvline(0, color="black", linewidth=0.8)
        span = max(abs(low), abs(high)) * 1.3 or 1.0
        ax.set_xlim(-span, span)
        ax.set_yticks([])
        unit = "relative lift" if relative else f"difference of p{round(100 * (c.get('quantile') or 0.5))}"
        ax.set_title(
            f"{metric['name']} ({metric['role']}), {c['variant']} vs control: "
            f"{(f'{centre:+.2%}' if relative else f'{centre:+.3g}')}  [{unit}, 95% CI]",
            fontsize=9,
        )
        if relative:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    fig.suptitle(f"{report['experiment_id']}: {report['decision']['action']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    api = connect(args)
    if args.ab == "create":
        print(
            json.dumps(
                api.call("POST", "/ab/experiments", json=json.loads(Path(args.file).read_text())), indent=2
            )
        )
    elif args.ab in ("start", "pause", "resume", "conclude"):
        print(api.call("POST", f"/ab/experiments/{args.experiment_id}/{args.ab}")["status"])
    elif args.ab == "assign":
        out = api.call(
            "POST", "/ab/assign/batch", json={"experiment_id": args.experiment_id, "unit_ids": args.units}
        )
        for a in out["assignments"]:
            print(f"{a['unit_id']}\t{a['variant']}\t{a['reason']}")
    elif args.ab == "ingest":
        events = read_events(Path(args.file))
        totals: dict[str, int] = {}
        for start in range(0, len(events), BATCH):
            counts = api.call(
                "POST",
                "/ab/events",
                json={"experiment_id": args.experiment_id, "events": events[start : start + BATCH]},
            )
            totals = {k: totals.get(k, 0) + v for k, v in counts.items()}
            print(
                f"\ringested {min(start + BATCH, len(events))}/{len(events)} events", end="", file=sys.stderr
            )
        print(file=sys.stderr)
        print(json.dumps(totals))
    elif args.ab == "analyze":
        report = api.call(
            "GET",
            f"/ab/experiments/{args.experiment_id}/analysis",
            params={"units": "true"} if args.units else None,
        )
        print(json.dumps(report, indent=2) if args.json else table(report))
        if args.plot:
            plot(report, Path(args.plot))
            print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def add_parser(top: Any) -> None:
    ab = top.add_parser("ab", help="A/B experiments").add_subparsers(dest="ab", required=True)
    common = common_options()
    ab.add_parser("create", parents=[common]).add_argument(
        "--file", required=True, help="experiment spec JSON"
    )
    for action in ("start", "pause", "resume", "conclude"):
        ab.add_parser(action, parents=[common]).add_argument("experiment_id")
    assign = ab.add_parser("assign", parents=[common])
    assign.add_argument("experiment_id")
    assign.add_argument("units", nargs="+")
    ingest = ab.add_parser("ingest", parents=[common])
    ingest.add_argument("experiment_id")
    ingest.add_argument("--file", required=True, help=".csv or .jsonl of events")
    analyze = ab.add_parser("analyze", parents=[common])
    analyze.add_argument("experiment_id")
    analyze.add_argument("--plot", default=None, help="write a PNG of each metric's lift with its interval")
    analyze.add_argument("--units", action="store_true", help="also rank tests from per-unit values")
    analyze.add_argument("--json", action="store_true", help="the full report as JSON")
    for sub in ("create", "start", "pause", "resume", "conclude", "assign", "ingest", "analyze"):
        ab.choices[sub].set_defaults(run=run)
