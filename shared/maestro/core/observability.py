"""Logger, Metrics and Tracer (Powertools) and the one decorator every Lambda entry point wears.
Must never log a token or a request body: only ids, routes and outcomes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

logger = Logger()
metrics = Metrics()
tracer = Tracer()

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_entry(
    correlation_id_path: str | None = correlation_paths.API_GATEWAY_HTTP,
) -> Callable[[Handler], Handler]:
    """Log context with a correlation id (the API Gateway request id by default), traces and EMF metrics."""

    def decorate(handler: Handler) -> Handler:
        wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            tracer.capture_lambda_handler(metrics.log_metrics(handler))
        )
        return wraps(handler)(wrapped)

    return decorate


def correlation_id() -> str | None:
    return logger.get_correlation_id()
