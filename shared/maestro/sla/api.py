"""What the SLA functions share on the HTTP side: the per-request service, built for the caller's tenant.
Must never build a service without the caller's verified tenant."""

from __future__ import annotations

from maestro.core.api import MaestroResolver, current_auth
from maestro.core.settings import get_settings
from maestro.sla.service import SlaService
from maestro.sla.store import SlaStore


def service(app: MaestroResolver) -> SlaService:
    auth = current_auth(app)
    return SlaService(SlaStore(get_settings().sla_table, auth.tenant), auth, app.request_id)
