"""What every `maestro <capability>` command shares: an API client that turns a 4xx/5xx into a readable exit,
and the connection options (an explicit URL and token, or the running local platform and a local token)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import requests


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.headers = url.rstrip("/"), {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, self.url + path, headers=self.headers, timeout=120, **kwargs)
        if not response.ok:
            try:
                error = response.json().get("error", response.json())
            except ValueError:
                error = response.text
            raise SystemExit(f"{method} {path} failed with {response.status_code}: {json.dumps(error)}")
        return response.json()


def connect(
    args: argparse.Namespace, tenant: str | None = None, roles: tuple[str, ...] = ("ml-engineer",)
) -> Api:
    """The API of --url/--token (or MAESTRO_URL/MAESTRO_TOKEN), else the running local platform with a local
    token of `roles` in `tenant` (default --tenant)."""
    url, token = args.url or os.environ.get("MAESTRO_URL"), args.token or os.environ.get("MAESTRO_TOKEN")
    if url and token:
        return Api(url, token)
    from maestro.core.settings import get_settings
    from maestro.local.runtime import DEFAULT_STATE_DIR
    from maestro.local.tokens import LocalTokens, register_tenant

    running = DEFAULT_STATE_DIR / "local" / "running.json"
    if not running.exists():
        raise SystemExit("no --url/--token (or MAESTRO_URL/MAESTRO_TOKEN) and no local platform running")
    settings = get_settings()
    local_url = json.loads(running.read_text())["url"]
    tenant = tenant or args.tenant
    if not token:
        register_tenant(local_url, LocalTokens(running.parent), tenant)
    local_token = LocalTokens(running.parent).issue(
        tenant=tenant,
        roles=list(roles),
        tenant_claim=settings.tenant_claim,
        roles_claim=settings.roles_claim,
    )
    return Api(local_url, token or local_token)


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=None, help="API URL (default: MAESTRO_URL, or the running local platform)"
    )
    common.add_argument("--token", default=None, help="bearer token (default: MAESTRO_TOKEN, or a local one)")
    common.add_argument("--tenant", default="default", help="tenant of the local token")
    return common
