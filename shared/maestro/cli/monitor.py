"""`maestro monitor ...`: define monitors, post a model version's baseline and its serving records from
CSV/JSONL files, check a monitor now, read the monitors' states as a table, and download a check's report.
Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import requests

from maestro.cli.http import Api, common_options, connect
from maestro.monitoring.profile import rows_from_csv
from maestro.monitoring.spec import MAX_RECORDS


def read_table(path: Path) -> list[dict[str, Any]]:
    """JSONL (one object per line) or CSV with a header (cells that read as numbers are numbers)."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows_from_csv(path.read_bytes(), str(path))


def as_records(rows: list[dict[str, Any]], prediction: str | None) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        features = {k: v for k, v in row.items() if k != prediction}
        out.append({"features": features, "prediction": row.get(prediction) if prediction else None})
    return out


def check_table(result: dict[str, Any]) -> str:
    model = result["model"]
    lines = [
        f"{result['monitor_id']}  {model['name']} v{model['version']}: {result['state'].upper()}"
        f"  ({result.get('records', 0):,} records in the window)"
    ]
    drift = result.get("drift")
    if drift:
        lines.append(
            f"  {'column':<24}{'test':<15}{'statistic':>12}{'threshold':>11}  {'drift':<6}{'PSI':>8}"
        )
        for name, c in drift["columns"].items():
            statistic = "-" if c["statistic"] is None else f"{c['statistic']:.4g}"
            lines.append(
                f"  {name:<24}{c['method']:<15}{statistic:>12}{c['threshold']:>11g}  "
                f"{'YES' if c['drifted'] else 'no':<6}{c['psi']:>8.3f}"
            )
        lines.append(
            f"  dataset drift: {'yes' if drift['dataset_drift'] else 'no'} ({drift['drift_share']:.0%})"
        )
    for failure in result.get("quality") or []:
        lines.append(f"  QUALITY {failure['column']}: {failure['check']} ({failure['value']})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    api: Api = connect(args)
    if args.monitor == "create":
        print(
            json.dumps(
                api.call("POST", "/monitoring/monitors", json=json.loads(Path(args.file).read_text())),
                indent=2,
            )
        )
    elif args.monitor == "baseline":
        rows = read_table(Path(args.file))
        if len(rows) > MAX_RECORDS:
            raise SystemExit(
                f"{len(rows):,} rows: post at most {MAX_RECORDS:,} inline, or upload the file as an artifact "
                "and post {'artifact': 'mlflow-artifacts:/...'} to /monitoring/baselines"
            )
        model = {"name": args.model, "version": args.version}
        body = {"model": model, "rows": rows, "prediction": args.prediction or None}
        reply = api.call("POST", "/monitoring/baselines", json=body)
        print(json.dumps({k: reply[k] for k in ("model", "rows", "columns", "kinds")}, indent=2))
    elif args.monitor == "records":
        records = as_records(read_table(Path(args.file)), args.prediction or None)
        totals = {"accepted": 0, "duplicates": 0}
        for start in range(0, len(records), MAX_RECORDS):
            body = {
                "model": {"name": args.model, "version": args.version},
                "records": records[start : start + MAX_RECORDS],
            }
            reply = api.call("POST", "/monitoring/records", json=body)
            totals["accepted"] += reply["accepted"]
            totals["duplicates"] += int(reply["duplicate"])
        print(json.dumps(totals))
    elif args.monitor == "check":
        print(check_table(api.call("POST", f"/monitoring/monitors/{args.monitor_id}/check")))
    elif args.monitor == "status":
        monitors = api.call("GET", "/monitoring/monitors")["monitors"]
        if not monitors:
            print("no monitors defined", file=sys.stderr)
        for m in monitors:
            status, model = m.get("status") or {}, m["spec"]["model"]
            drifted = ", ".join(status.get("drifted_columns") or []) or "-"
            state = status.get("state", "?")
            print(f"{m['monitor_id']}\t{model['name']} v{model['version']}\t{state}\t{drifted}")
    elif args.monitor == "report":
        reply = api.call("POST", f"/monitoring/monitors/{args.monitor_id}/report")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        downloads = {"report.html": reply["html"]["url"]} | {
            f"{c}.png": u for c, u in reply["images"].items()
        }
        for name, url in downloads.items():
            response = requests.get(url, timeout=60)
            response.raise_for_status()
            (out / name).write_bytes(response.content)
        print(f"report written to {out / 'report.html'} ({len(downloads) - 1} figures)")
    return 0


def add_parser(top: Any) -> None:
    monitor = top.add_parser("monitor", help="drift and data-quality monitors").add_subparsers(
        dest="monitor", required=True
    )
    common = common_options()
    monitor.add_parser("create", parents=[common], help="define a monitor").add_argument(
        "--file", required=True, help="monitor spec JSON"
    )
    for name, what in (
        ("baseline", "profile a reference as the baseline"),
        ("records", "post serving records"),
    ):
        sub = monitor.add_parser(name, parents=[common], help=what)
        sub.add_argument("--model", required=True, help="registered model name")
        sub.add_argument("--version", required=True, type=int, help="its version")
        sub.add_argument("--file", required=True, help="CSV with a header, or JSONL of column -> value")
        sub.add_argument("--prediction", default="prediction", help="the prediction column ('' for none)")
    monitor.add_parser("check", parents=[common], help="check a monitor now").add_argument("monitor_id")
    monitor.add_parser("status", parents=[common], help="every monitor's state")
    report = monitor.add_parser("report", parents=[common], help="download the latest check's report")
    report.add_argument("monitor_id")
    report.add_argument("--out", default="monitor-report", help="directory for report.html and its PNGs")
    for sub in monitor.choices.values():
        sub.set_defaults(run=run)
