"""Training jobs: their table, the API function that submits and tracks them, the worker that runs the
workflow's steps, the role SageMaker training jobs run with, and the state machine
prepare -> CreateTrainingJob -> [Wait -> DescribeTrainingJob -> poll] until the job ends -> finish.
SageMaker is called through the `aws-sdk` integration (request-response) and polled, not `.sync`: the same
definition then runs in moto's engine, whose local runtime runs the jobs. Must never let a job end
without a final status: every state catches into the fail step."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, executions_finding, logical_id, resource_finding
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.tenant_access import TENANT
from infra_cdk.constructs.workflows import failing_into, lambda_step, logged_machine

JOB_PREFIX = "maestro-"  # SageMaker job names: maestro-<job id>
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_PARALLEL = 10  # a sweep's own max_parallel (at most this) is held by its slots
THROTTLED = ["SageMaker.ThrottlingException", "SageMaker.SageMakerException", "SageMaker.InternalFailure"]


class Training(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        registry_table: dynamodb.ITable,
        artifacts: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.artifacts = artifacts
        self.table = table_with_gsi1(self, "TrainingTable")
        shared.access.include_tables([self.table])
        self.jobs_arn = stack.format_arn(
            service="sagemaker", resource="training-job", resource_name=f"{JOB_PREFIX}*"
        )
        self.logs_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{LOG_GROUP}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.tenant_policy = self._tenant_policy(artifacts)
        self.role_path = f"/maestro-training/{stack.stack_name}/"
        self.roles_arn = stack.format_arn(
            service="iam", region="", resource="role", resource_name=f"{self.role_path[1:]}*"
        )
        self.roles_finding = f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role{self.role_path}*"
        env = {
            **shared.environment,
            "MAESTRO_TRAINING_TABLE": self.table.table_name,
            "MAESTRO_REGISTRY_TABLE": registry_table.table_name,
        }
        function = CapabilityFunctions(self, shared, table=self.table, owner="training", environment=env)
        worker = function("training_worker", memory_mb=2048, timeout=Duration.minutes(10))
        self._may_watch(worker.function, "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob")
        # A tenant's first job makes its execution role: only with the tenant policy as its boundary, and
        # only that policy attached.
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:CreateRole", "iam:TagRole"],
                resources=[self.roles_arn],
                conditions={
                    "StringEquals": {"iam:PermissionsBoundary": self.tenant_policy.managed_policy_arn}
                },
            )
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:AttachRolePolicy"],
                resources=[self.roles_arn],
                conditions={"ArnEquals": {"iam:PolicyARN": self.tenant_policy.managed_policy_arn}},
            )
        )
        self._may_manage_roles(
            worker, "iam:GetRole", why="Each tenant's own training role, made under this stack's IAM path."
        )
        # ... and creates each job with it
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:CreateTrainingJob", "sagemaker:AddTags"], resources=[self.jobs_arn]
            )
        )
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.roles_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        self.functions = [worker]
        self.state_machine = self._state_machine(worker.live)

        # Sweeps submit their trials as training jobs: their worker starts the training machine (which must
        # not be its own machine's worker: the machine's ARN in the worker's environment would be a cycle).
        sweeper = function("training_sweep", memory_mb=1024, timeout=Duration.minutes(2))
        self._may_start_jobs(sweeper)
        self.sweep_machine = self._sweep_machine(sweeper.live)
        self.functions.append(sweeper)

        api = function("training", memory_mb=1024)
        self._may_start_jobs(api)
        self.sweep_machine.grant_start_execution(api.function)
        self.sweep_machine.grant_execution(api.function, "states:DescribeExecution", "states:StopExecution")
        acknowledge(
            api.role,
            executions_finding(self.sweep_machine),
            "Describe and stop the sweep machine's own executions, whose names are sweep ids.",
        )
        api.function.add_environment(
            "MAESTRO_TRAINING_SWEEP_STATE_MACHINE_ARN", self.sweep_machine.state_machine_arn
        )
        function.routes(
            api,
            ("POST", "/training/jobs"),
            ("GET", "/training/jobs"),
            ("GET", "/training/jobs/{job_id}"),
            ("GET", "/training/jobs/{job_id}/logs"),
            ("POST", "/training/jobs/{job_id}/stop"),
            ("POST", "/training/sweeps"),
            ("GET", "/training/sweeps"),
            ("GET", "/training/sweeps/{sweep_id}"),
            ("POST", "/training/sweeps/{sweep_id}/stop"),
        )
        self.functions.append(api)

    def _may_start_jobs(self, fn: MaestroFunction) -> None:
        """Submit training jobs (start the training machine), read and stop them."""
        self._may_watch(fn.function, "sagemaker:StopTrainingJob")
        self.state_machine.grant_start_execution(fn.function)
        self.state_machine.grant_execution(fn.function, "states:DescribeExecution", "states:StopExecution")
        fn.function.add_environment(
            "MAESTRO_TRAINING_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
        acknowledge(
            fn.role,
            executions_finding(self.state_machine),
            "Describe and stop the training machine's own executions, whose names are job ids.",
        )

    def _sweep_machine(self, sweeper: lambda_.IFunction) -> sfn.StateMachine:
        """prepare -> Map(trials, at most MAX_PARALLEL at once: submit -> [Wait -> check] until the trial
        ends) -> finish; a trial that cannot start yet (its sweep's slots, the tenant's quota) waits."""

        def step(name: str, which: str, result_path: str | None, **payload: Any) -> tasks.LambdaInvoke:
            return lambda_step(self, name, sweeper, which, "sweep", result_path, **payload)

        record_failure = step("RecordSweepFailure", "fail", None, error=sfn.JsonPath.object_at("$.error"))
        guarded = failing_into(self, record_failure, "SweepFailed", "SweepFailed", "see the sweep's error")
        trial = sfn.JsonPath.object_at("$.trial")
        submit = step("SubmitTrial", "submit", "$.trial", trial=trial)
        check = step("CheckTrial", "check", "$.trial", trial=trial)
        wait_turn = sfn.Wait(self, "WaitForTurn", time=sfn.WaitTime.seconds_path("$.trial.seconds"))
        wait_trial = sfn.Wait(self, "WaitForTrial", time=sfn.WaitTime.seconds_path("$.trial.seconds"))
        trial_done = sfn.Succeed(self, "TrialDone")
        wait_trial.next(
            check.next(
                sfn.Choice(self, "TrialEnded?")
                .when(sfn.Condition.is_present("$.trial.done"), trial_done)
                .otherwise(wait_trial)
            )
        )
        wait_turn.next(submit)
        submitted = (
            sfn.Choice(self, "Submitted?")
            .when(sfn.Condition.is_present("$.trial.done"), trial_done)
            .when(sfn.Condition.is_present("$.trial.job_id"), wait_trial)
            .otherwise(wait_turn)
        )
        trials = sfn.Map(
            self,
            "Trials",
            items_path="$.prepared.trials",
            max_concurrency=MAX_PARALLEL,
            item_selector={
                "sweep": sfn.JsonPath.object_at("$.sweep"),
                "trial": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        trials.item_processor(submit.next(submitted))
        chain = (
            guarded(step("PrepareSweep", "prepare", "$.prepared"))
            .next(guarded(trials))
            .next(guarded(step("FinishSweep", "finish", None)))
            .next(sfn.Succeed(self, "SweepDone"))
        )
        return logged_machine(
            self,
            "SweepWorkflow",
            chain,
            timeout=Duration.days(30),
            invoked=[sweeper],
            why_invoked="Invoking the sweep worker's versions and aliases (CDK's LambdaInvoke grant).",
        )

    def _may_watch(self, fn: lambda_.IFunction, *actions: str) -> None:
        """`actions` on Maestro's own SageMaker training jobs, and reading their logs."""
        fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[self.jobs_arn]))
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["logs:FilterLogEvents"], resources=[self.logs_arn])
        )
        acknowledge(
            fn.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
            f"training-job/{JOB_PREFIX}*]",
            "Maestro's own training jobs, named maestro-<job id>: job ids are made at submission.",
        )
        acknowledge(
            fn.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            f"{LOG_GROUP}:*]",
            "SageMaker writes every training job's log streams into this one log group.",
        )

    def allow_submitting(
        self, scoped: MaestroFunction, scheduled: MaestroFunction, platform_table: dynamodb.ITable
    ) -> None:
        """Functions of another capability that submit training jobs (a monitor's retraining on drift): the
        request-path one through tenant sessions, the scheduled one across tenants with its own grants."""
        for fn in (scoped, scheduled):
            self._may_start_jobs(fn)
            fn.function.add_environment("MAESTRO_TRAINING_TABLE", self.table.table_name)
        self.table.grant_read_write_data(scheduled.function)
        platform_table.grant_read_write_data(scheduled.function)  # the training_jobs_concurrent counter
        # submission checks a job's bundle and channels exist
        scheduled.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.artifacts.arn_for_objects("tenants/*")]
            )
        )
        scheduled.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.artifacts.bucket_arn])
        )
        for resource, reason in (
            (self.table, "A retraining job of any tenant's monitor is written to the training table."),
            (platform_table, "A retraining job counts against its tenant's training quota."),
        ):
            acknowledge(scheduled.role, resource_finding(resource, "/index/*"), reason)
        acknowledge(
            scheduled.role,
            resource_finding(self.artifacts, "/tenants/*"),
            "Submission checks a retraining job's bundle and channels exist under its tenant's prefix.",
        )

    def grant_stop(self, purge: MaestroFunction) -> None:
        """A tenant's deletion stops its training workflows and jobs (sweeps first), and removes its role."""
        self._may_manage_roles(
            purge,
            "iam:DetachRolePolicy",
            "iam:DeleteRole",
            why="A tenant's deletion removes its own training role, under this stack's IAM path.",
        )
        fn = purge.function
        self.state_machine.grant_execution(fn, "states:StopExecution")
        self.sweep_machine.grant_execution(fn, "states:StopExecution")
        acknowledge(
            fn.role,  # type: ignore[arg-type]
            executions_finding(self.sweep_machine),
            "A deletion stops the tenant's running sweeps, whose executions are named by sweep ids.",
        )
        self._may_watch(fn, "sagemaker:StopTrainingJob")
        acknowledge(
            fn.role,  # type: ignore[arg-type]
            executions_finding(self.state_machine),
            "A deletion stops the tenant's running training executions, whose names are job ids.",
        )

    def _tenant_policy(self, artifacts: s3.IBucket) -> iam.ManagedPolicy:
        """What every tenant's training role may do, and the boundary it is made with: its own tenant's code
        and data in, models out (the role's `tenant` tag is its sessions' principal tag), its logs, and the
        framework images."""
        mine = f"tenants/{TENANT}/"
        policy = iam.ManagedPolicy(
            self,
            "TenantTrainingPolicy",
            description="Maestro ML training jobs: their tenant's artifacts (the role's tag), logs, images",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[artifacts.arn_for_objects(f"{mine}*")]
                ),
                iam.PolicyStatement(
                    actions=["s3:PutObject"], resources=[artifacts.arn_for_objects(f"{mine}training/*")]
                ),
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[artifacts.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{mine}*"]}},
                ),
                iam.PolicyStatement(
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.logs_arn],
                ),
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    resources=["arn:aws:ecr:*:*:repository/*"],  # framework images: AWS-owned, every region
                ),
            ],
        )
        for finding, reason in (
            ("Resource::*", "ECR's GetAuthorizationToken takes no resource."),
            (
                "Resource::arn:aws:ecr:*:*:repository/*",
                "Framework images (XGBoost, PyTorch) live in AWS-owned registries of every region.",
            ),
            (
                f"Resource::<{logical_id(artifacts)}.Arn>/tenants/<aws:PrincipalTag/tenant>/*",
                "The job's own tenant's prefix: the role's tenant tag is its sessions' principal tag.",
            ),
            (
                f"Resource::<{logical_id(artifacts)}.Arn>/tenants/<aws:PrincipalTag/tenant>/training/*",
                "SageMaker writes the job's model under its own tenant's training/ prefix.",
            ),
            (
                f"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{LOG_GROUP}:*",
                "SageMaker writes every training job's log streams into this log group.",
            ),
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        return policy

    def _may_manage_roles(self, fn: MaestroFunction, *actions: str, why: str) -> None:
        """`actions` on the tenants' training roles (under this stack's IAM path) only."""
        fn.function.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[self.roles_arn]))
        fn.function.add_environment("MAESTRO_TRAINING_ROLE_PATH", self.role_path)
        fn.function.add_environment("MAESTRO_TRAINING_POLICY_ARN", self.tenant_policy.managed_policy_arn)
        acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::{self.roles_finding}]", why)

    def _state_machine(self, worker: lambda_.IFunction) -> sfn.StateMachine:
        def step(name: str, which: str, result_path: str | None) -> tasks.LambdaInvoke:
            return lambda_step(
                self, name, worker, which, "job", result_path, poll=sfn.JsonPath.object_at("$.prepared.poll")
            )

        record_failure = lambda_step(
            self, "RecordFailure", worker, "fail", "job", None, error=sfn.JsonPath.object_at("$.error")
        )
        guarded = failing_into(self, record_failure, "JobFailed", "TrainingFailed", "see the job's error")
        prepare = lambda_step(self, "Prepare", worker, "prepare", "job", "$.prepared")
        request = "$.prepared.request."
        # The worker creates the job with the tenant's own role (a "RoleArn.$" parameter of an aws-sdk task
        # could pass it too, but moto's engine cannot parse that key).
        create = lambda_step(
            self,
            "CreateTrainingJob",
            worker,
            "create",
            "job",
            None,
            request=sfn.JsonPath.object_at("$.prepared.request"),
        )
        wait = sfn.Wait(self, "WaitForTraining", time=sfn.WaitTime.seconds_path("$.prepared.poll.seconds"))
        describe = tasks.CallAwsService(
            self,
            "DescribeTrainingJob",
            service="sagemaker",
            action="describeTrainingJob",
            iam_resources=[self.jobs_arn],
            iam_action="sagemaker:DescribeTrainingJob",
            parameters={"TrainingJobName": sfn.JsonPath.string_at(request + "TrainingJobName")},
            # Only what the Choice needs: the poll step reads the rest (metrics, transitions) itself.
            result_selector={
                "status": sfn.JsonPath.string_at("$.TrainingJobStatus"),
                "secondary": sfn.JsonPath.string_at("$.SecondaryStatus"),
            },
            result_path="$.described",
        )
        describe.add_retry(errors=THROTTLED, max_attempts=5, interval=Duration.seconds(2), backoff_rate=2)
        poll = step("Poll", "poll", "$.prepared.poll")
        finish = step("Finish", "finish", None)
        ended = (
            sfn.Choice(self, "Ended?")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.described.status", "InProgress"),
                    sfn.Condition.string_equals("$.described.status", "Stopping"),
                ),
                wait,
            )
            .otherwise(guarded(finish).next(sfn.Succeed(self, "Done")))
        )
        chain = (
            guarded(prepare)
            .next(guarded(create))
            .next(wait)
            .next(guarded(describe))
            .next(guarded(poll))
            .next(ended)
        )
        machine = logged_machine(
            self,
            "TrainingWorkflow",  # the platform's alarms take the machine's id: unique in the stack
            chain,
            timeout=Duration.days(6),  # SageMaker's longest run (5 days) plus a spot job's wait
            invoked=[worker],
            why_invoked="Invoking the worker's versions and aliases (CDK's LambdaInvoke grant).",
        )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
            f"training-job/{JOB_PREFIX}*]",
            "Describes Maestro's own training jobs, named maestro-<job id>.",
        )
        return machine


def _bucket_id(bucket: s3.IBucket) -> str:
    return logical_id(bucket)
