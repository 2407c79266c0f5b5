"""What the OpenAPI document says of every route's answers: the error shapes (ours, API Gateway's), the
statuses each can give, and the success statuses other than 200. Must never change an answer: it documents."""

from __future__ import annotations

from typing import Any

# API Gateway's own answers (no route, no or a bad token, a body over 10 MB): {"message": ...}.
GATEWAY_ERROR_SCHEMA = {
    "title": "GatewayError",
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
PLATFORM_ERROR_SCHEMA = {
    "title": "PlatformError",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "description": "each field that was refused, and why",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "correlation_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
}
# What each error status means on our routes (platform_error's statuses; DomainError subclasses).
PLATFORM_ERROR_STATUSES = {
    400: "Bad request",
    401: "No valid identity",
    403: "The caller's roles lack the route's permission, or the tenant refused it (suspended, over a quota)",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Larger than the store takes",
    415: "The body's Content-Type is not application/json",
    422: "A field failed validation: `error.fields` names each one and why",
    429: "Over the tenant's rate limit (Retry-After)",
    503: "A dependency did not answer; retry",
}


SUCCESS_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: the work goes on; the resource shows its progress",
    302: "Found: the Location header is a presigned S3 URL",
}


def answers(*statuses: int) -> dict[str, Any]:
    """Route options documenting the success statuses of a route that answers other than 200:
    `@app.post("/x", **requires(P.X), **answers(201))`."""
    json_object = {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
    empty = {"text/plain": {"schema": {"type": "string", "maxLength": 0}}}  # a redirect has no body
    return {
        "responses": {
            s: {"description": SUCCESS_DESCRIPTIONS[s], "content": json_object if s < 300 else empty}
            for s in statuses
        }
    }


def document_errors(
    document: dict[str, Any], error_schema: dict[str, Any], error_statuses: dict[int, str]
) -> dict[str, Any]:
    """Every operation's error answers in its resolver's shape (or API Gateway's own, for 401, 404 and 413),
    in place of Powertools' generic 422. Public routes have no identity, tenant or permission to refuse."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[error_schema["title"]] = error_schema
    schemas[GATEWAY_ERROR_SCHEMA["title"]] = GATEWAY_ERROR_SCHEMA
    refs = [{"$ref": f"#/components/schemas/{s['title']}"} for s in (error_schema, GATEWAY_ERROR_SCHEMA)]
    content = {"application/json": {"schema": {"anyOf": refs}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            public = not operation.get("security")
            for status, description in error_statuses.items():
                if not (public and status in (401, 403, 429)):
                    responses.setdefault(str(status), {"description": description, "content": content})
    return document
