"""Audit operations: ingesting records into each tenant's chain (deduplicated, in batches of one
transaction each, with security alerts), posting records through the queue, searching, verifying,
digesting, and the tenant's settings. Must never append a record twice, nor leave a chain half-moved."""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maestro.audit.digests import make_digest
from maestro.audit.gateway import Signer
from maestro.audit.records import Redactor, chained
from maestro.audit.settings import AuditSettings
from maestro.audit.store import MAX_RECORDS_PER_TRANSACTION, AuditStore, ChainMoved
from maestro.audit.verify import verify
from maestro.core.auth import AuthContext
from maestro.core.errors import DependencyUnavailable
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import get_settings

SETTINGS_TTL_S = 30.0
MAX_APPEND_ATTEMPTS = 20
_HEADS: dict[tuple[str, str], tuple[int, str]] = {}  # the chain head this container last wrote
_SETTINGS: dict[tuple[str, str], tuple[float, AuditSettings, str]] = {}
SYSTEM = "maestro-audit"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class AuditService:
    store: AuditStore
    correlation_id: str | None = None

    @property
    def tenant(self) -> str:
        return self.store.tenant

    def emit(self, detail_type: str, by: AuthContext | None = None, **detail: Any) -> None:
        """An event of the audit capability, by the caller when there is one, else by the system."""
        auth = by or AuthContext.of(SYSTEM, self.tenant, frozenset({"service"}))
        publish_safely(DomainEvent.by(auth, "audit", detail_type, detail, self.correlation_id))

    # -- settings -----------------------------------------------------------------------------------------
    def settings(self) -> tuple[AuditSettings, str]:
        """The tenant's settings and masking salt (created at first use), cached for 30 s."""
        key = (self.store.table, self.tenant)
        cached = _SETTINGS.get(key)
        if cached and time.monotonic() - cached[0] < SETTINGS_TTL_S:
            return cached[1], cached[2]
        stored = self.store.settings()
        if "salt" not in stored:
            stored = {**stored, "salt": secrets.token_hex(16)}
            self.store.put_settings(stored)
        settings = AuditSettings.model_validate({k: v for k, v in stored.items() if k != "salt"})
        _SETTINGS[key] = (time.monotonic(), settings, stored["salt"])
        return settings, stored["salt"]

    def redactor(self) -> Redactor:
        settings, salt = self.settings()
        return Redactor(settings.redaction, salt)

    def put_settings(self, settings: AuditSettings, auth: AuthContext) -> None:
        _, salt = self.settings()
        self.store.put_settings({**settings.model_dump(mode="json"), "salt": salt})
        _SETTINGS.pop((self.store.table, self.tenant), None)
        publish_safely(
            DomainEvent.by(
                auth, "audit", "AuditSettingsChanged", {"resource": "audit-settings"}, self.correlation_id
            )
        )

    # -- ingestion ----------------------------------------------------------------------------------------
    def append(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Chain the records in the order given; records already in the chain are skipped."""
        settings, _ = self.settings()
        records = list(records)
        unique: dict[str, dict[str, Any]] = {}
        for record in records:
            unique.setdefault(record["record_id"], record)
        pending = list(unique.values())
        appended: list[dict[str, Any]] = []
        duplicates = len(records) - len(pending)
        key = (self.store.table, self.tenant)
        attempts = 0
        while pending:
            chunk = pending[:MAX_RECORDS_PER_TRANSACTION]
            head_seq, head_hash = _HEADS.get(key) or self.store.head()
            recorded_at, now = now_iso(), int(time.time())
            chain: list[dict[str, Any]] = []
            expires = []
            for record in chunk:
                retain_until = now + 86_400 * getattr(settings.retention_days, record["record_class"])
                link = chained(
                    {**record, "retain_until": retain_until},
                    head_seq + len(chain) + 1,
                    chain[-1]["hash"] if chain else head_hash,
                    recorded_at,
                )
                chain.append(link)
                expires.append(retain_until)
            try:
                already = self.store.append(chain, head_seq, expires)
            except ChainMoved:
                _HEADS.pop(key, None)
                attempts += 1
                if attempts >= MAX_APPEND_ATTEMPTS:
                    raise DependencyUnavailable(
                        "the audit chain stayed contended; the batch will be retried"
                    ) from None
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempts, 6)))  # noqa: S311 - jitter, not security
                continue
            if already:
                duplicates += len(already)
                drop = {chunk[i]["record_id"] for i in already}
                pending = [r for r in pending if r["record_id"] not in drop]
                continue
            _HEADS[key] = (chain[-1]["seq"], chain[-1]["hash"])
            appended += chain
            pending = pending[len(chunk) :]
        self._alerts(appended, settings)
        return {"appended": len(appended), "duplicates": duplicates}

    def _alerts(self, records: list[dict[str, Any]], settings: AuditSettings) -> None:
        window_s = settings.denied_alert.window_minutes * 60
        privileged = [re.compile(p) for p in settings.privileged_actions]
        for record in records:
            if record["outcome"] == "denied" and record["principal"]:
                window = int(time.time()) // window_s * window_s
                count = self.store.count_denied(record["principal"], window, window + 2 * window_s)
                if count == settings.denied_alert.threshold:  # exactly once per window
                    self.emit(  # raised by the trail itself; the principal it is about is its subject
                        "SecurityAlert",
                        kind="repeated_access_denied",
                        subject=record["principal"],
                        count=count,
                        window_minutes=settings.denied_alert.window_minutes,
                        resource=record["resource"],
                    )
            elif any(p.search(record["action"]) for p in privileged) and not record["action"].startswith(
                "audit:SecurityAlert"
            ):
                self.emit(
                    "SecurityAlert",
                    kind="privileged_action",
                    subject=record["principal"],
                    action=record["action"],
                    resource=record["resource"],
                    seq=record["seq"],
                )

    # -- trail operations ---------------------------------------------------------------------------------
    def verify(self) -> dict[str, Any]:
        s = get_settings()
        report = verify(self.store, s.audit_archive_bucket, Signer(s.audit_signing_key))
        return {"tenant": self.tenant, **report}

    def digest(self) -> dict[str, Any] | None:
        s = get_settings()
        return make_digest(self.store, s.audit_archive_bucket, Signer(s.audit_signing_key))
