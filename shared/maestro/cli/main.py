"""`maestro`: run the platform locally and mint local tokens.
Must never print a secret it was not asked for."""

from __future__ import annotations

import argparse
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

    print(
        "Starting Maestro ML locally (synthesizing the CDK app, starting the embedded AWS endpoint)...",
        flush=True,
    )
    options = {k: v for k, v in (("template", args.template), ("functions_root", args.functions_root)) if v}
    platform = LocalPlatform(port=args.port, state_dir=args.state_dir or DEFAULT_STATE_DIR, **options).start()
    token = platform.token(args.tenant, ["admin"], subject="local-admin")
    if args.ready_file:
        ready = {
            "url": platform.url,
            "aws_endpoint": platform.credentials.endpoint_url,
            "admin_token": token,
            "tenant": args.tenant,
            "timings": platform.timings,
        }
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ready))
        tmp.replace(args.ready_file)  # atomic: a reader never sees half a file
    t = platform.timings
    print(
        f"\nMaestro ML is running at {platform.url}"
        f"   (ready in {t['ready_s']:.1f} s; synth {t['synth_s']:.1f} s)"
    )
    print(f"  embedded AWS endpoint: {platform.credentials.endpoint_url}")
    print(f"  tenant: {args.tenant}   admin token (valid 12 h):\n\n{token}\n")
    print(f"  try: curl -H 'Authorization: Bearer <token>' {platform.url}/whoami")
    print(
        "  more tokens: maestro local token --tenant T --roles viewer,data-scientist\n  Ctrl-C stops.",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    print("\nStopping...", flush=True)
    platform.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    from maestro.core.settings import get_settings
    from maestro.local.runtime import DEFAULT_STATE_DIR
    from maestro.local.tokens import LocalTokens

    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        print(f"unknown role(s) {unknown}; roles are {sorted(ROLES)}", file=sys.stderr)
        return 2
    settings = get_settings()
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
        "--state-dir", type=Path, default=None, help="keys and synth cache (default .maestro/)"
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
