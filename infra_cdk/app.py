"""The CDK app: reads context (stage, identity provider, claim names), builds the stack, runs cdk-nag.
Must never synthesize without cdk-nag: findings fail the synth unless acknowledged with a reason."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts infra_cdk/ first on the path, where infra_cdk/constructs would shadow
# the `constructs` library; the repo root (for infra_cdk.*) and shared/ (for maestro.*) go there instead.
sys.path[:] = [str(ROOT), str(ROOT / "shared")] + [
    p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra_cdk"
]

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra_cdk.constructs.backups import BackupSettings  # noqa: E402
from infra_cdk.constructs.identity import OidcConfig  # noqa: E402
from infra_cdk.stack import MaestroStack  # noqa: E402

STACK_NAME = "Maestro"


def _object(value: object, key: str) -> dict[str, object]:
    """A context value that is an object: as given in cdk.json, or as its JSON text (-c key=...)."""
    if not value:
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise SystemExit(f"context {key} must be a JSON object")
    return dict(parsed)


def deployment_choices(value: object) -> dict[str, str]:
    """CDK context maestro:deployment: {"<function>" | "request_path" | "background": "<configuration>"}."""
    return {str(k): str(v) for k, v in _object(value, "maestro:deployment").items()}


def build_app(context: dict[str, object] | None = None, outdir: str | None = None) -> App:
    cdk_json = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    app = App(context={**cdk_json, **(context or {})}, outdir=outdir or os.environ.get("CDK_OUTDIR"))

    def ctx(key: str, default: str = "") -> str:
        return str(app.node.try_get_context(key) or default)

    issuer = ctx("maestro:jwtIssuer")
    oidc = OidcConfig(issuer, [a for a in ctx("maestro:jwtAudience").split(",") if a]) if issuer else None
    if oidc and not oidc.audience:
        raise SystemExit("context maestro:jwtAudience is required with maestro:jwtIssuer")
    MaestroStack(
        app,
        STACK_NAME,
        stage=ctx("maestro:stage", "dev"),
        bus_name=ctx("maestro:eventBusName", "maestro"),
        oidc=oidc,
        tenant_claim=ctx("maestro:tenantClaim", "custom:tenant"),
        roles_claim=ctx("maestro:rolesClaim", "cognito:groups"),
        audit_lock_days=int(ctx("maestro:auditLockDays", "365")),
        deployment=deployment_choices(app.node.try_get_context("maestro:deployment")),
        backups=BackupSettings.of(_object(app.node.try_get_context("maestro:backup"), "maestro:backup")),
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        description="Maestro ML: serverless MLOps platform",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
