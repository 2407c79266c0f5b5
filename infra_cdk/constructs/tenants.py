"""Tenant administration: the tenants function behind /tenants... (the platform's operators, tenant admins,
usage readers); usage metering (every function's outcome lines, and an hourly measurement); and the deletion
workflow start -> sweep (until a whole sweep finds nothing) -> finish, where every task retries transient
Lambda failures and every failure ends in the fail step. Must never let a deletion end without a final
status, nor grant the request-path functions anything of this: the three functions work across tenants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction, send_outcomes
from infra_cdk.constructs.nag import acknowledge, executions_finding, resource_finding
from infra_cdk.constructs.storage import Storage
from infra_cdk.constructs.workflows import Looping, looping_machine
from maestro.core.settings import Settings

BILLING_PREFIX = f"tenants/{Settings().platform_tenant}/billing/*"
# Deleting a tenant's objects: every version, delete markers and unfinished uploads under tenants/<t>/.
PURGE_OBJECT_ACTIONS = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObjectVersion",
    "s3:AbortMultipartUpload",
]
EXPORTS_PREFIX = "tenants/*/exports/*"
EXPORT_WRITE_ACTIONS = [
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
]
PURGE_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"]


class Tenants(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        tables: Mapping[str, dynamodb.ITable],
        storage: Storage,
        archive: s3.IBucket,
        explain_machine: sfn.IStateMachine,
    ) -> None:
        """`tables`: every capability's table by the settings variable that names it (the deletion sweeps
        them all); `archive`: the audit archive; `explain_machine`: whose executions a deletion stops."""
        super().__init__(scope, construct_id)
        names = {variable: t.table_name for variable, t in tables.items()}
        env = {**shared.environment, **names, "MAESTRO_AUDIT_ARCHIVE_BUCKET": archive.bucket_name}
        # Tenancy works across tenants: its functions reach the platform table with their own grants.
        function = CapabilityFunctions(
            self, shared, table=storage.platform_table, owner="platform", environment=env
        )
        admin = function("tenants", scoped=False)
        self._billing(admin, storage)  # the billing export: under the platform tenant's own prefix only
        function.routes(
            admin,
            ("POST", "/tenants"),
            ("GET", "/tenants"),
            ("GET", "/tenants/{tenant_id}"),
            ("PATCH", "/tenants/{tenant_id}"),
            ("POST", "/tenants/{tenant_id}/suspend"),
            ("POST", "/tenants/{tenant_id}/resume"),
            ("GET", "/tenants/{tenant_id}/users"),
            ("GET", "/tenants/{tenant_id}/users/{principal}"),
            ("PUT", "/tenants/{tenant_id}/users/{principal}"),
            ("DELETE", "/tenants/{tenant_id}/users/{principal}"),
            ("GET", "/tenants/{tenant_id}/usage"),
            ("POST", "/tenants/export"),
            ("DELETE", "/tenants/{tenant_id}"),
            ("POST", "/tenants/{tenant_id}/exports"),
            ("GET", "/tenants/{tenant_id}/exports"),
            ("GET", "/tenants/{tenant_id}/exports/{export_id}"),
        )
        self.admin = admin

        # Metering: outcome lines of every function (subscribe_outcomes), and the hourly measurement, which
        # counts registered models and running experiments from their tables and lists the tenants' objects.
        self.meter = function("tenants_meter", scoped=False, memory_mb=1024, timeout=Duration.minutes(10))
        for variable in ("MAESTRO_REGISTRY_TABLE", "MAESTRO_AB_TABLE"):
            tables[variable].grant_read_data(self.meter.function)
            acknowledge(
                self.meter.role,
                resource_finding(tables[variable], "/index/*"),
                "The hourly measurement counts each tenant's models and running experiments (A/B's gsi1).",
            )
        self.meter.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.artifacts.bucket_arn])
        )
        self._billing(self.meter, storage)
        function.schedule(
            self.meter,
            "HourlyMeasurement",
            events.Schedule.rate(Duration.hours(1)),
            "Measure tenants' storage, correct drifted quota counters, export yesterday's usage",
        )

        # Deletion: the sweeps read and delete across every table and both buckets.
        self.purge = purge = function(
            "tenants_purge", scoped=False, memory_mb=1024, timeout=Duration.minutes(5)
        )
        for table in tables.values():
            table.grant_read_write_data(purge.function)
            acknowledge(
                purge.role,
                resource_finding(table, "/index/*"),
                "Deleting a tenant reads and removes its items across the whole table.",
            )
        for bucket in (storage.artifacts, archive):
            purge.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=PURGE_OBJECT_ACTIONS, resources=[bucket.arn_for_objects("tenants/*")]
                )
            )
            purge.function.add_to_role_policy(
                iam.PolicyStatement(actions=PURGE_BUCKET_ACTIONS, resources=[bucket.bucket_arn])
            )
            acknowledge(
                purge.role,
                resource_finding(bucket, "/tenants/*"),
                "Deleting a tenant removes every version of its objects under tenants/<tenant>/.",
            )
        explain_machine.grant_execution(purge.function, "states:StopExecution")
        acknowledge(
            purge.role,
            executions_finding(explain_machine),
            "A deletion stops the tenant's running explanation executions, whose names are job ids.",
        )
        self.state_machine = self._purge_machine(purge.live)
        self.state_machine.grant_start_execution(admin.function)
        self.state_machine.grant_execution(admin.function, "states:DescribeExecution")
        acknowledge(
            admin.role,
            executions_finding(self.state_machine),
            "Describe the deletion machine's executions: a deletion that ended outside its steps shows so.",
        )
        admin.function.add_environment(
            "MAESTRO_TENANTS_PURGE_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
        self._exports(function, tables, storage, archive, admin)

    def _exports(
        self,
        function: CapabilityFunctions,
        tables: Mapping[str, dynamodb.ITable],
        storage: Storage,
        archive: s3.IBucket,
        admin: MaestroFunction,
    ) -> None:
        """The export worker reads every table (a Scan for the tenant's keys) and every current object version
        under tenants/, and writes only under tenants/<t>/exports/ in the artifacts bucket."""
        worker = function("tenants_export", scoped=False, memory_mb=1024, timeout=Duration.minutes(5))
        for variable, table in tables.items():
            if variable == "MAESTRO_PLATFORM_TABLE":
                table.grant_read_write_data(worker.function)  # the exports' records
                acknowledge(
                    worker.role,
                    resource_finding(table, "/index/*"),
                    "Export records are listed, newest first, through the platform table's gsi1.",
                )
            worker.function.add_to_role_policy(
                iam.PolicyStatement(actions=["dynamodb:Scan"], resources=[table.table_arn])
            )
        for bucket in (storage.artifacts, archive):
            worker.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[bucket.arn_for_objects("tenants/*")],
                )
            )
            worker.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[bucket.bucket_arn]
                )
            )
            acknowledge(
                worker.role,
                resource_finding(bucket, "/tenants/*"),
                "An export reads the current version of each of its objects under tenants/<tenant>/.",
            )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=EXPORT_WRITE_ACTIONS, resources=[storage.artifacts.arn_for_objects(EXPORTS_PREFIX)]
            )
        )
        acknowledge(
            worker.role,
            resource_finding(storage.artifacts, "/" + EXPORTS_PREFIX),
            "An export writes its files, and removes a failed attempt's, under tenants/<tenant>/exports/.",
        )
        self.export_worker = worker
        self.export_machine = self._export_machine(worker.live)
        self.export_machine.grant_start_execution(admin.function)
        self.export_machine.grant_execution(admin.function, "states:DescribeExecution")
        acknowledge(
            admin.role,
            executions_finding(self.export_machine),
            "Describe the export machine's executions: an export that ended outside its steps shows so.",
        )
        admin.function.add_environment(
            "MAESTRO_TENANTS_EXPORT_STATE_MACHINE_ARN", self.export_machine.state_machine_arn
        )

    def _billing(self, fn: MaestroFunction, storage: Storage) -> None:
        fn.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[storage.artifacts.arn_for_objects(BILLING_PREFIX)],
            )
        )
        acknowledge(
            fn.role,
            resource_finding(storage.artifacts, "/" + BILLING_PREFIX),
            "Billing exports are objects under the platform tenant's billing/ prefix, one per export.",
        )

    def subscribe_outcomes(self, functions: Sequence[MaestroFunction]) -> None:
        """Every function's outcome lines (the meter's own excepted) reach the meter: a log group's second
        subscription filter beside the SLA collector's (CloudWatch Logs allows two)."""
        send_outcomes(functions, self.meter, "Metering", "maestro-metering")

    def _purge_machine(self, fn: lambda_.IFunction) -> sfn.StateMachine:
        names = Looping("Deletion", "purge", "sweep", "Start", "Sweep", "Finish", "SweptClean", "Deleted")
        failure = ("RecordFailure", "DeletionFailed", "TenantDeletionFailed", "see the tenant's deletion")
        return looping_machine(self, fn, names, failure, "deletion")

    def _export_machine(self, fn: lambda_.IFunction) -> sfn.StateMachine:
        names = Looping(
            "Export", "export", "walk", "StartExport", "Walk", "WriteManifest", "Consistent?", "Exported"
        )
        failure = ("RecordExportFailure", "ExportFailed", "TenantExportFailed", "see the tenant's export")
        return looping_machine(self, fn, names, failure, "export")
