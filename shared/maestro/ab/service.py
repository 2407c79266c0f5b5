"""A/B operations for one tenant: lifecycle with events, the tenant's holdout, assignment (config cached so
the warm path makes no AWS call of its own), ingestion into per-unit totals and per-variant statistics,
analysis.
Must never assign from a stale config for longer than the cache TTL."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.ab.assignment import Assignment, AssignmentConfig, assign
from maestro.ab.experiments import ExperimentSpec, assignment_config, check_update, transition
from maestro.ab.ingest import Event, UnitUpdate, apply_events, group_by_unit, unit_state_from_item
from maestro.ab.serving import forward as forward_serving
from maestro.ab.store import MAX_TRANSACTION_ITEMS, AbStore, now_ms
from maestro.core.auth import AuthContext
from maestro.core.aws import error_code
from maestro.core.errors import NotFound, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.tenants.counters import Counter

CONFIG_TTL_S = 30.0
MAX_UNIT_ATTEMPTS = 5
_CONFIGS: dict[tuple[str, str], tuple[float, AssignmentConfig | None, str]] = {}


def chunks(updates: list[UnitUpdate]) -> list[list[UnitUpdate]]:
    """Greedy transactions within DynamoDB's 100 items: one per unit plus one per distinct statistics item
    (variant x metric, and the variant's exposure counter) the chunk touches. Units are taken variant by
    variant, so a transaction touches one variant's few statistics items and carries more units."""
    out: list[list[UnitUpdate]] = []
    current: list[UnitUpdate] = []
    keys: set[str] = set()
    for update in sorted(updates, key=lambda u: u.after.variant or ""):
        touched = {f"{update.after.variant}#{m}" for m in update.stats_delta}
        if update.newly_exposed:
            touched.add(f"{update.after.variant}#__exposures__")
        if current and len(current) + 1 + len(keys | touched) > MAX_TRANSACTION_ITEMS:
            out.append(current)
            current, keys = [], set()
        current.append(update)
        keys |= touched
    if current:
        out.append(current)
    return out


@dataclass
class AbService:
    store: AbStore
    auth: AuthContext
    correlation_id: str | None = None

    def emit(self, detail_type: str, **detail: Any) -> None:
        publish_safely(DomainEvent.by(self.auth, "ab", detail_type, detail, self.correlation_id))

    # -- lifecycle -----------------------------------------------------------------------------------------
    def create(self, spec: ExperimentSpec) -> dict[str, Any]:
        experiment_id = f"exp-{uuid.uuid4().hex[:12]}"
        when = now_ms()
        item = {
            "experiment_id": experiment_id,
            "status": "draft",
            "version": 1,
            "spec": spec.model_dump(mode="json"),
            "created_at": when,
            "updated_at": when,
            "history": [{"event": "created", "at": when, "by": self.auth.principal}],
            "created_by": self.auth.principal,
        }
        self.store.create_experiment(item)
        self.emit("ExperimentCreated", experiment_id=experiment_id, name=spec.name)
        return self.view(item)

    @staticmethod
    def view(item: dict[str, Any]) -> dict[str, Any]:
        return {
            k: item[k]
            for k in ("experiment_id", "status", "version", "spec", "created_at", "updated_at")
            if k in item
        } | {
            "running_since": item.get("running_since"),
            "concluded_at": item.get("concluded_at"),
            "winner": item.get("winner"),
            "history": item.get("history", []),
        }

    def get(self, experiment_id: str) -> dict[str, Any]:
        return self.view(self.store.get_experiment(experiment_id))

    def list_all(self) -> list[dict[str, Any]]:
        return [self.view(i) for i in sorted(self.store.list_experiments(), key=lambda i: i["created_at"])]

    def update(self, experiment_id: str, spec: ExperimentSpec) -> dict[str, Any]:
        item = self.store.get_experiment(experiment_id)
        check_update(ExperimentSpec.model_validate(item["spec"]), spec, item["status"])
        updated = {
            **item,
            "spec": spec.model_dump(mode="json"),
            "version": item["version"] + 1,
            "updated_at": now_ms(),
        }
        self.store.save_experiment(updated, item["version"])
        self.emit("ExperimentUpdated", experiment_id=experiment_id, status=item["status"])
        return self.view(updated)

    def act(self, experiment_id: str, action: str, winner: str | None = None) -> dict[str, Any]:
        item = self.store.get_experiment(experiment_id)
        status = transition(item["status"], action)
        when = now_ms()
        entry = {"event": action, "at": when, "by": self.auth.principal, "status": status}
        updated = {
            **item,
            "status": status,
            "version": item["version"] + 1,
            "updated_at": when,
            "history": [*item.get("history", []), entry],
        }
        if action == "start":
            updated["running_since"] = when
        if status == "running":
            updated["gsi1pk"], updated["gsi1sk"] = "AB#RUNNING", f"{self.auth.tenant}#{experiment_id}"
        else:
            updated.pop("gsi1pk", None)
            updated.pop("gsi1sk", None)
        if status == "concluded":
            keys = [v["key"] for v in item["spec"]["variants"]]
            if winner is not None and winner not in keys:
                raise ValidationError("winner", f"{winner!r} is not one of {keys}")
            updated["concluded_at"], updated["winner"] = when, winner
            entry["winner"] = winner
        delta = (status == "running") - (item["status"] == "running")  # +1 into running, -1 out of it
        self.store.save_experiment(
            updated, item["version"], Counter.of(self.auth, "running_experiments"), delta
        )
        _CONFIGS.pop((self.auth.tenant, experiment_id), None)
        self.emit(
            {
                "start": "ExperimentStarted",
                "pause": "ExperimentPaused",
                "resume": "ExperimentResumed",
                "conclude": "ExperimentConcluded",
            }[action],
            experiment_id=experiment_id,
            status=status,
            winner=winner,
        )
        return self.view(updated)

    def record(self, experiment_id: str, event: str, **detail: Any) -> None:
        """Adds an entry to the experiment's history (a promotion, or one held back) without changing it."""
        item = self.store.get_experiment(experiment_id)
        entry = {"event": event, "at": now_ms(), "by": self.auth.principal, **detail}
        history = [*item.get("history", []), entry]
        self.store.save_experiment(
            {**item, "history": history, "version": item["version"] + 1}, item["version"]
        )

    def set_holdout(self, fraction: float) -> None:
        self.store.set_holdout_fraction(fraction)
        self.emit("HoldoutChanged", fraction=fraction)

    # -- assignment ---------------------------------------------------------------------------------------
    def _config(self, experiment_id: str) -> tuple[AssignmentConfig | None, str]:
        key = (self.auth.tenant, experiment_id)
        cached = _CONFIGS.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        item = self.store.get_experiment(experiment_id)
        config = assignment_config(
            experiment_id, ExperimentSpec.model_validate(item["spec"]), self.store.holdout_fraction()
        )
        _CONFIGS[key] = (time.monotonic() + CONFIG_TTL_S, config, item["status"])
        return config, item["status"]

    def assign(self, experiment_id: str, unit_ids: list[str]) -> list[dict[str, Any]]:
        config, status = self._config(experiment_id)
        if status != "running" or config is None:
            return [{"unit_id": u, "variant": None, "reason": f"experiment is {status}"} for u in unit_ids]
        out = []
        for unit in unit_ids:
            a: Assignment = assign(config, unit)
            out.append({"unit_id": unit, "variant": a.variant, "reason": a.reason})
        return out

    # -- ingestion ----------------------------------------------------------------------------------------
    def ingest(self, experiment_id: str, events: list[Event]) -> dict[str, Any]:
        item = self.store.get_experiment(experiment_id)
        if item["status"] not in ("running", "paused"):
            raise ValidationError(
                "experiment_id",
                f"experiment is {item['status']}: events are accepted while it runs or is paused",
            )
        spec = ExperimentSpec.model_validate(item["spec"])
        config = assignment_config(experiment_id, spec, self.store.holdout_fraction())
        grouped = group_by_unit(events)
        counts = {"received": len(events), "applied_units": 0, "duplicates": 0, "ignored_unexposed": 0}
        pending = dict(grouped)
        for _ in range(MAX_UNIT_ATTEMPTS):
            if not pending:
                break
            states = self.store.get_units(experiment_id, list(pending))
            updates = []
            for unit_id, unit_events in pending.items():
                state = unit_state_from_item(states.get(unit_id))
                variant = assign(config, unit_id).variant if item["status"] == "running" else None
                update = apply_events(unit_id, state, unit_events, spec.metrics, variant)
                if update is None:  # all seen before, or a unit never exposed (its events are not counted)
                    new_ids = {e.event_id for e in unit_events} - state.seen
                    counts["ignored_unexposed"] += len(new_ids)
                    counts["duplicates"] += len(unit_events) - len(new_ids)
                else:
                    updates.append(update)
            retry: dict[str, list[Event]] = {}
            for chunk in chunks(updates):
                try:
                    self.store.apply_units(experiment_id, chunk)
                except Exception as exc:
                    if error_code(exc) != "TransactionCanceledException":
                        raise
                    retry |= {
                        u.unit_id: pending[u.unit_id] for u in chunk
                    }  # changed concurrently: read again
                    continue
                counts["applied_units"] += len(chunk)
                counts["duplicates"] += sum(len(pending[u.unit_id]) - len(u.new_event_ids) for u in chunk)
            pending = retry
        if pending:
            raise ValidationError(
                "events", f"{len(pending)} unit(s) kept changing concurrently; resend the batch"
            )
        self.emit("ExperimentEventsIngested", experiment_id=experiment_id, **counts)
        if item["status"] == "running":  # a paused experiment assigns no variant: no version to record for
            serving = forward_serving(self.auth, self.correlation_id, experiment_id, spec, config, events)
            if serving:
                return {**counts, "serving": serving}
        return counts

    def require_running_or_paused(self, experiment_id: str) -> dict[str, Any]:
        item = self.store.get_experiment(experiment_id)
        if item["status"] == "draft":
            raise NotFound(f"experiment {experiment_id} has not started")
        return item
