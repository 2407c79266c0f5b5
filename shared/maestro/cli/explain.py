"""`maestro explain ...`: submit an explanation job, follow it with a progress bar, and open its report.
Talks to any Maestro ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
import webbrowser
from pathlib import Path
from typing import Any

from maestro.cli.http import Api, common_options, connect, follow

FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
BAR_WIDTH = 30


def request_from(args: argparse.Namespace) -> dict[str, Any]:
    """The job request: a JSON file, or the model, dataset and method options (which override the file)."""
    request: dict[str, Any] = json.loads(Path(args.file).read_text()) if args.file else {}
    if args.model:
        name, _, selector = args.model.partition(":")
        if not selector:
            raise SystemExit("--model is NAME:VERSION or NAME:ALIAS, e.g. churn:3 or churn:champion")
        request["model"] = {
            "name": name,
            **({"version": int(selector)} if selector.isdigit() else {"alias": selector}),
        }
    if args.dataset:
        request["dataset"] = {**request.get("dataset", {}), "s3_uri": args.dataset}
    for option in ("method", "seed", "shards"):
        if getattr(args, option) is not None:
            request[option] = getattr(args, option)
    if "model" not in request or "dataset" not in request:
        raise SystemExit("give --file, or --model and --dataset")
    return request


def bar(job: dict[str, Any]) -> str:
    progress = job["progress"]
    done, total = progress["rows_done"] or 0, progress["rows_total"]
    filled = int(BAR_WIDTH * done / total) if total else 0
    counts = f"{done:,}/{total:,} rows" if total else "preparing"
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {progress['percent']:5.1f}%  {counts}  {job['status']}"
    )


def wait(api: Api, job_id: str, interval_s: float, out: Any = sys.stderr) -> dict[str, Any]:
    """Polls until the job ends, redrawing one progress line (a plain line per change when not a tty)."""
    return follow(api, f"/explanations/{job_id}", bar, FINAL, interval_s, out)


def summary(job: dict[str, Any]) -> str:
    lines = [f"{job['job_id']}  {job['status']}  {job['model']['name']} v{job['model']['version']}"]
    if job.get("method_used"):
        lines.append(f"  method {job['method_used']}, {job['progress']['rows_total']:,} rows")
    if job.get("error"):
        lines.append(f"  failed: {job['error']['reason']}")
    for name, uri in (job.get("results") or {}).items():
        lines.append(f"  {name:<24}{uri}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    api = connect(args)
    if args.explain == "submit":
        job = api.call("POST", "/explanations", json=request_from(args))
        print(job["job_id"])
        if args.wait:
            job = wait(api, job["job_id"], args.interval)
            print(summary(job))
            return 0 if job["status"] == "SUCCEEDED" else 1
        return 0
    if args.explain == "status":
        job = (
            wait(api, args.job_id, args.interval)
            if args.wait
            else api.call("GET", f"/explanations/{args.job_id}")
        )
        print(json.dumps(job, indent=2) if args.json else summary(job))
        return 0 if job["status"] != "FAILED" else 1
    if args.explain == "list":
        for job in api.call("GET", "/explanations", params={"limit": args.limit})["jobs"]:
            model = f"{job['model']['name']} v{job['model']['version']}"
            print(f"{job['job_id']}  {job['status']:<10} {job['created_at'][:19]}  {model}")
        return 0
    if args.explain == "cancel":
        print(summary(api.call("POST", f"/explanations/{args.job_id}/cancel")))
        return 0
    links = api.call("GET", f"/explanations/{args.job_id}/results")["files"]
    if args.save:
        import requests

        target = Path(args.save)
        target.write_bytes(requests.get(links["report"], timeout=120).content)
        print(f"report written to {target}", file=sys.stderr)
    print(links["report"])
    if args.open:
        webbrowser.open(links["report"])
    return 0


def add_parser(top: Any) -> None:
    explain = top.add_parser("explain", help="SHAP, LIME and permutation importance jobs").add_subparsers(
        dest="explain", required=True
    )
    common = common_options()
    submit = explain.add_parser("submit", parents=[common], help="submit a job (prints its id)")
    submit.add_argument("--file", default=None, help="the request as JSON (see POST /explanations)")
    submit.add_argument("--model", default=None, help="NAME:VERSION or NAME:ALIAS")
    submit.add_argument("--dataset", default=None, help="s3://<artifacts bucket>/tenants/<tenant>/...")
    submit.add_argument(
        "--method", default=None, choices=["auto", "tree", "linear", "kernel", "permutation", "lime"]
    )
    submit.add_argument("--seed", type=int, default=None)
    submit.add_argument("--shards", type=int, default=None)
    submit.add_argument("--wait", action="store_true", help="follow it with a progress bar")
    submit.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    status = explain.add_parser("status", parents=[common], help="a job's status")
    status.add_argument("job_id")
    status.add_argument("--wait", action="store_true", help="follow it with a progress bar until it ends")
    status.add_argument("--interval", type=float, default=1.0)
    status.add_argument("--json", action="store_true", help="the whole job as JSON")
    explain.add_parser("list", parents=[common], help="recent jobs").add_argument(
        "--limit", type=int, default=25
    )
    explain.add_parser("cancel", parents=[common], help="stop a job").add_argument("job_id")
    report = explain.add_parser("report", parents=[common], help="the HTML report's link")
    report.add_argument("job_id")
    report.add_argument("--open", action="store_true", help="open it in the browser")
    report.add_argument("--save", default=None, help="also download it to this file")
    for sub in explain.choices.values():
        sub.set_defaults(run=run)
