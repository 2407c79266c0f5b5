"""Tenant ids and tenant-scoped store keys: every partition key starts with the tenant id.
Must never build a key from an unvalidated tenant id."""

from __future__ import annotations

import re

from maestro.core.errors import Forbidden

TENANT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
SEPARATOR = "#"


def validate_tenant_id(tenant: str) -> str:
    if not TENANT_ID.fullmatch(tenant or ""):
        raise Forbidden(
            "tenant id must be 1-63 characters of a-z, 0-9 and '-', starting and ending alphanumeric",
            details={"tenant": tenant},
        )
    return tenant


def tenant_key(tenant: str, *parts: str) -> str:
    """A partition key led by the tenant, e.g. tenant_key("acme", "MODEL", "churn") == "acme#MODEL#churn".
    The tenant id cannot contain the separator, so no tenant's keys can start with another's prefix."""
    validate_tenant_id(tenant)
    return SEPARATOR.join((tenant, *parts))


def tenant_prefix(tenant: str) -> str:
    """The S3 key prefix of a tenant's objects."""
    return f"tenants/{validate_tenant_id(tenant)}/"
