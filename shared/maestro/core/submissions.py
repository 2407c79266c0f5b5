"""What long-running work submitted through the API (training jobs, sweeps, rollouts) records of itself: who
submitted it (its steps act as them, with the roles and limits they had), when, and the request; and its
items as DynamoDB keeps them and as the API shows them. Must never hold a capability's keys or rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from maestro.core.auth import AuthContext

KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def numbers(value: Any) -> Any:
    """DynamoDB takes numbers as Decimal: metrics, percents and hyperparameters arrive as floats."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers(v) for v in value]
    return value


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its keys, as the API shows it."""
    return {k: v for k, v in item.items() if k not in KEYS}


def identity(auth: AuthContext) -> dict[str, Any]:
    """Who acts, as work done later in their name records them: `submitter` rebuilds them."""
    return {
        "tenant": auth.tenant,
        "principal": auth.principal,
        "roles": sorted(auth.roles),
        "limits": dict(auth.limits),
    }


def submitted(auth: AuthContext, request: dict[str, Any], status: str = "SUBMITTED") -> dict[str, Any]:
    """What a new job, sweep or rollout records of who submitted it and of the request, `status` now."""
    now = now_iso()
    return {
        **identity(auth),
        "status": status,
        "created_at": now,
        "updated_at": now,
        "request": request,
    }


def submitter(item: dict[str, Any]) -> AuthContext:
    """Who submitted it, as `submitted` (or `identity`) recorded them: its steps act as them."""
    roles = frozenset(item.get("roles") or [])
    return replace(
        AuthContext.of(item["principal"], item["tenant"], roles), limits=dict(item.get("limits") or {})
    )
