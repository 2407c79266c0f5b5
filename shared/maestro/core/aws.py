"""boto3 clients, created once per process and shared by the stores (the only boto3 users), and the
tenant-scoped clients that reach one tenant's items and objects only. Must never pin an endpoint: boto3
reads AWS_ENDPOINT_URL itself, which is how local mode points at moto.

Isolation in depth (after the AWS SaaS Factory serverless reference): where MAESTRO_TENANT_ROLE_ARN is set,
a tenant's DynamoDB and S3 calls use a session of that role assumed with the session tag tenant=<t>, whose
policy allows only partition keys `<t>#...` (dynamodb:LeadingKeys) and objects under tenants/<t>/. A bug
that builds another tenant's key is then refused by IAM. Background work that spans tenants (schedules,
the audit queue, metering, deletion) declares platform_access and keeps its function role's grants."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from maestro.core.settings import get_settings

# Role chaining (a Lambda role assuming another) caps a session at one hour. A session is renewed once it
# is 15 minutes old, so every URL it presigns can live for PRESIGN_LIMIT_S.
SESSION_SECONDS = 3600
RENEW_AFTER_S = 900
PRESIGN_LIMIT_S = SESSION_SECONDS - RENEW_AFTER_S - 60
TENANT_TAG = "tenant"

_platform_access: ContextVar[bool] = ContextVar("maestro_platform_access", default=False)


def _config() -> Any:
    from botocore.config import Config

    # Standard retry mode: exponential backoff with jitter on throttling and 5xx (AWS SDK default policy).
    return Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    import boto3  # deferred: the import costs ~0.1 s and not every cold start needs AWS

    return boto3.session.Session().client(service, region_name=get_settings().region, config=_config())


@contextmanager
def platform_access() -> Iterator[None]:
    """Within this block tenant_client() gives the function's own clients: for work that spans tenants."""
    token = _platform_access.set(True)
    try:
        yield
    finally:
        _platform_access.reset(token)


def scoped() -> bool:
    """Whether tenant_client() hands out tenant sessions here (a tenant role is configured, and the caller
    is not platform work)."""
    return bool(get_settings().tenant_role_arn) and not _platform_access.get()


def tenant_client(tenant: str, service: str) -> Any:
    """A client for `tenant`'s data: a tenant session's where scoping applies, else the function's own."""
    if not scoped():
        return client(service)
    return _SESSIONS.client(get_settings().tenant_role_arn, tenant, service)


def presign_seconds(wanted: int) -> int:
    """A presigned URL is valid only while the credentials that signed it are: under tenant sessions, at most
    PRESIGN_LIMIT_S (what a session that may be renewed has left)."""
    return min(wanted, PRESIGN_LIMIT_S) if scoped() else wanted


def presign(s3: Any, operation: str, params: dict[str, Any], wanted_s: int) -> str:
    """A presigned URL for `operation` that lives as long as its signature can (presign_seconds)."""
    url: str = s3.generate_presigned_url(operation, Params=params, ExpiresIn=presign_seconds(wanted_s))
    return url


@dataclass
class _Session:
    created: float
    sts: Any  # the STS client it came from: a cleared client cache (new endpoint) makes it stale
    session: Any
    clients: dict[str, Any] = field(default_factory=dict)


class TenantSessions:
    """One assumed session per tenant per process, renewed after RENEW_AFTER_S; clients made from it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def client(self, role_arn: str, tenant: str, service: str) -> Any:
        from maestro.core.tenancy import validate_tenant_id

        validate_tenant_id(tenant)
        sts = client("sts")
        with self._lock:  # boto3 sessions are not safe to build clients from concurrently
            entry = self._sessions.get(tenant)
            if entry is None or entry.sts is not sts or time.monotonic() - entry.created > RENEW_AFTER_S:
                entry = self._sessions[tenant] = self._assume(sts, role_arn, tenant)
            if service not in entry.clients:
                entry.clients[service] = entry.session.client(
                    service, region_name=get_settings().region, config=_config()
                )
            return entry.clients[service]

    @staticmethod
    def _assume(sts: Any, role_arn: str, tenant: str) -> _Session:
        import boto3

        started = time.monotonic()
        credentials = sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=f"maestro-{tenant}"[:64],
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TENANT_TAG, "Value": tenant}],
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return _Session(started, sts, session)


_SESSIONS = TenantSessions()

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for any other exception)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def is_missing(exc: BaseException) -> bool:
    """An S3 object (or bucket) that does not exist."""
    return error_code(exc) in NOT_FOUND_CODES
