"""Fault injection for local mode: make the next N invocations of a function that match an event fail the
way Lambda fails (a timed-out or crashed sandbox, a service error), so retries and catches of the real state
machine definition can be exercised. Must never change what a handler does: a fault replaces the
invocation, as a failure of the Lambda service would."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


class InjectedFailure(Exception):
    """Reported to the caller with `error_type` as the Lambda error type (Step Functions' Error name)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass
class Fault:
    function: str  # the handler folder, e.g. explain_worker
    error: str
    times: int
    match: dict[str, str] = field(default_factory=dict)  # dotted event path -> value (as text)
    fired: int = 0

    def matches(self, function: str, event: Any) -> bool:
        return (
            self.function == function
            and self.fired < self.times
            and all(_at(event, path) == value for path, value in self.match.items())
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "error": self.error,
            "times": self.times,
            "match": self.match,
            "fired": self.fired,
        }


def _at(event: Any, path: str) -> str | None:
    for part in path.split("."):
        if not isinstance(event, dict) or part not in event:
            return None
        event = event[part]
    return str(event)


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, query: dict[str, str]) -> Fault:
        """?function=<handler folder>&error=<Lambda error type>&times=N&<dotted.event.path>=<value>..."""
        fields = dict(query)
        fault = Fault(
            function=fields.pop("function"),
            error=fields.pop("error", "Lambda.ServiceException"),
            times=int(fields.pop("times", "1")),
            match=fields,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def check(self, function: str, event: Any) -> None:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(function, event)), None)
            if fault is None:
                return
            fault.fired += 1
        raise InjectedFailure(fault.error, f"injected by /_local/faults ({fault.fired} of {fault.times})")

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
