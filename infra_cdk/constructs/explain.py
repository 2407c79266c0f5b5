"""Explanation jobs: their table, the API function that submits and tracks them, the worker and report
functions, and the state machine prepare -> validate -> plan -> Map(shard) -> extras -> aggregate -> report
-> complete, where every task retries transient Lambda failures and every failure ends in the fail step.
Must never let a job end without a final status: the fail step records the reason, then the Fail state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import RUNTIME, MaestroFunction, after_its_policy, table_function
from infra_cdk.constructs.nag import acknowledge, logical_id, resource_finding
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.tenant_access import TenantAccess

MAP_CONCURRENCY = 10
# What a retry can cure: Lambda's own service errors and throttling, a worker that timed out or crashed
# (out of memory). ExplainError (the data or model does not fit) is never retried.
TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Sandbox.Timedout",
    "Runtime.ExitError",
    "DependencyUnavailable",
]


class Explain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: HttpApi,
        bus: EventBus,
        layers: Sequence[lambda_.ILayerVersion],
        scientific: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        access: TenantAccess,
        registry_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "ExplainTable")
        # Every function here acts for one tenant (the caller's, or the job's): its jobs, the registry's
        # model versions and the tenant's artifacts only through tenant sessions.
        access.include_tables([self.table])
        env = {
            **environment,
            "MAESTRO_EXPLAIN_TABLE": self.table.table_name,
            "MAESTRO_REGISTRY_TABLE": registry_table.table_name,
        }

        def layer(name: str, description: str, from_source: tuple[str, ...] = ()) -> lambda_.LayerVersion:
            return lambda_.LayerVersion(
                self,
                f"{name.title()}Layer",
                code=layer_code(name, no_deps=True, from_source=from_source),
                compatible_runtimes=[RUNTIME],
                description=description,
            )

        # Lambda's 250 MB (code + layers, unzipped) shapes this split: the worker carries numpy, scipy, shap's
        # stack and the boosters on a base without the AWS SDK (the runtime's boto3 serves it); the data
        # function carries pandas, fastparquet and matplotlib. tests/infra/test_bundling.py measures both.
        slim = layer("slim", "aws-lambda-powertools (tracer), pydantic, PyYAML; boto3 from the runtime")
        shap_stack = layer("explain", "shap, scikit-learn, skops, lime, pandas", from_source=("lime",))
        boosters = layer("boosters", "xgboost, lightgbm")
        plots = layer("plots", "numpy, matplotlib")
        tables = layer("tables", "pandas, fastparquet")

        def function(name: str, **options: Any) -> MaestroFunction:
            return table_function(
                self,
                name,
                table=self.table,
                owner="explanation",
                bus=bus.bus,
                environment=env,
                tenant_access=access,
                **options,
            )

        # 3,538 MB is two full vCPUs: shap's explainers and the model's predictions use both.
        worker = function(
            "explain_worker",
            layers=[slim, scientific, shap_stack, boosters],
            memory_mb=3538,
            timeout=Duration.minutes(15),
        )
        data = function(
            "explain_data", layers=[slim, plots, tables], memory_mb=3538, timeout=Duration.minutes(15)
        )
        self.functions = [worker, data]

        self.state_machine = self._state_machine(worker.function, data.function)

        submitter = function("explain", layers=layers, memory_mb=1024)
        self.state_machine.grant_start_execution(submitter.function)
        self.state_machine.grant_execution(
            submitter.function, "states:DescribeExecution", "states:StopExecution"
        )
        submitter.function.add_environment(
            "MAESTRO_EXPLAIN_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
        acknowledge(
            submitter.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{logical_id(self.state_machine)}"}}]}}]}}:*]',
            "Describe and stop the explanation machine's own executions, whose names are job ids.",
        )
        for method, path in (
            ("POST", "/explanations"),
            ("GET", "/explanations"),
            ("GET", "/explanations/{job_id}"),
            ("GET", "/explanations/{job_id}/results"),
            ("POST", "/explanations/{job_id}/cancel"),
        ):
            api.route(method, path, submitter.function)
        self.functions.append(submitter)

    def _state_machine(self, worker: lambda_.IFunction, data: lambda_.IFunction) -> sfn.StateMachine:
        def task(
            name: str, fn: lambda_.IFunction, step: str, result_path: str | None, **payload: Any
        ) -> tasks.LambdaInvoke:
            invoke = tasks.LambdaInvoke(
                self,
                name,
                lambda_function=fn,
                payload=sfn.TaskInput.from_object(
                    {"step": step, "job": sfn.JsonPath.object_at("$.job"), **payload}
                ),
                payload_response_only=True,
                retry_on_service_exceptions=False,  # our own Retry below covers them
                result_path=result_path if result_path is not None else sfn.JsonPath.DISCARD,
            )
            invoke.add_retry(errors=TRANSIENT, max_attempts=3, interval=Duration.seconds(2), backoff_rate=2)
            return invoke

        failed = sfn.Fail(self, "JobFailed", error="ExplanationFailed", cause="see the job's error")
        record_failure = task("RecordFailure", worker, "fail", None, error=sfn.JsonPath.object_at("$.error"))
        record_failure.add_catch(failed, errors=["States.ALL"], result_path="$.fail_error")
        record_failure.next(failed)

        def guarded(state: Any) -> Any:
            state.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
            return state

        shard = task("ExplainShard", worker, "shard", None, shard=sfn.JsonPath.object_at("$.shard"))
        shards = sfn.Map(
            self,
            "Shards",
            items_path="$.plan.shards",
            max_concurrency=MAP_CONCURRENCY,
            item_selector={
                "job": sfn.JsonPath.object_at("$.job"),
                "shard": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        shards.item_processor(shard)
        chain = (
            guarded(task("Prepare", data, "prepare", "$.prepared"))
            .next(guarded(task("Validate", worker, "validate", "$.validated")))
            .next(guarded(task("Plan", worker, "plan", "$.plan")))
            .next(guarded(shards))
            .next(guarded(task("Extras", worker, "extras", None)))
            .next(guarded(task("Aggregate", worker, "aggregate", None)))
            .next(guarded(task("Report", data, "report", None)))
            .next(guarded(task("Complete", worker, "complete", None)))
            .next(sfn.Succeed(self, "Done"))
        )
        log_group = logs.LogGroup(
            self,
            "WorkflowLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "Workflow",
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            timeout=Duration.hours(6),
            tracing_enabled=True,
            # ALL (cdk-nag SF1) without execution data: inputs and outputs name tenants' objects
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        after_its_policy(machine, machine.role)
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery and X-Ray permissions support no resource-level scoping.",
        )
        for fn in (worker, data):
            acknowledge(
                machine.role,
                resource_finding(fn, ":*"),
                "Invoking the worker's versions and aliases (CDK's LambdaInvoke grant).",
            )
        return machine
