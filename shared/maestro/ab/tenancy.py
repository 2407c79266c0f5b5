"""A/B testing's interface to tenancy (core.capabilities): its table holds tenants' data, and it counts each
tenant's running experiments."""

from __future__ import annotations

from collections import Counter as Tally

from maestro.ab.store import running_experiments
from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings


def count(tenants: list[str]) -> dict[str, dict[str, int]]:
    """One read of every tenant's running experiments (gsi1 holds only running ones), tallied per tenant."""
    running = Tally(e["gsi1sk"].split("#", 1)[0] for e in running_experiments(get_settings().ab_table))
    return {t: {"running_experiments": running[t]} for t in tenants}


CAPABILITY = Capability("ab", tables=("ab_table",), count=count)
