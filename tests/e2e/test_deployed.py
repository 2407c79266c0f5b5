"""The same HTTP checks against a deployed stack (or LocalStack): opt-in, since it needs an endpoint.

Set MAESTRO_E2E_URL to the stack's ApiUrl output and MAESTRO_E2E_TOKEN to an ID token of a user in a tenant
(e.g. from `aws cognito-idp initiate-auth`); MAESTRO_E2E_NO_ROLE_TOKEN optionally to a token whose groups
grant nothing."""

from __future__ import annotations

import os

import pytest
import requests

URL = os.environ.get("MAESTRO_E2E_URL", "").rstrip("/")
TOKEN = os.environ.get("MAESTRO_E2E_TOKEN", "")
NO_ROLE_TOKEN = os.environ.get("MAESTRO_E2E_NO_ROLE_TOKEN", "")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not URL, reason="MAESTRO_E2E_URL is not set: no deployed stack or LocalStack to test"),
]


def test_health_answers_ready() -> None:
    response = requests.get(f"{URL}/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["ready"] is True


def test_api_gateway_rejects_a_missing_token() -> None:
    assert requests.get(f"{URL}/whoami", timeout=30).status_code == 401


@pytest.mark.skipif(not TOKEN, reason="MAESTRO_E2E_TOKEN is not set")
def test_whoami_reads_the_verified_claims() -> None:
    response = requests.get(f"{URL}/whoami", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["tenant"]


@pytest.mark.skipif(not NO_ROLE_TOKEN, reason="MAESTRO_E2E_NO_ROLE_TOKEN is not set")
def test_a_caller_without_the_permission_gets_403() -> None:
    response = requests.get(f"{URL}/whoami", headers={"Authorization": f"Bearer {NO_ROLE_TOKEN}"}, timeout=30)
    assert response.status_code == 403
    assert response.json()["error"]["permission"] == "platform:whoami"
