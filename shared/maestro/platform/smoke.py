"""The smoke test a function's new version must pass before CodeDeploy shifts traffic to it (the release's
pre-traffic hook): requests through the function's real handler, as API Gateway would send them, from a
smoke caller of the platform tenant. The platform's own checks are health, a read of the registry and an A/B
assignment; any other request-path function must answer an unknown route with a 4xx JSON error (it starts,
imports, authenticates and routes). A check passes on the status it expects and a JSON body; a crash, a
timeout or a 5xx fails it. Must never write tenant data."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.outcomes import FUNCTION_PREFIX_VARIABLE
from maestro.core.settings import Settings, get_settings
from maestro.platform import release_gateway

SMOKE_PRINCIPAL = "maestro-release-smoke"
MLFLOW = "/api/2.0/mlflow"


@dataclass(frozen=True)
class Check:
    name: str
    method: str
    path: str
    expect: tuple[int, ...]
    body: dict[str, Any] | None = None
    query: str = ""


# By function (its name without the stack's prefix).
CHECKS = {
    "health": [Check("health", "GET", "/health", (200,))],
    "registry": [
        Check("registry read", "GET", f"{MLFLOW}/registered-models/search", (200,), query="max_results=1")
    ],
    # no experiment has this id: the assignment path runs end to end and answers 404
    "ab_assign": [
        Check(
            "A/B assignment", "POST", "/ab/assign", (200, 404), {"experiment_id": "smoke", "unit_id": "u-1"}
        )
    ],
}
UNKNOWN_ROUTE = Check("routing", "GET", "/_smoke/unknown-route", (403, 404))


def event(check: Check, settings: Settings) -> dict[str, Any]:
    request_id = f"smoke-{uuid.uuid4().hex[:12]}"
    claims = {
        settings.principal_claim: SMOKE_PRINCIPAL,
        settings.tenant_claim: settings.platform_tenant,
        settings.roles_claim: "viewer service",
    }
    shaped: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{check.method} {check.path}",
        "rawPath": check.path,
        "rawQueryString": check.query,
        "headers": {"content-type": "application/json"},
        "isBase64Encoded": False,
        "requestContext": {
            "http": {"method": check.method, "path": check.path, "sourceIp": "127.0.0.1"},
            "requestId": request_id,
            "routeKey": f"{check.method} {check.path}",
            "stage": "$default",
            "authorizer": {"jwt": {"claims": claims}},
        },
    }
    if check.query:
        shaped["queryStringParameters"] = dict(p.split("=", 1) for p in check.query.split("&"))
    if check.body is not None:
        shaped["body"] = json.dumps(check.body)
    return shaped


def checks_for(function: str) -> list[Check]:
    short = function.removeprefix(_prefix())
    return CHECKS.get(short, [UNKNOWN_ROUTE])


def _prefix() -> str:
    return os.environ.get(FUNCTION_PREFIX_VARIABLE, "")


def _json_body(payload: Any) -> bool:
    """Whether an API Gateway reply carries a JSON body."""
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        return False
    try:
        json.loads(payload["body"])
    except ValueError:
        return False
    return True


def run(function: str, version: str) -> list[dict[str, Any]]:
    """Each check of `function` against `version`: {check, passed, status, why}."""
    settings, results = get_settings(), []
    for check in checks_for(function):
        failed, payload = release_gateway.invoke(function, version, event(check, settings))
        status = payload.get("statusCode") if isinstance(payload, dict) else None
        is_json = _json_body(payload)
        passed = not failed and status in check.expect and is_json
        why = (
            "the invocation failed"
            if failed
            else f"answered {status}, expected {' or '.join(map(str, check.expect))}"
            if status not in check.expect
            else "the body is not JSON"
            if not is_json
            else "ok"
        )
        results.append({"check": check.name, "passed": passed, "status": status, "why": why})
    return results


def pre_traffic(event_in: dict[str, Any]) -> dict[str, Any]:
    """CodeDeploy's BeforeAllowTraffic hook: smoke-test the deployment's target version; report it."""
    deployment_id, execution_id = event_in["DeploymentId"], event_in["LifecycleEventHookExecutionId"]
    try:
        found = release_gateway.target(deployment_id)
        results = run(found["function"], found["target"])
        passed = bool(results) and all(r["passed"] for r in results)
    except Exception as exc:  # noqa: BLE001 - any failure to check is a failed check, reported as such
        found, results, passed = {}, [{"check": "setup", "passed": False, "why": str(exc)[:500]}], False
    release_gateway.report(deployment_id, execution_id, passed)
    return {"deployment_id": deployment_id, **found, "passed": passed, "checks": results}
