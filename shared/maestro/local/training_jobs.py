"""SageMaker training jobs on this machine, without Docker: the embedded endpoint answers CreateTrainingJob,
DescribeTrainingJob, StopTrainingJob and ListTrainingJobs (moto only records a job and calls it Completed).
A job downloads its source bundle (`sagemaker_submit_directory`) and channels from the local S3, runs its
entry point once per instance (training_hosts), streams every host's output to CloudWatch Logs
(/aws/sagemaker/TrainingJobs, a stream per host) and picks its metrics out of it with the job's
MetricDefinitions, then uploads the first host's model folder as model.tar.gz under the output path.
It reports InProgress (Starting, Downloading, Training, Uploading), then Completed, Failed (with the last
lines of the failing host) or Stopped (on request, or past MaxRuntimeInSeconds), as SageMaker does.
Must never leave a host process running after its job has ended."""

from __future__ import annotations

import io
import logging
import re
import shutil
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from maestro.core.aws import client
from maestro.local.training_hosts import (
    Host,
    extract_inside,
    host_names,
    hyperparameters,
    loopback_addresses,
)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
ACCOUNT = "123456789012"
FAILURE_LINES = 20
log = logging.getLogger("maestro.local.training")


class TrainingApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass
class LocalJob:
    request: dict[str, Any]
    region: str
    status: str = "InProgress"
    secondary: str = "Starting"
    failure: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)
    hosts: list[Host] = field(default_factory=list)
    model_uri: str | None = None
    stop_requested: str | None = None  # why: "Stopped" (StopTrainingJob) or "MaxRuntimeExceeded"
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return str(self.request["TrainingJobName"])

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:training-job/{self.name.lower()}"

    def move(self, secondary: str, message: str, status: str | None = None) -> None:
        now = time.time()
        with self.lock:
            if self.transitions:
                self.transitions[-1]["EndTime"] = now
            self.transitions.append({"Status": secondary, "StartTime": now, "StatusMessage": message})
            self.secondary = secondary
            if status:
                self.status = status
                if status in ("Completed", "Failed", "Stopped"):
                    self.ended = now
                    self.transitions[-1]["EndTime"] = now

    def describe(self) -> dict[str, Any]:
        keep = (
            "TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
            "OutputDataConfig", "ResourceConfig", "StoppingCondition", "EnableManagedSpotTraining",
            "Environment",
        )  # fmt: skip
        with self.lock:
            reply: dict[str, Any] = {k: self.request[k] for k in keep if k in self.request}
            reply |= {
                "TrainingJobArn": self.arn,
                "TrainingJobStatus": self.status,
                "SecondaryStatus": self.secondary,
                "CreationTime": self.created,
                "LastModifiedTime": self.transitions[-1]["StartTime"] if self.transitions else self.created,
                "SecondaryStatusTransitions": [dict(t) for t in self.transitions],
                "FinalMetricDataList": [
                    {"MetricName": k, "Value": v, "Timestamp": t}
                    for k, (v, t) in sorted(self.metrics.items())
                ],
                "ModelArtifacts": {"S3ModelArtifacts": self.model_uri or ""},
            }
            if self.failure:
                reply["FailureReason"] = self.failure
            if self.started:
                reply["TrainingStartTime"] = self.started
                seconds = int((self.ended or time.time()) - self.started)
                reply["TrainingTimeInSeconds"] = reply["BillableTimeInSeconds"] = seconds
            if self.ended:
                reply["TrainingEndTime"] = self.ended
        return reply


class LocalTrainingJobs:
    def __init__(self, root: Path, region: str) -> None:
        self.root, self.region = Path(root), region
        self.jobs: dict[str, LocalJob] = {}
        self._lock = threading.Lock()

    # -- the API -----------------------------------------------------------------------------------------
    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        action = target.split(".", 1)[-1]
        try:
            if action == "CreateTrainingJob":
                return 200, self.create(body)
            if action == "DescribeTrainingJob":
                return 200, self.job(body.get("TrainingJobName", "")).describe()
            if action == "StopTrainingJob":
                self.stop(body.get("TrainingJobName", ""))
                return 200, {}
            if action == "ListTrainingJobs":
                summaries = [self._summary(j) for j in self.jobs.values()]
                return 200, {"TrainingJobSummaries": sorted(summaries, key=lambda s: -s["CreationTime"])}
        except TrainingApiError as exc:
            return exc.status, {"__type": exc.code, "message": str(exc)}
        raise KeyError(action)

    HANDLED = ("CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob", "ListTrainingJobs")

    def handles(self, target: str) -> bool:
        return target.startswith("SageMaker.") and target.split(".", 1)[1] in self.HANDLED

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        for required in ("TrainingJobName", "AlgorithmSpecification", "RoleArn", "OutputDataConfig",
                         "ResourceConfig", "StoppingCondition"):  # fmt: skip
            if not request.get(required):
                raise TrainingApiError("ValidationException", f"{required} is required")
        with self._lock:
            if request["TrainingJobName"] in self.jobs:
                raise TrainingApiError(
                    "ResourceInUse", f"Training job {request['TrainingJobName']} already exists"
                )
            job = self.jobs[request["TrainingJobName"]] = LocalJob(request, self.region)
        job.move("Starting", "Preparing the instances for training")
        threading.Thread(target=self._run, args=(job,), daemon=True, name=f"training-{job.name}").start()
        return {"TrainingJobArn": job.arn}

    def job(self, name: str) -> LocalJob:
        job = self.jobs.get(name)
        if job is None:
            raise TrainingApiError("ValidationException", "Requested resource not found.")
        return job

    def stop(self, name: str, why: str = "Stopped") -> None:
        job = self.job(name)
        with job.lock:
            if job.status != "InProgress":
                return
            job.stop_requested = job.stop_requested or why
            job.status = "Stopping"
        for host in job.hosts:
            host.stop()

    def close(self) -> None:
        for job in list(self.jobs.values()):
            for host in job.hosts:
                host.stop(grace_s=1.0)

    @staticmethod
    def _summary(job: LocalJob) -> dict[str, Any]:
        return {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": job.created,
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary,
        }

    # -- a job's life --------------------------------------------------------------------------------------
    def _run(self, job: LocalJob) -> None:
        folder = self.root / job.name
        try:
            self._train(job, folder)
        except Exception as exc:  # noqa: BLE001 - every failure is the job's FailureReason, as in SageMaker
            log.info("training job %s failed: %s", job.name, exc)
            for host in job.hosts:
                host.stop(grace_s=1.0)
            job.failure = (
                f"ClientError: {exc}" if isinstance(exc, (FileNotFoundError, ValueError)) else str(exc)
            )
            job.move("Failed", job.failure[:500], status="Failed")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _train(self, job: LocalJob, folder: Path) -> None:
        request = job.request
        count = int(request["ResourceConfig"].get("InstanceCount") or 1)
        names = host_names(count)
        addresses = loopback_addresses(names)
        script_hps, own = hyperparameters(request)
        program, bundle = own.get("sagemaker_program"), own.get("sagemaker_submit_directory")
        if not program or not bundle:
            raise ValueError(
                "the hyperparameters sagemaker_program and sagemaker_submit_directory are required"
            )
        job.hosts = [Host(name, folder / name / "opt" / "ml") for name in names]
        job.move("Downloading", "Downloading the input data and the source bundle")
        archive = folder / "sourcedir.tar.gz"
        self._download(str(bundle), archive)
        for index, host in enumerate(job.hosts):
            host.layout(request, names)
            extract_inside(archive, host.root / "code")
            for channel in request.get("InputDataConfig") or []:
                self._download_channel(channel, host.channel_dir(channel["ChannelName"]), index, count)
        if job.stop_requested:
            return self._end_stopped(job)
        logs = _LogStreams(job.name, [h.name for h in job.hosts])
        patterns = [
            (m["Name"], re.compile(m["Regex"]))
            for m in request["AlgorithmSpecification"].get("MetricDefinitions") or []
        ]

        def reader(host: Host) -> Any:
            def on_line(line: str) -> None:
                logs.add(host.name, line)
                for name, pattern in patterns:
                    found = pattern.search(line)
                    if found:
                        try:
                            job.metrics[name] = (float(found.group(1)), time.time())
                        except (ValueError, IndexError):
                            continue

            return on_line

        job.started = time.time()
        job.move("Training", "Training image download completed. Training in progress.")
        for host in job.hosts:
            host.start(
                str(program),
                script_hps,
                host.environment(request, names, addresses, script_hps),
                reader(host),
            )
        limit = float(request["StoppingCondition"].get("MaxRuntimeInSeconds") or 86400)
        failed: Host | None = None
        while any(h.exit_code() is None for h in job.hosts):
            failed = next((h for h in job.hosts if h.exit_code() not in (None, 0)), None)
            if failed or job.stop_requested:
                break
            if time.time() - job.started > limit:
                self.stop(job.name, "MaxRuntimeExceeded")
                break
            logs.flush()
            time.sleep(0.2)
        failed = failed or next((h for h in job.hosts if h.exit_code() not in (None, 0)), None)
        for host in job.hosts:
            host.stop()
            host.finish_reading()
        logs.flush()
        if job.stop_requested:
            self._upload_model(job)
            return self._end_stopped(job)
        if failed is not None:
            tail = "\n".join(failed.lines[-FAILURE_LINES:])
            job.failure = f"AlgorithmError: {failed.name} exited with code {failed.exit_code()}:\n{tail}"
            job.move("Failed", f"{failed.name} exited with code {failed.exit_code()}", status="Failed")
            return None
        job.move("Uploading", "Uploading generated training model")
        self._upload_model(job)
        job.move("Completed", "Training job completed", status="Completed")
        return None

    @staticmethod
    def _end_stopped(job: LocalJob) -> None:
        why = job.stop_requested or "Stopped"
        message = (
            "the job ran past MaxRuntimeInSeconds" if why == "MaxRuntimeExceeded" else "Stopped on request"
        )
        job.move(why, message, status="Stopped")

    # -- S3 ------------------------------------------------------------------------------------------------
    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"{uri!r} is not an s3:// URI")
        return parsed.netloc, parsed.path.lstrip("/")

    def _download(self, uri: str, target: Path) -> None:
        bucket, key = self._split(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            client("s3").download_file(bucket, key, str(target))
        except Exception as exc:
            raise FileNotFoundError(f"could not download {uri}: {exc}") from exc

    def _download_channel(self, channel: dict[str, Any], folder: Path, index: int, count: int) -> None:
        source = channel["DataSource"]["S3DataSource"]
        bucket, prefix = self._split(source["S3Uri"])
        s3 = client("s3")
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        ]
        if not keys:
            raise FileNotFoundError(f"channel {channel['ChannelName']}: no objects under {source['S3Uri']}")
        if source.get("S3DataDistributionType") == "ShardedByS3Key":
            keys = sorted(keys)[index::count]
        root = folder.resolve()
        for key in keys:
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            target = (folder / relative).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"channel {channel['ChannelName']}: the key {key!r} leaves its folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))

    def _upload_model(self, job: LocalJob) -> None:
        """The first host's model folder, as SageMaker uploads it: <output path>/<job>/output/model.tar.gz."""
        if not job.hosts:
            return
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in sorted(job.hosts[0].model_dir.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(job.hosts[0].model_dir)), recursive=False)
        output = job.request["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        bucket, prefix = self._split(f"{output}/{job.name}/output/model.tar.gz")
        client("s3").put_object(Bucket=bucket, Key=prefix, Body=buffer.getvalue())
        job.model_uri = f"s3://{bucket}/{prefix}"


class _LogStreams:
    """A log stream per host in /aws/sagemaker/TrainingJobs (<job>/<host>), sent in batches."""

    def __init__(self, job: str, hosts: list[str]) -> None:
        self.logs = client("logs")
        self.streams = {h: f"{job}/{h}-{int(time.time())}" for h in hosts}
        self.pending: dict[str, list[dict[str, Any]]] = {h: [] for h in hosts}
        self._lock = threading.Lock()
        try:
            self.logs.create_log_group(logGroupName=LOG_GROUP)
        except Exception as exc:  # it may exist already
            if "ResourceAlreadyExists" not in str(exc):
                raise
        for stream in self.streams.values():
            self.logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)

    def add(self, host: str, line: str) -> None:
        with self._lock:
            self.pending[host].append({"timestamp": int(time.time() * 1000), "message": line or " "})

    def flush(self) -> None:
        with self._lock:
            batches, self.pending = self.pending, {h: [] for h in self.pending}
        for host, events in batches.items():
            for start in range(0, len(events), 1000):
                self.logs.put_log_events(
                    logGroupName=LOG_GROUP,
                    logStreamName=self.streams[host],
                    logEvents=events[start : start + 1000],
                )
