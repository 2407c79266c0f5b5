"""The MLflow tracking and model registry REST API (/api/2.0/mlflow/..., /api/2.0/mlflow-artifacts/...)
and model lineage, on DynamoDB and S3. Must never answer in another shape than MLflow's."""

from __future__ import annotations

from maestro.core.api import create_app
from maestro.core.observability import lambda_entry
from maestro.registry.protocol import MLFLOW_ERROR_SCHEMA, MLFLOW_ERROR_STATUSES, mlflow_error
from maestro.registry.routes import artifacts, experiments, logged_models, models, runs
from maestro.tenants.admission import admit

app = create_app("registry", mlflow_error, MLFLOW_ERROR_SCHEMA, MLFLOW_ERROR_STATUSES, admission=admit)
for routes in (experiments, runs, logged_models, models, artifacts):
    routes.register(app)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
