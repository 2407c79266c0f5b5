"""Names made from the root stack, so a construct is named alike whether or not a nested stack holds it."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct


def root_stack_name(scope: Construct) -> str:
    """The deployed stack's name, also from inside a nested stack (whose own name CloudFormation makes up)."""
    stack = Stack.of(scope)
    while stack.nested_stack_parent is not None:
        stack = stack.nested_stack_parent
    return stack.stack_name


def path_in_root(scope: Construct) -> str:
    """The construct's path under its root stack without nested stacks: "Delivery" whether or not a
    nested stack holds it."""
    return "".join(
        c.node.id for c in scope.node.scopes if c.node.scope is not None and not isinstance(c, Stack)
    )
