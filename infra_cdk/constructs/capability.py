"""What a capability's construct is given by the stack, and the functions it makes over its own table: the
block every capability (A/B, SLA, audit, explanations, tenants, and the ones to come) would otherwise
write again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.constructs.api import HttpApi
from infra_cdk.constructs.events import EventBus
from infra_cdk.constructs.functions import MaestroFunction, table_function
from infra_cdk.constructs.tenant_access import TenantAccess


@dataclass(frozen=True)
class Shared:
    """What the stack gives every capability: the front door, the bus, the base layers, the environment all
    functions share and the tenant sessions' role."""

    api: HttpApi
    bus: EventBus
    layers: Sequence[lambda_.ILayerVersion]
    environment: Mapping[str, str]
    access: TenantAccess


class CapabilityFunctions:
    """A capability's functions over its own table, each publishing to the bus, and their routes. A function
    is `scoped` (the request path: the table only through tenant sessions) unless it works across tenants
    (schedules, queues), which reach the table through their own role."""

    def __init__(
        self,
        scope: Construct,
        shared: Shared,
        *,
        table: dynamodb.ITable,
        owner: str,
        environment: Mapping[str, str],
    ) -> None:
        self.scope, self.shared, self.table, self.owner = scope, shared, table, owner
        self.environment = environment

    def __call__(
        self,
        name: str,
        *,
        scoped: bool = True,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 512,
        timeout: Duration | None = None,
    ) -> MaestroFunction:
        return table_function(
            self.scope,
            name,
            table=self.table,
            owner=self.owner,
            bus=self.shared.bus.bus,
            layers=self.shared.layers if layers is None else layers,
            environment=self.environment if environment is None else environment,
            tenant_access=self.shared.access if scoped else None,
            memory_mb=memory_mb,
            timeout=timeout,
        )

    def routes(self, fn: MaestroFunction, *routes: tuple[str, str]) -> None:
        self.shared.api.routes(fn.live, routes)

    def schedule(
        self,
        fn: MaestroFunction,
        construct_id: str,
        schedule: events.Schedule,
        description: str,
        payload: Mapping[str, Any] | None = None,
    ) -> events.Rule:
        """Invoke `fn` on a schedule (with `payload` as its event, else EventBridge's scheduled event)."""
        target_input = events.RuleTargetInput.from_object(dict(payload)) if payload is not None else None
        return events.Rule(
            self.scope,
            construct_id,
            schedule=schedule,
            targets=[targets.LambdaFunction(fn.live, event=target_input)],
            description=description,
        )
