"""DynamoDB access for the registry: experiments, runs, metric history, logged models, registered models,
versions and aliases. The only boto3 user of the capability. Must never build a key without the tenant,
and never write a registry change in more than one conditional or transactional request."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from typing import Any

from maestro.core.aws import tenant_client
from maestro.core.dynamo import cancellation_reasons, from_item, pages, to_item, transact
from maestro.core.dynamo import expression_values as _values
from maestro.core.dynamo import is_conditional_failure as _is_conditional_failure
from maestro.core.errors import Conflict, NotFound, ValidationError
from maestro.core.tenancy import tenant_key
from maestro.tenants.store import Counter

HISTORY = "~M#"  # sorts after every other sort key in a run's partition, so `sk < "~"` skips history
STEP_OFFSET = 2**63  # metric steps are signed int64; offset them so they sort as zero-padded text
MAX_VERSION_ATTEMPTS = 200


def now_ms() -> int:
    return int(time.time() * 1000)


class RegistryStore:
    def __init__(self, table: str, tenant: str) -> None:
        self.table, self.tenant = table, tenant
        self.ddb = tenant_client(tenant, "dynamodb")

    # -- keys ------------------------------------------------------------------------------------------
    def k(self, *parts: str) -> str:
        return tenant_key(self.tenant, *parts)

    def key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    # -- generic access -------------------------------------------------------------------------------
    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=self.table, Key=self.key(pk, sk), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def query(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        sk_below: str | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        pk_name, sk_name = ("gsi1pk", "gsi1sk") if index else ("pk", "sk")
        condition = "#p = :p"
        values: dict[str, Any] = {":p": {"S": pk}}
        if sk_prefix is not None:
            condition += " AND begins_with(#s, :s)"
            values[":s"] = {"S": sk_prefix}
        elif sk_below is not None:
            condition += " AND #s < :s"
            values[":s"] = {"S": sk_below}
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#p": pk_name, **({"#s": sk_name} if len(values) > 1 else {})},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index:
            args["IndexName"] = index
        else:
            args["ConsistentRead"] = True
        for returned, item in enumerate(pages(self.ddb.query, **args), 1):
            yield from_item(item)
            if limit and returned >= limit:
                return

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "TableName": self.table,
            "Key": self.key(pk, sk),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            args["ExpressionAttributeNames"] = names
        if values:
            args["ExpressionAttributeValues"] = _values(**values)
        if condition:
            args["ConditionExpression"] = condition
        return from_item(self.ddb.update_item(**args)["Attributes"])

    def transact(self, items: list[dict[str, Any]]) -> None:
        transact(self.ddb, items)

    def batch_put(self, items: Iterable[dict[str, Any]]) -> None:
        pending = [{"PutRequest": {"Item": to_item(i)}} for i in items]
        for start in range(0, len(pending), 25):  # BatchWriteItem limit
            batch = pending[start : start + 25]
            for attempt in range(8):
                unprocessed = self.ddb.batch_write_item(RequestItems={self.table: batch}).get(
                    "UnprocessedItems", {}
                )
                batch = unprocessed.get(self.table, [])
                if not batch:
                    break
                time.sleep(0.02 * 2**attempt)
            if batch:
                raise RuntimeError(f"{len(batch)} items stayed unprocessed after retries")

    def put_op(self, data: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {"Put": {"TableName": self.table, "Item": to_item(data)}}
        if condition:
            op["Put"]["ConditionExpression"] = condition
        return op

    def put_new(self, item: dict[str, Any], conflict: str) -> None:
        """Put only if no item has this key yet; `conflict` is the error when one does."""
        try:
            self.ddb.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise Conflict(conflict) from exc
            raise

    def update_existing(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        missing: str,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        """Update only an existing item: NotFound (`missing`) when there is none; a failed extra `condition`
        on an existing item is re-raised for the caller to interpret."""
        base = "attribute_exists(pk)"
        try:
            return self.update(
                pk,
                sk,
                expression,
                names=names,
                values=values,
                condition=f"{base} AND ({condition})" if condition else base,
            )
        except Exception as exc:
            if _is_conditional_failure(exc) and (condition is None or self.get(pk, sk) is None):
                raise NotFound(missing) from exc
            if "Item size has exceeded" in str(exc):
                raise ValidationError("body", "the item would exceed DynamoDB's 400 KB item limit") from exc
            raise

    # -- experiments ----------------------------------------------------------------------------------
    def experiment_key(self, experiment_id: str) -> tuple[str, str]:
        if not experiment_id.isdigit():
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return self.k("EXPERIMENTS"), f"EXP#{int(experiment_id):012d}"

    def get_experiment(self, experiment_id: str) -> dict[str, Any] | None:
        return self.get(*self.experiment_key(experiment_id))

    def experiment_id_by_name(self, name: str) -> str | None:
        item = self.get(self.k("EXPERIMENT_NAMES"), name)
        return item["experiment_id"] if item else None

    def list_experiments(self) -> list[dict[str, Any]]:
        return list(self.query(self.k("EXPERIMENTS"), sk_prefix="EXP#"))

    def next_experiment_id(self) -> str:
        counter = self.update(
            self.k("COUNTERS"), "EXPERIMENT", "ADD #v :one", names={"#v": "value"}, values={"one": 1}
        )
        return str(counter["value"])

    def create_experiment(self, experiment: dict[str, Any]) -> None:
        pk, sk = self.experiment_key(experiment["experiment_id"])
        try:
            self.transact(
                [
                    self.put_op({"pk": pk, "sk": sk, **experiment}, "attribute_not_exists(pk)"),
                    self.put_op(
                        {
                            "pk": self.k("EXPERIMENT_NAMES"),
                            "sk": experiment["name"],
                            "experiment_id": experiment["experiment_id"],
                        },
                        "attribute_not_exists(pk)",
                    ),
                ]
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise Conflict(f"Experiment(name={experiment['name']}) already exists.") from exc
            raise

    def rename_experiment(self, experiment_id: str, old: str, new: str, when: int) -> None:
        pk, sk = self.experiment_key(experiment_id)
        names = self.k("EXPERIMENT_NAMES")
        try:
            self.transact(
                [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.key(names, old),
                            "ConditionExpression": "experiment_id = :id",
                            "ExpressionAttributeValues": _values(id=experiment_id),
                        }
                    },
                    self.put_op(
                        {"pk": names, "sk": new, "experiment_id": experiment_id}, "attribute_not_exists(pk)"
                    ),
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self.key(pk, sk),
                            "UpdateExpression": "SET #n = :n, last_update_time = :t",
                            "ConditionExpression": "#n = :o",
                            "ExpressionAttributeNames": {"#n": "name"},
                            "ExpressionAttributeValues": _values(n=new, t=when, o=old),
                        }
                    },
                ]
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise Conflict(f"Experiment(name={new}) already exists.") from exc
            raise

    def update_experiment(
        self,
        experiment_id: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.update_existing(
            *self.experiment_key(experiment_id),
            expression,
            names=names,
            values=values,
            missing=f"No Experiment with id={experiment_id} exists",
        )

    # -- runs -------------------------------------------------------------------------------------------
    def run_pk(self, run_id: str) -> str:
        return self.k("RUN", run_id)

    def put_run(self, run: dict[str, Any]) -> None:
        self.put_new(
            {
                "pk": self.run_pk(run["run_id"]),
                "sk": "RUN",
                "gsi1pk": self.k("EXP", run["experiment_id"], "RUNS"),
                "gsi1sk": f"{run['start_time']:015d}#{run['run_id']}",
                **run,
            },
            f"Run {run['run_id']} already exists",
        )

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self.get(self.run_pk(run_id), "RUN")

    def runs_of_experiment(self, experiment_id: str) -> Iterator[dict[str, Any]]:
        return self.query(self.k("EXP", experiment_id, "RUNS"), index="gsi1", forward=False)

    def update_run(
        self,
        run_id: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        return self.update_existing(
            self.run_pk(run_id),
            "RUN",
            expression,
            names=names,
            values=values,
            condition=condition,
            missing=f"Run with id={run_id} not found",
        )

    def put_metric_history(self, run_id: str, metrics: list[dict[str, Any]]) -> None:
        """Keyed by (key, step, timestamp, value) as MLflow's own store keys metrics: logging the same entry
        twice (a retry, or MLflow 3 re-logging a run's metrics for its model) keeps one row."""
        pk = self.run_pk(run_id)
        unique = {
            f"{HISTORY}{m['key']}#{m['step'] + STEP_OFFSET:020d}#{m['timestamp']:015d}#{m['value']}": m
            for m in metrics
        }
        self.batch_put({"pk": pk, "sk": sk, **m} for sk, m in unique.items())

    def metric_history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        return list(self.query(self.run_pk(run_id), sk_prefix=f"{HISTORY}{key}#"))

    # -- logged models ---------------------------------------------------------------------------------
    def logged_model_pk(self, model_id: str) -> str:
        return self.k("LOGGED_MODEL", model_id)

    def put_logged_model(self, model: dict[str, Any]) -> None:
        self.put_new(
            {
                "pk": self.logged_model_pk(model["model_id"]),
                "sk": "MODEL",
                "gsi1pk": self.k("EXP", model["experiment_id"], "MODELS"),
                "gsi1sk": f"{model['creation_timestamp_ms']:015d}#{model['model_id']}",
                **model,
            },
            f"Logged model {model['model_id']} already exists",
        )

    def get_logged_model(self, model_id: str) -> dict[str, Any] | None:
        return self.get(self.logged_model_pk(model_id), "MODEL")

    def logged_models_of_experiment(self, experiment_id: str) -> Iterator[dict[str, Any]]:
        return self.query(self.k("EXP", experiment_id, "MODELS"), index="gsi1", forward=False)

    def update_logged_model(
        self,
        model_id: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.update_existing(
            self.logged_model_pk(model_id),
            "MODEL",
            expression,
            names=names,
            values=values,
            missing=f"Logged model with ID '{model_id}' not found.",
        )

    def delete_logged_model(self, model_id: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key=self.key(self.logged_model_pk(model_id), "MODEL"))

    # -- registered models ------------------------------------------------------------------------------
    @property
    def models_pk(self) -> str:
        return self.k("REGISTERED_MODELS")

    def get_registered_model(self, name: str) -> dict[str, Any] | None:
        return self.get(self.models_pk, name)

    def require_registered_model(self, name: str) -> dict[str, Any]:
        model = self.get_registered_model(name)
        if model is None:
            raise NotFound(f"Registered Model with name={name} not found")
        return model

    def count_registered_models(self) -> int:
        """The tenant's registered models, counted by DynamoDB (Select COUNT: no item is read out)."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": self.models_pk}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = self.ddb.query(**args)
            total += int(response["Count"])
            if "LastEvaluatedKey" not in response:
                return total
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_registered_models(self) -> list[dict[str, Any]]:
        return list(self.query(self.models_pk))

    def create_registered_model(self, model: dict[str, Any], counter: Counter) -> None:
        """The model and one more of the tenant's registered models, in one transaction: concurrent creates
        can never leave more models than the quota allows."""
        item = {"pk": self.models_pk, "sk": model["name"], **model}
        try:
            self.transact([self.put_op(item, "attribute_not_exists(pk)"), counter.op(+1)])
        except Exception as exc:
            if not _is_conditional_failure(exc):
                raise
            if cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:  # taken, whatever the quota
                raise Conflict(f"Registered Model (name={model['name']}) already exists.") from exc
            counter.raise_if_refused(exc, 1)
            raise

    def update_registered_model(
        self,
        name: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        return self.update_existing(
            self.models_pk,
            name,
            expression,
            names=names,
            values=values,
            condition=condition,
            missing=f"Registered Model with name={name} not found",
        )

    def rename_registered_model(self, old: str, new: str, when: int) -> dict[str, Any]:
        model = self.require_registered_model(old)
        if new == old:  # as MLflow's own store: nothing to move (one transaction may not touch an item twice)
            return model
        renamed = {**model, "pk": self.models_pk, "sk": new, "name": new, "last_updated_timestamp": when}
        try:
            self.transact(
                [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.key(self.models_pk, old),
                            "ConditionExpression": "uid = :u",
                            "ExpressionAttributeValues": _values(u=model["uid"]),
                        }
                    },
                    self.put_op(renamed, "attribute_not_exists(pk)"),
                ]
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                reasons = cancellation_reasons(exc)
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise Conflict(f"Registered Model (name={new}) already exists.") from exc
                raise Conflict(f"Registered Model {old} changed during the rename; retry") from exc
            raise
        return renamed

    def delete_registered_model(self, name: str, counter: Counter) -> dict[str, Any]:
        """The model item goes first, with one fewer of the tenant's models, in one transaction: its aliases
        go with it, so no alias can outlive the model; its versions (keyed by the model's uid) are unreachable
        from then on."""
        model = self.require_registered_model(name)
        try:
            self.transact(
                [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.key(self.models_pk, name),
                            "ConditionExpression": "uid = :u",
                            "ExpressionAttributeValues": _values(u=model["uid"]),
                        }
                    },
                    counter.op(-1),
                ]
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise NotFound(f"Registered Model with name={name} not found") from exc
            raise
        for version in self.versions_of(model["uid"]):
            self.ddb.delete_item(TableName=self.table, Key=self.key(version["pk"], version["sk"]))
        return model

    # -- model versions ---------------------------------------------------------------------------------
    def version_key(self, uid: str, version: int) -> tuple[str, str]:
        return self.k("MV", uid), f"V#{version:010d}"

    def versions_of(self, uid: str) -> list[dict[str, Any]]:
        return list(self.query(self.k("MV", uid), sk_prefix="V#"))

    def all_versions(self) -> list[dict[str, Any]]:
        return list(self.query(self.k("VERSIONS"), index="gsi1"))

    def get_version(self, uid: str, version: int) -> dict[str, Any] | None:
        return self.get(*self.version_key(uid, version))

    def create_version(self, name: str, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Allocates the next version number atomically: the counter moves from the value read to value+1 in
        the same transaction that puts the version, so concurrent creators never share or skip a number."""
        for attempt in range(MAX_VERSION_ATTEMPTS):
            model = self.require_registered_model(name)
            current = int(model.get("latest_version", 0))
            number = current + 1
            when = now_ms()
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
            try:
                self.transact(
                    [
                        {
                            "Update": {
                                "TableName": self.table,
                                "Key": self.key(self.models_pk, name),
                                "UpdateExpression": "SET latest_version = :n, last_updated_timestamp = :t",
                                "ConditionExpression": "uid = :u AND (latest_version = :c OR "
                                "(attribute_not_exists(latest_version) AND :c = :zero))",
                                "ExpressionAttributeValues": _values(
                                    n=number, t=when, u=model["uid"], c=current, zero=0
                                ),
                            }
                        },
                        self.put_op(version, "attribute_not_exists(pk)"),
                    ]
                )
                return model, version
            except Exception as exc:
                if not _is_conditional_failure(exc):
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))  # noqa: S311 - jitter
        raise Conflict(f"could not allocate a version of {name}: too much contention, retry")

    def update_version(
        self,
        uid: str,
        version: int,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.update_existing(
            *self.version_key(uid, version),
            expression,
            names=names,
            values=values,
            missing=f"Model Version (version={version}) not found",
        )

    def delete_version(self, model: dict[str, Any], version: int) -> None:
        """One transaction: the version goes, and so does every alias that points at it."""
        pk, sk = self.version_key(model["uid"], version)
        aliases = [a for a, v in (model.get("aliases") or {}).items() if int(v) == version]
        ops: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": self.key(pk, sk),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        ]
        names = {f"#a{i}": a for i, a in enumerate(aliases)}
        remove = ", ".join(f"aliases.#a{i}" for i in range(len(aliases)))
        ops.append(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self.key(self.models_pk, model["name"]),
                    "UpdateExpression": ("REMOVE " + remove + " SET" if aliases else "SET")
                    + " last_updated_timestamp = :t",
                    "ConditionExpression": "uid = :u"
                    + "".join(f" AND aliases.#a{i} = :v" for i in range(len(aliases))),
                    **({"ExpressionAttributeNames": names} if names else {}),
                    "ExpressionAttributeValues": _values(
                        t=now_ms(), u=model["uid"], **({"v": version} if aliases else {})
                    ),
                }
            }
        )
        try:
            self.transact(ops)
        except Exception as exc:
            if _is_conditional_failure(exc):
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
            self.transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": self.key(pk, sk),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self.key(self.models_pk, model["name"]),
                            "UpdateExpression": "SET aliases.#a = :v, last_updated_timestamp = :t",
                            "ConditionExpression": "uid = :u",
                            "ExpressionAttributeNames": {"#a": alias},
                            "ExpressionAttributeValues": _values(v=version, t=now_ms(), u=model["uid"]),
                        }
                    },
                ]
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise NotFound(f"Model Version (name={model['name']}, version={version}) not found") from exc
            raise
