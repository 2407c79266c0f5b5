"""Starts the local platform as `make serve` does (a `maestro local serve` process) and talks to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

REPO = Path(__file__).resolve().parents[1]
MAESTRO = [sys.executable, "-m", "maestro.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningPlatform:
    process: subprocess.Popen[bytes]
    url: str
    aws_endpoint: str
    admin_token: str
    tenant: str
    timings: dict[str, float]
    state_dir: Path
    log_path: Path
    registered: set[str] = field(default_factory=set)

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def token(self, tenant: str, roles: list[str], subject: str | None = None, register: bool = True) -> str:
        """A token signed by the running platform's key (same state dir); any roles, even unknown ones. Its
        tenant is registered first (as `maestro local token` does), unless `register` is False."""
        sys.path.insert(0, str(REPO / "shared"))
        from maestro.local.tokens import LocalTokens, register_tenant

        tokens = LocalTokens(self.state_dir / "local")
        if register and tenant not in self.registered:
            register_tenant(self.url, tokens, tenant)
            self.registered.add(tenant)
        return tokens.issue(tenant=tenant, roles=roles, subject=subject)

    def api(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        """A request to the platform's HTTP API as the bearer of `token`."""
        return requests.request(
            method, self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=120, **kw
        )

    def physical(self, prefix: str) -> str:
        """A table's or bucket's local name (named after its logical id in the synthesized template)."""
        ddb, s3 = self.aws("dynamodb"), self.aws("s3")
        names = ddb.list_tables()["TableNames"] + [b["Name"] for b in s3.list_buckets()["Buckets"]]
        (name,) = [n for n in names if n.lower().startswith(prefix.lower())]
        return name

    def tap(self, name: str, pattern: dict[str, Any]) -> str:
        """A test-only subscriber on the `maestro` bus: events matching `pattern` land in a new queue."""
        sqs, events = self.aws("sqs"), self.aws("events")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName="maestro", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName="maestro", Targets=[{"Id": "q", "Arn": arn}])
        return url

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every event waiting in a tap's queue (removed as read)."""
        sqs, out = self.aws("sqs"), []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages"
        ):
            out += [json.loads(m["Body"]) for m in batch]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        return out

    def artifacts_bucket(self) -> str:
        """The artifacts bucket's local name (not its access-logs bucket)."""
        names = [b["Name"] for b in self.aws("s3").list_buckets()["Buckets"]]
        return next(n for n in names if "artifacts" in n and "log" not in n)

    def mlflow_env(self, tenant: str, roles: str = "ml-engineer") -> dict[str, str]:
        """The exports `maestro local env` prints: what an unmodified mlflow client needs here."""
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "maestro.cli.main",
                "local",
                "env",
                "--tenant",
                tenant,
                "--roles",
                roles,
                "--state-dir",
                str(self.state_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        return dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())

    def run_python(self, script: str, env: dict[str, str], timeout_s: float = 300) -> None:
        """A Python script in a separate process (the repo importable), e.g. an mlflow client session."""
        subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            cwd=REPO,
            env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            timeout=timeout_s,
        )

    def cli(self, *args: str, token: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        """`maestro <args>` against this platform, as a user runs it (a separate process)."""
        return subprocess.run(
            [sys.executable, "-m", "maestro.cli.main", *args, "--url", self.url, "--token", token],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                return self.process.wait(timeout=60)  # 2 busy cores can slow a clean stop
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGUSR1)  # serve dumps every thread's stack into its log
                time.sleep(2)
                self.process.kill()
                raise AssertionError(
                    f"serve did not stop; its end:\n{self.log_path.read_text()[-6000:]}"
                ) from None
        return self.process.returncode


def start_platform(state_dir: Path, *extra: str, timeout_s: float = 120) -> RunningPlatform:
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    log_path = state_dir / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                *MAESTRO,
                "local",
                "serve",
                "--port",
                str(free_port()),
                "--state-dir",
                str(state_dir),
                "--ready-file",
                str(ready_file),
                *extra,
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout_s
    while not ready_file.exists():
        if process.poll() is not None:
            raise RuntimeError(
                f"local platform exited with {process.returncode}:\n{log_path.read_text()[-5000:]}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"local platform not ready in {timeout_s} s:\n{log_path.read_text()[-5000:]}")
        time.sleep(0.1)
    info = json.loads(ready_file.read_text())
    return RunningPlatform(
        process,
        info["url"],
        info["aws_endpoint"],
        info["admin_token"],
        info["tenant"],
        info["timings"],
        state_dir,
        log_path,
    )


def wait_for(predicate: Any, timeout_s: float = 20, interval_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s} s")
        time.sleep(interval_s)


def waiting_machine(name: str) -> str:
    """A state machine (moto) whose executions wait ten minutes: a workflow that is still running."""
    return str(
        boto3.client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
            ),
            roleArn="arn:aws:iam::123456789012:role/local",
        )["stateMachineArn"]
    )


def create_table_with_gsi1(name: str) -> None:
    """The pk/sk table with gsi1 (gsi1pk, gsi1sk) that the registry and A/B stores use, in moto."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
            }
        ],
    )


def locked_bucket(name: str, days: int = 1) -> None:
    """A bucket in moto with S3 Object Lock in compliance mode by default (as the audit archive is)."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}},
        },
    )


def ab_experiment_won_by_v2(platform: RunningPlatform, token: str, name: str, model: str, seed: int) -> str:
    """An A/B experiment between versions 1 and 2 of `model` that opts into promotion (alias `production`),
    3,000 units exposed, v2 converting twice as often; the hourly analysis fired. Its id."""
    import numpy as np

    spec = {
        "name": name,
        "variants": [
            {"key": "control", "weight": 0.5, "model": {"name": model, "version": "1"}},
            {"key": "v2", "weight": 0.5, "model": {"name": model, "version": "2"}},
        ],
        "metrics": [{"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"}],
        "auto_conclude": {"enabled": True, "alias": "production"},
    }
    experiment_id = str(platform.api("POST", "/ab/experiments", token, json=spec).json()["experiment_id"])
    platform.api("POST", f"/ab/experiments/{experiment_id}/start", token)
    units = {"experiment_id": experiment_id, "unit_ids": [f"s-{i}" for i in range(3000)]}
    assigned = platform.api("POST", "/ab/assign/batch", token, json=units).json()["assignments"]
    rng, events = np.random.default_rng(seed), []
    for a in assigned:
        unit = a["unit_id"]
        events.append({"event_id": f"x{unit}", "unit_id": unit, "type": "exposure"})
        if rng.random() < (0.10 if a["variant"] == "control" else 0.20):
            events.append({"event_id": f"p{unit}", "unit_id": unit, "type": "metric", "name": "purchase"})
    assert platform.api(
        "POST", "/ab/events", token, json={"experiment_id": experiment_id, "events": events}
    ).ok
    schedules = requests.get(f"{platform.url}/_local/schedules", timeout=10).json()["schedules"]
    (rule,) = [name for name in schedules if "HourlyAnalysis" in name]
    assert requests.post(f"{platform.url}/_local/schedules/fire", params={"rule": rule}, timeout=120).ok
    return experiment_id


def upload_training_example(
    platform: RunningPlatform, tenant: str, written: dict[str, Path]
) -> dict[str, str]:
    """The shipped XGBoost example's bundle and the data `written` (data.write's files) under the tenant's
    prefix: {source, train, validation} as s3:// URIs."""
    import io
    import tarfile

    from maestro.training.examples import xgboost_distributed

    bucket, s3 = platform.artifacts_bucket(), platform.aws("s3")
    root = f"tenants/{tenant}/training-inputs"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(Path(xgboost_distributed.__file__).parent / "train.py", arcname="train.py")
    s3.put_object(Bucket=bucket, Key=f"{root}/sourcedir.tar.gz", Body=buffer.getvalue())
    for name, path in written.items():
        s3.upload_file(str(path), bucket, f"{root}/{name}/{path.name}")
    return {"source": f"s3://{bucket}/{root}/sourcedir.tar.gz"} | {
        name: f"s3://{bucket}/{root}/{name}/" for name in written
    }
