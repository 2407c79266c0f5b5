"""The `maestro` EventBridge bus: every state change of every capability is published here.
Must never route events across tenants: consumers filter on detail.tenant."""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct


class EventBus(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
