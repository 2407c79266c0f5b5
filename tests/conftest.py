"""Test-wide defaults: no real AWS credentials can be picked up, Powertools is quiet, tracing is off, and
moto runs as local mode runs it."""

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "maestro-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "MaestroTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)

from maestro.local.emulator import moto_as_the_local_endpoint  # noqa: E402

moto_as_the_local_endpoint()  # the tests' in-process moto behaves as the local platform's endpoint does

# `make test` runs modules on two workers (--dist loadfile), handing each the next module in collection order.
# The longest start first, so that none begins near the end while the other worker sits idle (measured with
# --durations on a fresh clone; the order of the rest is unchanged).
SLOWEST_FIRST = (
    "tests/integration/test_training_http.py",
    "tests/integration/test_explain_http.py",
    "tests/integration/test_isolation_matrix.py",
    "tests/fuzz/test_openapi_fuzz.py",
    "tests/infra/test_bundling.py",
    "tests/integration/test_console_browser.py",
    "tests/integration/test_registry_mlflow.py",
    "tests/integration/test_drill_http.py",
    "tests/integration/test_insights_http.py",
)


def pytest_collection_modifyitems(items: list) -> None:  # type: ignore[type-arg]
    rank = {path: n for n, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
