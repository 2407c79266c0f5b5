"""The daily retraining of every tenant's success forecast (an EventBridge schedule): each is learned again
on its tenant's finished projects and registered as a new version."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.insights.schedule import retrain_all


@lambda_entry(correlation_id_path="id")
def handler(event, context):
    return retrain_all()
