"""`make bench`, the local platform under load: 16 clients mixing A/B assignment, event ingestion, mlflow
logging, SLO observations and posted audit records for a bounded time, with faults injected into the audit
queue's consumer; then a reconciliation: every accepted A/B event and every audit record counted exactly once.
Also what the suite used to time in assertions: how fast the platform is ready, and redaction's speed."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import requests

from tests.bench import emit, percentile
from tests.support import RunningPlatform, start_platform, wait_for

CLIENTS = 16
LOAD_SECONDS = float(os.environ.get("MAESTRO_BENCH_LOAD_S", "60"))
AUDIT_FAULTS = 12  # failed audit_ingest invocations: their batches come back after the visibility timeout
RECONCILE_TIMEOUT_S = 480  # the audit queue's visibility timeout is 6 x the consumer's 60 s (AWS's advice)
EXPERIMENT = {
    "name": "load",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
    "metrics": [{"name": "clicks", "kind": "mean", "event": "click", "role": "primary"}],
}


class Load:
    """What the clients sent and what was accepted, to reconcile against what the platform counted."""

    def __init__(self, platform: RunningPlatform, experiment_id: str, run_id: str, tokens: dict[str, str]):
        self.platform, self.experiment_id, self.run_id, self.tokens = platform, experiment_id, run_id, tokens
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[int] = Counter()
        self.clicks_accepted = 0
        self.units_exposed: set[str] = set()
        self.audit_ids: set[str] = set()

    def call(self, route: str, method: str, path: str, token: str, body: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            reply = requests.request(
                method,
                self.platform.url + path,
                json=body,
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
            )
        except requests.RequestException:
            with self.lock:
                self.statuses[0] += 1  # no answer at all
            return None
        with self.lock:
            self.latencies[route].append((time.perf_counter() - started) * 1000)
            self.statuses[reply.status_code] += 1
        return reply

    def until_accepted(self, route: str, path: str, token: str, body: Any) -> dict[str, Any]:
        """A client that retries what was not accepted: the platform must count it once."""
        for _ in range(5):
            reply = self.call(route, "POST", path, token, body)
            if reply is not None and reply.status_code < 300:
                return reply.json()
            time.sleep(0.2)
        raise RuntimeError(f"{route} was not accepted after 5 attempts")

    def client(self, number: int, deadline: float) -> None:
        rng = random.Random(number)
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            tag = f"c{number}-{seq}"
            roll = rng.random()
            if roll < 0.4:
                unit = f"u{rng.randrange(100_000)}"
                self.call(
                    "ab_assign",
                    "POST",
                    "/ab/assign",
                    self.tokens["ab"],
                    {"experiment_id": self.experiment_id, "unit_id": unit},
                )
            elif roll < 0.6:
                units = [f"{tag}-{i}" for i in range(10)]
                events = [{"event_id": f"x-{u}", "unit_id": u, "type": "exposure"} for u in units]
                clicks = [
                    {"event_id": f"k-{u}-{k}", "unit_id": u, "type": "metric", "name": "click", "value": 1.0}
                    for u in units
                    for k in range(rng.randrange(3))
                ]
                body = {"experiment_id": self.experiment_id, "events": events + clicks}
                self.until_accepted("ab_events", "/ab/events", self.tokens["ab"], body)
                if rng.random() < 0.1:  # a client that resends a batch it already had accepted
                    self.until_accepted("ab_events", "/ab/events", self.tokens["ab"], body)
                with self.lock:
                    self.units_exposed.update(units)
                    self.clicks_accepted += len(clicks)
            elif roll < 0.8:
                body = {
                    "run_id": self.run_id,
                    "key": f"loss-{number}",
                    "value": rng.random(),
                    "timestamp": int(time.time() * 1000),
                    "step": seq,
                }
                self.call(
                    "mlflow_log_metric", "POST", "/api/2.0/mlflow/runs/log-metric", self.tokens["ml"], body
                )
            elif roll < 0.95:
                now = time.time()
                observations = [
                    {"service": "load", "timestamp": now, "latency_ms": rng.uniform(1, 300), "status": 200}
                    for _ in range(10)
                ]
                self.call(
                    "sla_observations",
                    "POST",
                    "/sla/observations",
                    self.tokens["sla"],
                    {"observations": observations},
                )
            else:
                records = [
                    {"record_id": f"a-{tag}-{i}", "principal": "load", "action": "bench.load"}
                    for i in range(5)
                ]
                self.until_accepted(
                    "audit_records", "/audit/records", self.tokens["audit"], {"records": records}
                )
                with self.lock:
                    self.audit_ids.update(r["record_id"] for r in records)


def _setup(platform: RunningPlatform) -> Load:
    tokens = {
        "ab": platform.token("load", ["ml-engineer"]),
        "ml": platform.token("load", ["ml-engineer"]),
        "sla": platform.token("load", ["service"]),
        "audit": platform.token("load", ["admin"]),
    }
    experiment_id = platform.api("POST", "/ab/experiments", tokens["ab"], json=EXPERIMENT).json()[
        "experiment_id"
    ]
    platform.api("POST", f"/ab/experiments/{experiment_id}/start", tokens["ab"]).raise_for_status()
    mlflow = "/api/2.0/mlflow"
    experiment = platform.api(
        "POST", f"{mlflow}/experiments/create", tokens["ml"], json={"name": "load"}
    ).json()
    run = platform.api("POST", f"{mlflow}/runs/create", tokens["ml"], json=experiment).json()["run"]["info"][
        "run_id"
    ]
    return Load(platform, experiment_id, run, tokens)


def _counted_audit_ids(load: Load) -> Counter[str]:
    counted: Counter[str] = Counter()
    cursor = None
    while True:
        query = f"/audit/events?action=bench.load&limit=1000{f'&cursor={cursor}' if cursor else ''}"
        page = load.platform.api("GET", query, load.tokens["audit"]).json()
        counted.update(r["record_id"] for r in page["records"])
        cursor = page.get("next_cursor")
        if not cursor:
            return counted


def bench_load_and_faults() -> None:
    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-load-")))
    try:
        emit(
            "local_platform_ready",
            platform.timings["ready_s"],
            "s",
            **{k: round(v, 2) for k, v in platform.timings.items()},
        )
        load = _setup(platform)
        fault = f"/_local/faults?function=audit_ingest&error=Runtime.ExitError&times={AUDIT_FAULTS}"
        requests.post(platform.url + fault, timeout=10).raise_for_status()
        deadline = time.monotonic() + LOAD_SECONDS
        clients = [threading.Thread(target=load.client, args=(n, deadline)) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        served = sum(load.statuses.values())
        server_errors = sum(n for status, n in load.statuses.items() if status >= 500 or status == 0)
        emit(
            "load_requests_served",
            served,
            "requests",
            clients=CLIENTS,
            seconds=LOAD_SECONDS,
            per_s=round(served / LOAD_SECONDS, 1),
        )
        emit(
            "load_server_errors",
            server_errors,
            "responses",
            statuses={str(k): v for k, v in sorted(load.statuses.items())},
        )
        for route, samples in sorted(load.latencies.items()):
            emit(f"load_{route}_p50", statistics.median(samples), "ms", requests=len(samples))
            emit(f"load_{route}_p99", percentile(samples, 99), "ms")

        started = time.monotonic()
        fired = sum(
            f["fired"] for f in requests.get(platform.url + "/_local/faults", timeout=10).json()["faults"]
        )

        def all_counted() -> Counter[str] | None:
            counted = _counted_audit_ids(load)
            return counted if set(counted) >= load.audit_ids else None

        try:
            counted = wait_for(all_counted, timeout_s=RECONCILE_TIMEOUT_S, interval_s=5)
        except AssertionError:  # still missing after the timeout: lost, and reported as such
            counted = _counted_audit_ids(load)
        analysis = platform.api(
            "GET", f"/ab/experiments/{load.experiment_id}/analysis", load.tokens["ab"]
        ).json()
        units = sum(analysis["variants"].values())
        comparison = analysis["metrics"][0]["comparisons"][0]
        n = analysis["variants"]
        clicks = comparison["control"] * n["control"] + comparison["treatment"] * n["treatment"]
        emit(
            "load_audit_records_lost",
            len(load.audit_ids - set(counted)),
            "records",
            posted=len(load.audit_ids),
            faults_fired=fired,
            reconciled_after_s=round(time.monotonic() - started, 1),
        )
        emit("load_audit_records_duplicated", sum(1 for c in counted.values() if c > 1), "records")
        emit(
            "load_ab_units_lost_or_duplicated",
            abs(units - len(load.units_exposed)),
            "units",
            accepted=len(load.units_exposed),
            counted=units,
        )
        emit(
            "load_ab_clicks_lost_or_duplicated",
            abs(round(clicks) - load.clicks_accepted),
            "events",
            accepted=load.clicks_accepted,
            counted=round(clicks, 3),
        )
    finally:
        platform.stop()


def bench_redaction() -> None:
    from maestro.audit.records import RedactionRules, Redactor

    redact = Redactor(RedactionRules(), salt="s")
    value = {"blob": "a" * 1_000_000 + " reach me at ann@x.io"}
    started = time.perf_counter()
    redact(value)
    emit(
        "audit_redaction_1mb_value",
        (time.perf_counter() - started) * 1000,
        "ms",
        note="linear: a naive e-mail pattern takes minutes",
    )


def main() -> int:
    bench_redaction()
    bench_load_and_faults()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
