"""Model rollouts: their table (gsi1 lists a tenant's rollouts; one item per alias in rollout holds its
split), the API function (start, read, abort, route units), the worker and the state machine
advance -> [Wait -> check] until the step is held its time -> advance ... -> the alias moves, where a check
that finds a guardrail breached (the new version's drift, an SLO of its serving path) or an abort asked for
rolls back. Every function acts for one tenant, through tenant sessions: its rollouts, the registry's models
and aliases, its monitors and its SLOs. Must never let a rollout end without a final status."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.constructs.capability import CapabilityFunctions, Shared
from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge, executions_finding
from infra_cdk.constructs.storage import table_with_gsi1
from infra_cdk.constructs.workflows import failing_into, lambda_step, logged_machine


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        registry_table: dynamodb.ITable,
        monitoring_table: dynamodb.ITable,
        sla_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table_with_gsi1(self, "DeliveryTable")
        shared.access.include_tables([self.table])
        env = {
            **shared.environment,
            "MAESTRO_DELIVERY_TABLE": self.table.table_name,
            "MAESTRO_REGISTRY_TABLE": registry_table.table_name,
            "MAESTRO_MONITORING_TABLE": monitoring_table.table_name,
            "MAESTRO_SLA_TABLE": sla_table.table_name,
        }
        function = CapabilityFunctions(self, shared, table=self.table, owner="delivery", environment=env)
        worker = function("deployments_worker", memory_mb=1024, timeout=Duration.minutes(2))
        self.state_machine = self._state_machine(worker)

        api = function("deployments", memory_mb=1024)
        self.state_machine.grant_start_execution(api.function)
        self.state_machine.grant_execution(api.function, "states:DescribeExecution")
        api.function.add_environment(
            "MAESTRO_DELIVERY_STATE_MACHINE_ARN", self.state_machine.state_machine_arn
        )
        acknowledge(
            api.role,
            executions_finding(self.state_machine),
            "Describe the rollout machine's own executions, whose names are rollout ids.",
        )
        function.routes(
            api,
            ("POST", "/deployments"),
            ("GET", "/deployments"),
            ("GET", "/deployments/{rollout_id}"),
            ("POST", "/deployments/{rollout_id}/abort"),
            ("POST", "/deployments/route"),
        )
        self.functions = [worker, api]

    def _state_machine(self, worker: MaestroFunction) -> sfn.StateMachine:
        fn = worker.live

        def step(name: str, which: str, result_path: str | None, **payload: object) -> sfn.TaskStateBase:
            return lambda_step(self, name, fn, which, "rollout", result_path, **payload)

        record_failure = step("RecordRolloutFailure", "fail", None, error=sfn.JsonPath.object_at("$.error"))
        guarded = failing_into(
            self, record_failure, "RolloutFailed", "RolloutFailed", "see the rollout's error"
        )
        advance = guarded(step("Advance", "advance", "$.next"))
        check = guarded(step("CheckGuardrails", "check", "$.next"))
        hold = sfn.Wait(self, "Hold", time=sfn.WaitTime.seconds_path("$.next.wait_s"))
        done = sfn.Succeed(self, "RolloutEnded")
        advance.next(hold)
        hold.next(check)
        check.next(
            sfn.Choice(self, "Next?")
            .when(sfn.Condition.string_equals("$.next.action", "advance"), advance)
            .when(sfn.Condition.string_equals("$.next.action", "check"), hold)
            .otherwise(done)
        )
        return logged_machine(
            self,
            "RolloutWorkflow",
            advance,
            timeout=Duration.days(365),
            invoked=[fn],
            why_invoked="Invoking the rollout worker's versions and aliases (CDK's LambdaInvoke grant).",
        )

    def grant_stop(self, purge: MaestroFunction) -> None:
        """A tenant's deletion stops its running rollouts' workflows."""
        self.state_machine.grant_execution(purge.function, "states:StopExecution")
        acknowledge(
            purge.role,
            executions_finding(self.state_machine),
            "A deletion stops the tenant's running rollouts, whose executions are named by rollout ids.",
        )
