"""What other capabilities may ask of training (never its stores): the job spec's type, submitting a job as
a caller would through the API (same checks, same quota, same events), and a job's status."""

from __future__ import annotations

from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import NotFound
from maestro.core.settings import get_settings
from maestro.training.spec import TrainingJobRequest
from maestro.training.store import LIVE

__all__ = ["LIVE", "TrainingJobRequest", "job_status", "submit_job"]


def submit_job(auth: AuthContext, request: TrainingJobRequest, correlation_id: str | None) -> dict[str, Any]:
    from maestro.training.service import TrainingService  # deferred: readers need none of the services
    from maestro.training.store import TrainingStore

    settings = get_settings()
    return TrainingService(
        TrainingStore(settings.training_table, auth.tenant), auth, settings, correlation_id
    ).submit(request)


def job_status(tenant: str, job_id: str) -> str | None:
    """SUBMITTED, RUNNING, SUCCEEDED, FAILED or STOPPED; None when there is no such job."""
    from maestro.training.store import TrainingStore

    try:
        return str(TrainingStore(get_settings().training_table, tenant).get(job_id)["status"])
    except NotFound:
        return None
