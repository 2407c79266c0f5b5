"""The Maestro ML stack: composes one construct per concern. Must never hold resource details itself."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.ab import AbTesting
from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.audit import Audit
from infra_cdk.constructs.backups import Backups, BackupSettings
from infra_cdk.constructs.capability import Shared
from infra_cdk.constructs.console import Console
from infra_cdk.constructs.delivery import Delivery
from infra_cdk.constructs.drills import Drills
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.explain import Explain
from infra_cdk.constructs.functions import RUNTIME, MaestroFunction
from infra_cdk.constructs.identity import Identity, OidcConfig
from infra_cdk.constructs.insights import Insights, insights_table
from infra_cdk.constructs.insights import grant_stop as insights_grant_stop
from infra_cdk.constructs.model_monitoring import ModelMonitoring
from infra_cdk.constructs.operations import Operations
from infra_cdk.constructs.platform import Platform
from infra_cdk.constructs.registry import Registry
from infra_cdk.constructs.releases import Releases, smoke_hook
from infra_cdk.constructs.sla import Sla
from infra_cdk.constructs.storage import Storage
from infra_cdk.constructs.tenant_access import ARTIFACT_OBJECT_ACTIONS, TenantAccess
from infra_cdk.constructs.tenants import Tenants
from infra_cdk.constructs.training import Training


class MaestroStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        bus_name: str,
        oidc: OidcConfig | None,
        tenant_claim: str,
        roles_claim: str,
        audit_lock_days: int = 365,
        deployment: Mapping[str, str] | None = None,
        backups: BackupSettings | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        storage = Storage(self, "Storage")
        console = Console(self, "Console", access_logs=storage.access_logs)
        identity = Identity(self, "Identity", oidc=oidc, console_url=console.url, stage=stage)
        api = HttpApi(self, "Http", authorizer=identity.authorizer)
        bus = EventBus(self, "Events", bus_name=bus_name)
        base_layer = lambda_.LayerVersion(
            self,
            "PowertoolsLayer",
            code=layer_code("powertools"),
            compatible_runtimes=[RUNTIME],
            description="aws-lambda-powertools (tracer), pydantic, boto3",
        )
        # Request-path functions reach tenant data only through sessions of this role (core.aws).
        access = TenantAccess(self, "TenantAccess")
        access.include_tables([storage.platform_table])
        access.include_objects(storage.artifacts, ARTIFACT_OBJECT_ACTIONS)
        environment = {
            "MAESTRO_TENANT_ROLE_ARN": access.role_arn,
            "MAESTRO_STAGE": stage,
            "MAESTRO_EVENT_BUS_NAME": bus.bus.event_bus_name,
            "MAESTRO_PLATFORM_TABLE": storage.platform_table.table_name,
            "MAESTRO_ARTIFACTS_BUCKET": storage.artifacts.bucket_name,
            "MAESTRO_TENANT_CLAIM": tenant_claim,
            "MAESTRO_ROLES_CLAIM": roles_claim,
            "POWERTOOLS_METRICS_NAMESPACE": "Maestro",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        shared = Shared(api=api, bus=bus, layers=[base_layer], environment=environment, access=access)
        platform = Platform(self, "Platform", shared=shared, storage=storage)
        hook = smoke_hook(self, shared.layers, environment)
        registry = Registry(self, "Registry", shared=shared)
        ab = AbTesting(self, "Ab", shared=shared, registry_table=registry.table)
        sla = Sla(self, "Sla", shared=shared)
        audit = Audit(self, "Audit", shared=shared, storage=storage, lock_days=audit_lock_days)
        explain = Explain(
            self, "Explain", shared=shared, scientific=ab.scientific, registry_table=registry.table
        )
        monitoring = ModelMonitoring(
            self,
            "ModelMonitoring",
            shared=shared,
            scientific=ab.scientific,
            plots=explain.plots,
            registry_table=registry.table,
        )
        ab.hold_promotions_on_drift(monitoring.table)
        training = Training(
            self, "Training", shared=shared, registry_table=registry.table, artifacts=storage.artifacts
        )
        training.allow_submitting(**monitoring.checkers, platform_table=storage.platform_table)
        delivery = Delivery(
            self,
            "Delivery",
            shared=shared,
            registry_table=registry.table,
            monitoring_table=monitoring.table,
            sla_table=sla.table,
        )
        Insights(
            self,
            "Insights",
            shared=shared,
            learning=[explain.slim, ab.scientific, explain.shap_stack],
            registry_table=registry.table,
            audit_table=audit.table,
            ab_table=ab.table,
        )
        # By its literal name: the cross-cutting functions below never wait on the nested stack.
        insights = insights_table(self)
        access.include_tables([insights])
        tables = {
            "MAESTRO_REGISTRY_TABLE": registry.table,
            "MAESTRO_AB_TABLE": ab.table,
            "MAESTRO_SLA_TABLE": sla.table,
            "MAESTRO_AUDIT_TABLE": audit.table,
            "MAESTRO_EXPLAIN_TABLE": explain.table,
            "MAESTRO_MONITORING_TABLE": monitoring.table,
            "MAESTRO_TRAINING_TABLE": training.table,
            "MAESTRO_DELIVERY_TABLE": delivery.table,
            "MAESTRO_INSIGHTS_TABLE": insights,
            "MAESTRO_PLATFORM_TABLE": storage.platform_table,
        }
        tenants = Tenants(
            self,
            "Tenants",
            storage=storage,
            tables=tables,
            archive=audit.archive,
            explain_machine=explain.state_machine,
            shared=shared,
        )
        training.grant_stop(tenants.purge)
        delivery.grant_stop(tenants.purge)
        insights_grant_stop(tenants.purge)
        for variable, table in tables.items():
            platform.watch_table(variable, table)
        # Every table that holds state, and both buckets (the idempotency table's records expire in an hour).
        Backups(
            self,
            "Backups",
            tables=list(tables.values()),
            buckets=[storage.artifacts, audit.archive],
            settings=backups or BackupSettings(),
        )
        Drills(
            self,
            "Drills",
            shared=shared,
            tables=list(tables.values()),
            platform_table=storage.platform_table,
            registry_table=registry.table,
            artifacts=storage.artifacts,
            archive=audit.archive,
            signing_key=audit.signing_key,
            environment={
                **{variable: table.table_name for variable, table in tables.items()},
                "MAESTRO_AUDIT_ARCHIVE_BUCKET": audit.archive.bucket_name,
                "MAESTRO_AUDIT_SIGNING_KEY": audit.signing_alias,
            },
        )
        platform.watch_audit(audit.archive, audit.queue, audit.signing_key, audit.signing_alias)

        # Cross-cutting, over everything above: outcomes for the SLA checks, alarms and the dashboard.
        everything = self.node.find_all()
        functions = [c for c in everything if isinstance(c, MaestroFunction)]
        sla.collect_outcomes(functions)
        tenants.subscribe_outcomes(functions)
        operations = Operations(
            self,
            "Operations",
            functions=functions,
            request_path=api.routed,
            dead_letter_queues=[c for c in everything if isinstance(c, sqs.Queue) and "Dlq" in c.node.id],
            state_machines=[c for c in everything if isinstance(c, sfn.StateMachine)],
        )
        Releases(
            self,
            "Releases",
            functions=functions,
            request_path=api.routed,
            alarms=operations.monitoring.function_alarms,
            hook=hook,
            choices=deployment or {},
        )

        console.serve_api(api.api.api_id, api.prefixes)
        CfnOutput(self, "ApiUrl", value=api.url, description="MLFLOW_TRACKING_URI and the CLI's --url")
        CfnOutput(self, "EventBusName", value=bus.bus.event_bus_name)
        CfnOutput(self, "ArtifactsBucketName", value=storage.artifacts.bucket_name)
        CfnOutput(self, "PlatformTableName", value=storage.platform_table.table_name)
        CfnOutput(
            self,
            "TenantAccessRoleArn",
            value=access.role_arn,
            description="Sessions tagged tenant=<t> reach only that tenant's items and objects",
        )
        if identity.user_pool and identity.user_pool_client:
            CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=identity.user_pool_client.user_pool_client_id)
