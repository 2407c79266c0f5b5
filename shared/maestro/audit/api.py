"""What the audit function shares on the HTTP side: the service for the caller's tenant, and the request
models. Must never let a caller search, verify or report on another tenant's trail."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maestro.audit.records import PostedRecord
from maestro.audit.service import AuditService
from maestro.audit.store import AuditStore
from maestro.core.api import MaestroResolver, current_auth
from maestro.core.fields import Moment
from maestro.core.settings import get_settings

MAX_POSTED = 500


def service(app: MaestroResolver) -> AuditService:
    return AuditService(AuditStore(get_settings().audit_table, current_auth(app).tenant), app.request_id)


class PostedRecords(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[PostedRecord] = Field(min_length=1, max_length=MAX_POSTED)


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["gdpr", "soc2", "hipaa"]
    start: Moment | None = Field(None, description="default: 30 days ago")
    end: Moment | None = Field(None, description="default: now")
    subject: str | None = Field(None, min_length=1, max_length=256, description="GDPR: the data subject's id")
