"""The model registry and experiment tracking: its table (with the GSI that lists runs, logged models and
versions) and the registry function behind MLflow's REST paths. Must never grant S3 outside tenants/*."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, resource_finding
from infra_cdk.constructs.storage import Storage, table_with_gsi1


class Registry(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: HttpApi,
        storage: Storage,
        bus: EventBus,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        # pk "<tenant>#..." for every item; gsi1 lists a tenant's runs and logged models per experiment and
        # all of its model versions.
        self.table = table_with_gsi1(self, "RegistryTable")
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
        self.table.grant_read_write_data(fn)
        bus.bus.grant_put_events_to(fn)
        # Artifacts: objects under tenants/* only (the function adds the caller's tenant to every key), and
        # listing, which presigned multipart uploads and directory listings need.
        tenants = storage.artifacts.arn_for_objects("tenants/*")
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[tenants],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.artifacts.bucket_arn])
        )
        acknowledge(
            maestro_fn.role,
            resource_finding(self.table, "/index/*"),
            "Queries on the registry table's own GSI (gsi1): the index ARN is the table ARN + /index/*.",
        )
        acknowledge(
            maestro_fn.role,
            resource_finding(storage.artifacts, "/tenants/*"),
            "Artifacts of every tenant live under tenants/<tenant>/; the function prefixes each key with "
            "the caller's verified tenant, and S3 has no per-request prefix to pin in the role.",
        )
        for prefix in ("/api/2.0/mlflow/{proxy+}", "/api/2.0/mlflow-artifacts/{proxy+}"):
            api.route("ANY", prefix, fn)
        self.function = fn
