"""The platform's handlers in-process against moto: readiness, identity, error mapping."""

import json

import boto3
import pytest

from maestro.core.api import create_app, requires
from maestro.core.rbac import Permission
from maestro.tenants.admission import admit
from tests.integration.conftest import Context, call, drain, http_event

VIEWER = {"sub": "alice", "custom:tenant": "acme", "cognito:groups": "[viewer]"}


def test_health_is_ready_when_every_dependency_answers(every_store: None) -> None:
    status, body = call("health", http_event("GET", "/health"))
    assert status == 200
    assert body["ready"] is True and [c["name"] for c in body["checks"]] == [
        "dynamodb:platform",
        "dynamodb:maestro-registry",
        "dynamodb:maestro-ab",
        "dynamodb:maestro-sla",
        "dynamodb:maestro-audit",
        "s3:artifacts",
        "events:maestro",
        "s3:maestro-audit-archive",
        "kms:alias/maestro-audit",
    ]


def test_health_is_503_and_names_the_missing_dependency(every_store: None) -> None:
    boto3.client("s3").delete_bucket(Bucket="artifacts")
    status, body = call("health", http_event("GET", "/health"))
    assert status == 503
    assert body["status"] == "degraded" and body["live"] is True and body["ready"] is False
    failing = [c for c in body["checks"] if not c["ok"]]
    assert [c["name"] for c in failing] == ["s3:artifacts"]
    assert failing[0]["error"].startswith("404")


def test_whoami_403_publishes_access_denied(bus_queue: str) -> None:
    claims = {"sub": "bob", "custom:tenant": "acme", "cognito:groups": "[marketing]"}
    status, body = call("whoami", http_event("GET", "/whoami", claims=claims, request_id="req-403"))
    assert status == 403 and body["correlation_id"] == "req-403"
    (event,) = drain(bus_queue)
    assert event["detail-type"] == "AccessDenied" and event["detail"]["roles"] == ["marketing"]


def test_access_denied_still_403_when_the_bus_is_unreachable(aws: None) -> None:
    # No bus exists: publishing fails, the caller still gets its 403.
    claims = {"sub": "bob", "custom:tenant": "acme", "cognito:groups": "[]"}
    status, body = call("whoami", http_event("GET", "/whoami", claims=claims))
    assert status == 403 and body["error"]["permission"] == "platform:whoami"


def test_a_bug_gives_500_with_a_correlation_id_and_no_trace(aws: None) -> None:
    app = create_app("platform", admission=admit)

    @app.get("/explode", **requires(Permission.PLATFORM_WHOAMI))
    def explode() -> dict:
        raise KeyError("secret internals /opt/python/thing.py line 3")

    response = app.resolve(http_event("GET", "/explode", claims=VIEWER, request_id="req-500"), Context())
    assert response["statusCode"] == 500
    body = json.loads(response["body"])
    assert body == {
        "error": {
            "code": "INTERNAL_ERROR",
            "message": "internal error; quote the correlation id when reporting it",
        },
        "correlation_id": "req-500",
    }
    assert "secret" not in response["body"] and "Traceback" not in response["body"]
    assert response["headers"]["X-Correlation-Id"] == "req-500"


@pytest.mark.parametrize("body", ['{"permissions": "registry:read"}', '{"permissions": []}'])
def test_whoami_check_validates_its_body(aws: None, body: str) -> None:
    status, reply = call("whoami", http_event("POST", "/whoami/check", claims=VIEWER, body=body))
    assert status == 422
    assert reply["error"]["fields"][0]["field"] == "body.permissions"


def test_health_is_503_when_the_audit_signing_key_is_disabled(every_store: None) -> None:
    kms = boto3.client("kms")
    kms.disable_key(KeyId=kms.describe_key(KeyId="alias/maestro-audit")["KeyMetadata"]["KeyId"])
    status, body = call("health", http_event("GET", "/health"))
    failing = [c for c in body["checks"] if not c["ok"]]
    assert status == 503 and [c["name"] for c in failing] == ["kms:alias/maestro-audit"]
    assert "Disabled" in failing[0]["error"]


def test_a_caller_without_the_permission_gets_403_even_for_a_malformed_body(bus_queue: str) -> None:
    claims = {"sub": "vic", "custom:tenant": "acme", "cognito:groups": "[viewer]"}
    event = http_event("POST", "/sla/slos", claims=claims, body="{not json", request_id="req-b")
    status, body = call("sla", event)
    assert status == 403 and body["error"]["permission"] == "sla:write" and body["correlation_id"] == "req-b"
    (denied,) = drain(bus_queue)
    assert denied["detail-type"] == "AccessDenied" and denied["detail"]["route_key"] == "POST /sla/slos"
    engineer = {"sub": "eve", "custom:tenant": "acme", "cognito:groups": "[ml-engineer]"}
    status, body = call("sla", http_event("POST", "/sla/slos", claims=engineer, body="{not json"))
    assert status == 422 and body["error"]["fields"][0]["field"] == "body"


def test_when_the_tenants_records_do_not_answer_the_caller_gets_503_with_an_id(aws: None) -> None:
    boto3.client("dynamodb").delete_table(TableName="platform")  # admission cannot read the tenant
    status, body = call("whoami", http_event("GET", "/whoami", claims=VIEWER, request_id="req-503"))
    assert status == 503 and body["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
    assert body["correlation_id"] == "req-503" and "Traceback" not in json.dumps(body)
