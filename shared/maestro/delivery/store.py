"""DynamoDB access for model rollouts, in the delivery table: one item per rollout (its request, status, the
step it is at, the traffic the new version serves, its history of steps and checks), listed newest first
through gsi1; and, while a rollout runs, one item per (model, alias) naming it and its split, which is what
routing reads (one GetItem). Both move together, in one transaction, so an alias never has two rollouts nor a
split that outlives its rollout. Must never move a rollout that has ended: every change is conditional on
RUNNING."""

from __future__ import annotations

from typing import Any

from maestro.core.dynamo_store import TenantTable, cancellation_reasons, expression_values
from maestro.core.errors import Conflict, NotFound
from maestro.core.submissions import now_iso, numbers, shown

RUNNING = "RUNNING"
FINAL = ("COMPLETED", "ROLLED_BACK", "FAILED")


class DeliveryStore(TenantTable):
    capability = "DEPLOY"

    def _pk(self, rollout_id: str) -> str:
        return self.k("ROLLOUT", rollout_id)

    def _split_pk(self, model: str, alias: str) -> str:
        return self.k("SPLIT", model, alias)

    # -- reads --------------------------------------------------------------------------------------------
    def get(self, rollout_id: str) -> dict[str, Any]:
        found = self.item(self._pk(rollout_id), "ROLLOUT")
        if found is None:
            raise NotFound(f"rollout {rollout_id} does not exist")
        return shown(found)

    def page(
        self, limit: int, cursor: dict[str, Any] | None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("ROLLOUTS"), limit, cursor, status)
        return [shown(i) for i in items], cursor

    def split(self, model: str, alias: str) -> dict[str, Any] | None:
        """The running rollout's split of this alias: {rollout_id, from_version, to_version, percent}."""
        found = self.item(self._split_pk(model, alias), "SPLIT")
        return shown(found) if found else None

    def running(self) -> list[dict[str, Any]]:
        out, cursor = [], None
        while True:
            page, cursor = self.page(100, cursor, RUNNING)
            out += page
            if cursor is None:
                return out

    # -- changes ------------------------------------------------------------------------------------------
    def create(self, rollout: dict[str, Any]) -> None:
        """The rollout and its alias's split at 0%, together (Conflict: the alias has a rollout running)."""
        rollout_id, model, alias = rollout["rollout_id"], rollout["model"], rollout["alias"]
        item = {
            **numbers(rollout),
            "pk": self._pk(rollout_id),
            "sk": "ROLLOUT",
            "gsi1pk": self.k("ROLLOUTS"),
            "gsi1sk": f"{rollout['created_at']}#{rollout_id}",
        }
        split = {
            "pk": self._split_pk(model, alias),
            "sk": "SPLIT",
            "rollout_id": rollout_id,
            "model": model,
            "alias": alias,
            "from_version": rollout["from_version"],
            "to_version": rollout["to_version"],
            "percent": 0,
        }
        try:
            self._transact(
                [
                    self.put_op(item, "attribute_not_exists(pk)"),
                    self.put_op(split, "attribute_not_exists(pk)"),
                ]
            )
        except Exception as exc:
            reasons = cancellation_reasons(exc)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                running = self.split(model, alias) or {}
                raise Conflict(
                    f"alias {alias!r} of model {model!r} has a rollout running: "
                    f"{running.get('rollout_id', 'one')} (abort it first)"
                ) from exc
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(f"rollout {rollout_id} exists already") from exc
            raise

    def _change(self, rollout: dict[str, Any], sets: dict[str, Any], entry: dict[str, Any] | None) -> dict:
        """An Update of a RUNNING rollout setting `sets` (and appending `entry` to its history)."""
        names = {f"#f{i}": name for i, name in enumerate(sets)} | {"#s": "status"}
        values = {f"v{i}": v for i, v in enumerate(sets.values())}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets))) + ", updated_at = :now"
        if entry is not None:
            expression += ", history = list_append(history, :entry)"
            values["entry"] = [{**entry, "at": now_iso()}]
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(self._pk(rollout["rollout_id"]), "ROLLOUT"),
                "UpdateExpression": expression,
                "ConditionExpression": "#s = :running",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": expression_values(
                    **numbers(values), now=now_iso(), running=RUNNING
                ),
            }
        }

    def _split_op(self, rollout: dict[str, Any], expression: str, **values: Any) -> dict[str, Any]:
        op = {
            "TableName": self.table,
            "Key": self.key(self._split_pk(rollout["model"], rollout["alias"]), "SPLIT"),
            "ConditionExpression": "rollout_id = :id",
            "ExpressionAttributeValues": expression_values(id=rollout["rollout_id"], **numbers(values)),
        }
        if expression:  # `percent` is one of DynamoDB's reserved words: #percent names it
            return {
                "Update": {
                    **op,
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": {"#percent": "percent"},
                }
            }
        return {"Delete": op}

    def _apply(self, ops: list[dict[str, Any]]) -> bool:
        """False when the rollout was no longer RUNNING (it ended meanwhile): nothing changed."""
        try:
            self._transact(ops)
        except Exception as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True

    def set_traffic(self, rollout: dict[str, Any], step: int, percent: float, entry: dict[str, Any]) -> bool:
        """Step `step` begins: the new version serves `percent` of the alias's traffic."""
        return self._apply(
            [
                self._change(
                    rollout, {"step": step, "percent": percent, "step_started_at": now_iso()}, entry
                ),
                self._split_op(rollout, "SET #percent = :p", p=percent),
            ]
        )

    def update(self, rollout: dict[str, Any], **fields: Any) -> bool:
        """Sets fields of a RUNNING rollout (False once it has ended)."""
        return self._apply([self._change(rollout, fields, None)])

    def end(self, rollout: dict[str, Any], status: str, entry: dict[str, Any], **fields: Any) -> bool:
        """The rollout ends `status` and its split goes: routing serves the alias's version alone again."""
        return self._apply(
            [
                self._change(rollout, {"status": status, "ended_at": now_iso(), **fields}, entry),
                self._split_op(rollout, ""),
            ]
        )

    def request_abort(self, rollout_id: str, principal: str) -> dict[str, Any]:
        rollout = self.get(rollout_id)
        if rollout["status"] != RUNNING:
            raise Conflict(f"rollout {rollout_id} has ended ({rollout['status']})")
        if not self.update(rollout, abort_requested_by=principal):
            raise Conflict(f"rollout {rollout_id} has ended")
        return self.get(rollout_id)
