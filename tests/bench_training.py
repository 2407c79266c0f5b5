"""`make bench`'s training figure: the orchestration overhead of a one-instance training job of the shipped
XGBoost example on the local platform, over real HTTP: the time from submission to SUCCEEDED (workflow, local
SageMaker, run, model and registration) minus the script's own time, measured by running the same script on
the same data alone in the same run (the baseline). Run by tests/bench.py in its own process."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from maestro.training.examples import xgboost_distributed
from maestro.training.examples.xgboost_distributed import data
from tests.bench import emit
from tests.support import start_platform, upload_training_example, wait_for

EXAMPLE = Path(xgboost_distributed.__file__).parent
ROUNDS = 3
NETWORK = 100 + secrets.randbelow(
    150
)  # a fresh loopback network per run: a tracker's port lingers (TIME_WAIT)
HYPERPARAMETERS = {"num_round": 40, "max_depth": 4}


def script_alone(folder: Path, round_: int) -> float:
    """The entry point as SageMaker would run it on one host, without the platform (an address of its own
    each round, as each local job has)."""
    env = {
        **os.environ,
        "SM_HOSTS": '["algo-1"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_MODEL_DIR": str(folder / "model"),
        "SM_CHANNEL_TRAIN": str(folder / "train"),
        "SM_CHANNEL_VALIDATION": str(folder / "validation"),
        "MAESTRO_HOST_ADDRESSES": json.dumps({"algo-1": f"127.0.{NETWORK}.{round_ + 1}"}),
    }
    args = [f"--{k}={v}" for k, v in HYPERPARAMETERS.items()]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "train.py"), *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the example failed alone: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        written = data.write(folder)
        alone = statistics.median(script_alone(folder, r) for r in range(ROUNDS))
        platform = start_platform(folder / "state")
        try:
            token = platform.token("bench", ["ml-engineer"])
            uploaded = upload_training_example(platform, "bench", written)
            spec = {
                "entry_point": "train.py",
                "source": uploaded["source"],
                "hyperparameters": HYPERPARAMETERS,
                "channels": {n: {"s3_uri": uploaded[n]} for n in written},
                "metrics": [{"name": "val_auc"}],
                "model": {"flavor": "xgboost", "file": "model.xgb"},
                "register": {"model": "bench-xgb", "gate": "val_auc >= 0.5"},
            }
            headers = {"Authorization": f"Bearer {token}"}
            walls = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                job = requests.post(
                    f"{platform.url}/training/jobs", json=spec, headers=headers, timeout=60
                ).json()

                def done(job_id: str = job["job_id"]) -> bool:
                    got = requests.get(
                        f"{platform.url}/training/jobs/{job_id}", headers=headers, timeout=60
                    ).json()
                    assert got["status"] not in ("FAILED", "STOPPED"), got
                    return bool(got["status"] == "SUCCEEDED")

                wait_for(done, timeout_s=300, interval_s=0.2)
                walls.append(time.perf_counter() - started)
        finally:
            platform.stop()
    wall = statistics.median(walls)
    emit("training_job_wall_1_instance", wall, "s", baseline=alone, rounds=ROUNDS)
    emit(
        "training_orchestration_overhead",
        wall - alone,
        "s",
        note="submit to SUCCEEDED minus the script alone; the poll interval starts at 2 s and grows 1.5x",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
