"""Registry events on the `maestro` bus (source maestro.registry). Must never fail a committed write:
a publish failure is logged and counted; the write already stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.events import DomainEvent, publish_safely


@dataclass
class RegistryEvents:
    auth: AuthContext
    correlation_id: str | None

    def emit(self, detail_type: str, **detail: Any) -> None:
        publish_safely(DomainEvent.by(self.auth, "registry", detail_type, detail, self.correlation_id))
