"""SLA and SLO checks: their table (gsi1 lists every tenant's SLOs for the checker), the definitions and
status function, the observation ingestion (HTTP batches and every other function's outcome log lines
through CloudWatch Logs subscriptions), and the check on a one-minute schedule.
Must never subscribe the ingestion function to its own log group: its outcomes would feed themselves."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction, send_outcomes
from infra_cdk.constructs.storage import table_with_gsi1


class Sla(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "SlaTable", ttl_attribute="expires_at")
        shared.access.include_tables([self.table])
        env = {**shared.environment, "MAESTRO_SLA_TABLE": self.table.table_name}
        # The check works across tenants (scoped=False): it reaches the table with its own grants.
        function = CapabilityFunctions(self, shared, table=self.table, owner="SLA", environment=env)

        definitions = function("sla")
        function.routes(
            definitions,
            ("POST", "/sla/slos"),
            ("GET", "/sla/slos"),
            ("GET", "/sla/slos/{slo_id}"),
            ("PUT", "/sla/slos/{slo_id}"),
            ("DELETE", "/sla/slos/{slo_id}"),
            ("GET", "/sla/slos/{slo_id}/status"),
            ("GET", "/sla/slos/{slo_id}/report"),
        )

        self.ingest = function("sla_ingest", memory_mb=1024)
        function.routes(self.ingest, ("POST", "/sla/observations"))

        check = function("sla_check", scoped=False, memory_mb=1024, timeout=Duration.minutes(5))
        function.schedule(
            check,
            "EveryMinute",
            events.Schedule.rate(Duration.minutes(1)),
            "Check every SLO: probes, attainment, budgets, burn rates; emit what changed",
        )

    def collect_outcomes(self, functions: Sequence[MaestroFunction]) -> None:
        """Subscribe the ingestion to each function's outcome lines (its own excepted)."""
        send_outcomes(functions, self.ingest, "Outcomes", "maestro-outcomes")
