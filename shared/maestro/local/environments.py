"""What every local function's sandboxes share, in-process or child process: the Lambda context a handler
receives, and the pool of execution environments of one function. Imports nothing of local mode's own."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
