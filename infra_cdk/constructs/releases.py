"""Safe releases of the platform itself: every function's `live` alias (MaestroFunction) is shifted to a new
version by a CodeDeploy deployment group of its own, by a configuration chosen per function (request-path
functions: Canary10Percent5Minutes; background work, where a canary buys nothing: AllAtOnce), and rolled back
automatically when one of the function's alarms fires (errors, throttles, p99 latency over its SLO) or the
deployment fails or is stopped. A request-path function's new version must first pass the smoke test of the
pre-traffic hook (maestro.platform.smoke). Must never let a deployment shift traffic past a firing alarm."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.functions import MaestroFunction
from infra_cdk.constructs.nag import acknowledge

CONFIGS = {
    "AllAtOnce": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "Canary10Percent5Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "Canary10Percent10Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "Canary10Percent15Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
    "Canary10Percent30Minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_30_MINUTES,
    "Linear10PercentEvery1Minute": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "Linear10PercentEvery2Minutes": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    "Linear10PercentEvery3Minutes": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    "Linear10PercentEvery10Minutes": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}
DEFAULTS = {"request_path": "Canary10Percent5Minutes", "background": "AllAtOnce"}


def chosen(choices: Mapping[str, str], function: str, request_path: bool) -> str:
    """The configuration for `function`: its own entry in `choices` (CDK context maestro:deployment), else
    the entry for its kind (`request_path` or `background`), else the default for its kind."""
    kind = "request_path" if request_path else "background"
    name = choices.get(function) or choices.get(kind) or DEFAULTS[kind]
    if name not in CONFIGS:
        raise SystemExit(f"maestro:deployment: {function}: {name!r} is not one of {', '.join(CONFIGS)}")
    return name


class Releases(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[MaestroFunction],
        request_path: set[str],
        alarms: Mapping[str, Sequence[cloudwatch.IAlarm]],
        hook: MaestroFunction,
        choices: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        # Named, so that the groups' ARNs are plain text: the hook's policy names them, and a Ref there would
        # make the hook (which the alarms' nested stack watches) wait on the groups, which wait on the alarms.
        stack_name = Stack.of(self).stack_name
        self.application_name = f"{stack_name}-functions"
        self.application = codedeploy.LambdaApplication(
            self, "Application", application_name=self.application_name
        )
        self.group_arns: dict[str, str] = {}
        # One role for every group (a role each would cost 29 of the stack's 500 resources).
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSCodeDeployRoleForLambdaLimited"
                )
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited]",
            "AWS managed policy for CodeDeploy on Lambda: it updates aliases and reads alarms, nothing more.",
        )
        self.groups: dict[str, codedeploy.LambdaDeploymentGroup] = {}
        for fn in functions:
            if fn is hook:
                continue  # the hook is deployed at once: it judges the others' deployments
            routed = fn.live.node.path in request_path
            config = chosen(choices, fn.name, routed)
            group = self._group(fn, stack_name, config, alarms[fn.name], role)
            if routed:
                self._hooked(fn, group, hook)
            self.groups[fn.name] = group
        hook.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codedeploy:GetDeployment"],
                resources=list(self.group_arns.values()),
            )
        )

    def _group(
        self,
        fn: MaestroFunction,
        stack_name: str,
        config: str,
        alarms: Sequence[cloudwatch.IAlarm],
        role: iam.IRole,
    ) -> codedeploy.LambdaDeploymentGroup:
        """A function of a nested stack (insights) gets its group in its own stack: its alias's update policy
        names the group and the application, and CloudFormation resolves no reference there across stacks;
        the application is then named by its literal name."""
        home = Stack.of(fn)
        parent = home is Stack.of(self)
        group_name = f"{stack_name}-{fn.name}"
        group = codedeploy.LambdaDeploymentGroup(
            self if parent else fn,
            fn.name.title().replace("_", "") if parent else "Release",
            application=self.application if parent else self._application_in(home),
            deployment_group_name=group_name,
            alias=fn.live,
            deployment_config=CONFIGS[config],
            alarms=list(alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            role=role,
        )
        self.group_arns[fn.name] = group.deployment_group_arn if parent else self._group_arn(group_name)
        return group

    def _hooked(
        self, fn: MaestroFunction, group: codedeploy.LambdaDeploymentGroup, hook: MaestroFunction
    ) -> None:
        """The smoke hook runs before the group shifts traffic, and invokes the new version, named by the
        function's literal name (so a nested stack's function is granted without the parent waiting on it)."""
        home = Stack.of(fn)
        if home is Stack.of(self):
            group.add_pre_hook(hook.live)
        else:
            group.add_pre_hook(
                _once(
                    home,
                    "ReleaseSmokeHook",
                    lambda: lambda_.Function.from_function_name(
                        home, "ReleaseSmokeHook", f"{hook.function_name}:live"
                    ),
                )
            )
            acknowledge(
                group.role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:"
                f"function:{hook.function_name}:live:*]",
                "CodeDeploy invokes the smoke hook's live alias, named literally for a nested stack's group.",
            )
            hook.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["codedeploy:PutLifecycleEventHookExecutionStatus"],
                    resources=[self.group_arns[fn.name]],
                )
            )
        arn = Stack.of(self).format_arn(
            service="lambda",
            resource="function",
            resource_name=fn.function_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        hook.function.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[arn, f"{arn}:*"])
        )
        acknowledge(
            hook.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:"
            f"function:{fn.function_name}:*]",
            f"The hook invokes the new version of {fn.name} it smoke-tests: versions are <ARN>:<n>.",
        )

    def _application_in(self, stack: Stack) -> codedeploy.ILambdaApplication:
        return _once(
            stack,
            "ReleasesApplication",
            lambda: codedeploy.LambdaApplication.from_lambda_application_name(
                stack, "ReleasesApplication", self.application_name
            ),
        )

    def _group_arn(self, group_name: str) -> str:
        return Stack.of(self).format_arn(
            service="codedeploy",
            resource="deploymentgroup",
            resource_name=f"{self.application_name}/{group_name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )


T = TypeVar("T")


def _once(stack: Stack, construct_id: str, make: Callable[[], T]) -> T:
    """The stack's construct `construct_id`, made on first use: every nested function of one stack names the
    same imported application and hook."""
    found = stack.node.try_find_child(construct_id)
    return found if found is not None else make()  # type: ignore[return-value]


def smoke_hook(
    scope: Construct, layers: Sequence[lambda_.ILayerVersion], environment: Mapping[str, str]
) -> MaestroFunction:
    hook = MaestroFunction(
        scope,
        "ReleaseSmoke",
        name="release_smoke",
        layers=layers,
        environment=environment,
        memory_mb=512,
        timeout=Duration.minutes(5),
    )
    # Its policy names the deployment groups (CDK's pre-hook grant), which name the alarms' nested stack,
    # which watches this function: the function must not wait on its policy too. CodeDeploy invokes it
    # only in a later deployment, long after the policy exists.
    hook.function.node.default_child.add_deletion_override("DependsOn")  # type: ignore[union-attr]
    return hook
