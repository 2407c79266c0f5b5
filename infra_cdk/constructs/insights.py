"""Insights over the team's own history, in a nested stack of its own (the parent holds ~470 of
CloudFormation's 500 resources): its table, named literally (TABLE_SUFFIX) so the stack's cross-cutting
functions (health, exports, purges, drills, backups) reach it by name without waiting on this stack; the API
function; the function that keeps the live graph from the registry's events on the bus; and the backfill
workflow that rebuilds the graph from the registry and the audit trail. Must never let the parent stack
depend on a resource here but through its API routes."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, NestedStack, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, executions_finding
from infra_cdk.constructs.naming import root_stack_name
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.workflows import Looping, looping_machine
from maestro.insights.incremental import DETAIL_TYPES, SOURCES

TABLE_SUFFIX = "insights"
MACHINE = "GraphBackfill"  # the backfill machine is named <stack>-GraphBackfill


def insights_table(scope: Construct) -> dynamodb.ITable:
    """The insights table by its literal name, for constructs outside the nested stack."""
    return dynamodb.Table.from_table_name(
        scope, "InsightsTableByName", f"{root_stack_name(scope)}-{TABLE_SUFFIX}"
    )


def grant_stop(purge: MaestroFunction) -> None:
    """A tenant's deletion stops its running backfills (their executions are named by backfill ids), by the
    machine's literal name: the parent's purge function never waits on the nested stack."""
    stack = Stack.of(purge)
    name = f"{root_stack_name(purge)}-{MACHINE}"
    executions = stack.format_arn(
        service="states",
        resource="execution",
        resource_name=f"{name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    purge.function.add_to_role_policy(
        iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions])
    )
    acknowledge(
        purge.role,
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}:*]",
        "A deletion stops the tenant's running graph backfills, whose executions are named by backfill ids.",
    )


class Insights(NestedStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        learning: list[lambda_.ILayerVersion],
        registry_table: dynamodb.ITable,
        audit_table: dynamodb.ITable,
        ab_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id, description="Maestro ML: insights over the team's own history")
        self.table = table_with_gsi1(
            self, "InsightsTable", table_name=f"{root_stack_name(self)}-{TABLE_SUFFIX}"
        )
        env = {
            **shared.environment,
            "MAESTRO_INSIGHTS_TABLE": self.table.table_name,
            # the graph reads runs and versions (registry), what A/B tests served (A/B) and the events the
            # backfill replays (the audit trail)
            "MAESTRO_REGISTRY_TABLE": registry_table.table_name,
            "MAESTRO_AUDIT_TABLE": audit_table.table_name,
            "MAESTRO_AB_TABLE": ab_table.table_name,
        }
        function = CapabilityFunctions(self, shared, table=self.table, owner="insights", environment=env)

        api = function("insights", layers=learning, memory_mb=1024, timeout=Duration.seconds(29))
        function.routes(
            api,
            ("GET", "/insights/neighbourhood"),
            ("GET", "/insights/reuse"),
            ("GET", "/insights/reuse/timeline"),
            ("POST", "/insights/recommendations"),
            ("POST", "/insights/backfills"),
            ("GET", "/insights/backfills"),
            ("GET", "/insights/backfills/{backfill_id}"),
            ("POST", "/insights/forecast/train"),
            ("GET", "/insights/forecast"),
            ("GET", "/insights/projects/{project_id}/forecast"),
            ("POST", "/insights/projects/{project_id}/team"),
        )

        graph = function("insights_events", timeout=Duration.seconds(60))
        events.Rule(
            self,
            "GraphFromRegistry",
            event_bus=shared.bus.bus,
            event_pattern=events.EventPattern(source=sorted(SOURCES), detail_type=list(DETAIL_TYPES)),
            targets=[targets.LambdaFunction(graph.live)],
            description="Keep each tenant's reuse graph: runs, versions, promotions, explanations, A/B tests",
        )

        # Daily: every tenant's forecast learned again. Tenant data through tenant sessions, like the API; its
        # own role reads only the table's index of which tenants have a model (across tenants).
        retrain = function("insights_retrain", layers=learning, memory_mb=1024, timeout=Duration.minutes(15))
        retrain.function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{self.table.table_arn}/index/gsi1"])
        )
        function.schedule(
            retrain,
            "DailyRetraining",
            events.Schedule.rate(Duration.days(1)),
            "Retrain every tenant's project-success forecast on its finished projects",
        )

        worker = function("insights_backfill", memory_mb=1024, timeout=Duration.minutes(5))
        names = Looping(
            MACHINE, "backfill", "walk", "StartBackfill", "Walk", "Compare", "Read?", "Backfilled"
        )
        failure = ("RecordBackfillFailure", "BackfillFailed", "GraphBackfillFailed", "see the backfill")
        self.state_machine = looping_machine(self, worker.live, names, failure, "backfill")
        self.state_machine.grant_start_execution(api.function)
        self.state_machine.grant_execution(api.function, "states:DescribeExecution")
        acknowledge(
            api.role,
            executions_finding(self.state_machine),
            "Describe the backfill machine's own executions, whose names are backfill ids.",
        )
        api.function.add_environment(
            "MAESTRO_INSIGHTS_BACKFILL_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
