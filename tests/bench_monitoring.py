"""`make bench`'s monitoring figures: serving records ingested per second through the real handler; a check's
time over a 24-hour window of 10^4 and of 10^7 records (it must follow hours and columns, not records); and
the drift statistics' agreement with Evidently on the test battery. Run by tests/bench.py in its own
process."""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

import numpy as np

from tests.bench import emit, in_process_env, registered_tenant
from tests.support import create_table_with_gsi1

FEATURES = [f"f{i}" for i in range(8)]
HOURS = 24


def hour_distribution(rng: np.random.Generator, records: int, shift: float) -> dict[str, Any]:
    """One hour's columns as the store keeps them, built from `records` drawn values per column with numpy
    (the same buckets Distribution.add gives, keyed through ddsketch's own mapping): 10^7 records are drawn,
    not posted one by one."""
    from maestro.monitoring.distribution import EXACT_LIMIT, Distribution, _mapping

    mapping = _mapping()
    columns = {}
    for i, name in enumerate([*FEATURES, "prediction"]):
        values = rng.normal(i + (shift if name in ("f2", "f5") else 0.0), 1.0, records)
        column = Distribution("numeric", count=records)
        column.total, column.squares = float(values.sum()), float((values * values).sum())
        column.low, column.high = float(values.min()), float(values.max())
        column.exact = values.tolist() if records <= EXACT_LIMIT else None
        column.distinct = None
        for sign, store in ((1, column.positive), (-1, column.negative)):
            chosen = values[values * sign > 0] * sign
            keys = (np.ceil(np.log2(chosen) * mapping._multiplier) + mapping._offset).astype(int)
            found, counts = np.unique(keys, return_counts=True)
            store.update({int(k): int(n) for k, n in zip(found, counts, strict=True)})
        column.zeros = int((values == 0).sum())
        column._bound()  # what Distribution.add keeps: at most MAX_BUCKETS buckets a sign
        columns[name] = column
    return columns


def bench_ingest_and_check() -> None:
    from moto import mock_aws

    from maestro.core.auth import AuthContext
    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.emulator import moto_as_the_local_endpoint
    from maestro.local.functions import load_handler_module
    from maestro.monitoring.service import MonitoringService
    from maestro.monitoring.spec import MonitorSpec, Reference
    from maestro.monitoring.store import MonitoringStore
    from maestro.tenants.counters import DailyRecords
    from tests.integration.conftest import Context, http_event

    in_process_env()
    os.environ["MAESTRO_MONITORING_TABLE"] = "monitoring"
    client.cache_clear()
    get_settings.cache_clear()
    moto_as_the_local_endpoint()
    rng = np.random.default_rng(5)
    with mock_aws():
        import boto3

        registered_tenant()
        boto3.client("events").create_event_bus(Name="maestro")
        create_table_with_gsi1("monitoring")
        auth = AuthContext.of("bench", "acme", frozenset({"ml-engineer"}))
        service = MonitoringService(MonitoringStore("monitoring", "acme"), auth, "artifacts")
        columns = [*FEATURES, "prediction"]  # the prediction drawn as the ninth column, as the windows are
        reference = [{c: float(rng.normal(i, 1.0)) for i, c in enumerate(columns)} for _ in range(1000)]
        for version in (1, 2):
            service.put_baseline(
                Reference.model_validate({"model": {"name": "m", "version": version}, "rows": reference})
            )

        handler = load_handler_module("monitoring").handler
        claims = {"sub": "svc", "custom:tenant": "acme", "cognito:groups": "[service]"}
        batches = [
            json.dumps(
                {
                    "model": {"name": "m", "version": 1},
                    "records": [
                        {
                            "features": {f: float(rng.normal(i, 1.0)) for i, f in enumerate(FEATURES)},
                            "prediction": float(rng.random()),
                        }
                        for _ in range(5000)
                    ],
                }
            )
            for _ in range(6)
        ]
        started = time.perf_counter()
        for body in batches:
            reply = handler(http_event("POST", "/monitoring/records", claims=claims, body=body), Context())
            assert reply["statusCode"] == 200, reply["body"]
        elapsed = time.perf_counter() - started
        emit(
            "monitoring_ingest_records_per_s",
            6 * 5000 / elapsed,
            "records/s",
            note="8 features and a prediction each, 5,000 a request, through the handler; moto in-process",
        )

        # Two versions' windows of 24 hours, one of 10^4 records and one of 10^7, folded hour by hour.
        hour = int(time.time() // 3600)
        store, quota = MonitoringStore("monitoring", "acme"), DailyRecords("platform", "acme", None)
        timings = {}
        for version, total in ((2, 10**4), (3, 10**7)):
            if version == 3:
                service.put_baseline(
                    Reference.model_validate({"model": {"name": "m", "version": 3}, "rows": reference})
                )
            per_hour = math.ceil(total / HOURS)
            for h in range(HOURS):
                store.record(
                    "m", version, f"b{h}", hour - h, hour_distribution(rng, per_hour, 1.0), quota, per_hour
                )
            model = {"name": "m", "version": version}
            spec = {"name": f"v{version}", "model": model, "min_records": 1, "drift": {"correction": "holm"}}
            monitor_id = service.create(MonitorSpec.model_validate(spec))["monitor_id"]
            service.check(monitor_id)  # warm: imports, caches
            samples = []
            for _ in range(5):
                t = time.perf_counter()
                result = service.check(monitor_id)
                samples.append(time.perf_counter() - t)
            found = set(result["drift"]["drifted_columns"])
            assert result["records"] >= total and {"f2", "f5"} <= found, result  # the planted shift is seen
            timings[total] = sorted(samples)[len(samples) // 2] * 1000
        emit("monitoring_check_24h_1e04_records", timings[10**4], "ms", note="9 columns, 24 hourly buckets")
        emit(
            "monitoring_check_24h_1e07_records",
            timings[10**7],
            "ms",
            baseline=timings[10**4],
            note="the same hours and columns, 1,000x the records: the ratio should stay near 1",
        )


def bench_agreement() -> None:
    """The largest difference from Evidently's statistic on the battery: exact data (up to 1,000 values a
    side), and sketched data (20,000 and 15,000 values) with Wasserstein's error bound for reference."""
    from maestro.monitoring.distribution import Distribution
    from maestro.monitoring.drift import Options, column_drift
    from tests.evidently_oracle import SCENARIOS, battery, evidently

    exact, sketched, decisions, compared = 0.0, 0.0, 0, 0
    for scenario in sorted(SCENARIOS):
        for n_ref, n_cur in ((600, 900), (20_000, 15_000)):
            kind, ref, cur = battery(scenario, 1, n_ref, n_cur)
            name, statistic, drifted, _ = evidently(ref, cur, kind)
            ours = column_drift(
                "x", Distribution.of(kind, ref.tolist()), Distribution.of(kind, cur.tolist()), Options()
            )
            difference = abs(ours.statistic - statistic)
            if n_ref <= 1000:
                exact = max(exact, difference)
            else:
                sketched = max(sketched, difference)
            decisions += int(ours.drifted == drifted and ours.method == name)
            compared += 1
    emit(
        "monitoring_agreement_exact_max_abs_diff", exact * 1e6, "1e-6", note="vs Evidently 0.7, 10 scenarios"
    )
    emit(
        "monitoring_agreement_sketched_max_abs_diff",
        sketched * 1e6,
        "1e-6",
        note="20k/15k values kept as DDSketch (normalised Wasserstein; counts are exact)",
    )
    emit(
        "monitoring_agreement_decisions",
        decisions / compared,
        "share",
        note=f"{compared} columns, same test and decision",
    )


def main() -> int:
    bench_ingest_and_check()
    bench_agreement()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
