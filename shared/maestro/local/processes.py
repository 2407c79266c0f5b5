"""Execution environments in their own processes, for functions sized for several vCPUs (the explanation
worker): Lambda runs each environment on its own cores, and threads of one Python process would share one
interpreter lock instead. A child imports the handler once and serves invocations over a pipe; its outcome
lines come back with each result, so log subscriptions still see them. Must never leave a child running
after its pool closes, nor let a hung invocation outlive its function's timeout."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from maestro.local.environments import Environments, LambdaContext
from maestro.local.functions import load_handler_module
from maestro.local.template import Function

# Lambda allocates CPU in proportion to memory: at this size a function has two or more vCPUs.
PROCESS_MEMORY_MB = 3008
STARTUP_TIMEOUT_S = 120


class ProcessFailure(Exception):
    """An invocation's failure as Lambda reports it: `error_type` becomes Step Functions' Error name."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _serve(conn: Connection, fn: Function, root: str, arn: str) -> None:  # runs in the child
    from maestro.core.outcomes import log as outcome_log

    os.environ.update(fn.environment)
    lines: list[tuple[float, str, str | None]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append((record.created, record.getMessage(), getattr(record, "function_name", None)))

    outcome_log.handlers = [Collect()]
    module = load_handler_module(fn.handler_dir, Path(root))
    conn.send(("ready",))
    while True:
        event = conn.recv()
        if event is None:
            return
        lines.clear()
        try:
            result = module.handler(event, LambdaContext(fn.name, arn, fn.timeout_s, fn.memory_mb))
            conn.send(("ok", result, list(lines)))
        except BaseException as exc:  # noqa: BLE001 - the function's error is its result, as in Lambda
            error_type = getattr(exc, "error_type", type(exc).__name__)
            detail = "".join(traceback.format_exception(exc)[-3:])
            conn.send(("error", error_type, str(exc) or detail, list(lines)))


class Environment:
    def __init__(self, fn: Function, root: Path, region: str) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a new sandbox
        self.conn, child = context.Pipe()
        arn = f"arn:aws:lambda:{region}:123456789012:function:{fn.name}"
        self.process = context.Process(
            target=_serve, args=(child, fn, str(root), arn), name=f"lambda-{fn.handler_dir}", daemon=True
        )
        self.process.start()
        child.close()
        if not self.conn.poll(STARTUP_TIMEOUT_S) or self.conn.recv() != ("ready",):
            self.close()
            raise ProcessFailure("Runtime.InitError", f"{fn.handler_dir} did not start")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)


class ProcessPool:
    """Environments that are child processes, one invocation at a time each."""

    def __init__(self, fn: Function, region: str, root: Path, max_instances: int) -> None:
        self.fn = fn
        self.environments: Environments[Environment] = Environments(
            lambda _: Environment(fn, root, region), max_instances, destroy=Environment.close
        )

    def invoke(self, event: Any) -> Any:
        from maestro.core.outcomes import log as outcome_log

        env = self.environments.acquire()
        try:
            env.conn.send(event)
            if not env.conn.poll(self.fn.timeout_s + 5):
                raise ProcessFailure("Sandbox.Timedout", f"Task timed out after {self.fn.timeout_s} seconds")
            try:
                reply = env.conn.recv()
            except EOFError:
                raise ProcessFailure("Runtime.ExitError", f"{self.fn.handler_dir} exited") from None
        except BaseException:
            self.environments.discard(env)  # a sandbox that timed out, died or lost its pipe is not reused
            raise
        self.environments.release(env)
        for created, message, name in reply[-1]:
            record = outcome_log.makeRecord(
                outcome_log.name,
                logging.INFO,
                __file__,
                0,
                message,
                (),
                None,
                extra={"function_name": name},
            )
            record.created = created
            outcome_log.handle(record)
        if reply[0] == "ok":
            return reply[1]
        raise ProcessFailure(reply[1], reply[2])
