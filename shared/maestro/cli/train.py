"""`maestro train ...`: submit a training job (a JSON spec, options on top), follow it with a live progress
line (stage, elapsed of the maximum runtime, the latest metrics), read its logs, stop it. Talks to any Maestro
ML API; by default the running local one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from maestro.cli.http import Api, common_options, connect, follow

FINAL = ("SUCCEEDED", "FAILED", "STOPPED")
STAGES = ("SUBMITTED", "Starting", "Downloading", "Training", "Uploading", "Completed")
BAR_WIDTH = 30


def spec_from(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(Path(args.file).read_text()) if args.file else {}
    for option, field in (
        ("entry_point", "entry_point"),
        ("source", "source"),
        ("instances", "instance_count"),
    ):
        if getattr(args, option) is not None:
            spec[field] = getattr(args, option)
    for pair in args.hp or []:
        key, _, value = pair.partition("=")
        spec.setdefault("hyperparameters", {})[key] = value
    for pair in args.channel or []:
        name, _, uri = pair.partition("=")
        spec.setdefault("channels", {})[name] = {"s3_uri": uri}
    if args.register:
        spec["register"] = {"model": args.register, **({"gate": args.gate} if args.gate else {})}
    return spec


def line(job: dict[str, Any]) -> str:
    """[####......] Training  42s of 3600s  val_auc=0.871  RUNNING"""
    progress = job.get("progress") or {}
    stage = progress.get("stage", job["status"])
    done = STAGES.index(stage) if stage in STAGES else len(STAGES) - 1
    if job["status"] in FINAL:
        done = len(STAGES) - 1
    filled = int(BAR_WIDTH * done / (len(STAGES) - 1))
    elapsed = f"{progress.get('elapsed_s', 0)}s of {progress.get('max_runtime_s', '?')}s"
    metrics = "  ".join(f"{k}={v:.4g}" for k, v in sorted((job.get("metrics") or {}).items()))
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {stage:<12} {elapsed}  {metrics}  {job['status']}"


def wait(api: Api, job_id: str, interval_s: float, out: Any = sys.stderr) -> dict[str, Any]:
    return follow(api, f"/training/jobs/{job_id}", line, FINAL, interval_s, out)


def sweep_line(sweep: dict[str, Any]) -> str:
    """[####......] 3/6 trials ended  best val_auc=0.871 (trial 2)  RUNNING"""
    trials = sweep.get("trials") or []
    ended = sum(t["status"] in FINAL for t in trials)
    filled = int(BAR_WIDTH * ended / len(trials)) if trials else 0
    metric = (sweep.get("request") or {}).get("objective", {}).get("metric", "")
    scored = [t for t in trials if metric in (t.get("metrics") or {})]
    maximize = (sweep.get("request") or {}).get("objective", {}).get("goal", "maximize") == "maximize"
    leader = (max if maximize else min)(scored, key=lambda t: t["metrics"][metric]) if scored else None
    best = f"best {metric}={leader['metrics'][metric]:.4g} (trial {leader['trial']})" if leader else ""
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"[{bar}] {ended}/{len(trials)} trials ended  {best}  {sweep['status']}"


def summary(job: dict[str, Any]) -> str:
    lines = [f"{job['job_id']}  {job['status']}  run {job.get('run_id', '-')}"]
    if job.get("metrics"):
        lines.append("  " + "  ".join(f"{k}={v:.6g}" for k, v in sorted(job["metrics"].items())))
    registration = (job.get("model") or {}).get("registration")
    if registration:
        outcome = f"version {registration['version']}" if registration.get("version") else "not registered"
        lines.append(f"  {registration['model']}: {outcome} ({registration['why']})")
    if job.get("error"):
        lines.append(f"  {job['status'].lower()}: {job['error']['reason']}")
        lines += [f"    {tail}" for tail in job["error"].get("log_tail") or []]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    api = connect(args)
    if args.train == "submit":
        job = api.call("POST", "/training/jobs", json=spec_from(args))
        print(job["job_id"])
        if not args.wait:
            return 0
        job = wait(api, job["job_id"], args.interval)
        print(summary(job))
        return 0 if job["status"] == "SUCCEEDED" else 1
    if args.train == "status":
        job = (
            wait(api, args.job_id, args.interval)
            if args.wait
            else api.call("GET", f"/training/jobs/{args.job_id}")
        )
        print(json.dumps(job, indent=2) if args.json else summary(job))
        return 0 if job["status"] != "FAILED" else 1
    if args.train == "logs":
        token = None
        while True:
            page = api.call(
                "GET",
                f"/training/jobs/{args.job_id}/logs",
                params={"limit": 1000, **({"token": token} if token else {})},
            )
            for entry in page["lines"]:
                print(f"[{entry['host']}] {entry['message']}")
            token = page.get("next_token")
            if not token:
                return 0
    if args.train == "sweep":
        sweep = api.call("POST", "/training/sweeps", json=json.loads(Path(args.file).read_text()))
        print(sweep["sweep_id"])
        if args.wait:
            sweep = follow(api, f"/training/sweeps/{sweep['sweep_id']}", sweep_line, FINAL, args.interval)
            print(json.dumps(sweep.get("best") or sweep.get("error"), indent=2))
            return 0 if sweep["status"] == "SUCCEEDED" else 1
        return 0
    if args.train == "list":
        for job in api.call("GET", "/training/jobs", params={"limit": args.limit})["jobs"]:
            print(f"{job['job_id']}  {job['status']:<10} {job['created_at'][:19]}  {job.get('run_id', '')}")
        return 0
    print(summary(api.call("POST", f"/training/jobs/{args.job_id}/stop")))
    return 0


def add_parser(top: Any) -> None:
    train = top.add_parser("train", help="training jobs on SageMaker").add_subparsers(
        dest="train", required=True
    )
    common = common_options()
    submit = train.add_parser("submit", parents=[common], help="submit a job (prints its id)")
    submit.add_argument("--file", default=None, help="the spec as JSON (see POST /training/jobs)")
    submit.add_argument("--entry-point", dest="entry_point", default=None)
    submit.add_argument("--source", default=None, help="the source bundle: s3://... or mlflow-artifacts:/...")
    submit.add_argument("--instances", type=int, default=None)
    submit.add_argument("--hp", action="append", help="a hyperparameter, NAME=VALUE (repeatable)")
    submit.add_argument("--channel", action="append", help="an input channel, NAME=S3_URI (repeatable)")
    submit.add_argument("--register", default=None, help="register the model under this name on success")
    submit.add_argument("--gate", default=None, help="register only if, e.g. 'val_auc >= 0.8'")
    submit.add_argument("--wait", action="store_true", help="follow it with a live progress line")
    submit.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    status = train.add_parser("status", parents=[common], help="a job's status")
    status.add_argument("job_id")
    status.add_argument("--wait", action="store_true", help="follow it until it ends")
    status.add_argument("--interval", type=float, default=2.0)
    status.add_argument("--json", action="store_true", help="the whole job as JSON")
    sweep = train.add_parser("sweep", parents=[common], help="submit a grid or random sweep (prints its id)")
    sweep.add_argument("--file", required=True, help="the sweep as JSON (see POST /training/sweeps)")
    sweep.add_argument("--wait", action="store_true", help="follow its trials until it ends")
    sweep.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    train.add_parser("logs", parents=[common], help="the job's log lines, every host").add_argument("job_id")
    train.add_parser("list", parents=[common], help="recent jobs").add_argument(
        "--limit", type=int, default=25
    )
    train.add_parser("stop", parents=[common], help="stop a job").add_argument("job_id")
    for sub in train.choices.values():
        sub.set_defaults(run=run)
