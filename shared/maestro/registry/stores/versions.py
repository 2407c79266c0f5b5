"""The versions of registered models, under each model's uid and listed for the tenant through gsi1, and
the aliases that point at them (held on the model's item). Must never leave an alias pointing at a missing
version, nor give two versions one number."""

from __future__ import annotations

import random
import time
from typing import Any

from maestro.core.dynamo_store import cancellation_reasons, expression_values, is_conditional_failure
from maestro.core.errors import Conflict, NotFound
from maestro.registry.stores import Entity, model_missing, now_ms

MAX_VERSION_ATTEMPTS = 200
VersionId = tuple[str, int]  # (the model's uid, the version number)


class VersionStore(Entity[VersionId]):
    def key_of(self, ident: VersionId) -> tuple[str, str]:
        return self.version_key(*ident)

    def missing(self, ident: VersionId) -> str:
        return f"Model Version (version={ident[1]}) not found"

    def _model_update(
        self,
        model: dict[str, Any],
        expression: str,
        condition: str = "",
        names: dict[str, str] | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        """A transaction's Update of the model's item, landing only while the item is still this model (its
        uid: not one deleted and created again, nor renamed) and `condition` (" AND ...") holds."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": self.key(self.models_pk, model["name"]),
            "UpdateExpression": expression,
            "ConditionExpression": "uid = :u" + condition,
            "ExpressionAttributeValues": expression_values(u=model["uid"], **values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def of_model(self, uid: str) -> list[dict[str, Any]]:
        return list(self.items(self.k("MV", uid), sk_prefix="V#"))

    def all(self) -> list[dict[str, Any]]:
        """Every version of the tenant's models (of deleted models too: callers keep those of live ones)."""
        return list(self.items(self.k("VERSIONS"), index="gsi1"))

    def delete_all(self, uid: str) -> None:
        """The versions of a deleted model (unreachable already: this frees their space)."""
        for version in self.of_model(uid):
            self.delete_item(version["pk"], version["sk"])

    def create(self, name: str, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Allocates the next version number of model `name` atomically: the model's counter moves from the
        value read to value+1 in the same transaction that puts the version, so concurrent creators never
        share or skip a number. The model as read, and the version."""
        for attempt in range(MAX_VERSION_ATTEMPTS):
            model = self.item(self.models_pk, name)
            if model is None:
                raise NotFound(model_missing(name))
            current = int(model.get("latest_version", 0))
            number, when = current + 1, now_ms()
            pk, sk = self.version_key(model["uid"], number)
            version = {
                "pk": pk,
                "sk": sk,
                "gsi1pk": self.k("VERSIONS"),
                "gsi1sk": f"{model['uid']}#{number:010d}",
                "uid": model["uid"],
                "version": number,
                "creation_timestamp": when,
                "last_updated_timestamp": when,
                **fields,
            }
            numbered = self._model_update(
                model,
                "SET latest_version = :n, last_updated_timestamp = :t",
                " AND (latest_version = :c OR (attribute_not_exists(latest_version) AND :c = :zero))",
                n=number,
                t=when,
                c=current,
                zero=0,
            )
            try:
                self._transact([numbered, self.put_op(version, "attribute_not_exists(pk)")])
                return model, version
            except Exception as exc:
                if not is_conditional_failure(exc):
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))  # noqa: S311 - jitter
        raise Conflict(f"could not allocate a version of {name}: too much contention, retry")

    def delete(self, model: dict[str, Any], version: int) -> None:
        """One transaction: the version goes, and so does every alias that points at it."""
        pk, sk = self.version_key(model["uid"], version)
        aliases = [a for a, v in (model.get("aliases") or {}).items() if int(v) == version]
        names = {f"#a{i}": a for i, a in enumerate(aliases)}
        remove = ", ".join(f"aliases.#a{i}" for i in range(len(aliases)))
        ops: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": self.key(pk, sk),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            self._model_update(
                model,
                ("REMOVE " + remove + " SET" if aliases else "SET") + " last_updated_timestamp = :t",
                "".join(f" AND aliases.#a{i} = :v" for i in range(len(aliases))),
                names,
                t=now_ms(),
                **({"v": version} if aliases else {}),
            ),
        ]
        try:
            self._transact(ops)
        except Exception as exc:
            if is_conditional_failure(exc):
                reasons = cancellation_reasons(exc)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    raise NotFound(
                        f"Model Version (name={model['name']}, version={version}) not found"
                    ) from exc
                raise Conflict("the model's aliases changed during the delete; retry") from exc
            raise

    def set_alias(self, model: dict[str, Any], alias: str, version: int) -> None:
        """The alias is set only while the version exists (a condition check in the same transaction)."""
        pk, sk = self.version_key(model["uid"], version)
        try:
            self._transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": self.key(pk, sk),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    self._model_update(
                        model,
                        "SET aliases.#a = :v, last_updated_timestamp = :t",
                        "",
                        {"#a": alias},
                        v=version,
                        t=now_ms(),
                    ),
                ]
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise NotFound(f"Model Version (name={model['name']}, version={version}) not found") from exc
            raise
