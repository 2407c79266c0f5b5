"""`maestro`: run the platform locally and mint local tokens.
Must never print a secret it was not asked for."""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from maestro.core.rbac import ROLES


def _serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", args.log_level)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from maestro.local.runtime import DEFAULT_STATE_DIR, LocalPlatform
    from maestro.local.tokens import register_tenant

    print(
        "Starting Maestro ML locally (synthesizing the CDK app, starting the embedded AWS endpoint)...",
        flush=True,
    )
    options = {k: v for k, v in (("template", args.template), ("functions_root", args.functions_root)) if v}
    platform = LocalPlatform(port=args.port, state_dir=args.state_dir or DEFAULT_STATE_DIR, **options).start()
    assert platform.model is not None
    # This process holds every stored item as Python objects (moto's tables): with the default thresholds the
    # garbage collector walked them about 5,000 times in issue 21's ingestion scenario, 10% of its time.
    # What start-up built is frozen out of its passes, and young objects are collected less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    if any(r.key == "POST /tenants" for r in platform.model.routes):  # a --template app may have none
        register_tenant(platform.url, platform.tokens, args.tenant)
    token = platform.token(args.tenant, ["admin"], subject="local-admin")
    running = {"url": platform.url, "aws_endpoint": platform.credentials.endpoint_url, "pid": os.getpid()}
    running_file = platform.tokens.key_path.parent / "running.json"
    _write_atomically(running_file, running)  # for `maestro local env`
    if args.ready_file:
        _write_atomically(
            args.ready_file,
            {**running, "admin_token": token, "tenant": args.tenant, "timings": platform.timings},
        )
    t = platform.timings
    print(
        f"\nMaestro ML is running at {platform.url}"
        f"   (ready in {t['ready_s']:.1f} s; synth {t['synth_s']:.1f} s)"
    )
    print(f"  web console: {platform.url}/console/   (sign in as any tenant and roles)")
    print(f"  embedded AWS endpoint: {platform.credentials.endpoint_url}")
    print(f"  tenant: {args.tenant}   admin token (valid 12 h):\n\n{token}\n")
    print(f"  try: curl -H 'Authorization: Bearer <token>' {platform.url}/whoami")
    print("  more tokens: maestro local token --tenant T --roles viewer,data-scientist")
    print("  platform operator (tenants, quotas): maestro local token --tenant platform --roles admin")
    print('  mlflow client: eval "$(.venv/bin/maestro local env --tenant T --roles ml-engineer)"')
    print("  Ctrl-C stops.", flush=True)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # A process signal may be delivered to any thread; CPython then runs the handler only when the main
    # thread next runs bytecode. A wait without a timeout could sleep through Ctrl-C: wake twice a second.
    while not stop.wait(0.5):
        pass
    print("\nStopping...", flush=True)
    platform.stop()
    running_file.unlink(missing_ok=True)
    print("Stopped.", flush=True)
    sys.stderr.flush()
    # Everything left is the emulator's throw-away in-memory state; tearing the interpreter down over
    # millions of its objects took tens of seconds after a large run. Nothing else needs flushing.
    os._exit(0)


def _write_atomically(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # a reader never sees half a file


def _env(args: argparse.Namespace) -> int:
    """Shell exports for an mlflow client (or boto3) against the running local platform."""
    from maestro.core.settings import get_settings
    from maestro.local.runtime import DEFAULT_STATE_DIR, LocalCredentials
    from maestro.local.tokens import LocalTokens, register_tenant

    state = (args.state_dir or DEFAULT_STATE_DIR) / "local"
    running_file = state / "running.json"
    if not running_file.exists():
        print("the local platform is not running: start it with `make serve`", file=sys.stderr)
        return 1
    running = json.loads(running_file.read_text())
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    settings = get_settings()
    register_tenant(running["url"], LocalTokens(state), args.tenant)
    token = LocalTokens(state).issue(
        tenant=args.tenant,
        roles=roles,
        subject=args.subject,
        tenant_claim=settings.tenant_claim,
        roles_claim=settings.roles_claim,
    )
    aws = LocalCredentials(running["aws_endpoint"])
    exports = {
        "MLFLOW_TRACKING_URI": running["url"],
        "MLFLOW_TRACKING_TOKEN": token,
        # s3:// artifact locations: the client writes with boto3 straight to the embedded S3.
        "MLFLOW_S3_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": aws.access_key_id,
        "AWS_SECRET_ACCESS_KEY": aws.secret_access_key,
        "AWS_DEFAULT_REGION": aws.region,
        # Proxied artifacts above 5 MB go to S3 in presigned parts, not through the function.
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
        "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(5 * 1024 * 1024),  # the proxied upload limit
    }
    for key, value in exports.items():
        print(f"export {key}={value}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from maestro.core.settings import get_settings
    from maestro.local.runtime import DEFAULT_STATE_DIR
    from maestro.local.tokens import LocalTokens, register_tenant

    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        print(f"unknown role(s) {unknown}; roles are {sorted(ROLES)}", file=sys.stderr)
        return 2
    settings = get_settings()
    running = DEFAULT_STATE_DIR / "local" / "running.json"
    if running.exists():  # a token for a tenant the running platform does not know would only get 403s
        register_tenant(json.loads(running.read_text())["url"], LocalTokens(running.parent), args.tenant)
    print(
        LocalTokens(DEFAULT_STATE_DIR / "local").issue(
            tenant=args.tenant,
            roles=roles,
            subject=args.subject,
            ttl_s=args.ttl,
            tenant_claim=settings.tenant_claim,
            roles_claim=settings.roles_claim,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maestro", description="Maestro ML command line")
    top = parser.add_subparsers(dest="command", required=True)
    local = top.add_parser("local", help="the platform on this machine").add_subparsers(
        dest="local", required=True
    )

    serve = local.add_parser("serve", help="run every route, event rule, schedule and state machine locally")
    serve.add_argument("--port", type=int, default=int(os.environ.get("MAESTRO_PORT", "3000")))
    serve.add_argument("--tenant", default="default", help="tenant of the printed admin token")
    serve.add_argument("--log-level", default="WARNING", help="handlers' log level (Powertools)")
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keys and local state (default .maestro/; synth cache: .maestro/synth)",
    )
    serve.add_argument("--template", type=Path, default=None, help="serve this synthesized template instead")
    serve.add_argument("--functions-root", type=Path, default=None, help="handler folders for --template")
    serve.add_argument(
        "--ready-file", type=Path, default=None, help="write url, endpoint and token here as JSON"
    )
    serve.set_defaults(run=_serve)

    token = local.add_parser("token", help="print a bearer token the local platform accepts")
    token.add_argument("--tenant", required=True)
    token.add_argument("--roles", required=True, help=f"comma-separated, from: {', '.join(ROLES)}")
    token.add_argument("--subject", default=None, help="the principal (sub claim)")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    token.set_defaults(run=_token)

    env = local.add_parser("env", help="print the shell exports an mlflow client needs against `make serve`")
    env.add_argument("--tenant", default="default")
    env.add_argument("--roles", default="ml-engineer", help=f"comma-separated, from: {', '.join(ROLES)}")
    env.add_argument("--subject", default=None)
    env.add_argument("--state-dir", type=Path, default=None)
    env.set_defaults(run=_env)

    from maestro.cli import (
        ab,
        audit,
        backup,
        console,
        deploy,
        explain,
        insights,
        monitor,
        sla,
        tenants,
        train,
    )

    ab.add_parser(top)
    explain.add_parser(top)
    sla.add_parser(top)
    monitor.add_parser(top)
    insights.add_parser(top)
    train.add_parser(top)
    deploy.add_parser(top)
    backup.add_parser(top)
    audit.add_parser(top)
    tenants.add_parser(top)
    console.add_parser(top)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
