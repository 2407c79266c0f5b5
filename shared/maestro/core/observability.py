"""Logger, Metrics and Tracer (Powertools) and the one decorator every Lambda entry point wears.
Must never log a token or a request body: only ids, routes and outcomes."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from functools import cache, wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from maestro.core import outcomes
from maestro.core.aws import platform_access as _platform_access

# A request that records no business metric is normal; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], Any]


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true")


@cache
def tracer() -> Any:
    """Powertools' Tracer imports the X-Ray SDK and patches botocore (~0.3 s); it is created at the first
    invocation that traces, not at import, so module import stays fast and untraced runs never pay it."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def lambda_entry(
    correlation_id_path: str | None = correlation_paths.API_GATEWAY_HTTP, *, platform_access: bool = False
) -> Callable[[Handler], Handler]:
    """Log context with a correlation id (the API Gateway request id by default), EMF metrics, X-Ray
    subsegments annotated with the same correlation id, and the invocation's outcome for the SLA checks and
    metering. platform_access: the function works across tenants (schedules, queues, administration) and
    keeps its own credentials; every other function reaches tenant data through tenant sessions."""

    def decorate(handler: Handler) -> Handler:
        def annotated(event: dict[str, Any], context: Any) -> Any:
            if tracing_enabled():
                correlation_id = logger.thread_safe_get_current_keys().get("correlation_id")
                tracer().put_annotation(key="correlation_id", value=correlation_id or "")
            return handler(event, context)

        observed = metrics.log_metrics(annotated)
        wrapped: Handler | None = None
        cold = True

        @wraps(handler)
        def entry(event: dict[str, Any], context: Any) -> Any:
            nonlocal wrapped, cold
            if wrapped is None:  # first invocation: build the chain once
                wrapped = tracer().capture_lambda_handler(observed) if tracing_enabled() else observed
            # The invocation's log keys live in this thread's context, not on the process-wide logger: the
            # local runtime hosts every function in one process, and each line must name its own function.
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(**invocation_keys(event, context, correlation_id_path, cold))
            cold = False
            started = time.perf_counter()
            attribution = outcomes.begin()
            try:
                with _platform_access() if platform_access else nullcontext():
                    result = wrapped(event, context)
            except BaseException:
                outcomes.record(context, started, 500)
                raise
            else:
                outcomes.record(context, started, outcomes.status_of(result))
            finally:
                outcomes.end(attribution)
                logger.thread_safe_clear_keys()
            return result

        return entry

    return decorate


def invocation_keys(
    event: Any, context: Any, correlation_id_path: str | None, cold_start: bool
) -> dict[str, Any]:
    """What every log line of one invocation carries: its function's service name (maestro:<function>, as
    its outcome lines say), the function and request, and the correlation id."""
    function_name = getattr(context, "function_name", None)
    correlation_id = None
    if correlation_id_path and isinstance(event, dict):
        from aws_lambda_powertools.utilities import jmespath_utils

        correlation_id = jmespath_utils.query(envelope=correlation_id_path, data=event)
    return {
        "service": outcomes.service_name(function_name) if function_name else None,
        "cold_start": cold_start,
        "function_name": function_name,
        "function_memory_size": getattr(context, "memory_limit_in_mb", None),
        "function_arn": getattr(context, "invoked_function_arn", None),
        "function_request_id": getattr(context, "aws_request_id", None),
        "correlation_id": correlation_id,
    }
