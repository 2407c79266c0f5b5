"""The whole platform as `make serve` runs it, over real HTTP: authentication, authorization, validation,
health and identity, the OpenAPI document, and AccessDenied events on the bus."""

from __future__ import annotations

import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import REPO, RunningPlatform, start_platform, wait_for


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> RunningPlatform:
    running = start_platform(tmp_path_factory.mktemp("platform-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def access_denied_queue(platform: RunningPlatform) -> str:
    """Every AccessDenied event on the `maestro` bus lands in this queue."""
    return platform.tap(
        "test-access-denied", {"source": [{"prefix": "maestro."}], "detail-type": ["AccessDenied"]}
    )


def get(platform: RunningPlatform, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{platform.url}{path}", headers=headers, timeout=10)


def test_health_is_public_and_proves_the_stores_are_reachable(platform: RunningPlatform) -> None:
    response = get(platform, "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["live"] and body["ready"]
    names = [c["name"].split(":")[0] for c in body["checks"]]
    # every capability's table, artifacts, the bus, the audit archive, queue and signing key
    assert names == ["dynamodb"] * 5 + ["s3", "events", "s3", "sqs", "kms"]
    assert all(c["ok"] and c["error"] is None for c in body["checks"])


def test_no_token_gives_401(platform: RunningPlatform) -> None:
    response = get(platform, "/whoami")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_token_from_another_key_or_expired_gives_401(platform: RunningPlatform) -> None:
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": "https://maestro.local/issuer",
        "aud": "maestro-local",
        "sub": "mallory",
        "iat": now,
        "exp": now + 600,
        "custom:tenant": "acme",
        "cognito:groups": ["admin"],
    }
    forged = jwt.encode(claims, foreign_key, algorithm="RS256")
    assert get(platform, "/whoami", forged).status_code == 401
    assert get(platform, "/whoami", "not-a-jwt").status_code == 401


def test_whoami_returns_the_callers_identity_and_permissions(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["auditor"], subject="alice")
    response = get(platform, "/whoami", token)
    assert response.status_code == 200
    body = response.json()
    assert body["principal"] == "alice"
    assert body["tenant"] == "acme"
    assert body["roles"] == ["auditor"]
    assert "audit:verify" in body["permissions"] and "registry:write" not in body["permissions"]


def test_token_without_the_permission_gives_403_and_an_access_denied_event(
    platform: RunningPlatform, access_denied_queue: str
) -> None:
    # Given a signed-in caller whose identity-provider groups grant no Maestro ML permission
    token = platform.token("acme", ["marketing"], subject="bob")
    # When it calls a route that needs platform:whoami
    response = get(platform, "/whoami", token)
    # Then the reply is a 403 naming the missing permission
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN" and error["permission"] == "platform:whoami"
    assert response.json()["correlation_id"]
    # And an AccessDenied event with who, what and where reaches the bus
    sqs = platform.aws("sqs")
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=access_denied_queue, WaitTimeSeconds=1).get("Messages")
    )
    event = json.loads(messages[0]["Body"])
    assert event["source"] == "maestro.platform" and event["detail-type"] == "AccessDenied"
    assert event["detail"]["tenant"] == "acme" and event["detail"]["principal"] == "bob"
    assert event["detail"]["permission"] == "platform:whoami"
    assert event["detail"]["route_key"] == "GET /whoami"
    assert event["detail"]["correlation_id"] == response.json()["correlation_id"]


def test_malformed_body_gives_422_naming_the_field(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["viewer"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{platform.url}/whoami/check"
    missing = requests.post(url, headers=headers, data=json.dumps({"perms": ["registry:read"]}), timeout=10)
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == [{"field": "body.permissions", "reason": "Field required"}]
    unknown = requests.post(
        url, headers=headers, data=json.dumps({"permissions": ["registry:read", "x:y"]}), timeout=10
    )
    assert unknown.status_code == 422
    (field,) = unknown.json()["error"]["fields"]
    assert field["field"] == "body.permissions.1" and "registry:read" in field["reason"]
    not_json = requests.post(url, headers=headers, data="{", timeout=10)
    assert not_json.status_code == 422
    assert not_json.json()["error"]["fields"] == [{"field": "body", "reason": "invalid JSON at character 1"}]


def test_permission_check_answers_for_the_caller(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["viewer"])
    response = requests.post(
        f"{platform.url}/whoami/check",
        headers={"Authorization": f"Bearer {token}"},
        json={"permissions": ["registry:read", "registry:write"]},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json() == {"granted": ["registry:read"], "denied": ["registry:write"]}


def test_openapi_document_is_served_and_matches_the_generated_file(platform: RunningPlatform) -> None:
    response = get(platform, "/openapi.json")
    assert response.status_code == 200
    committed = json.loads((REPO / "functions" / "openapi" / "openapi.json").read_text())
    assert response.json() == committed
    assert {"/health", "/openapi.json", "/whoami", "/whoami/check"} <= set(committed["paths"])
    assert "/api/2.0/mlflow/runs/log-batch" in committed["paths"]


def test_unknown_route_gives_404(platform: RunningPlatform) -> None:
    response = get(platform, "/no/such/route", platform.admin_token)
    assert response.status_code == 404
