"""Publishing domain events to the `maestro` EventBridge bus: every mutation emits one.
Must never drop an event silently: entries PutEvents rejects are retried, then raised."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.event_gateway import EventPublishError, put_entries
from maestro.core.settings import get_settings

MAX_ENTRIES_PER_CALL = 10  # PutEvents limit
MAX_ENTRY_BYTES = 256 * 1024  # PutEvents limit for one entry (detail + source + detail-type + ...)
__all__ = ["DomainEvent", "EventPublishError", "EventPublisher", "publish", "publish_safely"]
ENVELOPE = frozenset({"event_id", "tenant", "principal", "correlation_id", "roles"})


@dataclass(frozen=True)
class DomainEvent:
    """source is 'maestro.<capability>'; detail_type names what happened, e.g. 'ModelVersionCreated'."""

    capability: str
    detail_type: str
    tenant: str
    detail: dict[str, Any]
    principal: str | None = None
    correlation_id: str | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    roles: tuple[str, ...] = ()

    @classmethod
    def by(
        cls,
        auth: AuthContext,
        capability: str,
        detail_type: str,
        detail: dict[str, Any],
        correlation_id: str | None = None,
    ) -> DomainEvent:
        """An event of what `auth`'s caller did: tenant, principal and roles from the verified identity."""
        return cls(
            capability,
            detail_type,
            auth.tenant,
            detail,
            principal=auth.principal,
            correlation_id=correlation_id,
            roles=tuple(sorted(auth.roles)),
        )

    @property
    def source(self) -> str:
        return f"maestro.{self.capability}"

    def to_entry(self, bus: str) -> dict[str, Any]:
        clashes = ENVELOPE & set(self.detail)
        if clashes:  # the detail would silently overwrite who acted, for whom, in which request
            raise ValueError(f"event {self.detail_type} detail uses the envelope's keys {sorted(clashes)}")
        body = {
            "event_id": self.event_id,
            "tenant": self.tenant,
            "principal": self.principal,
            "correlation_id": self.correlation_id,
            "roles": list(self.roles),
            **self.detail,
        }
        detail = json.dumps(body, default=str, separators=(",", ":"))
        if len(detail.encode()) > MAX_ENTRY_BYTES - 1024:
            raise ValueError(f"event {self.detail_type} detail exceeds EventBridge's 256 KB entry limit")
        return {
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": detail,
            "EventBusName": bus,
            "Time": self.time,
        }


class EventPublisher:
    def __init__(self, bus: str | None = None, max_attempts: int = 4, base_delay: float = 0.05) -> None:
        self.bus = bus or get_settings().event_bus_name
        self.max_attempts = max_attempts
        self.base_delay = base_delay

    def publish(self, events: Iterable[DomainEvent]) -> int:
        entries = [e.to_entry(self.bus) for e in events]
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            put_entries(entries[start : start + MAX_ENTRIES_PER_CALL], self.max_attempts, self.base_delay)
        return len(entries)


def publish(*events: DomainEvent) -> int:
    return EventPublisher().publish(events)


def publish_safely(event: DomainEvent) -> bool:
    """For changes already committed: a publish failure is logged and counted, never raised (the change
    stands; the missing event shows in the EventPublishFailures metric)."""
    from maestro.core.observability import logger, metrics

    try:
        publish(event)
        return True
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("could not publish %s", event.detail_type, extra={"event_id": event.event_id})
        metrics.add_metric(name="EventPublishFailures", unit="Count", value=1)
        return False
