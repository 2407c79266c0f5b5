"""What the registry's HTTP side shares: MLflow's error shape, repeated query parameters, and the per-request
services built from the caller's identity. Must never build a service for a request without an identity."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from maestro.core.api import MaestroResolver, current_auth
from maestro.registry.services import Registry, open_registry

# Our error codes -> MLflow's (databricks.proto ErrorCode) and the status the mlflow client expects.
MLFLOW_ERRORS = {
    "NOT_FOUND": (404, "RESOURCE_DOES_NOT_EXIST"),
    "ROUTE_NOT_FOUND": (404, "ENDPOINT_NOT_FOUND"),
    "CONFLICT": (400, "RESOURCE_ALREADY_EXISTS"),
    "VALIDATION_ERROR": (400, "INVALID_PARAMETER_VALUE"),
    "BAD_REQUEST": (400, "BAD_REQUEST"),
    "UNAUTHORIZED": (401, "UNAUTHENTICATED"),
    "FORBIDDEN": (403, "PERMISSION_DENIED"),
    "TENANT_UNKNOWN": (403, "PERMISSION_DENIED"),
    "TENANT_SUSPENDED": (403, "PERMISSION_DENIED"),
    "TENANT_DELETED": (403, "PERMISSION_DENIED"),
    "PRINCIPAL_REMOVED": (403, "PERMISSION_DENIED"),
    "QUOTA_EXCEEDED": (403, "RESOURCE_LIMIT_EXCEEDED"),
    # the mlflow client retries a 429 with backoff on its own
    "RATE_LIMITED": (429, "REQUEST_LIMIT_EXCEEDED"),
    "PAYLOAD_TOO_LARGE": (413, "INVALID_PARAMETER_VALUE"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "INVALID_PARAMETER_VALUE"),
    "DEPENDENCY_UNAVAILABLE": (503, "TEMPORARILY_UNAVAILABLE"),
    "INTERNAL_ERROR": (500, "INTERNAL_ERROR"),
}


MLFLOW_ERROR_SCHEMA = {
    "title": "MlflowError",
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {
        "error_code": {"type": "string", "description": "databricks.proto ErrorCode"},
        "message": {"type": "string"},
        "maestro_code": {"type": "string", "description": "ours, where MLflow's code is coarser"},
        "correlation_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
}
MLFLOW_ERROR_STATUSES = {
    400: "INVALID_PARAMETER_VALUE (a field failed validation), RESOURCE_ALREADY_EXISTS or BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED or RESOURCE_LIMIT_EXCEEDED",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "Larger than the store takes",
    415: "The body's Content-Type is not application/json",
    429: "REQUEST_LIMIT_EXCEEDED (Retry-After; the mlflow client retries)",
    503: "TEMPORARILY_UNAVAILABLE",
}


def mlflow_error(status: int, code: str, message: str, extra: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    mapped_status, error_code = MLFLOW_ERRORS.get(code, (status, code))
    # Ours where MLflow's is coarser, e.g. TENANT_SUSPENDED behind PERMISSION_DENIED.
    ours = {"maestro_code": code} if code != error_code else {}
    return mapped_status, {"error_code": error_code, "message": message, **ours, **extra}


def query(router: MaestroResolver) -> dict[str, list[str]]:
    """API Gateway joins repeated parameters with commas; the raw query string keeps them apart."""
    return parse_qs(router.current_event.raw_event.get("rawQueryString") or "", keep_blank_values=True)


def first(params: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if params.get(name):
            return params[name][0]
    return None


def services(router: MaestroResolver) -> Registry:
    """The caller's registry, its events correlated with the request."""
    request_id = router.current_event.raw_event.get("requestContext", {}).get("requestId")
    return open_registry(current_auth(router), request_id)
