"""Model rollouts over real HTTP against the local platform, on the same template and state machine as in
AWS: an alias steps its traffic to a new version (sticky units through the A/B hash) and the alias moves when
the guardrails hold; an SLO burn on the serving path, drift on the new version's monitor, or an abort rolls it
back by itself, with events; bad input names the field; roles and tenants are enforced; the CLI follows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for

ML = "/api/2.0/mlflow"
UNITS = [f"user-{i}" for i in range(2000)]
FEATURES = [f"f{i}" for i in range(4)]
FINAL = ("COMPLETED", "ROLLED_BACK", "FAILED")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("deployments-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def api(
    platform: RunningPlatform, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    token = token or platform.token("acme", ["ml-engineer"])
    return requests.request(
        method, platform.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=120, **kw
    )


def model_with_versions(platform: RunningPlatform, name: str, versions: int, champion: int = 1) -> None:
    assert api(platform, "POST", f"{ML}/registered-models/create", json={"name": name}).ok
    for _ in range(versions):
        created = api(
            platform, "POST", f"{ML}/model-versions/create", json={"name": name, "source": "s3://b/k"}
        )
        assert created.ok, created.text
    alias = {"name": name, "alias": "champion", "version": str(champion)}
    assert api(platform, "POST", f"{ML}/registered-models/alias", json=alias).ok


def champion(platform: RunningPlatform, name: str) -> str:
    found = api(platform, "GET", f"{ML}/registered-models/alias", params={"name": name, "alias": "champion"})
    assert found.ok, found.text
    return str(found.json()["model_version"]["version"])


def start(platform: RunningPlatform, **body: Any) -> dict[str, Any]:
    started = api(platform, "POST", "/deployments", json={"alias": "champion", **body})
    assert started.status_code == 201, started.text
    return dict(started.json())


def ended(platform: RunningPlatform, rollout_id: str, timeout_s: float = 90) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        rollout = api(platform, "GET", f"/deployments/{rollout_id}").json()
        return rollout if rollout["status"] in FINAL else None

    found: dict[str, Any] = wait_for(final, timeout_s=timeout_s, interval_s=0.5)
    return found


def at_percent(platform: RunningPlatform, rollout_id: str, percent: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        rollout = api(platform, "GET", f"/deployments/{rollout_id}").json()
        assert rollout["status"] == "RUNNING", rollout
        return rollout if float(rollout["percent"]) == percent else None

    found: dict[str, Any] = wait_for(reached, timeout_s=60, interval_s=0.2)
    return found


def routed(platform: RunningPlatform, name: str) -> dict[str, Any]:
    """The version serving each of UNITS, asked 1,000 units at a time (the route's limit)."""
    merged: dict[str, Any] = {}
    for first in range(0, len(UNITS), 1000):
        body = {"model": name, "alias": "champion", "units": UNITS[first : first + 1000]}
        reply = api(platform, "POST", "/deployments/route", json=body)
        assert reply.status_code == 200, reply.text
        versions = {**merged.get("versions", {}), **reply.json()["versions"]}
        merged = {**reply.json(), "versions": versions}
    return merged


def test_a_rollout_steps_sticky_traffic_to_100_percent_and_moves_the_alias(platform: RunningPlatform) -> None:
    tap = platform.tap("rollout-tap", {"source": ["maestro.delivery"]})
    model_with_versions(platform, "churn", 2)
    slo = {
        "name": "churn serving",
        "service": "churn-serving",
        "objectives": [{"kind": "availability", "target": 99}],
    }
    slo_id = api(platform, "POST", "/sla/slos", json=slo).json()["slo_id"]
    steps = [{"percent": 10, "hold": "4s"}, {"percent": 50, "hold": "4s"}, {"percent": 100, "hold": "0s"}]
    rollout = start(
        platform, model="churn", to_version=2, steps=steps, guardrails={"slos": [slo_id], "check_every": "1s"}
    )
    assert rollout["from_version"] == 1 and rollout["status"] == "RUNNING"

    at_percent(platform, rollout["rollout_id"], 10)
    first = routed(platform, "churn")
    assert first["rollout_id"] == rollout["rollout_id"]
    on_new = {u for u, v in first["versions"].items() if v == 2}
    assert set(first["versions"].values()) == {1, 2}
    # 2,000 units at 10%: a binomial share, within 4 standard deviations
    assert abs(len(on_new) - 200) < 4 * (2000 * 0.1 * 0.9) ** 0.5
    assert routed(platform, "churn")["versions"] == first["versions"]  # sticky: the same answer again

    at_percent(platform, rollout["rollout_id"], 50)
    second = routed(platform, "churn")
    on_new_later = {u for u, v in second["versions"].items() if v == 2}
    assert on_new <= on_new_later  # a unit on the new version stays on it as traffic grows
    assert abs(len(on_new_later) - 1000) < 4 * (2000 * 0.25) ** 0.5

    done = ended(platform, rollout["rollout_id"])
    assert done["status"] == "COMPLETED", done
    assert champion(platform, "churn") == "2"
    assert [e["event"] for e in done["history"]] == ["stepped", "stepped", "stepped", "completed"]
    after = routed(platform, "churn")
    assert after["rollout_id"] is None and set(after["versions"].values()) == {2}

    kinds: list[str] = []
    wait_for(
        lambda: kinds.extend(e["detail-type"] for e in platform.drain(tap)) or "RolloutCompleted" in kinds
    )
    assert kinds.count("RolloutStepped") == 3 and kinds[0] == "RolloutStarted"


def burn(platform: RunningPlatform, service: str) -> None:
    """A minute ago, half the serving path's requests failed: every burn-rate window fires."""
    at = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    observations = [
        {"service": service, "timestamp": at, "latency_ms": 20.0, "status": 500 if i % 2 else 200}
        for i in range(200)
    ]
    assert api(platform, "POST", "/sla/observations", json={"observations": observations}).ok


def test_an_slo_burn_on_the_serving_path_rolls_the_rollout_back_by_itself(platform: RunningPlatform) -> None:
    tap = platform.tap("rollback-tap", {"source": ["maestro.delivery"], "detail-type": ["RolloutRolledBack"]})
    model_with_versions(platform, "fraud", 2)
    slo = {
        "name": "fraud serving",
        "service": "fraud-v2",
        "objectives": [{"kind": "availability", "target": 99.9}],
    }
    slo_id = api(platform, "POST", "/sla/slos", json=slo).json()["slo_id"]
    steps = [{"percent": 5, "hold": "10m"}, {"percent": 100, "hold": "0s"}]
    rollout = start(
        platform, model="fraud", to_version=2, steps=steps, guardrails={"slos": [slo_id], "check_every": "1s"}
    )
    at_percent(platform, rollout["rollout_id"], 5)
    time.sleep(2)  # a few checks pass
    assert api(platform, "GET", f"/deployments/{rollout['rollout_id']}").json()["status"] == "RUNNING"
    burn(platform, "fraud-v2")

    done = ended(platform, rollout["rollout_id"], timeout_s=30)
    assert done["status"] == "ROLLED_BACK", done
    (breach,) = done["outcome"]["breaches"]
    assert breach["guardrail"] == "slo" and breach["slo_id"] == slo_id and breach["firing"]
    assert slo_id in done["outcome"]["reason"]
    assert champion(platform, "fraud") == "1"
    assert set(routed(platform, "fraud")["versions"].values()) == {1}
    (event,) = wait_for(lambda: platform.drain(tap), timeout_s=30)
    assert event["detail"]["rollout_id"] == rollout["rollout_id"] and event["detail"]["percent"] == 5


def rows(rng: np.random.Generator, n: int, shift: float) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        row = {f: float(rng.normal(i, 1.0)) + (shift if f == "f2" else 0.0) for i, f in enumerate(FEATURES)}
        out.append({**row, "prediction": float(1 / (1 + np.exp(row["f1"] - row["f0"])))})
    return out


def test_drift_on_the_new_version_rolls_the_rollout_back(platform: RunningPlatform) -> None:
    model_with_versions(platform, "ranker", 2)
    rng = np.random.default_rng(7)
    body = {"model": {"name": "ranker", "version": 2}, "rows": rows(rng, 800, 0.0)}
    assert api(platform, "POST", "/monitoring/baselines", json=body).status_code == 201
    spec = {"name": "ranker v2", "model": {"name": "ranker", "version": 2}, "drift": {"correction": "holm"}}
    monitor_id = api(platform, "POST", "/monitoring/monitors", json=spec).json()["monitor_id"]
    rollout = start(
        platform,
        model="ranker",
        to_version=2,
        steps=[{"percent": 20, "hold": "10m"}, {"percent": 100}],
        guardrails={"check_every": "1s"},
    )
    at_percent(platform, rollout["rollout_id"], 20)
    served = [
        {"features": {f: r[f] for f in FEATURES}, "prediction": r["prediction"]} for r in rows(rng, 1000, 1.5)
    ]
    assert api(
        platform,
        "POST",
        "/monitoring/records",
        json={"model": {"name": "ranker", "version": 2}, "records": served},
    ).ok
    assert api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check").json()["state"] == "drift"

    done = ended(platform, rollout["rollout_id"], timeout_s=30)
    assert done["status"] == "ROLLED_BACK", done
    (breach,) = done["outcome"]["breaches"]
    assert breach["guardrail"] == "drift" and breach["monitor_id"] == monitor_id and "f2" in breach["columns"]
    assert champion(platform, "ranker") == "1"


def test_an_abort_rolls_back_and_the_cli_shows_it(platform: RunningPlatform) -> None:
    model_with_versions(platform, "search", 3, champion=2)
    token = platform.token("acme", ["ml-engineer"])
    started = platform.cli(
        "deploy",
        "start",
        "--model",
        "search",
        "--alias",
        "champion",
        "--to-version",
        "3",
        "--steps",
        "10:10m,100",
        "--no-drift",
        "--check-every",
        "1s",
        token=token,
    )
    assert started.returncode == 0, started.stderr
    rollout_id = started.stdout.strip()
    at_percent(platform, rollout_id, 10)
    assert platform.cli("deploy", "abort", rollout_id, token=token).returncode == 0
    followed = platform.cli("deploy", "status", rollout_id, "--wait", "--interval", "0.5", token=token)
    assert followed.returncode == 1  # rolled back
    assert "ROLLED_BACK" in followed.stdout and "aborted by" in followed.stdout
    assert "10% to v3" in followed.stderr  # the live line showed the step
    assert champion(platform, "search") == "2"
    listed = platform.cli("deploy", "list", token=token).stdout
    assert f"{rollout_id}  ROLLED_BACK" in listed


def test_bad_input_names_the_field_and_roles_and_tenants_are_enforced(platform: RunningPlatform) -> None:
    model_with_versions(platform, "scorer", 2)
    for body, field in (
        ({"model": "nobody", "to_version": 2}, "model"),
        ({"model": "scorer", "to_version": 9}, "to_version"),
        ({"model": "scorer", "to_version": 1}, "to_version"),
        ({"model": "scorer", "to_version": 2, "from_version": 2}, "from_version"),
        ({"model": "scorer", "to_version": 2, "alias": "nope"}, "alias"),
        (
            {
                "model": "scorer",
                "to_version": 2,
                "steps": [{"percent": 50}, {"percent": 20}, {"percent": 100}],
            },
            "steps",
        ),
        ({"model": "scorer", "to_version": 2, "steps": [{"percent": 50}]}, "steps"),
        ({"model": "scorer", "to_version": 2, "steps": [{"percent": 100, "hold": "5 minutes"}]}, "hold"),
        (
            {"model": "scorer", "to_version": 2, "guardrails": {"slos": ["slo-000000000000"]}},
            "guardrails.slos[0]",
        ),
    ):
        reply = api(platform, "POST", "/deployments", json={"alias": "champion", **body})
        assert reply.status_code == 422, (body, reply.text)
        assert field in json.dumps(reply.json()), (field, reply.text)

    steps = [{"percent": 10, "hold": "10m"}, {"percent": 100}]
    guardrails = {"drift": False, "check_every": "1s"}
    rollout = start(platform, model="scorer", to_version=2, steps=steps, guardrails=guardrails)
    again = api(
        platform, "POST", "/deployments", json={"model": "scorer", "alias": "champion", "to_version": 2}
    )
    assert again.status_code == 409 and rollout["rollout_id"] in again.text

    viewer = platform.token("acme", ["viewer"])
    assert (
        api(platform, "POST", "/deployments", viewer, json={"model": "scorer", "to_version": 2}).status_code
        == 403
    )
    assert api(platform, "GET", f"/deployments/{rollout['rollout_id']}", viewer).status_code == 200
    assert api(platform, "POST", f"/deployments/{rollout['rollout_id']}/abort", viewer).status_code == 403
    service = platform.token("acme", ["service"])
    body = {"model": "scorer", "alias": "champion", "units": ["u1"]}
    assert api(platform, "POST", "/deployments/route", service, json=body).status_code == 200
    other = platform.token("globex", ["ml-engineer"])
    assert api(platform, "GET", f"/deployments/{rollout['rollout_id']}", other).status_code == 404
    assert api(platform, "POST", f"/deployments/{rollout['rollout_id']}/abort", other).status_code == 404
    assert api(platform, "GET", "/deployments", other).json()["rollouts"] == []
    assert api(platform, "POST", f"/deployments/{rollout['rollout_id']}/abort").status_code == 200
    assert ended(platform, rollout["rollout_id"])["status"] == "ROLLED_BACK"
    assert api(platform, "POST", f"/deployments/{rollout['rollout_id']}/abort").status_code == 409
