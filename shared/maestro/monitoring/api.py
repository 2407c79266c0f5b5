"""What the monitoring functions share on the HTTP side: the per-request service, built for the caller's
tenant. Must never build a service without the caller's verified tenant."""

from __future__ import annotations

from maestro.core.api import MaestroResolver, current_auth
from maestro.core.settings import get_settings
from maestro.monitoring.service import MonitoringService
from maestro.monitoring.store import MonitoringStore


def service(app: MaestroResolver) -> MonitoringService:
    auth, settings = current_auth(app), get_settings()
    store = MonitoringStore(settings.monitoring_table, auth.tenant)
    return MonitoringService(store, auth, settings.artifacts_bucket, app.request_id)
