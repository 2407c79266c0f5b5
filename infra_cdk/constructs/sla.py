"""SLA and SLO checks: their table (gsi1 lists every tenant's SLOs for the checker), the definitions and
status function, the observation ingestion (HTTP batches and every other function's outcome log lines
through CloudWatch Logs subscriptions), and the check on a one-minute schedule.
Must never subscribe the ingestion function to its own log group: its outcomes would feed themselves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import MaestroFunction, send_outcomes, table_function
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.tenant_access import TenantAccess


class Sla(Construct):
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "SlaTable", ttl_attribute="expires_at")
        access.include_tables([self.table])
        env = {**environment, "MAESTRO_SLA_TABLE": self.table.table_name}

        def function(
            name: str, *, scoped: bool = True, memory_mb: int = 512, timeout: Duration | None = None
        ) -> MaestroFunction:
            """scoped: a request-path function, the table only through tenant sessions; else the check's
            work across tenants, with its own grants."""
            return table_function(
                self,
                name,
                table=self.table,
                owner="SLA",
                bus=bus.bus,
                layers=layers,
                environment=env,
                tenant_access=access if scoped else None,
                memory_mb=memory_mb,
                timeout=timeout,
            )

        definitions = function("sla")
        for method, path in (
            ("POST", "/sla/slos"),
            ("GET", "/sla/slos"),
            ("GET", "/sla/slos/{slo_id}"),
            ("PUT", "/sla/slos/{slo_id}"),
            ("DELETE", "/sla/slos/{slo_id}"),
            ("GET", "/sla/slos/{slo_id}/status"),
            ("GET", "/sla/slos/{slo_id}/report"),
        ):
            api.route(method, path, definitions.function)

        self.ingest = function("sla_ingest", memory_mb=1024)
        api.route("POST", "/sla/observations", self.ingest.function)

        check = function("sla_check", scoped=False, memory_mb=1024, timeout=Duration.minutes(5))
        events.Rule(
            self,
            "EveryMinute",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(check.function)],
            description="Check every SLO: probes, attainment, budgets, burn rates; emit what changed",
        )

    def collect_outcomes(self, functions: Sequence[MaestroFunction]) -> None:
        """Subscribe the ingestion to each function's outcome lines (its own excepted)."""
        send_outcomes(functions, self.ingest, "Outcomes", "maestro-outcomes")
