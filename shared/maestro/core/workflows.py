"""What a Step Functions Catch hands a workflow's fail step, turned into the reason a failed job shows.
Must never let a stack trace through: only the error's type and message reach the user."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any


def failure_reason(error: dict[str, Any], plain: Collection[str] = ()) -> dict[str, str]:
    """Step Functions' {Error, Cause}: for a Lambda error the cause is the function's error JSON. Errors named
    in `plain` carry a message meant for the user as it is; others are prefixed with their type."""
    name, cause = str(error.get("Error", "States.Runtime")), error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
        name = parsed.get("errorType", name) if isinstance(parsed, dict) else name
    except (TypeError, ValueError):
        message = cause
    if name not in plain:
        message = f"{name}: {message}" if message else name
    return {"error": name, "reason": str(message)[:2000]}
