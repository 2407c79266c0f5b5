"""The tenant's registered models: one item per model keyed by its name, holding its uid (which keys its
versions), its aliases and the latest version number; each moved with the tenant's registered_models quota
counter in the same transaction."""

from __future__ import annotations

from typing import Any

from maestro.core.dynamo_store import cancellation_reasons, expression_values, is_conditional_failure
from maestro.core.errors import Conflict, NotFound
from maestro.registry.stores import Entity, model_missing
from maestro.tenants.counters import Counter


class ModelStore(Entity[str]):
    def key_of(self, ident: str) -> tuple[str, str]:
        return self.models_pk, ident

    def missing(self, ident: str) -> str:
        return model_missing(ident)

    def count(self) -> int:
        return self.count_items(self.models_pk)

    def all(self) -> list[dict[str, Any]]:
        return list(self.items(self.models_pk))

    def create(self, model: dict[str, Any], counter: Counter) -> None:
        """The model and one more of the tenant's registered models, in one transaction: concurrent creates
        can never leave more models than the quota allows."""
        item = {"pk": self.models_pk, "sk": model["name"], **model}
        try:
            self._transact([self.put_op(item, "attribute_not_exists(pk)"), counter.op(+1)])
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            if cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:  # taken, whatever the quota
                raise Conflict(f"Registered Model (name={model['name']}) already exists.") from exc
            counter.raise_if_refused(exc, 1)
            raise

    def _delete_op(self, model: dict[str, Any]) -> dict[str, Any]:
        """Delete the model's item while it is still this model (its uid): not one renamed in between."""
        return {
            "Delete": {
                "TableName": self.table,
                "Key": self.key(*self.key_of(model["name"])),
                "ConditionExpression": "uid = :u",
                "ExpressionAttributeValues": expression_values(u=model["uid"]),
            }
        }

    def rename(self, old: str, new: str, when: int) -> dict[str, Any]:
        model = self.require(old)
        if new == old:  # as MLflow's own store: nothing to move (one transaction may not touch an item twice)
            return model
        renamed = {**model, "pk": self.models_pk, "sk": new, "name": new, "last_updated_timestamp": when}
        try:
            self._transact([self._delete_op(model), self.put_op(renamed, "attribute_not_exists(pk)")])
        except Exception as exc:
            if is_conditional_failure(exc):
                reasons = cancellation_reasons(exc)
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise Conflict(f"Registered Model (name={new}) already exists.") from exc
                raise Conflict(f"Registered Model {old} changed during the rename; retry") from exc
            raise
        return renamed

    def delete(self, name: str, counter: Counter) -> dict[str, Any]:
        """The model item goes, with one fewer of the tenant's models, in one transaction: its aliases go with
        it, so no alias can outlive the model; its versions (keyed by the model's uid) are unreachable from
        then on. The model as it was."""
        model = self.require(name)
        try:
            self._transact([self._delete_op(model), counter.op(-1)])
        except Exception as exc:
            if is_conditional_failure(exc):
                raise NotFound(self.missing(name)) from exc
            raise
        return model
