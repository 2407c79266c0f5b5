"""The rollout workflow on the template: it advances, holds and checks until the last step, every task
retries Lambda's transient failures and catches into the fail step; the API may start and read only its own
executions, and a tenant's deletion may stop them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.infra.test_stack import resources


def machine(synthesized: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    (found,) = [
        m for lid, m in resources(synthesized, "AWS::StepFunctions::StateMachine").items() if "Rollout" in lid
    ]
    return dict(found)


def test_the_rollout_workflow_holds_checks_and_catches_every_task(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    definition = json.loads(
        "".join(
            p if isinstance(p, str) else "ARN"
            for p in machine(synthesized)["Properties"]["DefinitionString"]["Fn::Join"][1]
        )
    )
    states = definition["States"]
    assert definition["StartAt"] == "Advance"
    assert states["Advance"]["Next"] == "Hold" and states["Hold"]["Type"] == "Wait"
    assert states["Hold"]["SecondsPath"] == "$.next.wait_s" and states["Hold"]["Next"] == "CheckGuardrails"
    choices = {c["StringEquals"]: c["Next"] for c in states["Next?"]["Choices"]}
    assert choices == {"advance": "Advance", "check": "Hold"}
    assert states[states["Next?"]["Default"]]["Type"] == "Succeed"
    for name in ("Advance", "CheckGuardrails"):
        (retry,) = states[name]["Retry"]
        assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"], name
        assert [c["Next"] for c in states[name]["Catch"]] == ["RecordRolloutFailure"], name
    assert states["RecordRolloutFailure"]["Next"] == "RolloutFailed"
    assert states["RolloutFailed"]["Type"] == "Fail"
    assert definition["TimeoutSeconds"] == 365 * 86400


def test_only_the_api_starts_rollouts_and_a_deletion_may_stop_them(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    machine_lid = next(
        lid for lid in resources(synthesized, "AWS::StepFunctions::StateMachine") if "Rollout" in lid
    )
    starters, stoppers = set(), set()
    # a role whose statements outgrow its policy's size gets overflow managed policies (the purge's does)
    policies = {
        **resources(synthesized, "AWS::IAM::Policy"),
        **resources(synthesized, "AWS::IAM::ManagedPolicy"),
    }
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            text = json.dumps(statement["Resource"])
            roles = {r["Ref"] for r in policy["Properties"].get("Roles", [])}
            if "states:StartExecution" in actions and machine_lid in text:
                starters |= roles
            if "states:StopExecution" in actions and "RolloutWorkflow" in text:
                stoppers |= roles
    assert len(starters) == 1 and "Deployments" in next(iter(starters))
    assert len(stoppers) == 1 and "TenantsPurge" in next(iter(stoppers))


def test_the_log_groups_invoke_each_outcome_collector_through_one_permission(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    from_logs = [
        p["Properties"]
        for p in resources(synthesized, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "logs.amazonaws.com"
    ]
    assert len(from_logs) == 2  # the SLA ingestion and the meter
    for permission in from_logs:
        assert "log-group:*" in json.dumps(permission["SourceArn"])
        assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
