"""The SLA store in-process against moto: buckets read back equal the observations they hold, at any
window and around exclusions; batches count once; Maestro ML's own outcome lines arrive through the
logs subscription handler; the scheduled check emits each change once."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from maestro.core.auth import AuthContext
from maestro.core.errors import ValidationError
from maestro.core.settings import get_settings
from maestro.local.functions import load_handler_module
from maestro.sla.check import probe
from maestro.sla.evaluate import Aggregate, MinuteSource, status
from maestro.sla.observations import Observation, ObservationBatch
from maestro.sla.service import SlaService
from maestro.sla.slo import Probe, SloSpec, epoch_minute, minute_datetime
from maestro.sla.store import SlaStore, StoredSource
from tests.integration.conftest import Context, drain
from tests.support import create_table_with_gsi1

NOW = epoch_minute(datetime.now(UTC)) // 60 * 60 + 30  # half past some recent hour
AUTH = AuthContext.of("svc", "acme", frozenset({"service"}))


@pytest.fixture
def sla(aws: None, monkeypatch: pytest.MonkeyPatch) -> SlaService:
    monkeypatch.setenv("MAESTRO_SLA_TABLE", "sla")
    get_settings.cache_clear()
    create_table_with_gsi1("sla")
    return SlaService(SlaStore("sla", "acme"), AUTH)


def observations(rng: np.random.Generator, start: int, minutes: int, per_minute: int) -> list[Observation]:
    out = []
    for minute in range(start, start + minutes):
        for second, latency in enumerate(rng.lognormal(4.5, 0.8, per_minute)):
            out.append(
                Observation(
                    service="checkout-api",
                    timestamp=minute_datetime(minute).replace(second=second % 60),
                    latency_ms=float(latency),
                    status=503 if rng.random() < 0.02 else 200,
                )
            )
    return out


def by_minute(rows: list[Observation]) -> MinuteSource:
    source = MinuteSource()
    for o in rows:
        aggregate = source.minutes.setdefault(epoch_minute(o.timestamp), Aggregate())
        aggregate.count += 1
        aggregate.errors += o.failed
        aggregate.sketch.add(o.latency_ms)
    return source


def assert_same(got: Aggregate, expected: Aggregate) -> None:
    assert (got.count, got.errors) == (expected.count, expected.errors)
    for q in (0.5, 0.95, 0.99):
        assert got.sketch.quantile(q) == expected.sketch.quantile(q)


def test_windows_read_from_minute_and_hour_buckets_equal_the_observations(sla: SlaService) -> None:
    rng = np.random.default_rng(5)
    rows = observations(rng, NOW - 150, 150, 20)  # two and a half hours
    for start in range(0, len(rows), 400):  # batches that straddle minutes and hours
        sla.observe(ObservationBatch(observations=rows[start : start + 400]), now=NOW)
    truth = by_minute(rows)
    source = StoredSource(sla.store, "checkout-api")
    exclusion = [(NOW - 100, NOW - 95)]  # inside a whole hour: that hour is read from its minutes
    for start, end, excluded in [
        (NOW - 150, NOW, []),
        (NOW - 60, NOW, []),
        (NOW - 5, NOW, []),
        (NOW - 150, NOW, exclusion),
        (NOW - 30 - 60, NOW - 30, exclusion),
    ]:
        assert_same(source.aggregate(start, end, excluded), truth.aggregate(start, end, excluded))


def test_a_retried_batch_counts_once(sla: SlaService) -> None:
    rows = observations(np.random.default_rng(1), NOW - 3, 3, 10)
    first = sla.observe(ObservationBatch(batch_id="b-1", observations=rows), now=NOW)
    again = sla.observe(ObservationBatch(batch_id="b-1", observations=rows), now=NOW)
    same_content = sla.observe(ObservationBatch(observations=rows), now=NOW)  # digest id
    same_content_again = sla.observe(ObservationBatch(observations=rows), now=NOW)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert (same_content["duplicate"], same_content_again["duplicate"]) == (False, True)
    total = StoredSource(sla.store, "checkout-api").aggregate(NOW - 60, NOW, [])
    assert total.count == 2 * len(rows)


def test_observations_the_windows_cannot_hold_are_refused_by_field(sla: SlaService) -> None:
    future = Observation(service="s", timestamp=minute_datetime(NOW + 10), latency_ms=1, status=200)
    with pytest.raises(ValidationError) as caught:
        sla.observe(ObservationBatch(observations=[future]), now=NOW)
    assert caught.value.field == "observations.0.timestamp" and "future" in caught.value.reason
    old = Observation(service="s", timestamp=minute_datetime(NOW - 9 * 1440), latency_ms=1, status=200)
    with pytest.raises(ValidationError, match="older"):
        sla.observe(ObservationBatch(observations=[old]), now=NOW)
    spread = [
        Observation(service="s", timestamp=minute_datetime(NOW - m), latency_ms=1, status=200)
        for m in range(120)
    ]
    with pytest.raises(ValidationError) as caught:
        sla.observe(ObservationBatch(observations=spread), now=NOW)
    assert caught.value.field == "observations" and "at most 99" in caught.value.reason


def awslogs(lines: list[str], ids: list[str]) -> dict[str, Any]:
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/Maestro-health",
        "logStream": "s",
        "subscriptionFilters": ["maestro-outcomes"],
        "logEvents": [{"id": i, "timestamp": 0, "message": m} for i, m in zip(ids, lines, strict=True)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def test_outcome_lines_from_the_logs_subscription_become_platform_observations(sla: SlaService) -> None:
    now_s = datetime.now(UTC).timestamp()
    outcome = {"service": "maestro:health", "timestamp": now_s, "latency_ms": 3.5, "status": 200}
    lines = [json.dumps({"maestro_observation": outcome | {"status": s}}) for s in (200, 200, 500)]
    lines.append("START RequestId: 1 Version: $LATEST")  # not an outcome: skipped
    stale = outcome | {"timestamp": now_s - 9 * 86_400}  # older than the minute buckets: dropped alone
    lines.append(json.dumps({"maestro_observation": stale}))
    event = awslogs(lines, ["e1", "e2", "e3", "e4", "e5"])
    handler = load_handler_module("sla_ingest").handler
    assert handler(event, Context()) == {"batches": 1, "accepted": 3}
    assert handler(event, Context()) == {"batches": 1, "accepted": 0}  # redelivered: counted once
    platform = StoredSource(SlaStore("sla", get_settings().platform_tenant), "maestro:health")
    minute = int(now_s) // 60
    seen = platform.aggregate(minute - 1, minute + 1, [])
    assert (seen.count, seen.errors) == (3, 1)


def test_the_scheduled_check_emits_each_change_once(sla: SlaService, bus_queue: str) -> None:
    spec = SloSpec.model_validate(
        {
            "name": "checkout",
            "service": "checkout-api",
            "objectives": [{"kind": "availability", "target": 99}],
            "alerts": [{"long_window": "1h", "short_window": "5m", "burn_rate": 10}],
        }
    )
    slo = SlaService(
        SlaStore("sla", "acme"), AuthContext.of("al", "acme", frozenset({"ml-engineer"}))
    ).create(spec)
    failing = [
        Observation(service="checkout-api", timestamp=minute_datetime(NOW - 2), latency_ms=9, status=s)
        for s in [500] * 30 + [200] * 70
    ]
    sla.observe(ObservationBatch(observations=failing), now=NOW)
    drain(bus_queue)
    check = load_handler_module("sla_check").handler
    when = {"id": "ev-1", "time": minute_datetime(NOW).isoformat().replace("+00:00", "Z")}
    (summary,) = check(when, Context())["checked"]
    assert summary["levels"] == {"availability>=99%": "breached"} and summary["events"] == 2
    published = drain(bus_queue)
    assert sorted(e["detail-type"] for e in published) == ["BurnRateAlert", "SloBreached"]
    breach = next(e for e in published if e["detail-type"] == "SloBreached")
    assert breach["detail"]["slo_id"] == slo["slo_id"] and breach["detail"]["attainment"] == pytest.approx(70)
    assert check(when, Context())["checked"][0]["events"] == 0  # still breached: nothing new
    assert drain(bus_queue) == []


def test_reading_a_window_costs_the_same_whatever_the_traffic(sla: SlaService) -> None:
    requests_made = []
    for per_minute, service in ((10, "quiet-api"), (1000, "busy-api")):
        step = min(45, 5000 // per_minute)  # minutes per batch of at most 5,000
        for minute in range(NOW - 180, NOW, step):
            batch = [
                Observation(
                    service=service, timestamp=minute_datetime(m), latency_ms=5.0 + i % 90, status=200
                )
                for m in range(minute, min(minute + step, NOW))
                for i in range(per_minute)
            ]
            sla.observe(ObservationBatch(observations=batch), now=NOW)
        store = SlaStore("sla", "acme")
        spec = SloSpec.model_validate(
            {
                "name": "x",
                "service": service,
                "objectives": [{"kind": "latency", "threshold_ms": 50, "target": 90}],
            }
        )
        report = status(spec, StoredSource(store, service), NOW)
        assert report["window"]["requests"] == 180 * per_minute
        requests_made.append(store.requests)
    assert requests_made[0] == requests_made[1]


def test_a_probe_records_the_health_urls_answer_and_a_dead_one_as_an_error(sla: SlaService) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for n, url in enumerate((f"{base}/ok", f"{base}/down", "http://127.0.0.1:9/closed")):
            batch = probe("probed-api", Probe(url=url, timeout_ms=500), f"slo-{n}", NOW)
            sla.observe(batch, now=NOW)
            assert sla.observe(batch, now=NOW)["duplicate"]  # one probe per SLO and minute
    finally:
        server.shutdown()
    seen = StoredSource(sla.store, "probed-api").aggregate(NOW - 1, NOW + 1, [])
    assert (seen.count, seen.errors) == (3, 2)  # the 503 and the refused connection
