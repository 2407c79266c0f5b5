"""The model registry and experiment tracking: its table (with the GSI that lists runs, logged models and
versions) and the registry function behind MLflow's REST paths. Must never grant the function data access
of its own: it reaches items and artifacts through tenant sessions (TenantAccess)."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from infra_cdk.constructs.capability import Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.storage import table_with_gsi1


class Registry(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id)
        # pk "<tenant>#..." for every item; gsi1 lists a tenant's runs and logged models per experiment and
        # all of its model versions.
        self.table = table_with_gsi1(self, "RegistryTable")
        shared.access.include_tables([self.table])
        maestro_fn = MaestroFunction(
            self,
            "Function",
            name="registry",
            layers=shared.layers,
            memory_mb=1024,
            timeout=Duration.seconds(29),
            environment={**shared.environment, "MAESTRO_REGISTRY_TABLE": self.table.table_name},
        )
        fn = maestro_fn.function
        shared.bus.bus.grant_put_events_to(fn)
        shared.access.grant_assume(maestro_fn)  # its items and the artifacts only through tenant sessions
        for prefix in ("/api/2.0/mlflow/{proxy+}", "/api/2.0/mlflow-artifacts/{proxy+}"):
            shared.api.route("ANY", prefix, maestro_fn.live)
        self.function = fn
