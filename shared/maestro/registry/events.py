"""Registry events on the `maestro` bus (source maestro.registry). Must never fail a committed write:
a publish failure is logged and counted; the write already stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.events import DomainEvent, publish
from maestro.core.observability import logger, metrics


@dataclass
class RegistryEvents:
    auth: AuthContext
    correlation_id: str | None

    def emit(self, detail_type: str, **detail: Any) -> None:
        event = DomainEvent(
            "registry",
            detail_type,
            self.auth.tenant,
            detail,
            principal=self.auth.principal,
            correlation_id=self.correlation_id,
        )
        try:
            publish(event)
        except Exception:  # noqa: BLE001 - the change is committed; losing its event is logged and counted
            logger.exception("could not publish %s", detail_type, extra={"event_id": event.event_id})
            metrics.add_metric(name="EventPublishFailures", unit="Count", value=1)
