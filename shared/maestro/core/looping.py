"""The steps of a looping workflow (infra_cdk.constructs.workflows.looping_machine: start -> the loop step
until done -> finish, every failure into fail), dispatched by the name the state machine puts in the task's
payload. Must never run a step the machine did not name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

State = dict[str, Any]


def dispatch(
    event: dict[str, Any],
    payload: str,
    start: Callable[[State], State],
    loop: tuple[str, Callable[[State], State]],
    finish: Callable[[State], dict[str, Any]],
    fail: Callable[[State, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    step, state = event.get("step"), event[payload]
    if step == "start":
        return start(state)
    if step == loop[0]:
        return loop[1](state)
    if step == "finish":
        return finish(state)
    if step == "fail":
        return fail(state, event.get("error") or {})
    raise ValueError(f"unknown step {step!r}")
