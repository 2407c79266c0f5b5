"""The audit trail: every maestro.* event on the bus reaches a queue (with a dead-letter queue) that the
ingestion drains in batches into per-tenant hash chains (a table with TTL); an asymmetric KMS key signs
the hourly digests; records and digests are archived to an S3 bucket under Object Lock in compliance mode.
Must never let the archive's lock be shorter than the retention the stack was given."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, resource_finding
from infra_cdk.constructs.storage import Storage, private_bucket, table_with_gsi1

INGEST_TIMEOUT = Duration.seconds(60)


class Audit(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        storage: Storage,
        lock_days: int = 365,
        archive_days: int = 2555,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.table = table_with_gsi1(self, "AuditTable", ttl_attribute="expires_at")
        shared.access.include_tables([self.table])
        self.archive = private_bucket(
            self,
            "ArchiveBucket",
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(Duration.days(lock_days)),
            server_access_logs_bucket=storage.access_logs,
            server_access_logs_prefix="audit-archive/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(max(archive_days, lock_days + 1)))],
        )
        self.signing_key = kms.Key(
            self,
            "SigningKey",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            description="Signs the audit trail's digests (ECDSA P-256)",
        )
        self.signing_alias = alias = f"alias/{stack.stack_name}-audit-signing"
        kms.Alias(self, "SigningKeyAlias", alias_name=alias, target_key=self.signing_key)
        acknowledge(
            self.signing_key,
            "AwsSolutions-KMS5",
            "Asymmetric signing keys cannot rotate automatically; each digest names the key that signed it.",
        )
        self.dlq = sqs.Queue(
            self,
            "IngestDlq",
            retention_period=Duration.days(14),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This queue is the audit ingestion's dead-letter queue.")
        self.queue = sqs.Queue(
            self,
            "IngestQueue",
            visibility_timeout=Duration.seconds(INGEST_TIMEOUT.to_seconds() * 6),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=3),
        )
        events.Rule(
            self,
            "EveryMaestroEvent",
            event_bus=shared.bus.bus,
            event_pattern=events.EventPattern(source=events.Match.prefix("maestro.")),
            targets=[targets.SqsQueue(self.queue)],
            description="Every Maestro ML event into the audit trail",
        )
        env = {
            **shared.environment,
            "MAESTRO_AUDIT_TABLE": self.table.table_name,
            "MAESTRO_AUDIT_ARCHIVE_BUCKET": self.archive.bucket_name,
            "MAESTRO_AUDIT_SIGNING_KEY": alias,
            "MAESTRO_AUDIT_QUEUE_URL": self.queue.queue_url,
        }

        # The API acts for the caller's tenant (scoped); the queue's and the schedules' work spans tenants.
        function = CapabilityFunctions(self, shared, table=self.table, owner="audit", environment=env)

        def may_sign(fn: MaestroFunction) -> None:
            fn.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["kms:Sign", "kms:Verify", "kms:GetPublicKey"],
                    resources=[self.signing_key.key_arn],
                )
            )

        # Tenant sessions write and read the tenant's archive objects, never delete them (Object Lock would
        # refuse anyway).
        shared.access.include_objects(self.archive, ["s3:GetObject", "s3:PutObject"])

        def may_archive(fn: MaestroFunction) -> None:
            # Write and read objects, never delete them (Object Lock would refuse anyway); ListBucket makes a
            # missing object a 404 (a finding named "deleted") rather than a 403.
            fn.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:GetObject"],
                    resources=[self.archive.arn_for_objects("tenants/*")],
                )
            )
            fn.function.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.archive.bucket_arn])
            )
            acknowledge(
                fn.role,
                resource_finding(self.archive, "/tenants/*"),
                "Archive objects and reports are written per tenant under tenants/<tenant>/ in one bucket.",
            )

        trail = function("audit", timeout=Duration.seconds(29))
        may_sign(trail)
        self.queue.grant_send_messages(trail.function)
        function.routes(
            trail,
            ("GET", "/audit/events"),
            ("GET", "/audit/verify"),
            ("POST", "/audit/digests"),
            ("POST", "/audit/reports"),
            ("GET", "/audit/settings"),
            ("PUT", "/audit/settings"),
            ("POST", "/audit/records"),
        )

        ingest = function("audit_ingest", scoped=False, memory_mb=1024, timeout=INGEST_TIMEOUT)
        # Which tenants are being deleted (their records are dropped): their profiles, read only.
        ingest.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:BatchGetItem"], resources=[storage.platform_table.table_arn]
            )
        )
        ingest.live.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=100,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )

        scheduled = function("audit_schedule", scoped=False, memory_mb=1024, timeout=Duration.minutes(10))
        may_sign(scheduled)
        may_archive(scheduled)
        function.schedule(
            scheduled,
            "HourlyDigest",
            events.Schedule.rate(Duration.hours(1)),
            "Digest, archive and verify every tenant's audit chain",
        )
        function.schedule(
            scheduled,
            "DailyReport",
            events.Schedule.cron(minute="15", hour="0"),
            "A SOC 2 report of the day before for every tenant",
            payload={"task": "daily-report"},
        )
