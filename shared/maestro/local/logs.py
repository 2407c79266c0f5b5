"""CloudWatch Logs subscriptions, locally: the outcome lines the functions write (maestro.core.outcomes) are
collected per source function and delivered, in the awslogs format (gzip, base64), to the subscription's
destination function, as CloudWatch Logs would. Only JSON filter patterns of the form
`{ $.a.b = "*" }` (the field exists) are understood; any other pattern is refused at start.
Must never deliver a line to a destination whose subscription does not match it."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from maestro.core.outcomes import log as outcome_log
from maestro.local.template import ACCOUNT, LocalModel

_EXISTS = re.compile(r'^\{\s*\$\.([A-Za-z0-9_.]+)\s*=\s*"\*"\s*\}$')
log = logging.getLogger("maestro.local")


def _matcher(pattern: str) -> Callable[[str], bool]:
    match = _EXISTS.match(pattern.strip())
    if not match:
        raise ValueError(f"local mode cannot evaluate the subscription filter pattern {pattern!r}")
    path = match.group(1).split(".")

    def matches(message: str) -> bool:
        try:
            value: Any = json.loads(message)
        except ValueError:
            return False
        for part in path:
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        return True

    return matches


class LogSubscriptions(logging.Handler):
    def __init__(self, model: LocalModel, invoke: Callable[[str, Any], Any], interval_s: float = 1.0) -> None:
        super().__init__()
        self.invoke, self.interval_s = invoke, interval_s
        self.routes: dict[str, list[tuple[str, str, Callable[[str], bool]]]] = {}
        for s in model.subscriptions:
            self.routes.setdefault(s.source, []).append((s.filter_name, s.destination, _matcher(s.pattern)))
        self.pending: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.pending_lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.saved_handlers: list[logging.Handler] = []

    def emit(self, record: logging.LogRecord) -> None:
        source = getattr(record, "function_name", None)
        message = record.getMessage()
        for filter_name, destination, matches in self.routes.get(source or "", []):
            if matches(message):
                line = {"id": uuid.uuid4().hex, "timestamp": int(record.created * 1000), "message": message}
                with self.pending_lock:
                    self.pending.setdefault((source or "", filter_name, destination), []).append(line)

    def deliver(self) -> int:
        """Deliver what is pending now; returns the number of lines delivered."""
        with self.pending_lock:
            pending, self.pending = self.pending, {}
        delivered = 0
        for (source, filter_name, destination), lines in pending.items():
            data = {
                "messageType": "DATA_MESSAGE",
                "owner": ACCOUNT,
                "logGroup": f"/aws/lambda/{source}",
                "logStream": "local",
                "subscriptionFilters": [filter_name],
                "logEvents": lines,
            }
            payload = base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()
            try:
                self.invoke(destination, {"awslogs": {"data": payload}})
                delivered += len(lines)
            except Exception:
                log.exception("could not deliver %d log lines of %s to %s", len(lines), source, destination)
        return delivered

    def _run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self.deliver()

    def start(self) -> LogSubscriptions:
        """Take over the outcome lines (instead of printing them) and deliver them every interval."""
        self.saved_handlers = list(outcome_log.handlers)
        outcome_log.handlers = [self]
        self.thread = threading.Thread(target=self._run, name="log-subscriptions", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=5)
        self.deliver()
        outcome_log.handlers = self.saved_handlers
