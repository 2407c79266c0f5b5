"""Backups of everything that holds state: an AWS Backup plan over every table and bucket (daily recovery
points kept 35 days, monthly ones kept 12 months, both configurable; optionally copied to a vault in a second
region or account), in a vault whose lock keeps recovery points from being deleted early. DynamoDB's
point-in-time recovery stays on beside it (storage.py), and S3 versioning with its lifecycle. Must never
leave a table or a bucket that holds state out of the plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.constructs.nag import acknowledge

S3_POLICIES = ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore")
BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
)


@dataclass(frozen=True)
class BackupSettings:
    """CDK context maestro:backup: {daily_days, monthly_months, lock_days, copy_vault_arn}."""

    daily_days: int = 35
    monthly_months: int = 12
    lock_days: int = 7  # the vault lock's minimum retention: no recovery point goes sooner
    copy_vault_arn: str = ""  # a vault in another region or account that receives a copy of each point

    @classmethod
    def of(cls, context: Mapping[str, object] | None) -> BackupSettings:
        given = dict(context or {})
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise SystemExit(f"maestro:backup: unknown settings {sorted(unknown)}")
        settings = cls(**given)  # type: ignore[arg-type]
        if settings.daily_days < 1 or settings.monthly_months < 1:
            raise SystemExit("maestro:backup: daily_days and monthly_months must be at least 1")
        if settings.lock_days > settings.daily_days:
            raise SystemExit("maestro:backup: lock_days must not exceed daily_days (points could never go)")
        return settings


class Backups(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Sequence[dynamodb.ITable],
        buckets: Sequence[s3.IBucket],
        settings: BackupSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            removal_policy=RemovalPolicy.RETAIN,
            lock_configuration=backup.LockConfiguration(min_retention=Duration.days(settings.lock_days))
            if settings.lock_days
            else None,
        )
        copies = (
            [
                backup.BackupPlanCopyActionProps(
                    destination_backup_vault=backup.BackupVault.from_backup_vault_arn(
                        self, "CopyVault", settings.copy_vault_arn
                    ),
                    delete_after=Duration.days(settings.daily_days),
                )
            ]
            if settings.copy_vault_arn
            else None
        )
        self.plan = backup.BackupPlan(
            self, "Plan", backup_vault=self.vault, backup_plan_name=f"{Stack.of(self).stack_name}-state"
        )
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Daily",
                schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                delete_after=Duration.days(settings.daily_days),
                copy_actions=copies,
            )
        )
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Monthly",
                schedule_expression=events.Schedule.cron(day="1", hour="4", minute="0"),
                delete_after=Duration.days(30 * settings.monthly_months + 5),
                copy_actions=copies,
            )
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(name)
                for name in (*BACKUP_POLICIES, *S3_POLICIES)
            ],
        )
        for name in (*BACKUP_POLICIES, *S3_POLICIES):
            acknowledge(
                role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                "AWS Backup's own managed policies: what it needs to back up and restore DynamoDB and S3.",
            )
        self.plan.add_selection(
            "State",
            resources=[
                *(backup.BackupResource.from_dynamo_db_table(t) for t in tables),
                *(backup.BackupResource.from_arn(b.bucket_arn) for b in buckets),
            ],
            allow_restores=True,
            role=role,
            disable_default_backup_policy=True,
        )
