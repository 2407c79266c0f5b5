"""Audit records: who (principal, tenant, roles), what (action, resource), when, from where (source, request
id), the outcome, and a redacted view of the event's detail; built from a bus event or posted by a trusted
caller. Their canonical JSON is what the hash chain commits to.
Must never keep an unredacted value of a field the tenant's rules mark as sensitive."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maestro.core.events import ENVELOPE

Outcome = Literal["success", "denied", "failure"]
RecordClass = Literal["change", "access", "security", "job"]
RESOURCE_KEYS = ("resource", "experiment_id", "slo_id", "run_id", "job_id", "model_id", "name")
SECURITY_ACTIONS = ("AccessDenied", "SecurityAlert", "AuditChainBroken", "RoleGranted", "RoleRevoked")
GENESIS = "0" * 64
# An email address, matched in linear time: it may start only where a run of local-part characters starts,
# and every part is bounded. (`[...]+@...` backtracks quadratically: 0.3 s on 20 KB, minutes on 1 MB.)
EMAIL = (
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)


class RedactionRules(BaseModel):
    """Keys whose values are masked wherever they appear (case-insensitive regular expressions), and value
    patterns masked in any string. A masked value is `pii:` + a keyed digest, so the same value always
    masks the same way (a data subject's records can still be found) but cannot be read back."""

    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(
        default_factory=lambda: ["email", "phone", "ssn", "password", "secret", "token", "address", "birth"],
        max_length=100,
    )
    values: list[str] = Field(default_factory=lambda: [EMAIL], max_length=100)

    _compiles = field_validator("keys", "values")(lambda patterns: compiled(patterns))


def compiled(patterns: list[str]) -> list[str]:
    """Refuse what is not a regular expression at the door: at ingestion it would fail every batch."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
    return patterns


def mask(value: str, salt: str) -> str:
    return "pii:" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:16]


class Redactor:
    def __init__(self, rules: RedactionRules, salt: str) -> None:
        self.salt = salt
        self.keys = [re.compile(k, re.IGNORECASE) for k in rules.keys]
        self.values = [re.compile(v) for v in rules.values]

    def __call__(self, value: Any, key: str = "") -> Any:
        if key and any(k.search(key) for k in self.keys) and not isinstance(value, dict | list):
            return mask(str(value), self.salt)
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if isinstance(value, str):
            for pattern in self.values:
                value = pattern.sub(lambda m: mask(m.group(0), self.salt), value)
        return value


class PostedRecord(BaseModel):
    """An audit record a trusted caller reports (e.g. what its own users did with Maestro ML's models)."""

    model_config = ConfigDict(extra="forbid")

    record_id: str | None = Field(None, min_length=1, max_length=128, description="makes a retry count once")
    principal: str = Field(min_length=1, max_length=256, description="who acted")
    roles: list[str] = Field(default_factory=list, max_length=20)
    action: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
    resource: str = Field("", max_length=512)
    outcome: Outcome = "success"
    occurred_at: datetime | None = None
    record_class: RecordClass = "access"
    detail: dict[str, Any] = Field(default_factory=dict)


def _resource(detail_type: str, payload: dict[str, Any]) -> str:
    if detail_type == "AccessDenied":
        return f"{payload.get('method', '')} {payload.get('path', '')}".strip()
    for key in RESOURCE_KEYS:
        if payload.get(key):
            version = payload.get("version")
            return f"{payload[key]}" + (f"@{version}" if version not in (None, "") else "")
    return ""


def _class(detail_type: str) -> RecordClass:
    if detail_type in SECURITY_ACTIONS:
        return "security"
    if detail_type.endswith(("Completed", "Failed", "Analyzed")):
        return "job"
    return "change"


def from_event(event: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    """A bus event (as an EventBridge rule delivers it) as an unchained record."""
    detail = dict(event.get("detail") or {})
    detail_type = event["detail-type"]
    payload = {k: v for k, v in detail.items() if k not in ENVELOPE}
    return {
        "record_id": str(detail.get("event_id") or event["id"]),
        "tenant": detail["tenant"],
        "principal": detail.get("principal") or "",
        "roles": sorted(detail.get("roles") or []),
        "action": f"{event['source'].removeprefix('maestro.')}:{detail_type}",
        "resource": _resource(detail_type, payload),
        "occurred_at": event.get("time") or datetime.now(UTC).isoformat(),
        "source": event["source"],
        "request_id": detail.get("correlation_id") or "",
        "outcome": "denied"
        if detail_type == "AccessDenied"
        else "failure"
        if detail_type.endswith("Failed")
        else "success",
        "record_class": _class(detail_type),
        "detail": redact(payload),
    }


def from_posted(
    posted: PostedRecord, tenant: str, reporter: str, request_id: str, redact: Redactor
) -> dict[str, Any]:
    occurred = (posted.occurred_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "record_id": posted.record_id or f"posted:{digest(posted.model_dump(mode='json'))[:32]}",
        "tenant": tenant,
        "principal": posted.principal,
        "roles": sorted(posted.roles),
        "action": posted.action,
        "resource": posted.resource,
        "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
        "source": f"posted:{reporter}",
        "request_id": request_id,
        "outcome": posted.outcome,
        "record_class": posted.record_class,
        "detail": redact(posted.detail),
    }


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    return hashlib.sha256((value if isinstance(value, str) else canonical(value)).encode()).hexdigest()


def chained(record: dict[str, Any], seq: int, prev_hash: str, recorded_at: str) -> dict[str, Any]:
    """The record at position `seq` of its tenant's chain: it commits to the previous record's hash."""
    body = {**record, "seq": seq, "prev_hash": prev_hash, "recorded_at": recorded_at}
    return {**body, "hash": digest(body)}


def record_hash(record: dict[str, Any]) -> str:
    return digest({k: v for k, v in record.items() if k != "hash"})
