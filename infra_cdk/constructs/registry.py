"""The model registry and experiment tracking: its table (with the GSI that lists runs, logged models and
versions) and the registry function behind MLflow's REST paths. Must never grant the function data access
of its own: it reaches items and artifacts through tenant sessions (TenantAccess)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.tenant_access import TenantAccess


class Registry(Construct):
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
        # pk "<tenant>#..." for every item; gsi1 lists a tenant's runs and logged models per experiment and
        # all of its model versions.
        self.table = table_with_gsi1(self, "RegistryTable")
        access.include_tables([self.table])
        maestro_fn = MaestroFunction(
            self,
            "Function",
            name="registry",
            layers=layers,
            memory_mb=1024,
            timeout=Duration.seconds(29),
            environment={**environment, "MAESTRO_REGISTRY_TABLE": self.table.table_name},
        )
        fn = maestro_fn.function
        bus.bus.grant_put_events_to(fn)
        access.grant_assume(maestro_fn)  # its items and the tenant's artifacts, only through tenant sessions
        for prefix in ("/api/2.0/mlflow/{proxy+}", "/api/2.0/mlflow-artifacts/{proxy+}"):
            api.route("ANY", prefix, fn)
        self.function = fn
