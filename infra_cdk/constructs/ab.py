"""A/B testing: its table (gsi1 lists running experiments for the scheduler), the management, assignment,
ingestion and analysis functions, and the scheduled analysis.
Must never put numpy/scipy on the assignment path."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import RUNTIME
from infra_cdk.constructs.nag import acknowledge, resource_finding
from infra_cdk.constructs.storage import table_with_gsi1


class AbTesting(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: Shared, registry_table: dynamodb.ITable
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "AbTable")
        shared.access.include_tables([self.table])
        self.scientific = scientific = lambda_.LayerVersion(
            self,
            "ScientificLayer",
            code=layer_code("scientific"),
            compatible_runtimes=[RUNTIME],
            description="numpy, scipy",
        )
        env = {**shared.environment, "MAESTRO_AB_TABLE": self.table.table_name}
        function = CapabilityFunctions(self, shared, table=self.table, owner="A/B", environment=env)
        layers = shared.layers

        management = function("ab")
        function.routes(
            management,
            ("POST", "/ab/experiments"),
            ("GET", "/ab/experiments"),
            ("GET", "/ab/experiments/{experiment_id}"),
            ("PUT", "/ab/experiments/{experiment_id}"),
            ("POST", "/ab/experiments/{experiment_id}/start"),
            ("POST", "/ab/experiments/{experiment_id}/pause"),
            ("POST", "/ab/experiments/{experiment_id}/resume"),
            ("POST", "/ab/experiments/{experiment_id}/conclude"),
            ("PUT", "/ab/holdout"),
        )

        # CPU scales with memory: assignment is hot
        assignment = function("ab_assign", memory_mb=1024)
        function.routes(assignment, ("POST", "/ab/assign"), ("POST", "/ab/assign/batch"))

        # exposures may carry serving records for the variant's model version (resolved in the registry)
        self.ingestion = ingestion = function(
            "ab_ingest",
            memory_mb=1024,
            environment={**env, "MAESTRO_REGISTRY_TABLE": registry_table.table_name},
        )
        function.routes(ingestion, ("POST", "/ab/events"))

        # numpy and scipy on their own layer; 1,769 MB is one full vCPU
        analysis = function("ab_analysis", layers=[*layers, scientific], memory_mb=1769)
        function.routes(analysis, ("GET", "/ab/experiments/{experiment_id}/analysis"))

        self.scheduled = scheduled = function(
            "ab_schedule",
            scoped=False,
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
        function.schedule(
            scheduled,
            "HourlyAnalysis",
            events.Schedule.rate(Duration.hours(1)),
            "Analyze every running experiment; emit analysis, SRM and decision events",
        )

    def hold_promotions_on_drift(self, monitoring_table: dynamodb.ITable) -> None:
        """An opted-in promotion reads the winner's monitors first: drift holds it back. (Ingestion records
        exposures' serving records there, through tenant sessions.)"""
        self.ingestion.function.add_environment("MAESTRO_MONITORING_TABLE", monitoring_table.table_name)
        self.scheduled.function.add_environment("MAESTRO_MONITORING_TABLE", monitoring_table.table_name)
        monitoring_table.grant_read_data(self.scheduled.function)
        acknowledge(
            self.scheduled.role,
            resource_finding(monitoring_table, "/index/*"),
            "Reads monitoring's table (the read grant includes its GSI) to find the winner's monitors.",
        )
