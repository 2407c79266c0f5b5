"""One Maestro ML Lambda function: bundled without Docker, its own role and log group, traced, tagged
with the handler folder so the local runtime finds it. Must never grant a function more than it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as destinations
from constructs import Construct, IConstruct

from infra_cdk.bundling import function_code
from infra_cdk.constructs.nag import acknowledge, logical_id, resource_finding
from infra_cdk.constructs.naming import root_stack_name
from maestro.core.outcomes import FILTER_PATTERN, FUNCTION_PREFIX_VARIABLE

FUNCTION_METADATA = "maestro:function"
RUNTIME = lambda_.Runtime.PYTHON_3_12


class MaestroFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        memory_mb: int = 512,
        timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        root = root_stack_name(self)
        self.name = name
        self.function_name = f"{root}-{name}"  # literal: alarms name it without a reference
        self.timeout = timeout or Duration.seconds(15)
        self.log_group = log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        # An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,  # layers are built from manylinux x86_64 wheels
            handler="handler.handler",
            # A readable, stable name: dashboards, alarms and the SLA's "maestro:<name>" services use it.
            function_name=self.function_name,
            code=function_code(name),
            layers=list(layers),
            memory_size=memory_mb,
            timeout=self.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": name,
                FUNCTION_PREFIX_VARIABLE: f"{root}-",
                **environment,
            },
        )
        cfn = self.function.node.default_child
        cfn.add_metadata(FUNCTION_METADATA, name)  # type: ignore[union-attr]
        # Everything that invokes the function (routes, rules, queues, workflows, log subscriptions) invokes
        # this alias: a deploy publishes a new version and shifts the alias to it, by CodeDeploy's rules
        # (infra_cdk/constructs/delivery_groups.py), rolling back on the function's alarms.
        self.live = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
        # Only the policy must exist first, or the first invocation cannot log.
        after_its_policy(self.function, self.role)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Pinned to {RUNTIME.name}: the layers are built for it and tested on it; "
            "the runtime moves with a deliberate upgrade.",
        )


def after_its_policy(resource: IConstruct, role: iam.IRole) -> None:
    """CDK makes a resource that uses a role depend on the role and its default policy; the role is already
    implied by the GetAtt of its ARN (cfn-lint W3005), so only the policy stays a DependsOn."""
    policy = role.node.find_child("DefaultPolicy")
    resource.node.default_child.add_override("DependsOn", [logical_id(policy)])  # type: ignore[union-attr]


class TenantScoped(Protocol):
    def grant_assume(self, fn: MaestroFunction) -> None: ...


def table_function(
    scope: Construct,
    name: str,
    *,
    table: dynamodb.ITable,
    owner: str,
    bus: events.IEventBus,
    layers: Sequence[lambda_.ILayerVersion],
    environment: Mapping[str, str],
    tenant_access: TenantScoped | None = None,
    read_only: bool = False,
    memory_mb: int = 512,
    timeout: Duration | None = None,
) -> MaestroFunction:
    """A capability's function over its own table (and that table's gsi1), publishing to the bus. With
    `tenant_access` (request-path functions) it reaches the table only through tenant sessions; without it
    (work across tenants: schedules, queues) through its own role."""
    fn = MaestroFunction(
        scope,
        name.title().replace("_", ""),
        name=name,
        layers=layers,
        environment=environment,
        memory_mb=memory_mb,
        timeout=timeout or Duration.seconds(29),
    )
    bus.grant_put_events_to(fn.function)
    if tenant_access is not None:
        tenant_access.grant_assume(fn)
        return fn
    (table.grant_read_data if read_only else table.grant_read_write_data)(fn.function)
    acknowledge(
        fn.role,
        resource_finding(table, "/index/*"),
        f"Queries on the {owner} table's own GSI (gsi1): the index ARN is the table ARN + /index/*.",
    )
    return fn


def send_outcomes(
    functions: Sequence[MaestroFunction], to: MaestroFunction, construct_id: str, filter_name: str
) -> None:
    """Subscribe `to` to every function's outcome lines (maestro.core.outcomes), its own excepted: its
    outcomes would feed themselves. CloudWatch Logs allows two subscription filters per log group. One
    permission lets the stack's log groups invoke `to` (one per log group would cost a resource each, and
    the stack's 500 are counted)."""
    stack = Stack.of(to)
    to.live.add_permission(
        f"{construct_id}FromLogs",
        principal=iam.ServicePrincipal("logs.amazonaws.com"),
        source_arn=stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        ),
        source_account=stack.account,
    )
    permission = to.live.node.find_child(f"{construct_id}FromLogs")
    destination = destinations.LambdaDestination(to.live, add_permissions=False)
    for fn in functions:
        if fn is to:
            continue
        subscription = logs.SubscriptionFilter(
            fn,
            construct_id,
            log_group=fn.log_group,
            destination=destination,
            filter_pattern=logs.FilterPattern.literal(FILTER_PATTERN),
            filter_name=filter_name,
        )
        subscription.node.add_dependency(permission)
