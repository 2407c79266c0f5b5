"""The tenant's experiments: one item per experiment, a name index item per name (names are unique), and the
counter that numbers them."""

from __future__ import annotations

from typing import Any

from maestro.core.dynamo_store import expression_values, is_conditional_failure
from maestro.core.errors import Conflict, NotFound
from maestro.registry.stores import Entity


class ExperimentStore(Entity[str]):
    def key_of(self, ident: str) -> tuple[str, str]:
        if not ident.isdigit():
            raise NotFound(self.missing(ident))
        return self.k("EXPERIMENTS"), f"EXP#{int(ident):012d}"

    def missing(self, ident: str) -> str:
        return f"No Experiment with id={ident} exists"

    @property
    def names_pk(self) -> str:
        return self.k("EXPERIMENT_NAMES")

    def id_by_name(self, name: str) -> str | None:
        item = self.item(self.names_pk, name)
        return item["experiment_id"] if item else None

    def all(self) -> list[dict[str, Any]]:
        return list(self.items(self.k("EXPERIMENTS"), sk_prefix="EXP#"))

    def next_id(self) -> str:
        counter = self.update_item(
            self.k("COUNTERS"), "EXPERIMENT", "ADD #v :one", names={"#v": "value"}, values={"one": 1}
        )
        return str(counter["value"])

    def create(self, experiment: dict[str, Any]) -> None:
        """The experiment and its name, in one transaction: a taken name is a Conflict."""
        pk, sk = self.key_of(experiment["experiment_id"])
        name = {"pk": self.names_pk, "sk": experiment["name"], "experiment_id": experiment["experiment_id"]}
        try:
            self._transact(
                [
                    self.put_op({"pk": pk, "sk": sk, **experiment}, "attribute_not_exists(pk)"),
                    self.put_op(name, "attribute_not_exists(pk)"),
                ]
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"Experiment(name={experiment['name']}) already exists.") from exc
            raise

    def rename(self, experiment_id: str, old: str, new: str, when: int) -> None:
        """The old name freed, the new one taken and the experiment renamed, in one transaction."""
        pk, sk = self.key_of(experiment_id)
        try:
            self._transact(
                [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.key(self.names_pk, old),
                            "ConditionExpression": "experiment_id = :id",
                            "ExpressionAttributeValues": expression_values(id=experiment_id),
                        }
                    },
                    self.put_op(
                        {"pk": self.names_pk, "sk": new, "experiment_id": experiment_id},
                        "attribute_not_exists(pk)",
                    ),
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self.key(pk, sk),
                            "UpdateExpression": "SET #n = :n, last_update_time = :t",
                            "ConditionExpression": "#n = :o",
                            "ExpressionAttributeNames": {"#n": "name"},
                            "ExpressionAttributeValues": expression_values(n=new, t=when, o=old),
                        }
                    },
                ]
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"Experiment(name={new}) already exists.") from exc
            raise
