"""The local HTTP API: turns each request into an API Gateway HTTP API payload 2.0 event, enforces the JWT
authorizer on authorized routes, invokes the route's handler, and returns its response.
Must never serve a route the template does not define."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from maestro.local.serving import BackgroundServer
from maestro.local.template import Route
from maestro.local.tokens import InvalidToken, LocalTokens, claims_as_api_gateway_passes_them

log = logging.getLogger("maestro.local.gateway")
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
    "application/x-ndjson",
)
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request limit

InvokeFunction = Callable[[str, dict[str, Any]], Any]


class CompiledRoute:
    def __init__(self, route: Route) -> None:
        self.route = route
        pattern = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(route.path))
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}$")
        # API Gateway prefers the most specific route: fewer variables, no greedy variable, longer literal.
        self.rank = ("+}" in route.path, route.path.count("{"), -len(route.path))


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted((CompiledRoute(r) for r in routes), key=lambda c: c.rank)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for compiled in self.routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            if m := compiled.regex.match(path):
                return compiled.route, m.groupdict()
        return None


def build_event(
    route: Route,
    params: dict[str, str],
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    claims: dict[str, str] | None,
) -> dict[str, Any]:
    lower: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in headers.items():
        k = key.lower()
        if k == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        lower[k] = f"{lower[k]},{value}" if k in lower else value
    query_params: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        query_params[k] = f"{query_params[k]},{v}" if k in query_params else v
    content_type = lower.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in TEXT_TYPES)
    if is_text:
        try:
            body_value: str | None = body.decode() if body else None
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        body_value = base64.b64encode(body).decode()
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": lower.get("host", "127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": lower.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route.key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": lower,
        "requestContext": request_context,
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if body_value is not None:
        event["body"] = body_value
    return event


class Gateway(BackgroundServer):
    def __init__(
        self,
        routes: list[Route],
        invoke: InvokeFunction,
        tokens: LocalTokens,
        host: str = "127.0.0.1",
        port: int = 3000,
        extra_routes: dict[tuple[str, str], Callable[[dict[str, str]], tuple[int, Any]]] | None = None,
        files: Callable[[str], tuple[int, list[tuple[str, str]], bytes] | None] | None = None,
    ) -> None:
        """`files`: static files (the web console) by path; None for a path that is not theirs."""
        self.table = RouteTable(routes)
        self.files = files
        self.invoke, self.tokens = invoke, tokens
        self.extra_routes = extra_routes or {}
        super().__init__(host, port)

    def start(self) -> Gateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
                log.debug("%s - " + format, self.address_string(), *args)

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except ConnectionError:  # the client hung up before its answer was written: not our failure
                    self.close_connection = True
                    log.debug("client %s hung up", self.address_string())

            def __getattr__(self, name: str) -> Any:
                # API Gateway takes any method and answers an unrouted one itself (404), never a 501.
                if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
                    return self._handle
                raise AttributeError(name)

            def _handle(self) -> None:
                status, headers, body = gateway.handle(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self._read_body(),
                    self.client_address[0],
                )
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _read_body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # socketserver's default backlog of 5 resets bursts of parallel clients
            daemon_threads = True

        server = Server((self.host, self.port), Handler)
        self._run(server, "gateway")
        return self

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        started = time.perf_counter()
        url = urlsplit(target)
        if method in ("GET", "HEAD") and self.files is not None and (served := self.files(url.path)):
            return served
        if (method, url.path) in self.extra_routes:
            status, payload = self.extra_routes[(method, url.path)](dict(parse_qsl(url.query)))
            return _json(status, payload)
        if len(body) > MAX_PAYLOAD:
            return _json(413, {"message": "Request Entity Too Large"})
        matched = self.table.match(method, url.path)
        if matched is None:
            return _json(404, {"message": "Not Found"})  # API Gateway's own reply for no route
        route, params = matched
        claims = None
        if route.authorized:
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            token = auth[7:] if auth.lower().startswith("bearer ") else auth
            if not token:
                return _json(401, {"message": "Unauthorized"})
            try:
                claims = claims_as_api_gateway_passes_them(self.tokens.verify(token.strip()))
            except InvalidToken:
                return _json(401, {"message": "Unauthorized"})
        event = build_event(route, params, method, url.path, url.query, headers, body, source_ip, claims)
        try:
            result = self.invoke(route.function, event)
        except Exception:  # as API Gateway does when the integration fails
            log.exception("handler for %s failed", route.key)
            return _json(500, {"message": "Internal Server Error"})
        finally:
            log.info(
                "%s %s -> %s (%.1f ms)", method, url.path, route.key, (time.perf_counter() - started) * 1000
            )
        return _lambda_response(result)


def _json(status: int, payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


def _lambda_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Payload 2.0 response: a dict with statusCode, or any other JSON value meaning 200 with that body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _json(200, result)
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((key, str(v)) for v in values)
    headers.extend(("Set-Cookie", c) for c in result.get("cookies") or [])
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return int(result["statusCode"]), headers, raw
