"""Model monitoring: its table (gsi1 lists every tenant's monitors for the scheduled checks; windows,
markers and old checks expire), the API function (monitors, baselines, serving records, checks on demand)
and the hourly check over every monitor. Both need numpy and scipy (the drift statistics): the scientific
layer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.storage import table_with_gsi1


class ModelMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        scientific: lambda_.ILayerVersion,
        plots: lambda_.ILayerVersion,
        registry_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "MonitoringTable", ttl_attribute="expires_at")
        shared.access.include_tables([self.table])
        env = {
            **shared.environment,
            "MAESTRO_MONITORING_TABLE": self.table.table_name,
            # a registered version's run names its training data (read through the tenant's session)
            "MAESTRO_REGISTRY_TABLE": registry_table.table_name,
        }
        function = CapabilityFunctions(self, shared, table=self.table, owner="Monitoring", environment=env)
        layers = [*shared.layers, scientific]

        api = function("monitoring", layers=layers, memory_mb=1024, timeout=Duration.seconds(29))
        function.routes(
            api,
            ("POST", "/monitoring/monitors"),
            ("GET", "/monitoring/monitors"),
            ("GET", "/monitoring/monitors/{monitor_id}"),
            ("DELETE", "/monitoring/monitors/{monitor_id}"),
            ("POST", "/monitoring/monitors/{monitor_id}/check"),
            ("GET", "/monitoring/monitors/{monitor_id}/checks"),
            ("POST", "/monitoring/baselines"),
            ("GET", "/monitoring/baselines/{model}/{version}"),
            ("POST", "/monitoring/records"),
        )

        # Reports draw with matplotlib: their own function, on the plots layer (numpy, matplotlib).
        reports = function(
            "monitoring_report", layers=[*shared.layers, plots], memory_mb=1024, timeout=Duration.seconds(29)
        )
        function.routes(reports, ("POST", "/monitoring/monitors/{monitor_id}/report"))

        # A baseline for every registered version that names its reference data.
        events.Rule(
            self,
            "BaselineOnRegistration",
            event_bus=shared.bus.bus,
            event_pattern=events.EventPattern(
                source=["maestro.registry"], detail_type=["ModelVersionCreated"]
            ),
            targets=[targets.LambdaFunction(api.live)],
            description="Profile a registered model version's reference data as its monitoring baseline",
        )

        check = function(
            "monitoring_check", scoped=False, layers=layers, memory_mb=1024, timeout=Duration.minutes(10)
        )
        # Checks on request (the API) and on the schedule can start a monitor's retraining job.
        self.checkers = {"scoped": api, "scheduled": check}
        function.schedule(
            check,
            "Hourly",
            events.Schedule.rate(Duration.hours(1)),
            "Check every monitor's window: drift per column and data quality; emit what it finds",
        )
