"""Explanation jobs: their table, the API function that submits and tracks them, the worker and report
functions, and the state machine prepare -> validate -> plan -> Map(shard) -> extras -> aggregate -> report
-> complete, where every task retries transient Lambda failures and every failure ends in the fail step.
Must never let a job end without a final status: the fail step records the reason, then the Fail state."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.bundling import layer_code
from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import RUNTIME
from infra_cdk.constructs.nag import acknowledge, executions_finding
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.workflows import failing_into, lambda_step, logged_machine

MAP_CONCURRENCY = 10


class Explain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        scientific: lambda_.ILayerVersion,
        registry_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "ExplainTable")
        # Every function here acts for one tenant (the caller's, or the job's): its jobs, the registry's
        # model versions and the tenant's artifacts only through tenant sessions.
        shared.access.include_tables([self.table])
        env = {
            **shared.environment,
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
        self.slim, self.shap_stack = slim, shap_stack  # insights learns with scikit-learn (and shap)
        boosters = layer("boosters", "xgboost, lightgbm")
        self.plots = plots = layer("plots", "numpy, matplotlib")
        tables = layer("tables", "pandas, fastparquet")

        function = CapabilityFunctions(self, shared, table=self.table, owner="explanation", environment=env)

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

        self.state_machine = self._state_machine(worker.live, data.live)

        submitter = function("explain", memory_mb=1024)
        self.state_machine.grant_start_execution(submitter.function)
        self.state_machine.grant_execution(
            submitter.function, "states:DescribeExecution", "states:StopExecution"
        )
        submitter.function.add_environment(
            "MAESTRO_EXPLAIN_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
        acknowledge(
            submitter.role,
            executions_finding(self.state_machine),
            "Describe and stop the explanation machine's own executions, whose names are job ids.",
        )
        function.routes(
            submitter,
            ("POST", "/explanations"),
            ("GET", "/explanations"),
            ("GET", "/explanations/{job_id}"),
            ("GET", "/explanations/{job_id}/results"),
            ("GET", "/explanations/{job_id}/summary"),
            ("POST", "/explanations/{job_id}/cancel"),
        )
        self.functions.append(submitter)

    def _state_machine(self, worker: lambda_.IFunction, data: lambda_.IFunction) -> sfn.StateMachine:
        def task(
            name: str, fn: lambda_.IFunction, step: str, result_path: str | None, **payload: Any
        ) -> tasks.LambdaInvoke:
            return lambda_step(self, name, fn, step, "job", result_path, **payload)

        record_failure = task("RecordFailure", worker, "fail", None, error=sfn.JsonPath.object_at("$.error"))
        guarded = failing_into(self, record_failure, "JobFailed", "ExplanationFailed", "see the job's error")
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
        return logged_machine(
            self,
            "Workflow",
            chain,
            timeout=Duration.hours(6),
            invoked=[worker, data],
            why_invoked="Invoking the worker's versions and aliases (CDK's LambdaInvoke grant).",
        )
