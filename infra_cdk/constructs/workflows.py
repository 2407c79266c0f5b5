"""What every Maestro ML workflow shares: Lambda steps that retry Lambda's transient failures, a fail step
that every state catches into (it records the reason, then ends in the Fail state), and the state machine,
traced and logged at ALL without execution data. Must never let a workflow end without a final status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.constructs.functions import after_its_policy
from infra_cdk.constructs.nag import acknowledge, resource_finding
from infra_cdk.constructs.naming import path_in_root, root_stack_name

# What a retry can cure: Lambda's own service errors and throttling, a function that timed out or crashed
# (out of memory), a store that did not answer. A step's own errors (the data does not fit) are never retried.
TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Sandbox.Timedout",
    "Runtime.ExitError",
    "DependencyUnavailable",
]
S = TypeVar("S", bound=sfn.State)


def lambda_step(
    scope: Construct,
    name: str,
    fn: lambda_.IFunction,
    step: str,
    state: str,
    result_path: str | None,
    **payload: Any,
) -> tasks.LambdaInvoke:
    """A task invoking `fn` with {"step": step, <state>: the execution's $.<state>, **payload}; its result
    lands at `result_path` (None: discarded). Transient failures are retried 3 times with backoff."""
    invoke = tasks.LambdaInvoke(
        scope,
        name,
        lambda_function=fn,
        payload=sfn.TaskInput.from_object(
            {"step": step, state: sfn.JsonPath.object_at(f"$.{state}"), **payload}
        ),
        payload_response_only=True,
        retry_on_service_exceptions=False,  # our own Retry below covers them
        result_path=result_path if result_path is not None else sfn.JsonPath.DISCARD,
    )
    invoke.add_retry(errors=TRANSIENT, max_attempts=3, interval=Duration.seconds(2), backoff_rate=2)
    return invoke


def failing_into(
    scope: Construct, record_failure: tasks.LambdaInvoke, fail_id: str, error: str, cause: str
) -> Callable[[S], S]:
    """Wire `record_failure` (which records the reason the catch hands it at $.error) to end in a Fail state,
    even when it fails itself; returns `guarded`, which makes a state catch everything into it."""
    failed = sfn.Fail(scope, fail_id, error=error, cause=cause)
    record_failure.add_catch(failed, errors=["States.ALL"], result_path="$.fail_error")
    record_failure.next(failed)

    def guarded(state: S) -> S:
        state.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")  # type: ignore[attr-defined]
        return state

    return guarded


def logged_machine(
    scope: Construct,
    construct_id: str,
    chain: sfn.IChainable,
    *,
    timeout: Duration,
    invoked: Sequence[lambda_.IFunction],
    why_invoked: str,
) -> sfn.StateMachine:
    """The state machine, traced and logged at ALL (cdk-nag SF1) without execution data (the states name
    tenants' keys and objects), its role's findings acknowledged; its log group is <construct_id>Logs."""
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        construct_id,
        # A literal name (its alarm names the machine without a reference): <stack>-<construct path>.
        state_machine_name=f"{root_stack_name(scope)}-{path_in_root(scope)}{construct_id}",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    after_its_policy(machine, machine.role)
    acknowledge(
        machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "Step Functions log delivery and X-Ray permissions support no resource-level scoping.",
    )
    for fn in invoked:
        acknowledge(machine.role, resource_finding(fn, ":*"), why_invoked)
    return machine


class Looping(NamedTuple):
    """The construct ids of a start -> loop step (until `$.<payload>.done`) -> finish machine, its payload's
    key and the loop step's name in that payload."""

    machine: str
    payload: str
    loop_step: str
    start: str
    loop: str
    finish: str
    done: str
    succeeded: str


def looping_machine(
    scope: Construct, fn: lambda_.IFunction, names: Looping, failure: tuple[str, str, str, str], what: str
) -> sfn.StateMachine:
    """start -> the loop step (again until it says done) -> finish, every failure into the fail step."""

    def task(name: str, step: str, **payload: Any) -> tasks.LambdaInvoke:
        return lambda_step(scope, name, fn, step, names.payload, f"$.{names.payload}", **payload)

    record, failed, event, see = failure
    record_failure = task(record, "fail", error=sfn.JsonPath.object_at("$.error"))
    guarded = failing_into(scope, record_failure, failed, event, see)
    loop = guarded(task(names.loop, names.loop_step))
    finish = guarded(task(names.finish, "finish"))
    done = sfn.Choice(scope, names.done).when(
        sfn.Condition.boolean_equals(f"$.{names.payload}.done", True),
        finish.next(sfn.Succeed(scope, names.succeeded)),
    )
    done.otherwise(loop)
    return logged_machine(
        scope,
        names.machine,
        guarded(task(names.start, "start")).next(loop).next(done),
        timeout=Duration.hours(24),
        invoked=[fn],
        why_invoked=f"Invoking the {what} function's versions and aliases (CDK's LambdaInvoke grant).",
    )
