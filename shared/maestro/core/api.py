"""The HTTP side of every function: a Powertools resolver with domain errors mapped to HTTP once,
declarative route permissions and AccessDenied events. Must never return a stack trace to a caller."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
from collections.abc import Callable
from functools import cached_property
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from maestro.core import outcomes
from maestro.core.api_docs import PLATFORM_ERROR_SCHEMA, PLATFORM_ERROR_STATUSES, document_errors
from maestro.core.auth import AuthContext, auth_from_event
from maestro.core.aws import error_code
from maestro.core.errors import (
    DependencyUnavailable,
    DomainError,
    Forbidden,
    PayloadTooLarge,
    ValidationError,
)
from maestro.core.events import DomainEvent, publish
from maestro.core.fields import ITEM_BYTES, Key, unstorable_at
from maestro.core.observability import logger, metrics
from maestro.core.rbac import Permission

AUTH_CONTEXT_KEY = "maestro_auth"
PERMISSION_EXTENSION = "x-maestro-permission"
INTERNAL_ERROR_MESSAGE = "internal error; quote the correlation id when reporting it"


_ROUTE_SIGNATURE = inspect.signature(APIGatewayHttpResolver.route)
# Path parameters that stand for API Gateway's greedy {name+}: the rest of the path, slashes included (leading
# slashes dropped). Every other <name> matches one segment, as Powertools does.
GREEDY_PARAMETERS = frozenset({"artifact_path"})
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"  # Powertools' own pattern for one path segment
# A path segment that names a stored thing (an experiment, a job, an SLO): the key limits apply.
PathKey = Annotated[Key, Path()]
ErrorRenderer = Callable[[int, str, str, dict[str, Any]], tuple[int, dict[str, Any]]]
# Admission, before any route: the verified caller as admitted (roles and limits added), or the refusal raised
# as a DomainError. Tenancy provides it (tenants.admission.admit); core never imports a capability.
Admission = Callable[[AuthContext], AuthContext]


def platform_error(status: int, code: str, message: str, extra: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message, **extra}}


class HttpEvent(APIGatewayProxyEventV2):
    """The payload 2.0 event, with a body that is not text, or JSON that holds what no store can keep, refused
    as bad input (422 naming the field) instead of escaping as a bug further down."""

    @cached_property
    def decoded_body(self) -> str | None:
        body: str | None = self.body
        if not (self.is_base64_encoded and body):
            return body
        try:
            return base64.b64decode(body.encode(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationError("body", "is not UTF-8 text") from None

    @cached_property
    def json_body(self) -> Any:
        text = self.decoded_body
        if not text:
            return None
        value = self._json_deserializer(text)
        if unstorable := unstorable_at(value):
            raise ValidationError(*unstorable)
        return value


class JsonBodies(OpenAPIRequestValidationMiddleware):
    """Every route reads a JSON body: a form (URL-encoded or multipart, with or without a boundary) is refused
    like any other content type (415), never parsed into fields nor left to fail as a bug."""

    def _get_body(self, app: Any) -> Any:
        content_type = app.current_event.headers.get("content-type", "").strip()
        if not app.current_event.body or not content_type or content_type.startswith("application/json"):
            return self._parse_json_data(app)
        message = f"Unsupported content type: {content_type}"
        error = {"type": "unsupported_content_type", "loc": ("body",), "msg": message, "input": {}, "ctx": {}}
        raise RequestUnsupportedContentType("Unsupported content type", errors=[error])


class MaestroResolver(APIGatewayHttpResolver):
    """A resolver that knows its capability, which names its events' source (maestro.<capability>), and how
    its errors are shaped (the platform's by default; the registry speaks MLflow's)."""

    def __init__(
        self,
        capability: str,
        admission: Admission,
        render_error: ErrorRenderer = platform_error,
        error_schema: dict[str, Any] = PLATFORM_ERROR_SCHEMA,
        error_statuses: dict[int, str] = PLATFORM_ERROR_STATUSES,
    ) -> None:
        super().__init__(enable_validation=True)
        self._request_validation_middleware = JsonBodies()
        self.capability, self.admission = capability, admission
        self.render_error = render_error
        self.error_schema, self.error_statuses = error_schema, error_statuses
        # API Gateway route key ("POST /sla/slos/{slo_id}") -> the permission its route requires.
        self.permissions: dict[str, Permission] = {}

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        # get()/post()/... pass every option positionally: bind them to find the route's extensions.
        bound = _ROUTE_SIGNATURE.bind(self, rule, method, *args, **kwargs).arguments
        permission = (bound.get("openapi_extensions") or {}).get(PERMISSION_EXTENSION)
        if permission:
            template = re.sub(r"<(\w+)>", r"{\1}", rule)
            for m in (method,) if isinstance(method, str) else method:
                self.permissions[f"{m.upper()} {template}"] = Permission(permission)
        return super().route(rule, method, *args, **kwargs)

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Before anything else, body validation included: the verified caller is admitted by its tenant
        (registered, active, under its rate limit; roles it granted added), then authorized wherever API
        Gateway's route key names the route, so a caller without the permission learns nothing about the body
        it sent (403, not 422). Routes behind a proxy key (the registry's MLflow API) are authorized by their
        route middleware, with the admitted identity."""
        try:
            auth = auth_from_event(event)
        except DomainError:  # no usable identity: the route middleware answers it in the usual shape
            return super().resolve(event, context)
        try:
            auth = self.admission(auth)
        except DomainError as refused:
            if refused.audited:  # a known tenant's trail records it
                self._record_denied(event, auth, refusal=refused.code)
            metrics.add_metric(name="AdmissionRefused", unit="Count", value=1)
            return self._reply(event, refused)
        except Exception:  # noqa: BLE001 - the tenant's records did not answer: retryable, with an id, no trace
            request_id = event.get("requestContext", {}).get("requestId")
            logger.exception("admission failed", extra={"correlation_id": request_id, "tenant": auth.tenant})
            metrics.add_metric(name="AdmissionUnavailable", unit="Count", value=1)
            unavailable = DependencyUnavailable("the tenant's admission could not be checked; retry")
            return self._reply(event, unavailable)
        outcomes.attribute(auth.tenant, self.capability, "request")
        event = self.with_route_key(event)
        permission = self.permissions.get(str(event.get("routeKey", "")))
        if permission is not None and not auth.can(permission):
            self._record_denied(event, auth, permission=str(permission))
            return self._reply(event, forbidden(auth, permission))
        self.append_context(**{AUTH_CONTEXT_KEY: auth})  # the route middleware and the route reuse it
        return super().resolve(event, context)

    def with_route_key(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event with the route key of our own route it is for. API Gateway's key names it already, unless
        the request came through a greedy route (`ANY /training/{proxy+}`: one route for a function's paths,
        since CloudFormation counts every route against a stack's 500 resources): then the method and path
        are matched to our routes, literal segments before parameters, as Powertools matches them, so that
        authorization and access-denied records name the route as before."""
        key = str(event.get("routeKey", ""))
        if key in self.permissions:
            return event
        method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
        path = str(event.get("rawPath") or "")
        for route_method, regex, route_key in self._route_patterns():
            if route_method == method and regex.match(path):
                return {**event, "routeKey": route_key}
        return event

    def _route_patterns(self) -> list[tuple[str, re.Pattern[str], str]]:
        if getattr(self, "_patterns_for", None) != len(self.permissions):
            compiled = []
            for key in self.permissions:
                method, template = key.split(" ", 1)
                rule = re.sub(r"\{(\w+)\}", r"<\1>", template)
                compiled.append((template.count("{"), method, self._compile_regex(rule), key))
            self._patterns = [(m, regex, k) for _, m, regex, k in sorted(compiled, key=lambda c: c[0])]
            self._patterns_for = len(self.permissions)
        return self._patterns

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        def group(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"/*(?P<{name}>.+)" if name in GREEDY_PARAMETERS else f"(?P<{name}>{_SEGMENT})"

        return re.compile(base_regex.format(re.sub(r"<(\w+)>", group, rule)))

    def _to_proxy_event(self, event: dict[str, Any]) -> HttpEvent:
        return HttpEvent(event, self._json_body_deserializer)

    def _record_denied(self, event: dict[str, Any], auth: AuthContext, **why: str) -> None:
        request_id = event.get("requestContext", {}).get("requestId")
        method = event.get("requestContext", {}).get("http", {}).get("method", "")
        record_access_denied(self.capability, auth, request_id, method, event, **why)

    def _reply(self, event: dict[str, Any], error: DomainError) -> dict[str, Any]:
        """An error answered before routing (there is no current event to build a Response from)."""
        request_id = event.get("requestContext", {}).get("requestId")
        status, body = self.render_error(error.status, error.code, error.message, error.details)
        body["correlation_id"] = request_id
        headers = {"Content-Type": content_types.APPLICATION_JSON, **error_headers(request_id, error.details)}
        return {"statusCode": status, "headers": headers, "body": json.dumps(body), "isBase64Encoded": False}

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        # The OpenAPI models cost ~0.2 s to import: only schema generation (a build step) pays for them.
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        kwargs.setdefault("security_schemes", {"jwt": HTTPBearer(bearerFormat="JWT")})
        return super().get_openapi_schema(**kwargs)

    def openapi_document(self) -> dict[str, Any]:
        """The OpenAPI schema, with the error answers every route really gives (core.api_docs)."""
        schema = self.get_openapi_schema()
        document: dict[str, Any] = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        return document_errors(document, self.error_schema, self.error_statuses)

    @property
    def request_id(self) -> str | None:
        """API Gateway's request id: the correlation id of this request's logs, errors and events."""
        return self.current_event.request_context.request_id

    def error(self, status: int, code: str, message: str, /, **extra: Any) -> Response:
        cid = self.request_id
        headers = error_headers(cid, extra)
        status, body = self.render_error(status, code, message, extra)
        body["correlation_id"] = cid
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=body,
            headers=headers or None,
        )


def error_headers(correlation_id: str | None, details: dict[str, Any]) -> dict[str, str]:
    """The correlation id, and Retry-After where a rate limit says when to come back."""
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
    if "retry_after_s" in details:
        headers["Retry-After"] = str(details["retry_after_s"])
    return headers


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    loc = list(error["loc"])
    if error["type"] == "json_invalid":  # pydantic puts the character position where a field name would be
        return {"field": "body", "reason": f"invalid JSON at character {loc[-1]}"}
    return {"field": ".".join(str(p) for p in loc), "reason": error.get("msg", error["type"])}


def create_app(
    capability: str,
    render_error: ErrorRenderer = platform_error,
    error_schema: dict[str, Any] = PLATFORM_ERROR_SCHEMA,
    error_statuses: dict[int, str] = PLATFORM_ERROR_STATUSES,
    *,
    admission: Admission,
) -> MaestroResolver:
    """One resolver per function, with the platform's error mapping (or another shape and its statuses), that
    admits every verified caller through `admission` (tenancy's) before anything else."""
    app = MaestroResolver(capability, admission, render_error, error_schema, error_statuses)

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        return app.error(exc.status, exc.code, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        fields = [_field_error(e) for e in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return app.error(HTTPStatus.UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", summary, fields=fields)

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(exc: RequestUnsupportedContentType) -> Response:
        content_type = app.current_event.headers.get("content-type", "")
        reason = f"{content_type or 'none'} is not a content type this route reads; send application/json"
        field = [{"field": "header.content-type", "reason": reason}]
        return app.error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", reason, fields=field)

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response:
        event = app.current_event
        message = f"no route for {event.request_context.http.method} {event.path}"
        return app.error(HTTPStatus.NOT_FOUND, "ROUTE_NOT_FOUND", message)

    @app.exception_handler(Exception)
    def _bug(exc: Exception) -> Response:
        if _item_too_large(exc):  # what only the write itself can tell: the item outgrew DynamoDB's 400 KB
            return _domain_error(
                PayloadTooLarge(f"the change would make the stored item larger than {ITEM_BYTES} bytes")
            )
        # The trace goes to the log under the correlation id; the caller sees only the id.
        logger.exception("unhandled error", extra={"correlation_id": app.request_id})
        metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
        return app.error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)

    return app


def _item_too_large(exc: Exception) -> bool:
    return error_code(exc) == "ValidationException" and "size" in str(exc).lower()


def forbidden(auth: AuthContext, permission: Permission) -> Forbidden:
    return Forbidden(
        f"permission '{permission}' is required; roles {sorted(auth.roles)} do not grant it",
        details={"permission": str(permission)},
    )


def requires(permission: Permission) -> dict[str, Any]:
    """Route options that make a route demand `permission`: `@app.get("/x", **requires(P.X))`.
    The same declaration documents the permission in the OpenAPI document."""

    def authorize(app: MaestroResolver, next_middleware: NextMiddleware) -> Response:
        # resolve() admitted every caller with a verified identity; without one this raises 401/403
        auth = app.context.get(AUTH_CONTEXT_KEY) or auth_from_event(app.current_event.raw_event)
        if not auth.can(permission):
            app._record_denied(app.current_event.raw_event, auth, permission=str(permission))
            raise forbidden(auth, permission)
        app.append_context(**{AUTH_CONTEXT_KEY: auth})
        return next_middleware(app)

    authorize.__name__ = f"requires_{permission.replace(':', '_')}"
    return {
        "middlewares": [authorize],
        "openapi_extensions": {PERMISSION_EXTENSION: str(permission)},
        "security": [{"jwt": []}],
    }


def current_auth(app: APIGatewayHttpResolver) -> AuthContext:
    auth = app.context.get(AUTH_CONTEXT_KEY)
    if auth is None:  # a route without `requires` asked for an identity: a programming error
        raise RuntimeError("route has no permission declared; use **requires(Permission.X)")
    return auth


def record_access_denied(
    capability: str,
    auth: AuthContext,
    request_id: str | None,
    method: str,
    raw_event: dict[str, Any],
    **why: str,
) -> None:
    """An AccessDenied event: `why` is the permission lacking, or the admission refusal's code."""
    context = raw_event.get("requestContext", {})
    detail = {  # the caller and its roles ride on the event's envelope
        **why,
        "method": method,
        "path": raw_event.get("rawPath") or context.get("http", {}).get("path"),
        "route_key": raw_event.get("routeKey"),
        "source_ip": context.get("http", {}).get("sourceIp"),
    }
    metrics.add_metric(name="AccessDenied", unit="Count", value=1)
    try:
        publish(DomainEvent.by(auth, capability, "AccessDenied", detail, request_id))
    except Exception:  # noqa: BLE001 - the 403 must still reach the caller; the failure is logged, counted
        logger.exception("could not publish AccessDenied event", extra=detail)
        metrics.add_metric(name="EventPublishFailures", unit="Count", value=1)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """A DynamoDB LastEvaluatedKey as an opaque page cursor (None: no more pages)."""
    import base64

    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(text: str | None) -> dict[str, Any] | None:
    import base64

    if not text:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(text.encode()))
    except ValueError:
        raise ValidationError("cursor", "is not a cursor this API returned") from None
    if not isinstance(key, dict):
        raise ValidationError("cursor", "is not a cursor this API returned")
    return key
