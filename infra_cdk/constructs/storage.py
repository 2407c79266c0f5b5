"""Platform-wide state: tables (encrypted, point-in-time recovery) and buckets (versioned, private, SSL-only).
Must never create a table whose partition key does not start with the tenant id (see shared tenancy)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.constructs.nag import acknowledge


def table(
    scope: Construct,
    construct_id: str,
    *,
    partition_key: str = "pk",
    sort_key: str | None = "sk",
    ttl_attribute: str | None = None,
    table_name: str | None = None,
) -> dynamodb.Table:
    """Every table: on-demand, encrypted, point-in-time recovery, kept when the stack is deleted."""
    return dynamodb.Table(
        scope,
        construct_id,
        table_name=table_name,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=ttl_attribute,
        removal_policy=RemovalPolicy.RETAIN,
    )


def table_with_gsi1(
    scope: Construct, construct_id: str, *, ttl_attribute: str | None = None, table_name: str | None = None
) -> dynamodb.Table:
    """A capability's table whose gsi1 (gsi1pk, gsi1sk, all attributes) serves its cross-item listings."""
    t = table(scope, construct_id, ttl_attribute=ttl_attribute, table_name=table_name)
    t.add_global_secondary_index(
        index_name="gsi1",
        partition_key=dynamodb.Attribute(name="gsi1pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
        projection_type=dynamodb.ProjectionType.ALL,
    )
    return t


def private_bucket(scope: Construct, construct_id: str, **options: Any) -> s3.Bucket:
    """Every bucket: no public access, encrypted, SSL-only, versioned, owner-enforced, retained."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        **options,
    )


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Tenants, quotas, grants, usage and the health sentinel: pk = "<tenant>#..."; gsi1 lists every tenant
        # and every tenant's usage of a day (the billing export); metered log batches' markers expire (TTL).
        self.platform_table = table_with_gsi1(self, "PlatformTable", ttl_attribute="expires_at")
        # Powertools idempotency records (key "id", expiry "expiration"); ids are prefixed by tenant.
        self.idempotency_table = table(
            self, "IdempotencyTable", partition_key="id", sort_key=None, ttl_attribute="expiration"
        )

        self.access_logs = private_bucket(
            self, "AccessLogsBucket", lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))]
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the server access log bucket; logging it into itself would loop.",
        )
        # Model artifacts, datasets, reports: keys start with tenants/<tenant>/.
        self.artifacts = private_bucket(
            self,
            "ArtifactsBucket",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )
