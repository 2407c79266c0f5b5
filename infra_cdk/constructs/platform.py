"""The platform's own functions: /health (public), /whoami (any signed-in caller), /openapi.json (public).
Must never grant these functions write access: they only read."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.constructs.capability import Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.storage import Storage


class Platform(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared, storage: Storage) -> None:
        super().__init__(scope, construct_id)
        api, bus, layers, environment = shared.api, shared.bus, shared.layers, shared.environment
        health = MaestroFunction(self, "Health", name="health", layers=layers, environment=environment)
        self.health = health
        health.function.add_to_role_policy(
            iam.PolicyStatement(actions=["events:DescribeEventBus"], resources=[bus.bus.event_bus_arn])
        )
        # HeadBucket needs s3:ListBucket and nothing else: no object is readable by the health probe.
        health.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.artifacts.bucket_arn])
        )
        api.route("GET", "/health", health.live, public=True)

        whoami = MaestroFunction(self, "Whoami", name="whoami", layers=layers, environment=environment)
        bus.bus.grant_put_events_to(whoami.function)  # AccessDenied events
        shared.access.grant_assume(whoami)  # admission reads and counts on the caller's tenant profile
        api.route("GET", "/whoami", whoami.live)
        api.route("POST", "/whoami/check", whoami.live)

        openapi = MaestroFunction(self, "OpenApi", name="openapi", layers=layers, environment=environment)
        api.route("GET", "/openapi.json", openapi.live, public=True)

    def watch_table(self, variable: str, table: dynamodb.ITable) -> None:
        """Make /health's readiness cover a capability's table (read through the same settings name the
        capability's functions use)."""
        self.health.function.add_environment(variable, table.table_name)
        # GetItem on the table itself: the probe never reads an index, so it is granted none.
        self.health.function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[table.table_arn])
        )

    def watch_audit(self, archive: s3.IBucket, queue: sqs.IQueue, key: kms.IKey, key_alias: str) -> None:
        """Make /health's readiness cover the audit trail's archive bucket, queue and signing key."""
        fn = self.health.function
        fn.add_environment("MAESTRO_AUDIT_ARCHIVE_BUCKET", archive.bucket_name)
        fn.add_environment("MAESTRO_AUDIT_QUEUE_URL", queue.queue_url)
        fn.add_environment("MAESTRO_AUDIT_SIGNING_KEY", key_alias)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[archive.bucket_arn]))
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:GetQueueAttributes"], resources=[queue.queue_arn])
        )
        fn.add_to_role_policy(iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[key.key_arn]))
