"""What other capabilities may ask of the audit trail; they never import its store: whether one tenant's
trail verifies in a given table (a restore drill verifies the restored copy)."""

from __future__ import annotations

from typing import Any

from maestro.audit.gateway import Signer
from maestro.audit.store import AuditStore
from maestro.audit.verify import verify
from maestro.core.settings import get_settings

__all__ = ["verify_trail"]


def verify_trail(tenant: str, table: str | None = None) -> dict[str, Any]:
    """The verification report of `tenant`'s trail as kept in `table` (default: the audit table), against
    the archive and the signing key, as GET /audit/verify gives it."""
    settings = get_settings()
    store = AuditStore(table or settings.audit_table, tenant)
    return verify(store, settings.audit_archive_bucket, Signer(settings.audit_signing_key))
