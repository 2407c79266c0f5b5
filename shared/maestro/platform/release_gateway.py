"""What a release's pre-traffic hook asks of AWS: the deployment CodeDeploy is running (its AppSpec names the
function, alias and the version traffic will shift to), invoking that version, and reporting the hook's
verdict. Must never report Succeeded for a hook that did not run its checks."""

from __future__ import annotations

import json
from typing import Any

from maestro.core.aws import client


def target(deployment_id: str) -> dict[str, str]:
    """{function, alias, current, target} from the deployment's AppSpec (JSON or YAML-free JSON content)."""
    info = client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    content = info["revision"]["appSpecContent"]["content"]
    appspec = json.loads(content)
    ((_, resource),) = appspec["Resources"][0].items()
    props = resource["Properties"]
    return {
        "function": str(props["Name"]),
        "alias": str(props["Alias"]),
        "current": str(props.get("CurrentVersion", "")),
        "target": str(props["TargetVersion"]),
    }


def invoke(function: str, version: str, event: dict[str, Any]) -> tuple[bool, Any]:
    """(whether the invocation itself failed, its payload) of `function` at `version`."""
    reply = client("lambda").invoke(
        FunctionName=function, Qualifier=version, Payload=json.dumps(event).encode()
    )
    payload = reply["Payload"].read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return "FunctionError" in reply, parsed


def report(deployment_id: str, execution_id: str, passed: bool) -> None:
    client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=execution_id,
        status="Succeeded" if passed else "Failed",
    )
