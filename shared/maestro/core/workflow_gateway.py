"""The platform's workflows on Step Functions (explanation jobs, tenant deletions, and those to come): the
gateway that starts, reads and stops their executions (the only caller of Step Functions for domain code),
and what a Catch hands a workflow's fail step, turned into the reason a failed job shows. Must never start a
second execution under a name that already has one, nor let a stack trace through to a user."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from maestro.core.aws import client


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


ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")


def execution_arn(machine_arn: str, name: str) -> str:
    return machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def start(machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    """The execution's ARN. Execution names are idempotency keys: a name that already ran or runs gives the
    existing execution's ARN, and nothing is started again. Any other failure is raised."""
    try:
        started = client("stepfunctions").start_execution(
            stateMachineArn=machine_arn, name=name, input=json.dumps(payload)
        )
    except Exception as exc:
        if "ExecutionAlreadyExists" not in str(exc):
            raise
        return execution_arn(machine_arn, name)
    return str(started["executionArn"])


def failure(arn: str) -> dict[str, str] | None:
    """How an execution ended badly ({error: ExecutionFailed | ExecutionTimedOut | ExecutionAborted, reason})
    if it did; None while it runs, once it succeeded, or when its status cannot be read now."""
    try:
        execution = client("stepfunctions").describe_execution(executionArn=arn)
    except Exception:  # noqa: BLE001 - callers show what they have without the execution's status
        return None
    if execution["status"] not in ENDED_BADLY:
        return None
    reason = execution.get("cause") or execution.get("error") or f"its workflow ended {execution['status']}"
    return {"error": f"Execution{execution['status'].title().replace('_', '')}", "reason": str(reason)[:2000]}


def stop(arn: str, cause: str) -> bool:
    """Whether an execution was stopped (False: there is none under that ARN)."""
    try:
        client("stepfunctions").stop_execution(executionArn=arn, cause=cause)
    except Exception as exc:
        if "ExecutionDoesNotExist" in str(exc):
            return False
        raise
    return True
