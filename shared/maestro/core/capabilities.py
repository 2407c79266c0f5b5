"""The capabilities that plug into tenancy, and what each one offers it: where its tenants' data lives (the
tables and buckets a tenant's deletion sweeps), the quota counters it counts from its own data (metering
corrects drifted counters with them), and the stopping of a tenant's running work (before its data is
swept). Tenancy discovers them here and never imports a capability; a new capability adds its name to
INSTALLED and a `tenancy` module with a CAPABILITY. Must never hold a capability's keys or rules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from maestro.core.settings import Settings

# The order is the order of a tenant's deletion sweep.
INSTALLED = (
    "registry",
    "ab",
    "sla",
    "audit",
    "explain",
    "monitoring",
    "training",
    "delivery",
    "insights",
)


@dataclass(frozen=True)
class Capability:
    name: str
    # Settings fields naming its DynamoDB tables (every item keyed `<tenant>#...`) and its buckets (every
    # object under tenants/<tenant>/).
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    # The quota counters it holds the truth of, counted from its data: tenants -> {tenant: {counter: value}}.
    count: Callable[[list[str]], dict[str, dict[str, int]]] | None = None
    # Stops a tenant's running work (its workflows); what it stopped, by kind: {"explanation_jobs": 2}.
    stop: Callable[[str], dict[str, int]] | None = None
    # Removes what it made for a tenant outside its tables and buckets, once they are swept (a training
    # execution role); what it removed, by kind.
    remove: Callable[[str], dict[str, int]] | None = None

    def stores(self, settings: Settings) -> list[str]:
        """Its tables and buckets as `dynamodb:<table>` and `s3:<bucket>`."""
        tables = [f"dynamodb:{getattr(settings, field)}" for field in self.tables]
        return tables + [f"s3:{getattr(settings, field)}" for field in self.buckets]


@cache
def installed() -> tuple[Capability, ...]:
    """Each installed capability's interface to tenancy: `maestro.<name>.tenancy.CAPABILITY`."""
    found = []
    for name in INSTALLED:
        capability = importlib.import_module(f"maestro.{name}.tenancy").CAPABILITY
        if not isinstance(capability, Capability) or capability.name != name:
            raise TypeError(f"maestro.{name}.tenancy.CAPABILITY is not the Capability named {name!r}")
        found.append(capability)
    return tuple(found)


def state_tables(settings: Settings) -> dict[str, str]:
    """Every table holding tenants' state, by the settings field naming it: each installed capability's
    (in INSTALLED's order), then the platform table."""
    fields = [f for c in installed() for f in c.tables] + ["platform_table"]
    return {f: getattr(settings, f) for f in dict.fromkeys(fields)}


def state_buckets(settings: Settings) -> dict[str, str]:
    """Every bucket holding tenants' objects (under tenants/<tenant>/), by the settings field naming it."""
    return {f: getattr(settings, f) for f in dict.fromkeys(f for c in installed() for f in c.buckets)}


def counted(tenants: Iterable[str]) -> dict[str, dict[str, int]]:
    """Every installed capability's counters for each of `tenants`, counted from the data."""
    wanted = list(tenants)
    out: dict[str, dict[str, int]] = {t: {} for t in wanted}
    for capability in installed():
        if capability.count is not None:
            for tenant, counts in capability.count(wanted).items():
                out[tenant] |= counts
    return out
