"""The fuzz tier: schemathesis drives every operation of our own OpenAPI document against the real local
platform, as an admin, a read-only caller and another tenant's admin, and no answer may be a server error or
stray from what the document promises (status codes, content types, response schemas).

Bounded for `make test` (MAESTRO_FUZZ_SECONDS per caller, 30 by default); `make fuzz` runs the deep version.
The seed is printed, and MAESTRO_FUZZ_SEED replays it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningPlatform, start_platform

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CALLERS = {  # name -> (tenant, roles)
    "admin": ("fuzz-a", ["admin"]),
    "read-only": ("fuzz-a", ["viewer"]),
    "other-tenant-admin": ("fuzz-b", ["admin"]),
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("fuzz-state"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def seed() -> int:
    chosen = int(os.environ.get("MAESTRO_FUZZ_SEED") or random.randrange(2**31))
    print(f"\nfuzz seed: {chosen}  (replay: MAESTRO_FUZZ_SEED={chosen} make fuzz)")
    return chosen


@pytest.mark.parametrize("caller", list(CALLERS))
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    platform: RunningPlatform, seed: int, caller: str, tmp_path: Path
) -> None:
    tenant, roles = CALLERS[caller]
    token = platform.token(tenant, roles)
    seconds = os.environ.get("MAESTRO_FUZZ_SECONDS", "30")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{platform.url}/openapi.json",
        "--url",
        platform.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--seed",
        str(seed),
        "--max-time",
        seconds,
        "--request-timeout",
        "60",  # a slow answer under two busy cores is not a failure; a 5xx is
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        *(
            ["--max-examples", os.environ["MAESTRO_FUZZ_EXAMPLES"]]
            if os.environ.get("MAESTRO_FUZZ_EXAMPLES")
            else []
        ),
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=int(seconds) * 3 + 300, check=False, cwd=tmp_path
    )
    summary = (
        run.stdout[run.stdout.rfind("SUMMARY") - 40 :] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    )
    print(f"\n{caller} (seed {seed}):\n{summary}")
    assert run.returncode == 0, (
        f"schemathesis found failures as {caller} with seed {seed} "
        f"(replay: MAESTRO_FUZZ_SEED={seed} make fuzz):\n{run.stdout[-20000:]}\n{run.stderr[-3000:]}"
    )
