"""A/B testing: its table (gsi1 lists running experiments for the scheduler), the management, assignment,
ingestion and analysis functions, and the scheduled analysis.
Must never put numpy/scipy on the assignment path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import RUNTIME, MaestroFunction
from infra_cdk.constructs.nag import acknowledge
from infra_cdk.constructs.storage import table_with_gsi1


class AbTesting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: HttpApi,
        bus: EventBus,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        registry_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "AbTable")
        scientific = lambda_.LayerVersion(
            self,
            "ScientificLayer",
            code=layer_code("scientific"),
            compatible_runtimes=[RUNTIME],
            description="numpy, scipy",
        )
        env = {**environment, "MAESTRO_AB_TABLE": self.table.table_name}
        stack = Stack.of(self)
        table_id = stack.get_logical_id(self.table.node.default_child)
        index_finding = f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]"

        def function(name: str, *, scientific_layer: bool = False, memory_mb: int = 512) -> MaestroFunction:
            fn = MaestroFunction(
                self,
                name.title().replace("_", ""),
                name=name,
                memory_mb=memory_mb,
                layers=[*layers, scientific] if scientific_layer else list(layers),
                environment=env,
                timeout=Duration.seconds(29),
            )
            bus.bus.grant_put_events_to(fn.function)
            acknowledge(
                fn.role, index_finding, "Queries on the A/B table's own GSI (gsi1): the table ARN + /index/*."
            )
            return fn

        management = function("ab")
        self.table.grant_read_write_data(management.function)
        for method, path in (
            ("POST", "/ab/experiments"),
            ("GET", "/ab/experiments"),
            ("GET", "/ab/experiments/{experiment_id}"),
            ("PUT", "/ab/experiments/{experiment_id}"),
            ("POST", "/ab/experiments/{experiment_id}/start"),
            ("POST", "/ab/experiments/{experiment_id}/pause"),
            ("POST", "/ab/experiments/{experiment_id}/resume"),
            ("POST", "/ab/experiments/{experiment_id}/conclude"),
            ("PUT", "/ab/holdout"),
        ):
            api.route(method, path, management.function)

        assignment = function("ab_assign", memory_mb=1024)  # CPU scales with memory: assignment is hot
        self.table.grant_read_data(assignment.function)
        api.route("POST", "/ab/assign", assignment.function)
        api.route("POST", "/ab/assign/batch", assignment.function)

        ingestion = function("ab_ingest", memory_mb=1024)
        self.table.grant_read_write_data(ingestion.function)
        api.route("POST", "/ab/events", ingestion.function)

        analysis = function("ab_analysis", scientific_layer=True, memory_mb=1769)  # one full vCPU
        self.table.grant_read_data(analysis.function)
        api.route("GET", "/ab/experiments/{experiment_id}/analysis", analysis.function)

        scheduled = MaestroFunction(
            self,
            "AbSchedule",
            name="ab_schedule",
            layers=[*layers, scientific],
            memory_mb=1769,
            timeout=Duration.minutes(5),
            environment={**env, "MAESTRO_REGISTRY_TABLE": registry_table.table_name},
        )
        self.table.grant_read_write_data(scheduled.function)
        registry_table.grant_read_write_data(scheduled.function)  # opted-in promotions set a registry alias
        bus.bus.grant_put_events_to(scheduled.function)
        acknowledge(
            scheduled.role,
            index_finding,
            "Queries on the A/B table's own GSI (gsi1): the table ARN + /index/*.",
        )
        acknowledge(
            scheduled.role,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(registry_table.node.default_child)}.Arn>/index/*]",
            "Reads the registry's own GSI to resolve the winner's model version.",
        )
        events.Rule(
            self,
            "HourlyAnalysis",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(scheduled.function)],
            description="Analyze every running experiment; emit analysis, SRM and decision events",
        )
