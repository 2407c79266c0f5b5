"""Collapsing a function's routes into the fewest API Gateway routes, and finding the route a request behind a
greedy route is for, so authorization comes before the body as with exact routes."""

from __future__ import annotations

from infra_cdk.constructs.api import collapsed
from tests.support import REPO


def test_routes_under_a_common_prefix_collapse_into_one_greedy_route() -> None:
    training = [("POST", "/training/jobs"), ("GET", "/training/jobs/{job_id}"), ("POST", "/training/sweeps")]
    assert collapsed(training) == [("ANY", "/training/{proxy+}")]
    deployments = [
        ("POST", "/deployments"),
        ("GET", "/deployments/{rollout_id}"),
        ("POST", "/deployments/route"),
    ]
    assert collapsed(deployments) == [("ANY", "/deployments/{proxy+}"), ("ANY", "/deployments")]


def test_few_routes_or_routes_without_a_common_prefix_stay_as_they_are() -> None:
    assert collapsed([("POST", "/ab/assign"), ("POST", "/ab/assign/batch")]) == [
        ("POST", "/ab/assign"),
        ("POST", "/ab/assign/batch"),
    ]
    apart = [("GET", "/whoami"), ("GET", "/health"), ("GET", "/openapi.json")]
    assert collapsed(apart) == apart


def test_a_request_behind_a_greedy_route_is_named_by_its_own_route() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("training_handler", REPO / "functions/training/handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def key(method: str, path: str) -> str:
        event = {
            "routeKey": "ANY /training/{proxy+}",
            "rawPath": path,
            "requestContext": {"http": {"method": method}},
        }
        return str(module.app.with_route_key(event)["routeKey"])

    assert key("POST", "/training/jobs") == "POST /training/jobs"
    assert key("GET", "/training/jobs/tj-1") == "GET /training/jobs/{job_id}"
    assert key("POST", "/training/jobs/tj-1/stop") == "POST /training/jobs/{job_id}/stop"
    assert key("DELETE", "/training/jobs") == "ANY /training/{proxy+}"  # no such route: left as it came
