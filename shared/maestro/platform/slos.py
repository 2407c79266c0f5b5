"""The latency objectives Maestro ML holds its own functions to: 99% of a function's requests within its
threshold. The p99 alarm a deploy's canary rolls back on is that threshold (infra_cdk's monitoring); an
operator may hold the function's service (`maestro:<function>`, as its outcome lines name it) to the same
objective as an SLO of the platform tenant. Must never promise a latency above 80% of a function's timeout."""

from __future__ import annotations

# p99 thresholds by what the function does; request-path functions not named here get REQUEST_PATH_MS.
LATENCY_P99_MS = {
    "health": 1_000,
    "whoami": 500,
    "openapi": 1_000,
    "ab_assign": 300,  # on every page view of a client: it must stay fast
    "ab_ingest": 2_000,
    "ab_analysis": 10_000,
    "registry": 1_500,
    "monitoring_report": 15_000,
}
REQUEST_PATH_MS = 3_000


def latency_p99_ms(function: str, timeout_s: float, request_path: bool) -> float:
    """The function's p99 latency objective: its own, else REQUEST_PATH_MS for a request-path function;
    background work (workflows, queues, schedules) is held to 80% of its timeout."""
    ceiling = 0.8 * timeout_s * 1000
    own = LATENCY_P99_MS.get(function, REQUEST_PATH_MS if request_path else ceiling)
    return min(own, ceiling)
