"""The platform's pre-traffic hook, invoked locally the way CodeDeploy invokes it: for a deployment of a
request-path function (its AppSpec names the function, its `live` alias and the target version), it smoke-
tests the new version through the function's real handler (health, a read of the registry, an A/B
assignment, or routing for others) and reports its verdict, which decides the deployment. A function that
fails (an injected Lambda fault), or one that does not exist, fails it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support import RunningPlatform, start_platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("release-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def group(platform: RunningPlatform) -> tuple[str, str]:
    codedeploy = platform.aws("codedeploy")
    codedeploy.create_application(applicationName="Maestro-functions", computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName="Maestro-functions",
        deploymentGroupName="Maestro-smoke",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    )
    return "Maestro-functions", "Maestro-smoke"


def deploy_and_hook(platform: RunningPlatform, group: tuple[str, str], function: str) -> tuple[dict, str]:
    """A deployment of `function`'s live alias to version 2, and the hook's reply to it: (reply, status)."""
    appspec = {
        "version": 0.0,
        "Resources": [
            {
                "target": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": function,
                        "Alias": "live",
                        "CurrentVersion": "1",
                        "TargetVersion": "2",
                    },
                }
            }
        ],
    }
    codedeploy = platform.aws("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=group[0],
        deploymentGroupName=group[1],
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
    )["deploymentId"]
    event = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": f"hook-{deployment_id}"}
    invoked = platform.aws("lambda").invoke(
        FunctionName="Maestro-release_smoke:live", Payload=json.dumps(event)
    )
    assert "FunctionError" not in invoked, invoked["Payload"].read()
    reply: dict[str, Any] = json.loads(invoked["Payload"].read())
    status = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
    return reply, status


@pytest.mark.parametrize(
    ("function", "checks"),
    [
        ("Maestro-health", ["health"]),
        ("Maestro-registry", ["registry read"]),
        ("Maestro-ab_assign", ["A/B assignment"]),
        ("Maestro-training", ["routing"]),
    ],
)
def test_a_healthy_new_version_passes_and_the_deployment_goes_on(
    platform: RunningPlatform, group: tuple[str, str], function: str, checks: list[str]
) -> None:
    reply, status = deploy_and_hook(platform, group, function)
    assert reply["passed"] is True, reply["checks"]
    assert reply["function"] == function and reply["target"] == "2"
    assert [c["check"] for c in reply["checks"]] == checks
    assert status == "Succeeded"


def test_a_failing_new_version_fails_the_deployment_before_traffic_shifts(
    platform: RunningPlatform, group: tuple[str, str]
) -> None:
    fault = {"function": "registry", "error": "Runtime.ExitError", "times": "1"}
    assert requests.post(f"{platform.url}/_local/faults", params=fault, timeout=10).status_code == 201
    try:
        reply, status = deploy_and_hook(platform, group, "Maestro-registry")
    finally:
        requests.delete(f"{platform.url}/_local/faults", timeout=10)
    assert reply["passed"] is False
    (check,) = reply["checks"]
    assert check["check"] == "registry read" and check["why"] == "the invocation failed"
    assert status == "Failed"


def test_a_deployment_of_an_unknown_function_fails(platform: RunningPlatform, group: tuple[str, str]) -> None:
    reply, status = deploy_and_hook(platform, group, "Maestro-nothing")
    assert reply["passed"] is False and status == "Failed"
