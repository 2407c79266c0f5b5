"""The stack's operational resources in a nested stack of their own: every function's alarms (errors,
throttles, p99 latency against the SLO the platform holds it to), dead-letter queues' and state machines'
alarms, and the dashboard. Nested because CloudFormation counts 500 resources a stack, and one alias, version
and deployment group a function leave the parent no room for ~100 alarms. Must never leave a function, a
dead-letter queue or a state machine of the stack unwatched."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import NestedStack
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.monitoring import Monitoring


class Operations(NestedStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[MaestroFunction],
        request_path: set[str],
        dead_letter_queues: Sequence[sqs.IQueue],
        state_machines: Sequence[sfn.IStateMachine],
    ) -> None:
        super().__init__(scope, construct_id, description="Maestro ML: alarms and dashboard")
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            functions=functions,
            request_path=request_path,
            dead_letter_queues=dead_letter_queues,
            state_machines=state_machines,
        )
