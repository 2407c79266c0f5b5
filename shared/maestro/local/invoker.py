"""Invokes the real handlers in-process, as Lambda would: a pool of execution environments per function,
each a separate import of the handler module, one invocation at a time. Must never share an environment
between two concurrent invocations."""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from maestro.local.emulator import FunctionNotFound
from maestro.local.environments import Environments, LambdaContext
from maestro.local.functions import FUNCTIONS_ROOT, load_handler_module
from maestro.local.processes import PROCESS_MEMORY_MB, ProcessPool
from maestro.local.template import Function, LocalModel

# Per-function values; every other variable must mean the same in every function (one process hosts all).
PER_FUNCTION_VARIABLES = {"POWERTOOLS_SERVICE_NAME"}


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
