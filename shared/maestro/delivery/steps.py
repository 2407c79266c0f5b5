"""The rollout workflow's steps, one Lambda invocation each: advance (the next traffic step begins) ->
[Wait -> check] until the step has been held its time -> advance ..., and after the last step the alias moves
to the new version; `fail` from every Catch. A check that finds a guardrail breached, or an abort asked for,
rolls back: the split goes and the alias's version serves all traffic again. The rollout acts as the
principal who started it. Must never leave a split behind a rollout that has ended."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maestro.core.settings import get_settings
from maestro.core.submissions import submitter
from maestro.core.workflow_gateway import failure_reason
from maestro.delivery.guardrails import breaches, reason
from maestro.delivery.service import emit
from maestro.delivery.spec import RolloutRequest
from maestro.delivery.store import RUNNING, DeliveryStore
from maestro.registry.interface import point_alias

DONE = {"action": "done", "wait_s": 0}


class Rollout:
    def __init__(self, ref: dict[str, str], correlation_id: str | None = None) -> None:
        self.tenant, self.rollout_id = ref["tenant"], ref["rollout_id"]
        self.store = DeliveryStore(get_settings().delivery_table, self.tenant)
        self.item = self.store.get(self.rollout_id)
        self.request = RolloutRequest.model_validate(self.item["request"])
        self.auth = submitter(self.item)
        self.correlation_id = correlation_id or self.rollout_id

    def event(self, kind: str, **detail: Any) -> None:
        emit(self.auth, kind, self.item, self.correlation_id, **detail)

    def next_check(self, remaining_s: float) -> dict[str, Any]:
        every = self.request.guardrails.check_every_s
        return {"action": "check", "wait_s": max(0, int(min(every, remaining_s) + 0.999))}

    # -- steps --------------------------------------------------------------------------------------------
    def advance(self) -> dict[str, Any]:
        index = int(self.item["step"]) + 1
        step = self.request.steps[index]
        entry = {"event": "stepped", "step": index, "percent": step.percent}
        if not self.store.set_traffic(self.item, index, step.percent, entry):
            return DONE  # it ended meanwhile
        self.event("RolloutStepped", step=index, percent=step.percent, hold=step.hold)
        return self.next_check(step.hold_s)

    def check(self) -> dict[str, Any]:
        if self.item["status"] != RUNNING:
            return DONE
        if self.item.get("abort_requested_by"):
            return self.roll_back(f"aborted by {self.item['abort_requested_by']}", [])
        found = breaches(self.tenant, self.item)
        if found:
            return self.roll_back(reason(found), found)
        index = int(self.item["step"])
        step = self.request.steps[index]
        started = datetime.fromisoformat(self.item["step_started_at"].replace("Z", "+00:00"))
        remaining = step.hold_s - (datetime.now(UTC) - started).total_seconds()
        if remaining > 0:
            return self.next_check(remaining)
        if index + 1 < len(self.request.steps):
            return {"action": "advance", "wait_s": 0}
        return self.complete()

    def roll_back(self, why: str, found: list[dict[str, Any]]) -> dict[str, Any]:
        percent = self.item["percent"]
        entry = {"event": "rolled_back", "reason": why, "breaches": found, "percent": percent}
        if self.store.end(self.item, "ROLLED_BACK", entry, outcome={"reason": why, "breaches": found}):
            self.event(
                "RolloutRolledBack", reason=why, breaches=found, step=int(self.item["step"]), percent=percent
            )
        return DONE

    def complete(self) -> dict[str, Any]:
        """The alias moves to the new version through the registry's own rules and events, then the split
        goes (routing reads the alias from then on)."""
        point_alias(
            self.auth,
            self.correlation_id,
            self.item["model"],
            self.item["alias"],
            str(self.item["to_version"]),
            None,
        )
        entry = {"event": "completed", "percent": 100}
        if self.store.end(self.item, "COMPLETED", entry):
            self.event("RolloutCompleted", steps=len(self.request.steps))
        return DONE

    def fail(self, error: dict[str, Any]) -> None:
        failed = failure_reason(error)
        entry = {"event": "failed", **failed}
        if self.store.end(self.item, "FAILED", entry, error=failed):
            self.event("RolloutFailed", **failed)


def run(event: dict[str, Any]) -> dict[str, Any] | None:
    rollout = Rollout(event["rollout"])
    step = event["step"]
    if step == "advance":
        return rollout.advance()
    if step == "check":
        return rollout.check()
    if step == "fail":
        rollout.fail(event.get("error") or {})
        return None
    raise ValueError(f"unknown step {step!r}")
