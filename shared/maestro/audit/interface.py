"""What other capabilities may ask of the audit trail; they never import its store: whether one tenant's
trail verifies in a given table (a restore drill verifies the restored copy), and the records of some kinds of
action, oldest first (the insights backfill replays who promoted what, explanations and A/B tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from maestro.audit.gateway import Signer
from maestro.audit.store import AuditStore
from maestro.audit.verify import verify
from maestro.core.settings import get_settings

__all__ = ["records_of", "verify_trail"]


def verify_trail(tenant: str, table: str | None = None) -> dict[str, Any]:
    """The verification report of `tenant`'s trail as kept in `table` (default: the audit table), against
    the archive and the signing key, as GET /audit/verify gives it."""
    settings = get_settings()
    store = AuditStore(table or settings.audit_table, tenant)
    return verify(store, settings.audit_archive_bucket, Signer(settings.audit_signing_key))


def records_of(tenant: str, *actions: str) -> Iterator[dict[str, Any]]:
    """`tenant`'s records of these actions ("<capability>:<detail type>", as recorded from the bus), in the
    trail's order: action, principal, occurred_at (the event's time) and the event's detail among their
    fields."""
    wanted = set(actions)
    for item in AuditStore(get_settings().audit_table, tenant).records():
        if item.get("action") in wanted:
            yield {"action": item["action"]} | json.loads(item["record"])
