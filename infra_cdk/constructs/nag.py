"""Acknowledging cdk-nag findings: every acknowledgment carries a written reason.
Must never acknowledge a rule without saying why it does not apply."""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    if len(reason.strip()) < 20:
        raise ValueError(f"acknowledging {rule} needs a real reason, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def logical_id(resource: IConstruct) -> str:
    """The template's logical id of an L2 construct's CloudFormation resource."""
    return Stack.of(resource).get_logical_id(cast(CfnElement, resource.node.default_child))


TABLE_ARN = "arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/"


def table_name_text(table: IConstruct) -> str:
    """A table's name as cdk-nag renders it in an ARN: `<LogicalId>` for a table of the stack, the literal
    name for one imported by name (the insights table, whose nested stack the parent never waits on)."""
    if table.node.default_child is None:
        return str(Stack.of(table).resolve(table.table_name))  # type: ignore[attr-defined]
    return f"<{logical_id(table)}>"


def resource_finding(resource: IConstruct, suffix: str) -> str:
    """The id cdk-nag gives an IAM5 finding on `<resource's ARN><suffix>`, e.g. a table's `/index/*`."""
    if resource.node.default_child is None:
        return f"AwsSolutions-IAM5[Resource::{TABLE_ARN}{table_name_text(resource)}{suffix}]"
    return f"AwsSolutions-IAM5[Resource::<{logical_id(resource)}.Arn>{suffix}]"


def executions_finding(machine: IConstruct) -> str:
    """The id cdk-nag gives an IAM5 finding on a state machine's executions (`execution:<name>:*`), which
    grant_execution writes."""
    return (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
        f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{logical_id(machine)}"}}]}}]}}:*]'
    )
