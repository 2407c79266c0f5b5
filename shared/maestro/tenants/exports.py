"""Tenant exports for the platform's operators: start one (a workflow copies the tenant's items and objects
into tenants/<t>/exports/<id>/ and writes its manifest last), follow it, list a tenant's exports. Every start
is an event in the operator's trail. Must never start a second export of a tenant while one runs, nor show
RUNNING for an export whose workflow ended without recording it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, DependencyUnavailable, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.object_store import Objects
from maestro.core.settings import Settings
from maestro.core.submissions import now_iso
from maestro.tenants.export import new_export_id
from maestro.tenants.export_store import ExportStore
from maestro.tenants.store import TenantStore

EXPORTABLE = ("active", "suspended")
MANIFEST_URL_SECONDS = 3600


@dataclass
class TenantExports:
    settings: Settings
    auth: AuthContext
    correlation_id: str | None = None

    @property
    def records(self) -> ExportStore:
        return ExportStore(self.settings.platform_table, self.settings.platform_tenant)

    def start(self, tenant_id: str) -> dict[str, Any]:
        if tenant_id == self.settings.platform_tenant:
            raise ValidationError(
                "tenant_id", "the platform's own tenant is not exported; back up the tables"
            )
        profile = TenantStore(self.settings.platform_table, tenant_id).require_profile()
        if profile["status"] not in EXPORTABLE:
            raise Conflict(f"tenant {tenant_id!r} is {profile['status']}: it has no data to export")
        running, _ = self.records.page(tenant_id, 5, None, status="RUNNING")
        for export in running:
            if self._reconciled(export)["status"] == "RUNNING":
                raise Conflict(
                    f"export {export['export_id']} of tenant {tenant_id!r} is running; wait for it",
                    details={"export_id": export["export_id"]},
                )
        export_id = new_export_id()
        record = {
            "tenant": tenant_id,
            "export_id": export_id,
            "status": "RUNNING",
            "stage": "starting",
            "requested_by": self.auth.principal,
            "requested_at": now_iso(),
        }
        self.records.put(record)
        try:
            arn = workflows.start(
                self.settings.tenants_export_state_machine_arn,
                export_id,
                {
                    "export": {
                        "tenant": tenant_id,
                        "export_id": export_id,
                        "requested_by": self.auth.principal,
                    }
                },
            )
        except Exception as exc:
            self.records.put(record | {"status": "FAILED", "stage": "failed", "error": {"reason": str(exc)}})
            raise DependencyUnavailable("the export could not start; send the request again") from exc
        record["execution_arn"] = arn
        self.records.set(tenant_id, export_id, "execution_arn", arn)  # its steps may have recorded progress
        publish_safely(
            DomainEvent.by(
                self.auth,
                "tenants",
                "TenantExportRequested",
                {"tenant_id": tenant_id, "export_id": export_id},
                self.correlation_id,
            )
        )
        return record

    def get(self, tenant_id: str, export_id: str) -> dict[str, Any]:
        export = self._reconciled(self.records.get(tenant_id, export_id))
        if export["status"] == "COMPLETED":
            bucket, key = export["manifest"].removeprefix("s3://").split("/", 1)
            export["manifest_url"] = Objects.platform(bucket).presigned_get(key, MANIFEST_URL_SECONDS)
        return export

    def list(
        self, tenant_id: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        exports, following = self.records.page(tenant_id, limit, cursor)
        return [self._reconciled(e) for e in exports], following

    def _reconciled(self, export: dict[str, Any]) -> dict[str, Any]:
        """An export whose workflow ended outside its steps (stopped, timed out) is FAILED, not RUNNING."""
        if export["status"] != "RUNNING" or not export.get("execution_arn"):
            return export
        error = workflows.failure(export["execution_arn"])
        if error is None:
            return export
        ended = export | {"status": "FAILED", "stage": "failed", "error": error, "ended_at": now_iso()}
        self.records.put(ended)
        return ended
