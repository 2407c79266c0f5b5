"""A/B testing: its table (gsi1 lists running experiments for the scheduler), the management, assignment,
ingestion and analysis functions, and the scheduled analysis.
Must never put numpy/scipy on the assignment path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import RUNTIME, MaestroFunction, table_function
from infra_cdk.constructs.nag import acknowledge, resource_finding
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.tenant_access import TenantAccess


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
        access: TenantAccess,
        registry_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "AbTable")
        access.include_tables([self.table])
        self.scientific = scientific = lambda_.LayerVersion(
            self,
            "ScientificLayer",
            code=layer_code("scientific"),
            compatible_runtimes=[RUNTIME],
            description="numpy, scipy",
        )
        env = {**environment, "MAESTRO_AB_TABLE": self.table.table_name}

        def function(name: str, **options: Any) -> MaestroFunction:
            """A request-path function: the A/B table only through tenant sessions."""
            return table_function(
                self,
                name,
                table=self.table,
                owner="A/B",
                bus=bus.bus,
                environment=env,
                tenant_access=access,
                **options,
            )

        management = function("ab", layers=layers)
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

        # CPU scales with memory: assignment is hot
        assignment = function("ab_assign", layers=layers, memory_mb=1024)
        api.route("POST", "/ab/assign", assignment.function)
        api.route("POST", "/ab/assign/batch", assignment.function)

        ingestion = function("ab_ingest", layers=layers, memory_mb=1024)
        api.route("POST", "/ab/events", ingestion.function)

        # numpy and scipy on their own layer; 1,769 MB is one full vCPU
        analysis = function("ab_analysis", layers=[*layers, scientific], memory_mb=1769)
        api.route("GET", "/ab/experiments/{experiment_id}/analysis", analysis.function)

        scheduled = table_function(
            self,
            "ab_schedule",
            table=self.table,
            owner="A/B",
            bus=bus.bus,
            layers=[*layers, scientific],
            memory_mb=1769,
            timeout=Duration.minutes(5),
            environment={**env, "MAESTRO_REGISTRY_TABLE": registry_table.table_name},
        )
        registry_table.grant_read_write_data(scheduled.function)  # opted-in promotions set a registry alias
        acknowledge(
            scheduled.role,
            resource_finding(registry_table, "/index/*"),
            "Reads the registry's own GSI to resolve the winner's model version.",
        )
        events.Rule(
            self,
            "HourlyAnalysis",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(scheduled.function)],
            description="Analyze every running experiment; emit analysis, SRM and decision events",
        )
