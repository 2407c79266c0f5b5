"""Each invocation's log lines name its own function and service, even with several functions in one process
(the local runtime hosts them all), and carry API Gateway's request id as the correlation id."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass

import pytest

from maestro.core.observability import lambda_entry, logger


@dataclass
class Context:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:x"


def test_concurrent_functions_in_one_process_log_under_their_own_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)
    previous = logger.log_level
    logger.setLevel("INFO")
    both_inside = threading.Barrier(2)

    def make(name: str):  # type: ignore[no-untyped-def]
        @lambda_entry()
        def handler(event, context):  # type: ignore[no-untyped-def]
            both_inside.wait(timeout=5)  # each logs while the other invocation is running
            logger.info("working", extra={"step": name})
            both_inside.wait(timeout=5)
            return {"statusCode": 200, "body": "{}"}

        return handler

    functions = {"Maestro-registry": make("registry"), "Maestro-audit_ingest": make("audit_ingest")}
    threads = [
        threading.Thread(
            target=fn, args=({"requestContext": {"requestId": f"req-{name}"}}, Context(name, f"aws-{name}"))
        )
        for name, fn in functions.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    logger.setLevel(previous)
    lines = [json.loads(line) for line in written.getvalue().splitlines() if '"working"' in line]
    seen = {line["step"]: line for line in lines}
    assert set(seen) == {"registry", "audit_ingest"}
    for step, line in seen.items():
        function = "Maestro-registry" if step == "registry" else "Maestro-audit_ingest"
        assert line["function_name"] == function
        assert line["function_request_id"] == f"aws-{function}"
        assert line["correlation_id"] == f"req-{function}"
        assert line["service"] == "maestro:" + function  # no stack prefix configured in this test
