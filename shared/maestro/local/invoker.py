"""Invokes the real handlers in-process, as Lambda would: a pool of execution environments per function,
each a separate import of the handler module, one invocation at a time. Must never share an environment
between two concurrent invocations."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

from maestro.local.emulator import FunctionNotFound
from maestro.local.functions import FUNCTIONS_ROOT, load_handler_module
from maestro.local.template import Function, LocalModel

# Per-function values; every other variable must mean the same in every function (one process hosts all).
PER_FUNCTION_VARIABLES = {"POWERTOOLS_SERVICE_NAME"}
T = TypeVar("T")


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    timeout_s: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def shared_environment(model: LocalModel) -> dict[str, str]:
    """The union of the functions' environments; a variable two functions set differently is an error,
    since in one process it could not hold both values."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for fn in model.functions.values():
        for key, value in fn.environment.items():
            if key in PER_FUNCTION_VARIABLES:
                continue
            if key in merged and merged[key] != value:
                raise ValueError(
                    f"{key} is {merged[key]!r} in {owner[key]} but {value!r} in {fn.logical_id}; "
                    "give per-function values distinct names"
                )
            merged[key], owner[key] = str(value), fn.logical_id
    return merged


class Environments(Generic[T]):
    """Up to `max_instances` execution environments of one function, each serving one invocation at a time.
    An idle one is reused (the most recent first, as Lambda keeps warm sandboxes); while there is room a new
    one is created, outside the lock since a sandbox may take seconds to start; otherwise the caller waits, as
    a throttled invocation would be retried. A discarded environment frees its place without becoming idle,
    so waiters re-check for room."""

    def __init__(
        self, create: Callable[[int], T], max_instances: int, destroy: Callable[[T], None] = lambda _: None
    ) -> None:
        self._create, self._destroy, self.max_instances = create, destroy, max_instances
        self._idle: queue.LifoQueue[T] = queue.LifoQueue()
        self._live: list[T] = []
        self._places = 0  # live environments and those being created
        self._created = 0  # instance numbers: each new environment is a separate one
        self._lock = threading.Lock()

    def acquire(self) -> T:
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                room = self._places < self.max_instances
                if room:
                    self._places += 1
                    instance, self._created = self._created, self._created + 1
            if room:
                break
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue
        try:
            env = self._create(instance)
        except BaseException:
            with self._lock:
                self._places -= 1
            raise
        with self._lock:
            self._live.append(env)
        return env

    def release(self, env: T) -> None:
        self._idle.put(env)

    def discard(self, env: T) -> None:
        with self._lock:
            if not any(e is env for e in self._live):
                return
            self._live = [e for e in self._live if e is not env]
            self._places -= 1
        self._destroy(env)

    def warm(self) -> None:
        self.release(self.acquire())

    def close(self) -> None:
        with self._lock:
            live, self._live, self._places = self._live, [], 0
        for env in live:
            self._destroy(env)


class FunctionPool:
    """Environments that are separate imports of the handler module in this process."""

    def __init__(self, fn: Function, region: str, root: Path, max_instances: int) -> None:
        self.fn, self.region = fn, region
        self.environments: Environments[ModuleType] = Environments(
            lambda instance: load_handler_module(fn.handler_dir, root, instance=instance), max_instances
        )

    def invoke(self, event: Any) -> Any:
        module = self.environments.acquire()
        try:
            arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.fn.name}"
            return module.handler(
                event, LambdaContext(self.fn.name, arn, self.fn.timeout_s, self.fn.memory_mb)
            )
        finally:
            self.environments.release(module)


class Invoker:
    """Functions sized for several vCPUs run in child processes (maestro.local.processes); the rest share
    this process, which starts them in milliseconds."""

    def __init__(self, model: LocalModel, root: Path = FUNCTIONS_ROOT, max_instances: int = 4) -> None:
        from maestro.local.processes import PROCESS_MEMORY_MB, ProcessPool

        self.model = model
        self.pools: dict[str, FunctionPool | ProcessPool] = {
            fn.name: (ProcessPool if fn.memory_mb >= PROCESS_MEMORY_MB else FunctionPool)(
                fn, model.region, root, max_instances
            )
            for fn in model.functions.values()
        }

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        fn = self.model.function_by_name(name_or_arn) or self.model.functions.get(name_or_arn)
        if fn is None:
            raise FunctionNotFound(name_or_arn)
        return self.pools[fn.name].invoke(event)

    def warm(self) -> None:
        """Import one environment of every function now, so the first request is not a cold start; child
        processes start in the background."""
        for pool in self.pools.values():
            if isinstance(pool, FunctionPool):
                pool.environments.warm()
            else:
                warm = pool.environments.warm
                threading.Thread(target=warm, name=f"warm-{pool.fn.handler_dir}", daemon=True).start()

    def close(self) -> None:
        for pool in self.pools.values():
            pool.environments.close()
