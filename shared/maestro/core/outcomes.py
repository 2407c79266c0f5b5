"""Every invocation's outcome (which function, when, how long, which status) as one JSON line on the
function's log, where a CloudWatch Logs subscription hands it to the SLA capability: Maestro ML's own
functions are measured like any monitored service, at no cost on the request path.
Must never let recording an outcome fail or slow the invocation it describes."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

OUTCOME_KEY = "maestro_observation"
SERVICE_PREFIX = "maestro:"
FUNCTION_PREFIX_VARIABLE = "MAESTRO_FUNCTION_PREFIX"
# A subscription filter pattern that selects exactly these lines.
FILTER_PATTERN = '{ $.maestro_observation.service = "*" }'

# Who the invocation worked for, when it worked for one tenant: metering counts requests and compute by it.
_attribution: ContextVar[dict[str, str] | None] = ContextVar("maestro_attribution", default=None)

log = logging.getLogger("maestro.outcomes")
if not log.handlers:
    _stdout = logging.StreamHandler(sys.stdout)
    _stdout.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_stdout)
    log.setLevel(logging.INFO)
    log.propagate = False


def service_name(function_name: str) -> str:
    """'maestro:registry' for the function the stack named '<prefix>registry'."""
    return SERVICE_PREFIX + function_name.removeprefix(os.environ.get(FUNCTION_PREFIX_VARIABLE, ""))


def attribute(tenant: str, capability: str, kind: str) -> None:
    """Attribute this invocation to `tenant`'s use of `capability`; kind is "request" (an API request) or
    "job" (a workflow step run for the tenant)."""
    _attribution.set({"tenant": tenant, "capability": capability, "kind": kind})


def begin() -> Any:
    """A new invocation: nothing attributed yet. Returns the token end() takes."""
    return _attribution.set(None)


def end(token: Any) -> None:
    _attribution.reset(token)


def status_of(result: Any) -> int:
    """The HTTP status of an API Gateway proxy result; 200 for any other completed invocation."""
    if isinstance(result, dict) and isinstance(result.get("statusCode"), int):
        return int(result["statusCode"])
    return 200


def record(context: Any, started: float, status: int) -> None:
    try:
        name = getattr(context, "function_name", None)
        if not name:
            return
        outcome = {
            "service": service_name(name),
            "timestamp": round(time.time(), 3),
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "status": status,
            **(_attribution.get() or {}),
        }
        # `function_name` rides on the record (not the line) for the local runtime's log subscriptions.
        log.info(json.dumps({OUTCOME_KEY: outcome}, separators=(",", ":")), extra={"function_name": name})
    except Exception:  # noqa: BLE001, S110 - an outcome that cannot be written must not fail the request
        pass
