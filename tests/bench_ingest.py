"""`make bench`, ingestion against the size of what is stored: A/B events over HTTP on the local platform (the
20,000-unit, ~170,000-event scenario of issue 21, then on to 2x10^5 stored), audit records and SLA
observations in-process; each as throughput with 10^4 and with 2x10^5 already stored (flat: ratio >= 0.8)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench import emit, in_process_env
from tests.support import create_table_with_gsi1, start_platform

SMALL, LARGE = 10_000, 200_000
BATCH = 5_000
PROBES = 3
AB_SPEC = {
    "name": "ingest",
    "variants": [{"key": k, "weight": w} for k, w in (("control", 0.34), ("a", 0.33), ("b", 0.33))],
    "metrics": [
        {"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"},
        {"name": "revenue", "kind": "mean", "event": "purchase", "cuped": True},
        {"name": "clicks_per_session", "kind": "ratio", "event": "click", "denominator_event": "session"},
        {
            "name": "latency_p90",
            "kind": "quantile",
            "event": "latency_ms",
            "quantile": 0.9,
            "role": "guardrail",
        },
    ],
}


def _unit_events(unit: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """About 8.5 events a unit: exposure, a pre-period value, purchases, sessions, clicks, a latency."""
    events: list[dict[str, Any]] = [
        {"event_id": f"x-{unit}", "unit_id": unit, "type": "exposure"},
        {
            "event_id": f"pre-{unit}",
            "unit_id": unit,
            "type": "metric",
            "name": "purchase",
            "value": float(rng.gamma(2, 10)),
            "pre_period": True,
        },
        {
            "event_id": f"l-{unit}",
            "unit_id": unit,
            "type": "metric",
            "name": "latency_ms",
            "value": float(rng.lognormal(5, 0.3)),
        },
    ]
    for kind, count in (
        ("purchase", rng.poisson(0.5)),
        ("session", 1 + rng.poisson(1.5)),
        ("click", rng.poisson(2)),
    ):
        events += [
            {
                "event_id": f"{kind}-{unit}-{k}",
                "unit_id": unit,
                "type": "metric",
                "name": kind,
                "value": 1.0 if kind != "purchase" else float(rng.gamma(2, 20)),
            }
            for k in range(int(count))
        ]
    return events


def bench_ab_ingestion_over_http() -> None:
    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-ingest-")))
    try:
        token = platform.token("ingest", ["ml-engineer"])
        experiment_id = platform.api("POST", "/ab/experiments", token, json=AB_SPEC).json()["experiment_id"]
        platform.api("POST", f"/ab/experiments/{experiment_id}/start", token).raise_for_status()
        rng = np.random.default_rng(21)
        units = [f"user-{i}" for i in range(20_000)]
        started = time.perf_counter()
        for start in range(0, len(units), 10_000):
            body = {"experiment_id": experiment_id, "unit_ids": units[start : start + 10_000]}
            platform.api("POST", "/ab/assign/batch", token, json=body).raise_for_status()
        emit("ab_assign_batch_http_units_per_s", len(units) / (time.perf_counter() - started), "units/s")

        def post(events: list[dict[str, Any]]) -> float:
            began = time.perf_counter()
            reply = platform.api(
                "POST", "/ab/events", token, json={"experiment_id": experiment_id, "events": events}
            )
            assert reply.status_code == 200, reply.text
            return time.perf_counter() - began

        def units_events(prefix: str, count: int) -> list[dict[str, Any]]:
            """`count` new units assigned, and their events, exposures first."""
            fresh = [f"{prefix}-{i}" for i in range(count)]
            body = {"experiment_id": experiment_id, "unit_ids": fresh}
            platform.api("POST", "/ab/assign/batch", token, json=body).raise_for_status()
            events = [e for u in fresh for e in _unit_events(u, rng)]
            return sorted(events, key=lambda e: e["type"] != "exposure")

        def probe(prefix: str) -> float:
            """Events/s of one request of a fixed shape: the first 5,000 events of 700 new units."""
            return BATCH / post(units_events(prefix, 700)[:BATCH])

        # The scenario: 20,000 units' events, exposures first (a unit's events count once it is exposed).
        events = [e for u in units for e in _unit_events(u, rng)]
        events.sort(key=lambda e: e["type"] != "exposure")
        seconds = [post(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
        scenario_s = sum(seconds)
        analysis_began = time.perf_counter()
        analysis = platform.api("GET", f"/ab/experiments/{experiment_id}/analysis", token)
        analysis.raise_for_status()
        analysis_s = time.perf_counter() - analysis_began
        emit(
            "ab_scenario_170k_events_ingest",
            scenario_s,
            "s",
            events=len(events),
            events_per_s=round(len(events) / scenario_s),
            analysis_s=round(analysis_s, 2),
            target="< 60 s",
            batch_seconds=[round(s, 2) for s in seconds],
        )
        emit("ab_events_5000_request_wall", float(np.median(seconds)), "s", max=round(max(seconds), 2))
    finally:
        platform.stop()

    # Flatness, on a new platform: the same probe with 10^4 and with 2x10^5 events already stored.
    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-flat-")))
    try:
        token = platform.token("ingest", ["ml-engineer"])
        experiment_id = platform.api("POST", "/ab/experiments", token, json=AB_SPEC).json()["experiment_id"]
        platform.api("POST", f"/ab/experiments/{experiment_id}/start", token).raise_for_status()
        stored, rounds = 0, 0
        rates = {}
        for target in (SMALL, LARGE):
            while stored < target:
                rounds += 1
                batch = units_events(f"fill{rounds}", 1000)
                for i in range(0, len(batch), BATCH):
                    post(batch[i : i + BATCH])
                stored += len(batch)
            rates[target] = float(np.median([probe(f"probe{target}-{k}") for k in range(PROBES)]))
            stored += PROBES * BATCH
        emit(
            "ab_ingest_events_per_s_flatness",
            rates[LARGE],
            "events/s",
            baseline=rates[SMALL],
            stored_small=SMALL,
            stored_large=LARGE,
            target="ratio >= 0.8",
            note=f"median of {PROBES} requests of one shape (700 new units' first 5,000 events) at each size",
        )
    finally:
        platform.stop()


def _fill(table: str, start: int, stop: int) -> None:
    """Items of other tenants in the same table, as a busy platform's table holds them."""
    import boto3

    ddb = boto3.client("dynamodb")
    for first in range(start, stop, 25):
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"filler-{i % 97}#x"},
                        "sk": {"S": f"{i:09d}"},
                        "v": {"S": "x" * 200},
                    }
                }
            }
            for i in range(first, min(first + 25, stop))
        ]
        ddb.batch_write_item(RequestItems={table: items})


def bench_audit_and_sla_flatness() -> None:
    from moto import mock_aws

    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.emulator import moto_as_the_local_endpoint
    from maestro.local.functions import load_handler_module
    from tests.bench import audit_env, audit_messages, audit_stores
    from tests.integration.conftest import Context, http_event

    in_process_env()
    audit_env()
    os.environ["MAESTRO_SLA_TABLE"] = "sla"
    client.cache_clear()
    get_settings.cache_clear()
    moto_as_the_local_endpoint()
    with mock_aws():
        audit_stores()
        create_table_with_gsi1("sla")
        audit = load_handler_module("audit_ingest").handler
        sla = load_handler_module("sla_ingest").handler
        claims = {"sub": "svc", "custom:tenant": "acme", "cognito:groups": "[service]"}
        numbers = iter(range(0, 10**9, 100))

        def audit_batch() -> float:
            batch = audit_messages(next(numbers))
            began = time.perf_counter()
            assert audit(batch, Context()) == {"batchItemFailures": []}
            return time.perf_counter() - began

        def sla_batch(k: int) -> float:
            now = time.time()
            observations = [
                {"service": "flat", "timestamp": now - i, "latency_ms": float(i % 300), "status": 200}
                for i in range(1000)
            ]
            body = json.dumps({"batch_id": f"b{k}-{now}", "observations": observations})
            event = http_event("POST", "/sla/observations", claims=claims, body=body)
            began = time.perf_counter()
            assert sla(event, Context())["statusCode"] < 300
            return time.perf_counter() - began

        audit_batch()  # warm: settings and chain head cached, as in a warm container
        sla_batch(0)
        rates: dict[str, dict[int, float]] = {"audit": {}, "sla": {}}
        filled = 0
        for stored in (SMALL, LARGE):
            for table in ("audit", "sla"):
                _fill(table, filled, stored)
            filled = stored
            rates["audit"][stored] = 500 / sum(audit_batch() for _ in range(5))
            rates["sla"][stored] = 5000 / sum(sla_batch(stored + k) for k in range(5))
        for name, unit in (("audit", "records/s"), ("sla", "observations/s")):
            emit(
                f"{name}_ingest_per_s_flatness",
                rates[name][LARGE],
                unit,
                baseline=rates[name][SMALL],
                stored_small=SMALL,
                stored_large=LARGE,
                target="ratio >= 0.8",
            )


def main() -> int:
    bench_ab_ingestion_over_http()  # first: the in-process bench leaves moto's items on this client's heap
    bench_audit_and_sla_flatness()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
