"""`maestro console publish`: after `cdk deploy`, the built console and its config.json (how it signs users
in) go to the console bucket, and CloudFront is told. The stack's outputs (cdk deploy --outputs-file) say
where; Cognito's hosted UI is the default issuer, and an external OIDC issuer is given by flags."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from maestro.cli import console_store

DIST = Path(__file__).resolve().parents[1] / "console" / "dist"


def config(outputs: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """How the console signs users in: the OIDC authorization code flow with PKCE, against Cognito's hosted UI
    unless flags name another issuer's endpoints and client."""
    hosted = outputs.get("HostedUiUrl")
    authorize = args.authorize_url or (hosted and f"{hosted}/oauth2/authorize")
    token = args.token_url or (hosted and f"{hosted}/oauth2/token")
    client_id = args.client_id or outputs.get("ConsoleClientId")
    if not (authorize and token and client_id):
        raise SystemExit(
            "the stack has no Cognito hosted UI (an external OIDC issuer): "
            "give --authorize-url, --token-url and --client-id"
        )
    return {
        "mode": "oidc",
        "authorize_url": authorize,
        "token_url": token,
        "client_id": client_id,
        "scopes": args.scopes,
    }


def run(args: argparse.Namespace) -> int:
    stacks: dict[str, dict[str, str]] = json.loads(Path(args.outputs).read_text())
    outputs = stacks.get(args.stack)
    if not outputs or "ConsoleBucketName" not in outputs:
        raise SystemExit(f"{args.outputs} holds no console outputs of stack {args.stack}: deploy it first")
    dist = Path(args.dist)
    if not (dist / "index.html").exists():
        raise SystemExit(f"no built console in {dist}: run `make console`")
    keys = console_store.upload(outputs["ConsoleBucketName"], dist, config(outputs, args))
    invalidation = console_store.invalidate(
        outputs["ConsoleDistributionId"], keys, f"publish-{time.time_ns()}"
    )
    print(f"published {len(keys)} files; CloudFront invalidation {invalidation}")
    print(f"console: {outputs.get('ConsoleUrl', '')}")
    return 0


def add_parser(top: Any) -> None:
    console = top.add_parser("console", help="the web console").add_subparsers(dest="console", required=True)
    publish = console.add_parser("publish", help="upload the built console after a deploy")
    publish.add_argument("--outputs", default="cdk.out/outputs.json", help="cdk deploy --outputs-file")
    publish.add_argument("--stack", default="Maestro")
    publish.add_argument("--dist", default=str(DIST))
    publish.add_argument("--authorize-url", default=None, help="an external OIDC issuer's authorize endpoint")
    publish.add_argument("--token-url", default=None, help="... its token endpoint")
    publish.add_argument("--client-id", default=None, help="... the console's (public) client id")
    publish.add_argument("--scopes", default="openid email profile")
    publish.set_defaults(run=run)
