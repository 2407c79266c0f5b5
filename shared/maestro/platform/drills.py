"""Restore drills for the platform's operators: start one (the drill state machine runs it; its execution's
name is the drill's id), read a report, list them. Must never start a drill without a report to show for it:
the report exists from the drill's first step, and a drill that fails to start says so."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.errors import DependencyUnavailable
from maestro.core.settings import get_settings
from maestro.platform.drill_store import DrillStore

HIDDEN = ("restore_started",)


@dataclass
class Drills:
    auth: AuthContext

    @property
    def store(self) -> DrillStore:
        settings = get_settings()
        return DrillStore(settings.platform_table, settings.platform_tenant)

    def start(self) -> dict[str, Any]:
        drill_id = f"drill-{uuid.uuid4().hex[:12]}"
        drill = {
            "drill_id": drill_id,
            "status": "STARTING",
            "stage": "starting",
            "requested_by": self.auth.principal,
            "started_at": datetime.now(UTC).isoformat(),
            "tables": {},
        }
        self.store.put(drill)
        try:
            workflows.start(
                get_settings().drill_state_machine_arn,
                drill_id,
                {"drill": {"requested_by": self.auth.principal}},
            )
        except Exception as exc:
            failed = {"error": "StartFailed", "reason": "its workflow could not be started"}
            self.store.put(drill | {"status": "FAILED", "stage": "failed", "error": failed})
            raise DependencyUnavailable("the drill's workflow could not be started; start it again") from exc
        return {"drill_id": drill_id, "status": "STARTING", "report": f"/platform/drills/{drill_id}"}

    def get(self, drill_id: str) -> dict[str, Any]:
        return self.shown(self.store.get(drill_id))

    def list(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        found, next_key = self.store.page(limit, cursor)
        return [self.shown(d) for d in found], next_key

    @staticmethod
    def shown(drill: dict[str, Any]) -> dict[str, Any]:
        """The report; each table's per-tenant digests are summed up (they are many, and say little)."""
        tables = {
            field: {
                "source": t["source"],
                "tenants": len(t.get("tenants") or {}),
                "items": sum(v["items"] for v in (t.get("tenants") or {}).values()),
            }
            for field, t in (drill.get("tables") or {}).items()
        }
        return {k: v for k, v in drill.items() if k not in HIDDEN} | {"tables": tables}
