"""The web console in local mode: its built files under /console/ (index.html for any path that names no
file), its config.json (local sign-in), and the local sign-in itself, which mints a token for the tenant,
roles and user chosen, registering the tenant first as `maestro local token` does. Must never serve a file
from outside the built folder, nor mint a token for a role the platform does not know."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro.core.rbac import ROLES
from maestro.core.tenancy import TENANT_ID

DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
PREFIX = "/console"
Reply = tuple[int, list[tuple[str, str]], bytes]
NOT_BUILT = b"""<!doctype html><title>Console not built</title><p>The console is not built: run
<code>make console</code> (npm builds it into shared/maestro/console/dist).</p>"""


class LocalConsole:
    def __init__(self, mint: Callable[[str, list[str], str], str], dist: Path = DIST) -> None:
        self.mint, self.dist = mint, dist.resolve()

    def serve(self, path: str) -> Reply | None:
        """The reply for a GET of `path`, or None when it is not the console's."""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        if path == PREFIX:
            return 308, [("Location", PREFIX + "/")], b""
        relative = path[len(PREFIX) + 1 :]
        if relative == "config.json":
            return 200, [("Content-Type", "application/json")], json.dumps({"mode": "local"}).encode()
        index = self.dist / "index.html"
        if not index.exists():
            return 503, [("Content-Type", "text/html")], NOT_BUILT
        wanted = (self.dist / relative).resolve()
        if relative and wanted.is_file() and wanted.is_relative_to(self.dist):
            kind = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
            cache = "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"
            return 200, [("Content-Type", kind), ("Cache-Control", cache)], wanted.read_bytes()
        return 200, [("Content-Type", "text/html"), ("Cache-Control", "no-cache")], index.read_bytes()

    def sign_in(self, query: dict[str, str]) -> tuple[int, Any]:
        """POST /_local/console/token?tenant=&roles=a,b&subject=: a token for them."""
        tenant, subject = query.get("tenant", ""), query.get("subject") or "console-user"
        roles = [r for r in query.get("roles", "").split(",") if r]
        if not TENANT_ID.fullmatch(tenant):
            return 400, {"message": "tenant: 1-63 of a-z, 0-9 and '-', starting with a letter or digit"}
        unknown = sorted(set(roles) - set(ROLES))
        if not roles or unknown:
            refused = f" (not {', '.join(unknown)})" if unknown else ""
            return 400, {"message": f"roles: choose from {', '.join(ROLES)}{refused}"}
        return 200, {"token": self.mint(tenant, roles, subject)}
