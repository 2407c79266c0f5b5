"""CodeDeploy's pre-traffic hook for every request-path function: smoke-test the new version, report the
verdict (a failure stops the deployment before any traffic shifts)."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.platform.smoke import pre_traffic


@lambda_entry(correlation_id_path="DeploymentId", platform_access=True)
def handler(event, context):
    return pre_traffic(event)
