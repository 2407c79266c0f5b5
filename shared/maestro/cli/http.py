"""What every `maestro <capability>` command shares: an API client that turns a 4xx/5xx into a readable exit,
and the connection options (an explicit URL and token, or the running local platform and a local token)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Collection
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


def follow(
    api: Api,
    path: str,
    line: Callable[[dict[str, Any]], str],
    final: Collection[str],
    interval_s: float,
    out: Any = None,
) -> dict[str, Any]:
    """Polls `path` until its status is final, redrawing one progress line (a plain line per change when
    not a tty); the last reply."""
    out = out or sys.stderr
    last = ""
    while True:
        found: dict[str, Any] = api.call("GET", path)
        current = line(found)
        if current != last:
            out.write(("\r" + current) if out.isatty() else current + "\n")
            out.flush()
            last = current
        if found["status"] in final:
            if out.isatty():
                out.write("\n")
            return found
        time.sleep(interval_s)
