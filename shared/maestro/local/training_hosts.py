"""One local training job's hosts, as SageMaker's training toolkit lays them out: per host a folder standing
for its /opt/ml (input/config, input/data/<channel>, model, output, code), the SM_* environment, and the
entry point run as a process with the hyperparameters as `--name value` arguments. Hosts are processes on
this machine, each at an address of its own on the loopback network (127.x.y.<host>), which the job's
scripts learn from MAESTRO_HOST_ADDRESSES because local mode cannot make `algo-1` resolve.
Must never let a path from the job's request or its bundle leave the job's folder."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_networks = itertools.count(secrets.randbelow(65000))  # a platform restarted while old hosts run picks others


def host_names(count: int) -> list[str]:
    return [f"algo-{i + 1}" for i in range(count)]


def loopback_addresses(hosts: list[str]) -> dict[str, str]:
    """A /24 of the loopback network per job (127.0.0.0/8 all reaches this machine), skipping 127.0.0.x."""
    n = next(_networks) % 65000 + 1
    return {h: f"127.{n >> 8}.{n & 255}.{i + 1}" for i, h in enumerate(hosts)}


def hyperparameters(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the script's hyperparameters, SageMaker's own `sagemaker_*` ones), values JSON-decoded where they are
    JSON (the SageMaker SDK encodes every value as JSON text)."""

    def decoded(value: str) -> Any:
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value

    values = {k: decoded(v) for k, v in (request.get("HyperParameters") or {}).items()}
    own = {k: v for k, v in values.items() if k.startswith("sagemaker_")}
    return {k: v for k, v in values.items() if k not in own}, own


def extract_inside(archive: Path, folder: Path) -> None:
    """Unpacks a tar archive (a source bundle) whose members must all stay inside `folder`."""
    folder = folder.resolve()
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            target = (folder / member.name).resolve()
            if not target.is_relative_to(folder) or member.issym() or member.islnk():
                raise ValueError(f"the source bundle's member {member.name!r} would leave its folder")
        tar.extractall(folder, filter="data")


@dataclass
class Host:
    name: str
    root: Path  # stands for /opt/ml
    process: subprocess.Popen[bytes] | None = None
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    def channel_dir(self, channel: str) -> Path:
        return self.root / "input" / "data" / channel

    def layout(self, request: dict[str, Any], hosts: list[str]) -> None:
        config = self.root / "input" / "config"
        for folder in (config, self.model_dir, self.root / "output" / "data", self.root / "code"):
            folder.mkdir(parents=True, exist_ok=True)
        channels = {
            c["ChannelName"]: {"TrainingInputMode": "File"} for c in request.get("InputDataConfig") or []
        }
        (config / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters") or {}))
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": self.name, "hosts": hosts, "network_interface_name": "lo"})
        )

    def environment(
        self, request: dict[str, Any], hosts: list[str], addresses: dict[str, str], script_hps: dict[str, Any]
    ) -> dict[str, str]:
        channels = sorted(c["ChannelName"] for c in request.get("InputDataConfig") or [])
        env = {
            "SM_HOSTS": json.dumps(hosts),
            "SM_CURRENT_HOST": self.name,
            "SM_NUM_CPUS": str(max(1, (os.cpu_count() or 1) // len(hosts))),
            "SM_NUM_GPUS": "0",
            "SM_MODEL_DIR": str(self.model_dir),
            "SM_INPUT_DIR": str(self.root / "input"),
            "SM_INPUT_CONFIG_DIR": str(self.root / "input" / "config"),
            "SM_OUTPUT_DIR": str(self.root / "output"),
            "SM_OUTPUT_DATA_DIR": str(self.root / "output" / "data"),
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(script_hps),
            "SM_USER_ARGS": json.dumps(arguments(script_hps)),
            "SM_TRAINING_ENV": json.dumps(
                {
                    "hosts": hosts,
                    "current_host": self.name,
                    "hyperparameters": script_hps,
                    "channel_input_dirs": {c: str(self.channel_dir(c)) for c in channels},
                    "model_dir": str(self.model_dir),
                    "job_name": request["TrainingJobName"],
                }
            ),
            "MAESTRO_HOST_ADDRESSES": json.dumps(addresses),
            "TRAINING_JOB_NAME": request["TrainingJobName"],
            "PYTHONUNBUFFERED": "1",
        }
        env |= {f"SM_CHANNEL_{c.upper()}": str(self.channel_dir(c)) for c in channels}
        env |= {
            f"SM_HP_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in script_hps.items()
        }
        env |= {str(k): str(v) for k, v in (request.get("Environment") or {}).items()}
        return env

    def start(
        self, program: str, script_hps: dict[str, Any], env: dict[str, str], on_line: Callable[[str], None]
    ) -> None:
        code = self.root / "code"
        entry = (code / program).resolve()
        if not entry.is_relative_to(code.resolve()) or not entry.is_file():
            raise FileNotFoundError(f"the entry point {program!r} is not in the source bundle")
        self.process = subprocess.Popen(  # noqa: S603 - the tenant's own script, as SageMaker runs it
            [sys.executable, str(entry), *arguments(script_hps)],
            cwd=code,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping the job stops what it started
        )
        self.reader = threading.Thread(
            target=self._read, args=(on_line,), daemon=True, name=f"{self.name}-log"
        )
        self.reader.start()

    def _read(self, on_line: Callable[[str], None]) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            on_line(line)

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace_s: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait_s)
                return
            except subprocess.TimeoutExpired:
                continue

    def finish_reading(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=10)


def arguments(script_hps: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in sorted(script_hps.items()):
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return args
