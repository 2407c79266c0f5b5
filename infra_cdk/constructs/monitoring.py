"""CloudWatch alarms and one dashboard for the stack: per function errors, throttles and p99 duration
(against the latency objective of the SLO the platform holds it to, maestro.platform.slos), dead-letter
queue depth, and state machine failures. Alarms publish to no topic by default: CloudWatch puts every alarm
state change on the default event bus, where a team routes it as it likes. Must never leave a function, a
dead-letter queue or a state machine of the stack unwatched."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.functions import MaestroFunction
from maestro.platform.slos import latency_p99_ms

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[MaestroFunction],
        request_path: Collection[str] = (),
        dead_letter_queues: Sequence[sqs.IQueue] = (),
        state_machines: Sequence[sfn.IStateMachine] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        # a function's own alarms, by its name: what its deployment rolls back on
        self.function_alarms: dict[str, list[cloudwatch.Alarm]] = {}
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        for fn in functions:
            # Metrics name functions and machines by their literal names, not by reference: the releases'
            # deployment groups watch these alarms, and a reference back to a function (or to a machine that
            # invokes an alias) would make the alarms wait on the aliases the groups deploy.
            def lambda_metric(name: str, statistic: str, fn: MaestroFunction = fn) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name=name,
                    dimensions_map={"FunctionName": fn.function_name},
                    period=PERIOD,
                    statistic=statistic,
                )

            errors = lambda_metric("Errors", "Sum")
            throttles = lambda_metric("Throttles", "Sum")
            p99 = lambda_metric("Duration", "p99")
            limit_ms = latency_p99_ms(fn.name, fn.timeout.to_seconds(), fn.live.node.path in request_path)
            self.function_alarms[fn.name] = [
                self._alarm(f"{fn.name}-errors", errors, 1, f"{fn.name}: invocations failed"),
                self._alarm(f"{fn.name}-throttles", throttles, 1, f"{fn.name}: invocations throttled"),
                self._alarm(
                    f"{fn.name}-duration-p99",
                    p99,
                    limit_ms,
                    f"{fn.name}: p99 duration over its SLO's {limit_ms:g} ms",
                ),
            ]
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{fn.name}: invocations, errors, throttles",
                    left=[lambda_metric("Invocations", "Sum"), errors, throttles],
                    width=12,
                ),
                cloudwatch.GraphWidget(title=f"{fn.name}: duration p99 (ms)", left=[p99], width=12),
            )
        for queue in dead_letter_queues:
            depth = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
            self._alarm(f"{queue.node.id}-depth", depth, 1, "messages wait in a dead-letter queue")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(title=f"DLQ {queue.node.id}", left=[depth], width=12)
            )
        for machine in state_machines:
            failed = cloudwatch.Metric(
                namespace="AWS/States",
                metric_name="ExecutionsFailed",
                dimensions_map={"StateMachineArn": machine_arn(machine)},
                period=PERIOD,
                statistic="Sum",
            )
            self._alarm(f"{machine.node.id}-failed", failed, 1, "state machine executions failed")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(title=f"{machine.node.id}: failed executions", left=[failed], width=12)
            )

    def _alarm(
        self, name: str, metric: cloudwatch.Metric, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        self.alarms.append(
            cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
        )
        return self.alarms[-1]


def machine_arn(machine: sfn.IStateMachine) -> str:
    """The machine's ARN from its literal name (workflows.logged_machine names every machine)."""
    name = machine.node.default_child.state_machine_name  # type: ignore[union-attr]
    return Stack.of(machine).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
