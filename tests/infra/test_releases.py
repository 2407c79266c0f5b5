"""Safe releases on the template: every function is published behind a `live` alias and everything that
invokes a function (routes, rules, queues, workflows, log subscriptions) invokes that alias; each alias is
shifted by a CodeDeploy deployment group of its own that rolls back on the function's alarms, a failed or a
stopped deployment; request-path functions go by canary behind the smoke-test hook, background ones at once;
the configuration is chosen per function through CDK context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra_cdk.constructs.releases import CONFIGS, DEFAULTS, chosen
from tests.infra.test_stack import resources, routed_functions


def maestro_functions(synthesized: tuple[Path, dict[str, Any]]) -> dict[str, str]:
    """logical id -> function name, for Maestro's own functions."""
    return {
        lid: fn["Metadata"]["maestro:function"]
        for lid, fn in resources(synthesized, "AWS::Lambda::Function").items()
        if "maestro:function" in fn.get("Metadata", {})
    }


def test_every_function_has_a_live_alias_and_every_invoker_names_it(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    functions = maestro_functions(synthesized)
    aliases = resources(synthesized, "AWS::Lambda::Alias")
    versions = resources(synthesized, "AWS::Lambda::Version")
    aliased = {}
    for lid, alias in aliases.items():
        props = alias["Properties"]
        assert props["Name"] == "live"
        (version,) = props["FunctionVersion"]["Fn::GetAtt"][:1]
        assert versions[version]["Properties"]["FunctionName"] == props["FunctionName"]
        aliased[props["FunctionName"]["Ref"]] = lid
    assert set(aliased) == set(functions)
    # No route, rule, mapping, workflow or log subscription invokes a function's unqualified ARN.
    for kind, field in (
        ("AWS::ApiGatewayV2::Integration", "IntegrationUri"),
        ("AWS::Lambda::EventSourceMapping", "FunctionName"),
        ("AWS::Logs::SubscriptionFilter", "DestinationArn"),
        ("AWS::Events::Rule", "Targets"),
        ("AWS::StepFunctions::StateMachine", "DefinitionString"),
        ("AWS::Lambda::Permission", "FunctionName"),
    ):
        for lid, resource in resources(synthesized, kind).items():
            named = referenced(resource["Properties"][field])
            assert not named & set(functions), (kind, lid, named & set(functions))
            if kind != "AWS::Events::Rule" or "Function" in json.dumps(resource["Properties"][field]):
                assert named & set(aliases), (kind, lid)


def referenced(value: Any) -> set[str]:
    """The logical ids a template value names through Ref or Fn::GetAtt."""
    if isinstance(value, list):
        return set().union(*map(referenced, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value and len(value) == 1:
        return {value["Ref"]}
    if "Fn::GetAtt" in value and len(value) == 1:
        return {value["Fn::GetAtt"][0]}
    return set().union(*map(referenced, value.values())) if value else set()


def test_each_alias_is_shifted_by_its_own_group_that_rolls_back_on_its_alarms(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    functions = maestro_functions(synthesized)
    routed = routed_functions(synthesized)
    groups = resources(synthesized, "AWS::CodeDeploy::DeploymentGroup")
    alarm_names = {
        lid: r["Properties"]["AlarmDescription"]
        for lid, r in resources(synthesized, "AWS::CloudWatch::Alarm").items()
    }
    hooked = set()
    for alias in resources(synthesized, "AWS::Lambda::Alias").values():
        function = alias["Properties"]["FunctionName"]["Ref"]
        name = functions[function]
        if name == "release_smoke":
            assert "UpdatePolicy" not in alias  # the hook itself is deployed at once
            continue
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        group = groups[update["DeploymentGroupName"]["Ref"]]["Properties"]
        assert group["DeploymentGroupName"] == f"Maestro-{name}"
        expected = "Canary10Percent5Minutes" if function in routed else "AllAtOnce"
        assert group["DeploymentConfigName"].endswith(f"Lambda{expected}") or expected in json.dumps(
            group["DeploymentConfigName"]
        ), (name, group["DeploymentConfigName"])
        rollback = group["AutoRollbackConfiguration"]
        assert rollback["Enabled"] and set(rollback["Events"]) == {
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_REQUEST",
            "DEPLOYMENT_STOP_ON_ALARM",
        }
        watched = [alarm_names[a["Name"]["Ref"]] for a in group["AlarmConfiguration"]["Alarms"]]
        assert sorted(watched) == sorted(
            [
                f"{name}: invocations failed",
                f"{name}: invocations throttled",
                next(d for d in alarm_names.values() if d.startswith(f"{name}: p99 duration over")),
            ]
        )
        if function in routed:
            assert "BeforeAllowTrafficHook" in update
            hooked.add(name)
        else:
            assert "BeforeAllowTrafficHook" not in update
    assert len(groups) == len(functions) - 1
    assert {"registry", "ab_assign", "health", "deployments"} <= hooked


def test_the_configuration_is_chosen_per_function_or_kind_and_a_wrong_one_is_refused() -> None:
    assert chosen({}, "registry", True) == DEFAULTS["request_path"] == "Canary10Percent5Minutes"
    assert chosen({}, "audit_ingest", False) == DEFAULTS["background"] == "AllAtOnce"
    choices = {"registry": "Linear10PercentEvery1Minute", "background": "Canary10Percent10Minutes"}
    assert chosen(choices, "registry", True) == "Linear10PercentEvery1Minute"
    assert chosen(choices, "ab", True) == "Canary10Percent5Minutes"
    assert chosen(choices, "audit_ingest", False) == "Canary10Percent10Minutes"
    assert set(CONFIGS) >= {"AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery10Minutes"}
    with pytest.raises(SystemExit, match="is not one of"):
        chosen({"registry": "Canary50Percent"}, "registry", True)
