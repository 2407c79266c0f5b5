"""The embedded AWS endpoint: moto's server app behind a front that answers Lambda Invoke with the real
handlers (moto alone would only echo), and SageMaker's training-job actions by running them (local
training_jobs). Must never listen beyond the loopback interface."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import unquote

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from maestro.local.dynamodb_codec import plain_json_for_dynamodb
from maestro.local.dynamodb_cost import cost_proportional_to_the_request
from maestro.local.serving import BackgroundServer

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")
QUIET_LOGGERS = ("werkzeug", "moto.stepfunctions", "moto.stepfunctions.parser", "moto")


class FunctionNotFound(LookupError):
    pass


Invoke = Callable[[str, Any], Any]  # (function name or ARN, event) -> result; raises FunctionNotFound
StartResponse = Callable[..., Any]


class JsonService(Protocol):
    """Answers some actions of a JSON-protocol service (X-Amz-Target) that moto records but does not run."""

    def handles(self, target: str) -> bool: ...

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...


class LambdaInvokeFront:
    """WSGI middleware: POST /2015-03-31/functions/{name}/invocations goes to our invoker, the rest to moto.
    Step Functions' engine calls back to this port (MOTO_PORT) for every Lambda task."""

    def __init__(self, moto_app: Any, invoke: Invoke, services: tuple[JsonService, ...] = ()) -> None:
        self.moto_app = moto_app
        self.invoke = invoke
        self.services = services
        self._dynamodb = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service = next((s for s in self.services if target and s.handles(target)), None)
        if service is not None:
            status, reply = service.answer(target, json.loads(self._body(environ) or b"{}"))
            return self._reply(
                start_response,
                f"{status} {'OK' if status == 200 else 'Bad Request'}",
                json.dumps(reply, default=str).encode(),
                # botocore reads the request id from this header; error handlers (moto's engine) expect one
                {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())},
            )
        match = INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if not match or environ.get("REQUEST_METHOD") != "POST":
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                # moto's DynamoDB backend takes no lock: two threaded requests can both pass one condition.
                # DynamoDB evaluates each conditional write and transaction atomically; serializing the
                # calls gives local mode the same guarantee (and keeps races in our code visible).
                with self._dynamodb:
                    return list(self.moto_app(environ, start_response))
            return self.moto_app(environ, start_response)
        function = unquote(match.group("function"))
        raw = self._body(environ)
        event = json.loads(raw) if raw.strip() else {}
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if invocation_type == "Event":
            threading.Thread(target=self._invoke_quietly, args=(function, event), daemon=True).start()
            return self._reply(start_response, "202 Accepted", b"")
        try:
            result = self.invoke(function, event)
        except FunctionNotFound:
            body = json.dumps({"Type": "User", "Message": f"Function not found: {function}"}).encode()
            return self._reply(
                start_response, "404 Not Found", body, {"x-amzn-ErrorType": "ResourceNotFoundException"}
            )
        except Exception as exc:  # noqa: BLE001 - a handler error is the function's result, as in Lambda
            body = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": getattr(exc, "error_type", type(exc).__name__),
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ).encode()
            return self._reply(start_response, "200 OK", body, {"X-Amz-Function-Error": "Unhandled"})
        return self._reply(start_response, "200 OK", json.dumps(result, default=str).encode())

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return bytes(environ["wsgi.input"].read(length)) if length else b""

    def _invoke_quietly(self, function: str, event: Any) -> None:
        try:
            self.invoke(function, event)
        except Exception:  # async invocations have no caller to report to
            logging.getLogger(__name__).exception("async invocation of %s failed", function)

    @staticmethod
    def _reply(
        start_response: StartResponse, status: str, body: bytes, headers: dict[str, str] | None = None
    ) -> list[bytes]:
        headers = {"Content-Type": "application/json", **(headers or {}), "Content-Length": str(len(body))}
        start_response(status, list(headers.items()))
        return [body]


class EmbeddedAws(BackgroundServer):
    def __init__(
        self, invoke: Invoke, host: str = "127.0.0.1", port: int = 0, services: tuple[JsonService, ...] = ()
    ) -> None:
        super().__init__(host, port)
        self.invoke, self.services = invoke, services

    def start(self) -> EmbeddedAws:
        moto_as_the_local_endpoint()
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        app = LambdaInvokeFront(DomainDispatcherApplication(create_backend_app), self.invoke, self.services)
        # Threaded: a Map state calls several Lambdas at once while the engine waits on them.
        self._run(
            make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler),
            "embedded-aws",
        )
        # moto's Step Functions engine calls back to localhost:$MOTO_PORT, read at each execution.
        os.environ["MOTO_PORT"] = str(self.port)
        self.configure()
        return self

    def configure(self) -> None:
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        requests.post(f"{self.url}/moto-api/config", json=config, timeout=10).raise_for_status()


def moto_as_the_local_endpoint() -> None:
    """moto's engine as local mode runs it (in this process, once): DynamoDB at a cost proportional to the
    request, read and written as plain JSON, and requests routed without listing moto's package each time.
    The tests and the benches run in-process moto this way too, so they measure what `make serve` runs."""
    cost_proportional_to_the_request()
    plain_json_for_dynamodb()
    _moto_modules_listed_once()


def _moto_modules_listed_once() -> None:
    """moto's dispatcher lists its own package directory (a stat per service) to route every request; the
    installed package does not change while the endpoint runs."""
    from moto import backends

    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        listed = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = functools.cache(lambda: listed)
