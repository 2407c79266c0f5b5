"""Domain errors, raised by domain code and stores, mapped to HTTP once (core.api).
Must never import an HTTP framework: these are plain exceptions."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: `code` is stable and machine-readable, `status` the HTTP mapping."""

    status = 400
    code = "BAD_REQUEST"
    # An admission refusal the tenant's audit trail records (AccessDenied): a known tenant refused.
    audited = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(DomainError):
    status = 422
    code = "VALIDATION_ERROR"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", details={"fields": [{"field": field, "reason": reason}]})
        self.field = field
        self.reason = reason


class PayloadTooLarge(DomainError):
    """A request, or what it would make of a stored item, is larger than a store takes."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class QuotaExceeded(Forbidden):
    """A tenant's quota would be exceeded: `details` name the limit, its maximum, what is used and, for
    periodic limits, when it resets."""

    code = "QUOTA_EXCEEDED"


class TooManyRequests(DomainError):
    """A rate limit: `details["retry_after_s"]` becomes the Retry-After header."""

    status = 429
    code = "RATE_LIMITED"


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"


class DependencyUnavailable(DomainError):
    """A store or AWS service did not answer; the caller may retry."""

    status = 503
    code = "DEPENDENCY_UNAVAILABLE"
