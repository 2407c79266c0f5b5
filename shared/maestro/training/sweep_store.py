"""DynamoDB access for sweeps, in the training table: one item per sweep (its request, status, parent run,
each trial's job and outcome, the best trial), listed newest first through gsi1. `running` counts the trials
in flight: a trial takes a slot only while fewer than max_parallel are taken, and gives it back once, when it
ends. Must never let two trials take the last slot, nor a trial give its slot back twice."""

from __future__ import annotations

from typing import Any

from maestro.core.dynamo_store import TenantTable, is_conditional_failure
from maestro.core.errors import Conflict, NotFound
from maestro.core.submissions import now_iso, shown
from maestro.core.submissions import numbers as _numbers
from maestro.training.store import LIVE


class SweepStore(TenantTable):
    capability = "TRAIN"

    def _pk(self, sweep_id: str) -> str:
        return self.k("SWEEP", sweep_id)

    def create(self, sweep: dict[str, Any]) -> None:
        item = {
            **_numbers(sweep),
            "pk": self._pk(sweep["sweep_id"]),
            "sk": "SWEEP",
            "gsi1pk": self.k("SWEEPS"),
            "gsi1sk": f"{sweep['created_at']}#{sweep['sweep_id']}",
            "running": 0,
        }
        self.put_new(item, f"sweep {sweep['sweep_id']} exists already")

    def get(self, sweep_id: str) -> dict[str, Any]:
        found = self.item(self._pk(sweep_id), "SWEEP")
        if found is None:
            raise NotFound(f"sweep {sweep_id} does not exist")
        return shown(found)

    def page(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("SWEEPS"), limit, cursor)
        return [shown(i) for i in items], cursor

    def update(self, sweep_id: str, **fields: Any) -> dict[str, Any]:
        """Sets fields of a live sweep (Conflict once it has ended)."""
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        values = {f"v{i}": v for i, v in enumerate(fields.values())}
        names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#s": "status"}
        try:
            return shown(
                self.update_item(
                    self._pk(sweep_id),
                    "SWEEP",
                    f"SET {sets}, updated_at = :now",
                    names=names,
                    values=_numbers(values) | {"now": now_iso(), "live0": LIVE[0], "live1": LIVE[1]},
                    condition="#s IN (:live0, :live1)",
                )
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                self.get(sweep_id)
                raise Conflict(f"sweep {sweep_id} has ended") from exc
            raise

    def take_slot(self, sweep_id: str, index: int, maximum: int) -> bool:
        """Trial `index` may start if fewer than `maximum` trials run and the sweep is live."""
        return self._move_slot(
            sweep_id,
            index,
            "SET running = running + :one, #t.#i.#st = :to",
            "running < :max AND #s IN (:live0, :live1) AND #t.#i.#st = :from",
            {"max": maximum, "live0": LIVE[0], "live1": LIVE[1], "from": "PENDING", "to": "STARTING"},
        )

    def give_slot_back(self, sweep_id: str, index: int) -> bool:
        """A trial whose job could not be submitted (the quota) waits for its turn again."""
        return self._move_slot(
            sweep_id,
            index,
            "SET running = running - :one, #t.#i.#st = :to",
            "#t.#i.#st = :from",
            {"from": "STARTING", "to": "PENDING"},
        )

    def _move_slot(
        self, sweep_id: str, index: int, expression: str, condition: str, values: dict[str, Any]
    ) -> bool:
        names = {"#t": "trials", "#i": str(index), "#st": "status"}
        if "#s " in condition:
            names["#s"] = "status"
        try:
            self.update_item(
                self._pk(sweep_id),
                "SWEEP",
                expression,
                names=names,
                values={"one": 1, **values},
                condition=condition,
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def set_trial(self, sweep_id: str, index: int, **fields: Any) -> None:
        sets = ", ".join(f"#t.#i.#f{n} = :v{n}" for n in range(len(fields)))
        self.update_item(
            self._pk(sweep_id),
            "SWEEP",
            f"SET {sets}",
            names={"#t": "trials", "#i": str(index)} | {f"#f{n}": k for n, k in enumerate(fields)},
            values=_numbers({f"v{n}": v for n, v in enumerate(fields.values())}),
        )

    def end_trial(self, sweep_id: str, index: int, **fields: Any) -> bool:
        """Records trial `index`'s end and gives its slot back; False if it was recorded already."""
        sets = ", ".join(f"#t.#i.#f{n} = :v{n}" for n in range(len(fields)))
        try:
            self.update_item(
                self._pk(sweep_id),
                "SWEEP",
                f"SET running = running - :one, {sets}",
                names={"#t": "trials", "#i": str(index), "#st": "status"}
                | {f"#f{n}": k for n, k in enumerate(fields)},
                values=_numbers({f"v{n}": v for n, v in enumerate(fields.values())})
                | {"one": 1, "started": "STARTED"},
                condition="#t.#i.#st = :started",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def finish(self, sweep_id: str, status: str, **fields: Any) -> bool:
        """Ends a live sweep; False if it had ended."""
        fields = {**fields, "status": status, "finished_at": now_iso()}
        try:
            self.update(sweep_id, **fields)
        except Conflict:
            return False
        return True
