"""`make bench`: one JSON object per line per figure: {"name", "value", "unit"} plus "baseline" and "ratio"
where a figure is compared with a baseline measured in the same run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tests.support import REPO, create_table_with_gsi1, locked_bucket

RUNS = int(os.environ.get("MAESTRO_BENCH_RUNS", "7"))
ENV = {
    **os.environ,
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BARE_RESOLVER = "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver"
# The framework as every handler uses it (validating resolver, Logger, Metrics); our overhead is above it.
FRAMEWORK_FLOOR = (
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "APIGatewayHttpResolver(enable_validation=True); Logger(); Metrics()"
)


def emit(name: str, value: float, unit: str, baseline: float | None = None, **extra: Any) -> None:
    row: dict[str, Any] = {"name": name, "value": round(value, 3), "unit": unit}
    if baseline is not None:
        row |= {"baseline": round(baseline, 3), "ratio": round(value / baseline, 3)}
    print(json.dumps(row | extra), flush=True)


def cold_import_ms(code: str, cwd: str | None = None) -> float:
    """Median over fresh interpreters of the time to run `code` (imports), Python's own start-up excluded."""
    probe = f"import time\nt = time.perf_counter()\n{code}\nprint((time.perf_counter() - t) * 1000)"
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", probe], cwd=cwd, env=ENV, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def bench_cold_imports() -> None:
    bare = cold_import_ms(BARE_RESOLVER)
    floor = cold_import_ms(FRAMEWORK_FLOOR)
    emit("powertools_resolver_bare_import", bare, "ms")
    emit(
        "powertools_framework_floor_import",
        floor,
        "ms",
        baseline=bare,
        note="validating resolver + Logger + Metrics, what every handler needs before any of our code",
    )
    for fn in sorted(p.name for p in (REPO / "functions").iterdir() if (p / "handler.py").exists()):
        value = cold_import_ms("import handler", cwd=str(REPO / "functions" / fn))
        emit(f"cold_import_{fn}_handler", value, "ms", baseline=bare, target_ratio=1.3)
        emit(f"cold_import_{fn}_handler_vs_framework_floor", value, "ms", baseline=floor)


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def emit_latency(name: str, samples: list[float], note: str) -> None:
    emit(f"{name}_p50", statistics.median(samples), "ms", note=note)
    emit(f"{name}_p99", percentile(samples, 99), "ms")


def warm_latency(call: Callable[[], Any], n: int = 500) -> list[float]:
    for _ in range(20):
        call()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def in_process_env() -> None:
    """The environment the in-process benches share: fake credentials for moto, quiet Powertools."""
    os.environ.update({k: v for k, v in ENV.items() if k.startswith(("POWERTOOLS", "AWS_DEFAULT"))})
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "MAESTRO_PLATFORM_TABLE": "platform",
            "MAESTRO_ARTIFACTS_BUCKET": "artifacts",
        }
    )
    # Handlers write one outcome line per invocation (for the SLA checks); written, but not onto the figures.
    import logging

    from maestro.core.outcomes import log

    log.handlers = [logging.StreamHandler(open(os.devnull, "w"))]  # noqa: SIM115 - lives as long as the run


def bench_warm_health() -> None:
    in_process_env()
    import boto3
    from moto import mock_aws

    from maestro.local.functions import load_handler_module
    from tests.integration.conftest import Context, http_event

    with mock_aws():
        registered_tenant()
        boto3.client("s3").create_bucket(Bucket="artifacts")
        boto3.client("events").create_event_bus(Name="maestro")
        for table in ("maestro-registry", "maestro-ab", "maestro-sla", "maestro-audit"):
            create_table_with_gsi1(table)
        health = load_handler_module("health").handler
        whoami = load_handler_module("whoami").handler
        event = http_event("GET", "/health")
        samples = warm_latency(lambda: health(event, Context()))
        emit_latency(
            "warm_health",
            samples,
            "in-process; nine readiness probes, side by side, moto answering all of them",
        )
        claims = {"sub": "a", "custom:tenant": "acme", "cognito:groups": "[viewer]"}
        who = http_event("GET", "/whoami", claims=claims)
        samples = warm_latency(lambda: whoami(who, Context()), n=2000)
        emit_latency(
            "warm_whoami", samples, "auth + admission (one conditional UpdateItem, moto) + RBAC + routing"
        )


def registered_tenant(tenant: str = "acme") -> None:
    """The platform table (inside mock_aws) with `tenant` registered: admission refuses unknown tenants."""
    from maestro.tenants.service import register
    from maestro.tenants.store import TenantStore

    create_table_with_gsi1("platform")
    register(TenantStore("platform", tenant), tenant, "enterprise", {}, "bench")


def bench_admission() -> None:
    """The per-request cost of authentication and the tenant's admission and quota check on a warm function:
    GET /whoami through our handler, against a bare validating Powertools resolver answering the same route
    (the baseline), and against our handler for a platform operator (authentication and RBAC, no admission).
    In-process, so the admission's one conditional UpdateItem is answered by moto rather than DynamoDB."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from moto import mock_aws

    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.functions import load_handler_module
    from tests.integration.conftest import Context, http_event

    in_process_env()
    client.cache_clear()
    get_settings.cache_clear()
    with mock_aws():
        registered_tenant()
        bare = APIGatewayHttpResolver(enable_validation=True)
        bare.get("/whoami")(lambda: {"principal": "a", "tenant": "acme"})
        whoami = load_handler_module("whoami").handler

        def event(tenant: str, roles: str) -> dict:
            return http_event(
                "GET", "/whoami", claims={"sub": "a", "custom:tenant": tenant, "cognito:groups": roles}
            )

        tenant, operator = event("acme", "[viewer]"), event("platform", "[admin]")
        baseline = statistics.median(warm_latency(lambda: bare.resolve(tenant, Context()), n=2000))
        auth_only = warm_latency(lambda: whoami(operator, Context()), n=2000)
        sent: list[str] = []
        client("dynamodb").meta.events.register("before-send.dynamodb", lambda **kw: sent.append("x"))
        admitted = warm_latency(lambda: whoami(tenant, Context()), n=2000)
        requests_per_request = len(sent) / 2020  # warm_latency's 20 warm-up calls count too
        from maestro.core.auth import AuthContext
        from maestro.tenants.admission import LEASE_S, admit

        quiet, clock = AuthContext.of("a", "acme", frozenset({"viewer"})), iter(range(10**6))
        # A tenant whose requests come more than a lease's time apart: each takes a new lease.
        renewals = warm_latency(lambda: admit(quiet, now=1e9 + next(clock) * (LEASE_S + 0.5)), n=500)
        ddb = client("dynamodb")
        raw = warm_latency(
            lambda: ddb.update_item(
                TableName="platform",
                Key={"pk": {"S": "acme#BENCH"}, "sk": {"S": "COUNTER"}},
                UpdateExpression="ADD n :one",
                ConditionExpression="attribute_not_exists(n) OR n < :max",
                ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": "1000000000"}},
                ReturnValues="ALL_NEW",
            ),
            n=2000,
        )
    emit("warm_bare_resolver_p50", baseline, "ms", note="validating Powertools resolver, same route, no auth")
    emit(
        "warm_auth_rbac_p50",
        statistics.median(auth_only),
        "ms",
        baseline=baseline,
        note="whoami for a platform operator: JWT claims -> identity -> permission, no admission",
    )
    emit(
        "warm_auth_admission_rbac_p50",
        statistics.median(admitted),
        "ms",
        baseline=baseline,
        note="whoami for a busy tenant's caller: + admission (status, rate limit, grants) from its lease",
    )
    emit("warm_auth_admission_rbac_p99", percentile(admitted, 99), "ms", baseline=percentile(auth_only, 99))
    emit(
        "auth_and_quota_overhead_per_request_p50",
        statistics.median(admitted) - baseline,
        "ms",
        note="our handler minus the bare resolver; on AWS the UpdateItem is a DynamoDB round trip, not moto",
    )
    emit(
        "admission_dynamodb_requests_per_request",
        requests_per_request,
        "requests",
        baseline=1.0,
        note="a busy tenant: leases of up to 256 requests (a quiet one: 1 per request)",
    )
    emit(
        "admission_quiet_tenant_p50",
        statistics.median(renewals),
        "ms",
        baseline=statistics.median(raw),
        note="requests over a second apart each take a lease: one conditional UpdateItem (baseline: raw)",
    )


def bench_warm_registry() -> None:
    """A registry read and write through the real handler, moto answering DynamoDB in-process."""
    import boto3
    from moto import mock_aws

    from maestro.local.functions import load_handler_module
    from tests.integration.conftest import Context, http_event

    in_process_env()
    os.environ.update({"MAESTRO_REGISTRY_TABLE": "registry", "MAESTRO_EVENT_BUS_NAME": "maestro"})
    from maestro.core.aws import client
    from maestro.core.settings import get_settings

    client.cache_clear()
    get_settings.cache_clear()
    with mock_aws():
        registered_tenant()
        boto3.client("events").create_event_bus(Name="maestro")
        create_table_with_gsi1("registry")
        registry = load_handler_module("registry").handler
        claims = {"sub": "a", "custom:tenant": "acme", "cognito:groups": "[ml-engineer]"}

        def call(method: str, path: str, body: dict | None = None, query: str = "") -> dict:
            event = http_event(
                method, path, claims=claims, body=json.dumps(body) if body is not None else None
            )
            event["rawQueryString"] = query
            event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&") if p)
            response = registry(event, Context())
            assert response["statusCode"] == 200, response
            return json.loads(response["body"])

        call("POST", "/api/2.0/mlflow/registered-models/create", {"name": "bench"})
        run_id = call("POST", "/api/2.0/mlflow/runs/create", {})["run"]["info"]["run_id"]
        read = warm_latency(
            lambda: call("GET", "/api/2.0/mlflow/registered-models/get", query="name=bench"), n=300
        )
        emit_latency(
            "warm_registry_read", read, "GET registered-models/get through the handler, moto in-process"
        )
        steps = iter(range(10**6))
        write = warm_latency(
            lambda: call(
                "POST",
                "/api/2.0/mlflow/runs/log-metric",
                {"run_id": run_id, "key": "loss", "value": 0.5, "step": next(steps), "timestamp": 1},
            ),
            n=300,
        )
        emit_latency(
            "warm_registry_write", write, "POST runs/log-metric (history + latest + event), moto in-process"
        )


def _ab_tables() -> None:
    import boto3

    registered_tenant()
    boto3.client("events").create_event_bus(Name="maestro")
    create_table_with_gsi1("ab")


AB_SPEC = {
    "name": "bench",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
    "metrics": [
        {"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"},
        {"name": "revenue", "kind": "mean", "event": "purchase"},
    ],
}


def bench_ab() -> None:
    """Assignment through the real handler (warm: config cached, no AWS call), batch throughput, analysis
    time from stored statistics at 10^3 and 10^8 units, and DynamoDB requests per 1,000 ingested events."""
    from moto import mock_aws

    from maestro.ab.analysis import analyze
    from maestro.ab.experiments import ExperimentSpec
    from maestro.ab.ingest import EXPOSURES, Event
    from maestro.ab.service import AbService
    from maestro.ab.store import AbStore
    from maestro.core.auth import AuthContext
    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.functions import load_handler_module
    from tests.integration.conftest import Context, http_event

    in_process_env()
    os.environ["MAESTRO_AB_TABLE"] = "ab"
    client.cache_clear()
    get_settings.cache_clear()
    with mock_aws():
        _ab_tables()
        auth = AuthContext.of("bench", "acme", frozenset({"ml-engineer"}))
        service = AbService(AbStore("ab", "acme"), auth)
        experiment_id = service.create(ExperimentSpec.model_validate(AB_SPEC))["experiment_id"]
        service.act(experiment_id, "start")

        handler = load_handler_module("ab_assign").handler
        claims = {"sub": "a", "custom:tenant": "acme", "cognito:groups": "[service]"}
        counter = iter(range(10**9))

        def assign_one() -> None:
            event = http_event(
                "POST",
                "/ab/assign",
                claims=claims,
                body=json.dumps({"experiment_id": experiment_id, "unit_id": f"u{next(counter)}"}),
            )
            assert handler(event, Context())["statusCode"] == 200

        samples = warm_latency(assign_one, n=3000)
        emit("ab_assign_warm_p50", statistics.median(samples), "ms", note="handler in-process, config cached")
        emit("ab_assign_warm_p99", percentile(samples, 99), "ms", target="< 0.5 ms")
        units = [f"batch-{i}" for i in range(10_000)]
        batch = http_event(
            "POST",
            "/ab/assign/batch",
            claims=claims,
            body=json.dumps({"experiment_id": experiment_id, "unit_ids": units}),
        )
        handler(batch, Context())
        took = min(timeit_once(lambda: handler(batch, Context())) for _ in range(5))
        emit("ab_assign_batch_units_per_s", 10_000 / took, "units/s", note="10,000 units per request")

        calls = {"n": 0}
        client("dynamodb").meta.events.register(
            "before-call.dynamodb.*", lambda **_: calls.__setitem__("n", calls["n"] + 1)
        )
        rng = np.random.default_rng(0)
        events: list[Event] = []
        for u in range(300):  # 1,000 events over 300 units: an exposure each, then their metric events
            events.append(Event(event_id=f"x{u}", unit_id=f"i{u}", type="exposure"))
        while len(events) < 1000:
            events.append(
                Event(
                    event_id=f"m{len(events)}",
                    unit_id=f"i{rng.integers(300)}",
                    type="metric",
                    name="purchase",
                    value=float(rng.gamma(2, 10)),
                )
            )
        service.ingest(experiment_id, events)
        emit(
            "ab_dynamodb_requests_per_1000_events",
            calls["n"],
            "requests",
            baseline=1000,
            note="1,000 events over 300 units; baseline: one write per event",
        )

    spec = ExperimentSpec.model_validate(
        {
            **AB_SPEC,
            "metrics": [
                {
                    "name": f"m{i}",
                    "kind": "binomial" if i % 2 else "mean",
                    "event": f"e{i}",
                    "role": "primary" if i == 0 else "secondary",
                }
                for i in range(10)
            ],
        }
    )
    for n in (10**3, 10**8):
        stats_: dict = {}
        for variant, shift in (("control", 0.0), ("treatment", 0.01)):
            per = {EXPOSURES: {"n": float(n)}}
            for i in range(10):
                mean, var = (0.1 + shift, 0.09) if i % 2 else (5.0 + shift, 4.0)
                per[f"m{i}"] = {
                    "n": float(n),
                    "sum_y": mean * n,
                    "sum_y2": (var * (n - 1) + mean * mean * n),
                    "sum_x": 0.0,
                    "sum_x2": 0.0,
                    "sum_xy": 0.0,
                }
            stats_[variant] = per
        times = [timeit_once(lambda s=stats_: analyze("e", spec, s)) * 1000 for _ in range(30)]
        emit(
            f"ab_analysis_2x10_metrics_{n:.0e}_units".replace("+", ""),
            statistics.median(times),
            "ms",
            target="same at 1e3 and 1e8, < 50 ms",
        )


def bench_sla() -> None:
    """Observations ingested per second through the real handler, and the scheduled check's time for a
    30-day window at two traffic levels 100x apart (its cost must follow the minutes, not the traffic)."""
    import random

    from moto import mock_aws

    from maestro.core.auth import AuthContext
    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.emulator import moto_as_the_local_endpoint
    from maestro.local.functions import load_handler_module
    from maestro.sla.check import check_one
    from maestro.sla.evaluate import Aggregate, status
    from maestro.sla.service import SlaService, now_minute
    from maestro.sla.slo import SloSpec, minute_datetime
    from maestro.sla.store import SlaStore, StoredSource
    from tests.integration.conftest import Context, http_event

    in_process_env()
    os.environ["MAESTRO_SLA_TABLE"] = "sla"
    client.cache_clear()
    get_settings.cache_clear()
    rng = random.Random(11)
    now = now_minute()
    moto_as_the_local_endpoint()  # moto would copy and scan whole tables, and walk shapes for every item
    with mock_aws():
        import boto3

        registered_tenant()
        boto3.client("events").create_event_bus(Name="maestro")
        create_table_with_gsi1("sla")
        handler = load_handler_module("sla_ingest").handler
        claims = {"sub": "svc", "custom:tenant": "acme", "cognito:groups": "[service]"}
        batches = [
            json.dumps(
                {
                    "observations": [
                        {
                            "service": "checkout-api",
                            "timestamp": minute_datetime(now - 1 - b % 3).isoformat(),
                            "latency_ms": rng.lognormvariate(4, 1),
                            "status": 500 if rng.random() < 0.01 else 200,
                        }
                        for _ in range(5000)
                    ]
                }
            )
            for b in range(8)
        ]
        store = SlaStore("sla", "acme")
        started = time.perf_counter()
        for body in batches:
            reply = handler(http_event("POST", "/sla/observations", claims=claims, body=body), Context())
            assert reply["statusCode"] == 200, reply["body"]
        elapsed = time.perf_counter() - started
        emit(
            "sla_ingest_observations_per_s",
            8 * 5000 / elapsed,
            "observations/s",
            note="through the handler (validation, sketches, one transaction per batch), moto in-process",
        )

        auth = AuthContext.of("bench", "acme", frozenset({"ml-engineer"}))
        spec = SloSpec.model_validate(
            {
                "name": "bench",
                "service": "steady",
                "objectives": [
                    {"kind": "availability", "target": 99.9},
                    {"kind": "latency", "threshold_ms": 300, "percentile": 99},
                ],
            }
        )
        slos = {}
        for per_minute in (100, 10_000):
            service = f"steady-{per_minute}"
            slos[per_minute] = SlaService(SlaStore("sla", "acme"), auth).create(
                spec.model_copy(update={"service": service})
            )
            first = now - 30 * 1440
            # The check reads hour buckets, and minute buckets only in the hours where a window starts or
            # ends; those hours get all their minutes, every other hour one minute bucket holding its traffic
            # (its hour bucket is the same either way, and seeding stays fast in moto).
            edges = {(now - w) - (now - w) % 60 for w in (0, 5, 30, 60, 360, 4320, 43200)}
            for hour in range(first - first % 60, now, 60):
                minutes = {}
                spread = range(hour, min(hour + 60, now)) if hour in edges else [hour]
                for minute in spread:
                    weight = per_minute * (1 if hour in edges else 60)
                    aggregate = Aggregate(count=weight, errors=weight // 1000)
                    for _ in range(20):  # 20 latency levels, each weighted: a sketch of `weight` values
                        aggregate.sketch.add(rng.lognormvariate(4, 1), weight / 20)
                    minutes[(service, minute)] = aggregate
                store.record(f"seed-{service}-{hour}", minutes)
        timings = {}
        for (
            per_minute,
            slo,
        ) in slos.items():  # timed once both are seeded: moto's Query cost follows the table
            samples = []
            for _ in range(5):
                slo = store.get_slo(slo["slo_id"])
                samples.append(timeit_once(lambda slo=slo: check_one("acme", slo, now, None)) * 1000)
            timings[per_minute] = (statistics.median(samples), per_minute * 30 * 1440)
        # The same check's parts: what it reads from DynamoDB, and its computation once the buckets are read.
        reader = SlaStore("sla", "acme")
        source = StoredSource(reader, "steady-100")
        bound = spec.model_copy(update={"service": "steady-100"})
        status(bound, source, now)
        items = len(source.hours) + len(source.minutes.minutes)
        compute_ms = statistics.median(
            timeit_once(lambda: status(bound, source, now)) * 1000 for _ in range(5)
        )
        (low_ms, low_n), (high_ms, high_n) = timings[100], timings[10_000]
        emit(
            "sla_check_30d_window_ms",
            low_ms,
            "ms",
            note=f"{low_n:,} observations in the window; moto's Query is most of it (see the next figures)",
        )
        emit(
            "sla_check_30d_compute_ms",
            compute_ms,
            "ms",
            note="status from buckets already read: merges, budgets",
        )
        emit("sla_check_30d_dynamodb_requests", reader.requests, "requests", items_read=items)
        emit(
            "sla_check_30d_window_100x_traffic_ms",
            high_ms,
            "ms",
            baseline=low_ms,
            note=f"{high_n:,} observations: same minutes, 100x the traffic; the ratio should stay near 1",
        )


def audit_env() -> None:
    os.environ.update(
        {
            "MAESTRO_AUDIT_TABLE": "audit",
            "MAESTRO_AUDIT_ARCHIVE_BUCKET": "archive",
            "MAESTRO_AUDIT_SIGNING_KEY": "alias/audit",
        }
    )


def audit_stores() -> None:
    """What the audit ingestion needs in moto: the tenant, the bus, the table, the locked archive, the key."""
    import boto3

    registered_tenant()
    boto3.client("events").create_event_bus(Name="maestro")
    create_table_with_gsi1("audit")
    locked_bucket("archive")
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/audit", TargetKeyId=key)


def audit_messages(start: int, count: int = 100) -> dict[str, Any]:
    """An SQS batch of `count` bus events for the audit queue's consumer, numbered from `start`."""
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": "r",
                "eventSource": "aws:sqs",
                "attributes": {},
                "body": json.dumps(
                    {
                        "id": f"e-{n}",
                        "source": "maestro.registry",
                        "detail-type": "ModelVersionCreated",
                        "time": "2026-11-27T10:00:00Z",
                        "detail": {
                            "event_id": f"ev-{n}",
                            "tenant": "acme",
                            "principal": "p",
                            "roles": ["ml-engineer"],
                            "name": "m",
                            "version": str(n),
                        },
                    }
                ),
            }
            for n in range(start, start + count)
        ]
    }


def bench_audit() -> None:
    """Records appended per second through the audit queue's batch handler (100 messages per batch, as the
    event source mapping delivers them), and DynamoDB + S3 requests per 1,000 records including their
    digest (archive object, signature), beside the one-write-per-record baseline."""
    from moto import mock_aws

    from maestro.core.aws import client
    from maestro.core.settings import get_settings
    from maestro.local.emulator import moto_as_the_local_endpoint
    from maestro.local.functions import load_handler_module
    from tests.integration.conftest import Context

    in_process_env()
    audit_env()
    client.cache_clear()
    get_settings.cache_clear()
    moto_as_the_local_endpoint()
    with mock_aws():
        audit_stores()
        handler = load_handler_module("audit_ingest").handler
        batch = audit_messages
        handler(batch(10**6), Context())  # warm: settings and chain head cached, as in a warm container
        calls = {"n": 0}

        def count(**_: Any) -> None:
            calls["n"] += 1

        for service in ("dynamodb", "s3"):
            client(service).meta.events.register("before-call.*.*", count)
        started = time.perf_counter()
        for start in range(0, 1000, 100):
            assert handler(batch(start), Context()) == {"batchItemFailures": []}
        elapsed = time.perf_counter() - started
        from maestro.audit.service import AuditService
        from maestro.audit.store import AuditStore

        AuditService(AuditStore("audit", "acme")).digest()
        emit(
            "audit_ingest_records_per_s",
            1000 / elapsed,
            "records/s",
            note="through the SQS batch handler, 100 messages per batch, moto in-process",
        )
        emit(
            "audit_requests_per_1000_records",
            calls["n"],
            "requests",
            baseline=1000,
            note="DynamoDB + S3 calls for 1,000 records and their digest; baseline: one write per record",
        )


EXPLAIN_SCRIPT = """
import mlflow, numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from tests.bench import explain_data
X, y = explain_data()
mlflow.set_experiment("bench")
with mlflow.start_run():
    mlflow.sklearn.log_model(
        GradientBoostingClassifier(n_estimators=100, random_state=0).fit(X, y), name="gbm",
        input_example=X[:2], registered_model_name="bench-gbm",
        skops_trusted_types=["sklearn.tree._tree.Tree"])
"""
EXPLAIN_ROWS, EXPLAIN_FEATURES, EXPLAIN_NSAMPLES, EXPLAIN_CLUSTERS = 4000, 10, 200, 20


def _instant(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def explain_data() -> tuple[Any, Any]:
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(EXPLAIN_ROWS, EXPLAIN_FEATURES)), columns=[f"f{i}" for i in range(10)])
    y = ((X["f0"] + X["f1"] * X["f2"] - X["f3"]) > 0).astype(int)
    return X, y.to_numpy()


def bench_explain() -> None:
    """Rows explained per second through the whole workflow (local platform: the real state machine, S3,
    DynamoDB, every step), beside shap called directly on the same model, rows and background in this
    process; then the same job in 1 and in N shards. KernelExplainer: its cost is in the explaining, which is
    what the workflow's overhead is measured against."""
    import tempfile
    from pathlib import Path

    import requests
    import shap

    from tests.support import start_platform

    platform = start_platform(Path(tempfile.mkdtemp(prefix="bench-explain-")))
    try:
        exports = platform.mlflow_env("bench")
        platform.run_python(EXPLAIN_SCRIPT, exports)
        X, _ = explain_data()
        s3 = platform.aws("s3")
        bucket = platform.artifacts_bucket()
        s3.put_object(Bucket=bucket, Key="tenants/bench/data.csv", Body=X.to_csv(index=False).encode())
        token = platform.token("bench", ["ml-engineer"])

        def run_job(rows: int, shards: int, seed: int) -> float:
            request = {
                "model": {"name": "bench-gbm", "version": 1},
                "dataset": {"s3_uri": f"s3://{bucket}/tenants/bench/data.csv"},
                "rows": {"start": 0, "stop": rows},
                "method": "kernel",
                "nsamples": EXPLAIN_NSAMPLES,
                "background": {"strategy": "kmeans", "size": EXPLAIN_CLUSTERS},
                "shards": shards,
                "seed": seed,
            }
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{platform.url}/explanations"
            job = requests.post(url, json=request, headers=headers, timeout=60).json()
            while job["status"] not in ("SUCCEEDED", "FAILED"):
                time.sleep(1)  # slow polling: each poll is work for the platform the job runs on
                job = requests.get(f"{url}/{job['job_id']}", headers=headers, timeout=60).json()
            assert job["status"] == "SUCCEEDED", job
            # The job's own clock: accepted (created_at) to its final state (finished_at), polling excluded.
            return (_instant(job["finished_at"]) - _instant(job["created_at"])).total_seconds()

        run_job(50, 1, seed=1)  # warm: the worker's first job imports shap and loads the model

        from sklearn.ensemble import GradientBoostingClassifier  # the registered model, trained identically

        model = GradientBoostingClassifier(n_estimators=100, random_state=0).fit(*explain_data())
        started = time.perf_counter()
        background = shap.kmeans(X.to_numpy(), EXPLAIN_CLUSTERS)  # weighted centres, as users call it
        np.random.seed(0)
        shap.KernelExplainer(model.predict_proba, background).shap_values(
            X.to_numpy(), nsamples=EXPLAIN_NSAMPLES, silent=True
        )
        direct = time.perf_counter() - started

        one_shard = run_job(EXPLAIN_ROWS, 1, seed=2)
        emit(
            "explain_rows_per_s_workflow",
            EXPLAIN_ROWS / one_shard,
            "rows/s",
            baseline=EXPLAIN_ROWS / direct,
            note=f"kernel, {EXPLAIN_ROWS} rows x {EXPLAIN_FEATURES} features, nsamples "
            f"{EXPLAIN_NSAMPLES}, kmeans {EXPLAIN_CLUSTERS}; baseline: shap.KernelExplainer called "
            f"directly; overhead {100 * (one_shard / direct - 1):.1f}% of the job's time from accepted to "
            "SUCCEEDED, every step and the report included",
        )
        cores = os.cpu_count() or 2
        sharded = run_job(EXPLAIN_ROWS, cores, seed=3)
        emit(
            f"explain_speedup_1_to_{cores}_shards",
            one_shard / sharded,
            "x",
            note=f"{cores} shards at once on {cores} cores (locally each worker environment is its own "
            "process, as each Lambda environment has its own vCPUs; the platform shares the cores)",
        )
    finally:
        platform.stop()


def timeit_once(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    bench_cold_imports()
    bench_warm_health()
    bench_admission()
    bench_warm_registry()
    bench_ab()
    bench_sla()
    bench_audit()
    bench_explain()
    # Each in its own process: the in-process benches above leave a heap of moto items behind, and the
    # garbage collector walking it would be counted in every request these clients time.
    for family in (
        "tests.bench_monitoring",
        "tests.bench_ingest",
        "tests.bench_load",
        "tests.bench_training",
        "tests.bench_insights",
    ):
        subprocess.run([sys.executable, "-m", family], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
