"""The whole platform on one machine: synthesizes the app, starts the embedded AWS endpoint, creates what the
template defines, and serves its routes, events, schedules and state machines with the real handlers.
Must never change a handler's code path: only endpoints and credentials differ from AWS."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro.core.aws import client
from maestro.core.settings import get_settings
from maestro.local.console import LocalConsole
from maestro.local.emulator import EmbeddedAws
from maestro.local.faults import Faults
from maestro.local.functions import FUNCTIONS_ROOT, REPO_ROOT
from maestro.local.gateway import Gateway
from maestro.local.invoker import Invoker, shared_environment
from maestro.local.logs import LogSubscriptions
from maestro.local.provision import provision
from maestro.local.pump import EventPump, Scheduler
from maestro.local.recovery import LocalPointInTimeRecovery
from maestro.local.releases import LocalReleases
from maestro.local.synth import STACK_NAME, synthesize
from maestro.local.template import LocalModel, load_model
from maestro.local.tokens import LocalTokens, register_tenant
from maestro.local.training_jobs import LocalTrainingJobs

DEFAULT_STATE_DIR = REPO_ROOT / ".maestro"
REGION = "us-east-1"
log = logging.getLogger("maestro.local")


@dataclass(frozen=True)
class LocalCredentials:
    """What a client outside the process needs to reach the embedded AWS endpoint."""

    endpoint_url: str
    access_key_id: str = "testing"
    secret_access_key: str = "testing"  # noqa: S105 - moto's fixed local credentials, not a secret
    region: str = REGION


class LocalPlatform:
    def __init__(
        self,
        *,
        port: int = 3000,
        state_dir: Path = DEFAULT_STATE_DIR,
        template: Path | None = None,
        functions_root: Path = FUNCTIONS_ROOT,
        max_instances: int = 4,
    ) -> None:
        self.port, self.state_dir, self.template = port, Path(state_dir), template
        self.functions_root, self.max_instances = functions_root, max_instances
        self.tokens = LocalTokens(self.state_dir / "local")
        self.aws: EmbeddedAws | None = None
        self.gateway: Gateway | None = None
        self.pump: EventPump | None = None
        self.scheduler: Scheduler | None = None
        self.log_subscriptions: LogSubscriptions | None = None
        self.model: LocalModel | None = None
        self.invoker: Invoker | None = None
        self.training: LocalTrainingJobs | None = None
        self.timings: dict[str, float] = {}
        self.faults = Faults()
        self.console = LocalConsole(self._console_token)
        self._saved_environ: dict[str, str] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LocalPlatform:
        self._saved_environ = dict(os.environ)
        t0 = time.perf_counter()
        template = self.template or synthesize()
        self.timings["synth_s"] = time.perf_counter() - t0
        self.training = LocalTrainingJobs(self.state_dir / "training", REGION)
        self.releases = LocalReleases(REGION)
        self.aws = EmbeddedAws(
            self._invoke_lambda, services=(self.training, self.releases, LocalPointInTimeRecovery(REGION))
        ).start()
        self._point_sdk_at(self.aws.url)
        self.model = load_model(template, STACK_NAME, REGION)
        os.environ.update(shared_environment(self.model))
        get_settings.cache_clear()
        shadows = provision(self.model)
        self.timings["provision_s"] = time.perf_counter() - t0 - self.timings["synth_s"]
        self.invoker = Invoker(self.model, self.functions_root, self.max_instances)
        self.invoker.warm()
        self.pump = EventPump(self.model, shadows, self._invoke_lambda).start()
        self.scheduler = Scheduler(self.model.rules, self.pump, REGION).start()
        self.log_subscriptions = LogSubscriptions(self.model, self._invoke_lambda).start()
        self.gateway = Gateway(
            self.model.routes,
            self._invoke_lambda,
            self.tokens,
            port=self.port,
            extra_routes={
                ("GET", "/_local/schedules"): self._list_schedules,
                ("POST", "/_local/schedules/fire"): self._fire_schedule,
                ("POST", "/_local/logs/flush"): self._flush_logs,
                ("GET", "/_local/faults"): lambda _q: (200, {"faults": self.faults.list()}),
                ("POST", "/_local/faults"): self._add_fault,
                ("DELETE", "/_local/faults"): self._clear_faults,
                ("POST", "/_local/console/token"): self.console.sign_in,
            },
            files=self.console.serve,
        ).start()
        self.timings["ready_s"] = time.perf_counter() - t0
        return self

    def stop(self) -> None:
        for part in (self.gateway, self.log_subscriptions, self.scheduler, self.pump, self.aws):
            if part is not None:
                part.stop()
        if self.invoker is not None:
            self.invoker.close()
        if self.training is not None:
            self.training.close()
        if self._saved_environ is not None:  # leave the process as it was: endpoints, credentials, names
            os.environ.clear()
            os.environ.update(self._saved_environ)
            client.cache_clear()
            get_settings.cache_clear()

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what callers need ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.gateway, "start() first"
        return self.gateway.url

    @property
    def credentials(self) -> LocalCredentials:
        assert self.aws, "start() first"
        return LocalCredentials(self.aws.url)

    def token(self, tenant: str, roles: list[str], subject: str | None = None, ttl_s: int = 12 * 3600) -> str:
        settings = get_settings()
        return self.tokens.issue(
            tenant=tenant,
            roles=roles,
            subject=subject,
            ttl_s=ttl_s,
            tenant_claim=settings.tenant_claim,
            roles_claim=settings.roles_claim,
        )

    def _console_token(self, tenant: str, roles: list[str], subject: str) -> str:
        """The console's local sign-in: the tenant is registered first, as `maestro local token` does."""
        if any(r.key == "POST /tenants" for r in (self.model.routes if self.model else [])):
            register_tenant(self.url, self.tokens, tenant)
        return self.token(tenant, roles, subject=subject)

    def fire_schedule(self, rule: str) -> int:
        assert self.scheduler
        return self.scheduler.fire(rule)

    # -- internals ------------------------------------------------------------------------------------
    def _invoke_lambda(self, function: str, event: Any) -> Any:
        assert self.invoker, "not started"
        assert self.model, "not started"
        # Every path into a function (API, queues, schedules, log subscriptions, Step Functions) can fail.
        fn = self.model.function_by_name(function) or self.model.functions.get(function)
        if fn is not None:
            self.faults.check(fn.handler_dir, event)
        return self.invoker.invoke(function, event)

    def _add_fault(self, query: dict[str, str]) -> tuple[int, Any]:
        if not query.get("function"):
            return 400, {"message": "function (a handler folder, e.g. explain_worker) is required"}
        return 201, self.faults.add(query).to_json()

    def _clear_faults(self, _query: dict[str, str]) -> tuple[int, Any]:
        self.faults.clear()
        return 200, {"faults": []}

    @staticmethod
    def _point_sdk_at(endpoint: str) -> None:
        """The handlers' boto3 clients read these, exactly as they would read a real account's settings."""
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # moto's local credentials
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Maestro"),
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        client.cache_clear()

    def _list_schedules(self, _query: dict[str, str]) -> tuple[int, Any]:
        assert self.scheduler
        return 200, {"schedules": self.scheduler.names()}

    def _flush_logs(self, _query: dict[str, str]) -> tuple[int, Any]:
        assert self.log_subscriptions
        return 200, {"delivered": self.log_subscriptions.deliver()}

    def _fire_schedule(self, query: dict[str, str]) -> tuple[int, Any]:
        try:
            return 200, {"fired": query.get("rule"), "targets": self.fire_schedule(query.get("rule", ""))}
        except KeyError as exc:
            return 404, {"message": str(exc)}
