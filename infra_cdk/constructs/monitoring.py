"""CloudWatch alarms and one dashboard for the stack: per function errors, throttles and p99 duration (against
its timeout), dead-letter queue depth, and state machine failures. Alarms publish to no topic by default:
CloudWatch puts every alarm state change on the default event bus, where a team routes it as it likes.
Must never leave a function, a dead-letter queue or a state machine of the stack unwatched."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.functions import MaestroFunction

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[MaestroFunction],
        dead_letter_queues: Sequence[sqs.IQueue] = (),
        state_machines: Sequence[sfn.IStateMachine] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        for fn in functions:
            f = fn.function
            errors = f.metric_errors(period=PERIOD, statistic="Sum")
            throttles = f.metric_throttles(period=PERIOD, statistic="Sum")
            p99 = f.metric_duration(period=PERIOD, statistic="p99")
            self._alarm(f"{fn.name}-errors", errors, 1, f"{fn.name}: invocations failed")
            self._alarm(f"{fn.name}-throttles", throttles, 1, f"{fn.name}: invocations throttled")
            limit_ms = fn.timeout.to_milliseconds() * 0.8
            self._alarm(f"{fn.name}-duration-p99", p99, limit_ms, f"{fn.name}: p99 duration near its timeout")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{fn.name}: invocations, errors, throttles",
                    left=[f.metric_invocations(period=PERIOD, statistic="Sum"), errors, throttles],
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
            failed = machine.metric_failed(period=PERIOD, statistic="Sum")
            self._alarm(f"{machine.node.id}-failed", failed, 1, "state machine executions failed")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(title=f"{machine.node.id}: failed executions", left=[failed], width=12)
            )

    def _alarm(self, name: str, metric: cloudwatch.Metric, threshold: float, description: str) -> None:
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
