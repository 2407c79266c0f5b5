"""What CodeDeploy does with a Lambda deployment's pre-traffic hook, which moto records deployments for but
does not run: the hook's verdict (PutLifecycleEventHookExecutionStatus) decides the deployment. Succeeded
lets it go on (locally there is no traffic to shift: it ends Succeeded); Failed stops it before any traffic
moves (it ends Failed, as CodeDeploy ends it and rolls the alias back). Must never decide a deployment
without a verdict."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.codedeploy.models import codedeploy_backends

ACCOUNT = "123456789012"
TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"


class LocalReleases:
    def __init__(self, region: str) -> None:
        self.region = region
        self.verdicts: dict[str, dict[str, str]] = {}  # lifecycle event hook execution id -> verdict
        self._lock = threading.Lock()

    def handles(self, target: str) -> bool:
        return target == TARGET

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        deployments = codedeploy_backends[ACCOUNT][self.region].deployments
        deployment = deployments.get(str(body.get("deploymentId")))
        status = body.get("status")
        if deployment is None:
            return 400, {"__type": "DeploymentDoesNotExistException", "message": "no such deployment"}
        if status not in ("Succeeded", "Failed"):
            invalid = "InvalidLifecycleEventHookExecutionStatusException"
            return 400, {"__type": invalid, "message": str(status)}
        execution_id = str(body.get("lifecycleEventHookExecutionId"))
        with self._lock:
            if execution_id in self.verdicts:
                return 400, {
                    "__type": "LifecycleEventAlreadyCompletedException",
                    "message": "the hook already reported",
                }
            self.verdicts[execution_id] = {"deployment_id": deployment.deployment_id, "status": status}
        deployment.status = status
        deployment.complete_time = datetime.now(UTC)
        if status == "Failed":
            deployment.deployment_status_messages.append("the BeforeAllowTraffic hook reported Failed")
        return 200, {"lifecycleEventHookExecutionId": execution_id}
