"""Model rollouts for one tenant: start one (the model, versions, alias and SLOs checked up front; one rollout
an alias at a time), read and list them, ask one to abort (its workflow rolls it back at its next check),
and route units of an alias to the version that serves them. The steps run in the delivery state machine
(delivery.steps). Must never leave a rollout RUNNING without a workflow behind it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.errors import DependencyUnavailable, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import Settings
from maestro.core.submissions import submitted
from maestro.delivery.routing import version_for
from maestro.delivery.spec import RolloutRequest
from maestro.delivery.store import RUNNING, DeliveryStore
from maestro.registry.interface import ModelLookup
from maestro.sla.interface import slo_exists

HIDDEN = ("roles", "limits", "tenant")


def emit(
    auth: AuthContext, kind: str, rollout: dict[str, Any], correlation_id: str | None, **detail: Any
) -> None:
    """A rollout's event: which rollout, of which alias, between which versions, and `detail`."""
    base = {k: rollout[k] for k in ("rollout_id", "model", "alias", "from_version", "to_version")}
    publish_safely(DomainEvent.by(auth, "delivery", kind, {**base, **detail}, correlation_id))


@dataclass
class DeliveryService:
    store: DeliveryStore
    auth: AuthContext
    settings: Settings
    correlation_id: str | None = None

    def emit(self, kind: str, rollout: dict[str, Any], **detail: Any) -> None:
        emit(self.auth, kind, rollout, self.correlation_id, **detail)

    def start(self, request: RolloutRequest) -> dict[str, Any]:
        lookup = ModelLookup(self.auth.tenant, self.settings.registry_table)
        model = lookup.registered_model(request.model)
        if model is None:
            raise ValidationError("model", f"no registered model is named {request.model!r}")
        if lookup.version(model, request.to_version) is None:
            raise ValidationError(
                "to_version", f"model {request.model!r} has no version {request.to_version}"
            )
        current = (model.get("aliases") or {}).get(request.alias)
        if current is None:
            raise ValidationError(
                "alias",
                f"points at no version of {request.model!r}: set it first (a rollout moves an alias's "
                "traffic from the version it points at to another)",
            )
        current = int(current)
        if request.from_version is not None and request.from_version != current:
            raise ValidationError("from_version", f"the alias points at version {current}, not this one")
        if request.to_version == current:
            raise ValidationError("to_version", "is the version the alias points at already")
        for i, slo_id in enumerate(request.guardrails.slos):
            if not slo_exists(self.auth.tenant, slo_id):
                raise ValidationError(f"guardrails.slos[{i}]", f"no SLO {slo_id} exists")

        rollout_id = "ro-" + uuid.uuid4().hex[:24]
        rollout = {
            "rollout_id": rollout_id,
            **submitted(self.auth, request.model_dump(mode="json"), status=RUNNING),
            "model": request.model,
            "alias": request.alias,
            "from_version": current,
            "to_version": request.to_version,
            "steps": len(request.steps),
            "step": -1,
            "percent": 0,
            "history": [],
        }
        self.store.create(rollout)
        try:
            arn = workflows.start(
                self.settings.delivery_state_machine_arn, rollout_id, {"rollout": self.ref(rollout)}
            )
        except Exception as exc:
            entry = {"event": "failed", "reason": "its workflow could not start"}
            self.store.end(
                rollout, "FAILED", entry, error={"error": "StartFailed", "reason": entry["reason"]}
            )
            raise DependencyUnavailable(
                "the rollout's workflow could not be started; start it again"
            ) from exc
        self.store.update(rollout, execution_arn=arn)
        self.emit("RolloutStarted", rollout, steps=[s.model_dump() for s in request.steps])
        return self.get(rollout_id)

    def ref(self, rollout: dict[str, Any]) -> dict[str, str]:
        return {"tenant": self.auth.tenant, "rollout_id": rollout["rollout_id"]}

    def get(self, rollout_id: str) -> dict[str, Any]:
        """The rollout; one whose workflow ended without ending it (a failure no Catch takes) ends FAILED, and
        its split goes."""
        rollout = self.store.get(rollout_id)
        if rollout["status"] == RUNNING and rollout.get("execution_arn"):
            failed = workflows.failure(rollout["execution_arn"])
            if failed and self.store.end(rollout, "FAILED", {"event": "failed", **failed}, error=failed):
                self.emit("RolloutFailed", rollout, **failed)
                rollout = self.store.get(rollout_id)
        return self.shown(rollout)

    def list(
        self, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        found, next_key = self.store.page(limit, cursor, status)
        return [self.shown(r) for r in found], next_key

    @staticmethod
    def shown(rollout: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in rollout.items() if k not in HIDDEN}

    def abort(self, rollout_id: str) -> dict[str, Any]:
        rollout = self.store.request_abort(rollout_id, self.auth.principal)
        self.emit("RolloutAbortRequested", rollout)
        return self.shown(rollout)

    def route(self, model: str, alias: str, units: Sequence[str]) -> dict[str, Any]:
        """The version that serves each unit: the running rollout's split (sticky), else the alias's."""
        split = self.store.split(model, alias)
        if split is not None:
            versions = {unit: version_for(split, unit) for unit in units}
            return {
                "model": model,
                "alias": alias,
                "rollout_id": split["rollout_id"],
                "percent": split["percent"],
                "versions": versions,
            }
        number = ModelLookup(self.auth.tenant, self.settings.registry_table).version_number(
            model, None, alias
        )
        if number is None:
            raise ValidationError("alias", f"points at no version of {model!r}")
        return {
            "model": model,
            "alias": alias,
            "rollout_id": None,
            "percent": 0,
            "versions": dict.fromkeys(units, number),
        }
