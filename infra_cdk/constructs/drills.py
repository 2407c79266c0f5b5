"""Restore drills: the worker, the state machine start -> [Wait -> check] until the restored copies are
ACTIVE -> verify (every failure ends in the fail step, which removes the copies), the operators' API, and the
monthly schedule. The worker reads every state table (Scan, its continuous backups), restores each into a new
table named <table>-drill-<id>, reads and deletes only those, verifies audit chains against the archive and
the signing key, and writes its reports to the platform table. Must never let the worker write to a source
table."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.capability import Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import TABLE_ARN, acknowledge, resource_finding, table_name_text
from infra_cdk.constructs.workflows import failing_into, lambda_step, logged_machine

EXPORTS = "tenants/*/exports/*"
SCRATCH = "drills/*"
RESTORED = [
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:DeleteTable",
]


class Drills(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        tables: Sequence[dynamodb.ITable],
        platform_table: dynamodb.ITable,
        registry_table: dynamodb.ITable,
        artifacts: s3.IBucket,
        archive: s3.IBucket,
        signing_key: kms.IKey,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        env = {**shared.environment, **environment}
        self.worker = worker = MaestroFunction(
            self,
            "Worker",
            name="backup_drill",
            layers=shared.layers,
            environment=env,
            memory_mb=1024,
            timeout=Duration.minutes(15),
        )
        shared.bus.bus.grant_put_events_to(worker.function)
        for table in tables:
            worker.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:Scan",
                        "dynamodb:DescribeContinuousBackups",
                        "dynamodb:RestoreTableToPointInTime",
                    ],
                    resources=[table.table_arn],  # the table alone: a drill reads no index
                )
            )
            restored = stack.format_arn(
                service="dynamodb", resource="table", resource_name=f"{table.table_name}-drill-*"
            )
            worker.function.add_to_role_policy(iam.PolicyStatement(actions=RESTORED, resources=[restored]))
            acknowledge(
                worker.role,
                f"AwsSolutions-IAM5[Resource::{TABLE_ARN}{table_name_text(table)}-drill-*]",
                "A drill's restored copies, named <table>-drill-<drill id> when the drill makes them.",
            )
        platform_table.grant_read_write_data(worker.function)
        acknowledge(
            worker.role,
            resource_finding(platform_table, "/index/*"),
            "Drill reports are written to the platform table and listed through its gsi1.",
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[archive.arn_for_objects("tenants/*")])
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[archive.bucket_arn])
        )
        acknowledge(
            worker.role,
            resource_finding(archive, "/tenants/*"),
            "Verifying a restored audit chain reads every tenant's archive objects.",
        )
        registry_table.grant_read_data(worker.function)
        acknowledge(
            worker.role,
            resource_finding(registry_table, "/index/*"),
            "The mlflow client's reads are answered from the source registry too, to compare.",
        )
        self._exports(worker, artifacts)
        worker.function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Verify", "kms:GetPublicKey"], resources=[signing_key.key_arn])
        )
        self.state_machine = self._machine(worker)
        env_arn = {"MAESTRO_DRILL_STATE_MACHINE_ARN": self.state_machine.state_machine_arn}

        self.api = api = MaestroFunction(
            self,
            "Api",
            name="backup_drills",
            layers=shared.layers,
            environment={**env, **env_arn},
            memory_mb=512,
        )
        platform_table.grant_read_data(api.function)
        acknowledge(
            api.role,
            resource_finding(platform_table, "/index/*"),
            "Drill reports are listed through the platform table's gsi1.",
        )
        self.state_machine.grant_start_execution(api.function)
        shared.api.routes(
            api.live,
            [
                ("POST", "/platform/drills"),
                ("GET", "/platform/drills"),
                ("GET", "/platform/drills/{drill_id}"),
            ],
        )
        events.Rule(
            self,
            "Monthly",
            schedule=events.Schedule.cron(day="2", hour="6", minute="0"),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object({"drill": {"requested_by": "schedule:monthly"}}),
                )
            ],
            description="Restore every table to a point in time and verify the copies (a restore drill)",
        )

    def _exports(self, worker: MaestroFunction, artifacts: s3.IBucket) -> None:
        """Tenant exports are read; they are restored under drills/<drill id>/, which the drill removes."""
        worker.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[artifacts.arn_for_objects(EXPORTS)])
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                    "s3:AbortMultipartUpload",
                ],
                resources=[artifacts.arn_for_objects(SCRATCH)],
            )
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[artifacts.bucket_arn]
            )
        )
        for prefix in (EXPORTS, SCRATCH):
            acknowledge(
                worker.role,
                resource_finding(artifacts, "/" + prefix),
                "A drill restores tenants' latest exports (tenants/<t>/exports/) into drills/<drill id>/.",
            )

    def _machine(self, worker: MaestroFunction) -> sfn.StateMachine:
        fn = worker.live
        execution = sfn.JsonPath.string_at("$$.Execution.Name")

        def step(name: str, which: str, result_path: str | None, **payload: object) -> sfn.TaskStateBase:
            return lambda_step(self, name, fn, which, "drill", result_path, execution=execution, **payload)

        record_failure = step("RecordDrillFailure", "fail", None, error=sfn.JsonPath.object_at("$.error"))
        guarded = failing_into(
            self, record_failure, "DrillFailed", "BackupDrillFailed", "see the drill's report"
        )
        start = guarded(step("StartDrill", "start", "$.drill"))
        wait = sfn.Wait(self, "WaitForRestore", time=sfn.WaitTime.seconds_path("$.drill.wait_s"))
        check = guarded(step("CheckRestore", "check", "$.drill"))
        verify = guarded(step("VerifyCopies", "verify", "$.verified"))
        start.next(wait)
        wait.next(check)
        check.next(
            sfn.Choice(self, "Restored?")
            .when(
                sfn.Condition.boolean_equals("$.drill.ready", True),
                verify.next(sfn.Succeed(self, "DrillDone")),
            )
            .otherwise(wait)
        )
        return logged_machine(
            self,
            "DrillWorkflow",
            start,
            timeout=Duration.hours(12),
            invoked=[fn],
            why_invoked="Invoking the drill worker's versions and aliases (CDK's LambdaInvoke grant).",
        )
