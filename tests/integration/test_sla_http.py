"""SLOs over real HTTP against the local platform: define an SLO, post observations, fire the schedule, read
the breach event and the status; concurrent batches lose nothing; bad input and other tenants are refused;
Maestro ML's own functions are observed through their log subscriptions."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for

SLO: dict[str, Any] = {
    "name": "checkout availability and latency",
    "service": "checkout-api",
    "objectives": [
        {"kind": "availability", "target": 99.5},
        {"kind": "latency", "threshold_ms": 300, "percentile": 99},
    ],
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("sla-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def api(
    platform: RunningPlatform, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    token = token or platform.token("acme", ["ml-engineer"])
    return requests.request(
        method, platform.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kw
    )


def minute_ago() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)


def next_minute() -> str:
    return (datetime.now(UTC) + timedelta(minutes=1)).isoformat()


def test_define_observe_check_and_read_the_breach(platform: RunningPlatform) -> None:
    tap = platform.tap("sla-tap", {"source": ["maestro.sla"]})
    created = api(platform, "POST", "/sla/slos", json=SLO)
    assert created.status_code == 201, created.text
    slo_id = created.json()["slo_id"]
    at = minute_ago()
    rows = [
        {
            "service": "checkout-api",
            "timestamp": (at + timedelta(milliseconds=i)).isoformat(),
            "latency_ms": 900.0 if i % 20 == 0 else 40.0 + i % 7,  # 5% slow
            "status": 503 if i % 10 == 0 else 200,  # 10% server errors
        }
        for i in range(1000)
    ]
    posted = api(platform, "POST", "/sla/observations", json={"batch_id": "b-1", "observations": rows})
    assert posted.status_code == 200 and posted.json()["accepted"] == 1000, posted.text
    again = api(platform, "POST", "/sla/observations", json={"batch_id": "b-1", "observations": rows})
    assert again.json() == {"batch_id": "b-1", "accepted": 0, "duplicate": True}

    schedules = requests.get(platform.url + "/_local/schedules", timeout=10).json()["schedules"]
    (rule,) = [name for name in schedules if "EveryMinute" in name]
    assert requests.post(platform.url + "/_local/schedules/fire", params={"rule": rule}, timeout=60).ok

    def breach_events() -> list[dict[str, Any]]:
        seen.extend(platform.drain(tap))
        return [e for e in seen if e["detail-type"] == "SloBreached" and e["detail"]["slo_id"] == slo_id]

    seen: list[dict[str, Any]] = []
    breaches = wait_for(lambda: len(breach_events()) == 2 and breach_events(), timeout_s=30)
    by_objective = {e["detail"]["objective"]: e["detail"] for e in breaches}
    assert by_objective["availability>=99.5%"]["attainment"] == pytest.approx(90.0)
    assert by_objective["latency<=300ms@99%"]["attainment"] == pytest.approx(95.0)
    assert all(e["detail"]["service"] == "checkout-api" for e in breaches)
    assert {e["detail"]["alert"] for e in seen if e["detail-type"] == "BurnRateAlert"} == {
        "1h/5m@14.4x",
        "6h/30m@6x",
        "3d/6h@1x",
    }

    status = api(platform, "GET", f"/sla/slos/{slo_id}/status").json()
    assert status["window"]["requests"] == 1000 and status["window"]["errors"] == 100
    assert status["window"]["p99"] == pytest.approx(900, rel=0.01)
    assert status["window"]["p50"] == pytest.approx(43, rel=0.02)
    levels = {o["objective"]: o["level"] for o in status["objectives"]}
    assert levels == {"availability>=99.5%": "breached", "latency<=300ms@99%": "breached"}
    availability = status["objectives"][0]
    assert availability["burn_rates"]["5m"] == pytest.approx(20.0)  # 10% errors / 0.5% budget
    assert availability["budget_remaining"] == pytest.approx(100 * (1 - 100 / 5))

    report = api(
        platform, "GET", f"/sla/slos/{slo_id}/report", params={"end": next_minute(), "step_hours": 1}
    )
    assert report.status_code == 200, report.text
    last = report.json()["points"][-1]
    assert last["requests"] == 1000 and last["objectives"][0]["attainment"] == pytest.approx(90.0)


def test_concurrent_batches_into_one_minute_lose_nothing(platform: RunningPlatform) -> None:
    slo = api(platform, "POST", "/sla/slos", json=SLO | {"service": "busy-api"}).json()
    at = minute_ago()

    def post(batch: int) -> int:
        rows = [
            {"service": "busy-api", "timestamp": at.isoformat(), "latency_ms": 10.0 + i, "status": 200}
            for i in range(250)
        ]
        reply = api(
            platform, "POST", "/sla/observations", json={"batch_id": f"c-{batch}", "observations": rows}
        )
        assert reply.status_code == 200, reply.text
        return int(reply.json()["accepted"])

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(post, range(16))) == 16 * 250
    status = api(platform, "GET", f"/sla/slos/{slo['slo_id']}/status").json()
    assert status["window"]["requests"] == 16 * 250


def test_bad_input_names_the_field_and_roles_and_tenants_are_enforced(platform: RunningPlatform) -> None:
    bad = api(
        platform, "POST", "/sla/slos", json=SLO | {"objectives": [{"kind": "availability", "target": 100}]}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"].endswith("objectives.0.target")
    future = {
        "service": "checkout-api",
        "timestamp": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "latency_ms": 1,
    }
    refused = api(platform, "POST", "/sla/observations", json={"observations": [future]})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == [
        {"field": "observations.0.timestamp", "reason": "is in the future (check the clock)"}
    ]
    viewer = platform.token("acme", ["viewer"])
    assert api(platform, "POST", "/sla/slos", token=viewer, json=SLO).status_code == 403
    slo_id = api(platform, "POST", "/sla/slos", json=SLO).json()["slo_id"]
    assert api(platform, "GET", f"/sla/slos/{slo_id}", token=viewer).status_code == 200
    other = platform.token("globex", ["tenant-admin"])
    assert api(platform, "GET", f"/sla/slos/{slo_id}", token=other).status_code == 404
    assert api(platform, "GET", f"/sla/slos/{slo_id}/status", token=other).status_code == 404
    assert slo_id not in {s["slo_id"] for s in api(platform, "GET", "/sla/slos", token=other).json()["slos"]}
    assert api(platform, "DELETE", f"/sla/slos/{slo_id}").json() == {"slo_id": slo_id, "deleted": True}
    assert api(platform, "GET", f"/sla/slos/{slo_id}").status_code == 404


def test_maestro_functions_are_observed_like_any_service(platform: RunningPlatform) -> None:
    admin = platform.token("platform", ["tenant-admin"])
    slo = api(
        platform,
        "POST",
        "/sla/slos",
        token=admin,
        json={
            "name": "health",
            "service": "maestro:health",
            "objectives": [{"kind": "availability", "target": 99}],
        },
    ).json()
    for _ in range(5):
        assert requests.get(platform.url + "/health", timeout=30).status_code == 200
    requests.post(platform.url + "/_local/logs/flush", timeout=30)

    def observed() -> float:
        status = api(
            platform, "GET", f"/sla/slos/{slo['slo_id']}/status", token=admin, params={"at": next_minute()}
        )
        return float(status.json()["window"]["requests"])

    assert wait_for(lambda: observed() >= 5, timeout_s=15)


def test_the_cli_defines_observes_and_shows_status_with_a_budget_plot(
    platform: RunningPlatform, tmp_path: Any
) -> None:
    import json

    token = platform.token("initech", ["ml-engineer"])

    def maestro(*args: str) -> str:
        result = platform.cli("sla", *args, token=token)
        assert result.returncode == 0, result.stderr
        return result.stdout

    spec = tmp_path / "slo.json"
    spec.write_text(json.dumps(SLO | {"service": "cli-api"}))
    slo_id = json.loads(maestro("create", "--file", str(spec)))["slo_id"]
    at = minute_ago()
    rows = ["service,timestamp,latency_ms,status,error"]
    rows += [
        f"cli-api,{(at - timedelta(minutes=m % 90)).isoformat()},{20 + m % 50},200," for m in range(3000)
    ]
    rows += [f"cli-api,{at.isoformat()},35,503,"] * 2
    observations = tmp_path / "observations.csv"
    observations.write_text("\n".join(rows) + "\n")
    assert json.loads(maestro("observe", "--file", str(observations))) == {"accepted": 3002, "duplicates": 0}
    plot = tmp_path / "budget.png"
    table = maestro("status", slo_id, "--plot", str(plot), "--days", "1")
    assert "3,002 requests, 2 errors" in table and "availability>=99.5%" in table and "OK" in table
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
