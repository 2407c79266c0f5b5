"""Liveness and readiness: each dependency probed, timed, and reported by name.
Must never raise: a failing dependency is a result (not ready), not an error."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from maestro.core.aws import error_code
from maestro.core.settings import Settings
from maestro.platform import store

VERSION = "0.1.0"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    live: bool
    ready: bool
    checks: tuple[CheckResult, ...]
    version: str = VERSION

    @property
    def status(self) -> str:
        return "ok" if self.ready else "degraded"


Probe = tuple[str, Callable[[], None]]


def platform_probes(settings: Settings) -> list[Probe]:
    """Every dependency the platform's capabilities need: their tables, the artifacts bucket, the bus, and the
    audit trail's archive bucket, queue and signing key."""
    tables = dict.fromkeys(
        (
            settings.platform_table,
            settings.registry_table,
            settings.ab_table,
            settings.sla_table,
            settings.audit_table,
        )
    )
    return [
        *((f"dynamodb:{t}", lambda t=t: store.probe_table(t)) for t in tables),
        (f"s3:{settings.artifacts_bucket}", lambda: store.probe_bucket(settings.artifacts_bucket)),
        (f"events:{settings.event_bus_name}", lambda: store.probe_bus(settings.event_bus_name)),
        (f"s3:{settings.audit_archive_bucket}", lambda: store.probe_bucket(settings.audit_archive_bucket)),
        *(
            [
                (
                    f"sqs:{settings.audit_queue_url.rsplit('/', 1)[-1]}",
                    lambda: store.probe_queue(settings.audit_queue_url),
                )
            ]
            if settings.audit_queue_url
            else []
        ),
        (f"kms:{settings.audit_signing_key}", lambda: store.probe_key(settings.audit_signing_key)),
    ]


def run_check(name: str, probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready": reported, not raised
        error = error_code(exc) or type(exc).__name__
        return CheckResult(name, False, _ms_since(started), f"{error}: {exc}"[:300])
    return CheckResult(name, True, _ms_since(started))


_POOL = ThreadPoolExecutor(max_workers=12, thread_name_prefix="health")


def check_health(probes: Sequence[Probe]) -> HealthReport:
    """Probes run side by side (each waits on the network), so readiness takes the slowest probe's time,
    not their sum; results keep the probes' order."""
    results = tuple(_POOL.map(lambda p: run_check(*p), probes))
    return HealthReport(live=True, ready=all(r.ok for r in results), checks=results)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
