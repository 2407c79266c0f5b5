"""DynamoDB access for A/B testing: experiments, the tenant's holdout, units and per-variant statistics.
The only boto3 user of the capability. Must never update a unit without its statistics (one transaction)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from maestro.ab.ingest import EXPOSURES, SUM_FIELDS, UnitUpdate
from maestro.core.dynamo_store import (
    TenantTable,
    across_tenants,
    cancellation_reasons,
    from_item,
    is_conditional_failure,
    to_item,
)
from maestro.core.errors import Conflict, NotFound
from maestro.tenants.counters import Counter

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit


def _d(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _stored(item: dict[str, Any]) -> dict[str, Any]:
    """The spec is kept as JSON text: it holds floats, which DynamoDB's serializer refuses."""
    return {**item, "spec": json.dumps(item["spec"], separators=(",", ":"))}


def _loaded(item: dict[str, Any]) -> dict[str, Any]:
    plain = from_item(item)
    return {**plain, "spec": json.loads(plain["spec"])}


# A unit's totals, pre-period values and seen event ids are stored as JSON text, not as DynamoDB maps and
# lists: every read and write of a unit then carries 6 attribute values instead of ~25, and (de)serialising
# attribute values is what a batch of units costs most, in boto3 on Lambda as in the local endpoint.
UNIT_DOCUMENTS = ("totals", "pre", "seen")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _unit_loaded(item: dict[str, Any]) -> dict[str, Any]:
    """A stored unit, its documents decoded (an item written before they were JSON text reads the same)."""
    return {k: json.loads(v) if k in UNIT_DOCUMENTS and isinstance(v, str) else v for k, v in item.items()}


class AbStore(TenantTable):
    capability = "AB"

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    # -- experiments ------------------------------------------------------------------------------------
    def create_experiment(self, item: dict[str, Any]) -> None:
        try:
            self._call(
                "put_item",
                Item=to_item({"pk": self.k("EXPERIMENTS"), "sk": item["experiment_id"], **_stored(item)}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"experiment {item['experiment_id']} already exists") from exc
            raise

    def get_experiment(self, experiment_id: str) -> dict[str, Any]:
        item = self._call(
            "get_item", Key=self._key(self.k("EXPERIMENTS"), experiment_id), ConsistentRead=True
        ).get("Item")
        if not item:
            raise NotFound(f"no experiment {experiment_id}")
        return _loaded(item)

    def list_experiments(self) -> list[dict[str, Any]]:
        return [
            _loaded(i)
            for i in self._raw_query(
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": self.k("EXPERIMENTS")}},
            )
        ]

    def save_experiment(
        self, item: dict[str, Any], expected_version: int, running: Counter | None = None, delta: int = 0
    ) -> None:
        """Optimistic concurrency: the write lands only if nobody changed the experiment since it was read.
        A change into or out of running moves the tenant's `running` counter by `delta` in the same
        transaction, so concurrent starts never run more experiments at once than the quota allows."""
        put = {
            "TableName": self.table,
            "Item": to_item({"pk": self.k("EXPERIMENTS"), "sk": item["experiment_id"], **_stored(item)}),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
        }
        try:
            if running is None or delta == 0:
                self._call("put_item", **{k: v for k, v in put.items() if k != "TableName"})
            else:
                self._transact([{"Put": put}, running.op(delta)])
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            if running is not None and delta and cancellation_reasons(exc)[:1] != ["ConditionalCheckFailed"]:
                running.raise_if_refused(exc, 1, delta)
            raise Conflict("the experiment changed since it was read; retry") from exc

    # -- tenant settings ---------------------------------------------------------------------------------
    def holdout_fraction(self) -> float:
        item = self._call("get_item", Key=self._key(self.k("SETTINGS"), "HOLDOUT")).get("Item")
        return float(from_item(item)["fraction"]) if item else 0.0

    def set_holdout_fraction(self, fraction: float) -> None:
        self._call(
            "put_item", Item=to_item({"pk": self.k("SETTINGS"), "sk": "HOLDOUT", "fraction": _d(fraction)})
        )

    # -- units and statistics ------------------------------------------------------------------------------
    def units_pk(self, experiment_id: str) -> str:
        return self.k(experiment_id, "UNITS")

    def stats_pk(self, experiment_id: str) -> str:
        return self.k(experiment_id, "STATS")

    def get_units(self, experiment_id: str, unit_ids: list[str]) -> dict[str, dict[str, Any]]:
        pk = self.units_pk(experiment_id)
        return {
            item["sk"]: _unit_loaded(item) for item in self._batch_get([self._key(pk, u) for u in unit_ids])
        }

    def apply_units(self, experiment_id: str, updates: list[UnitUpdate]) -> None:
        """One transaction for a chunk of units: each unit's new totals, put only if its version is the one
        read, and the summed deltas of every statistic they touch, so the statistics always equal the sum over
        units. A unit changed concurrently cancels the whole chunk (nothing is half-written)."""
        stats_pk = self.stats_pk(experiment_id)
        ops: list[dict[str, Any]] = []
        deltas: dict[str, dict[str, float]] = {}
        for update in updates:
            after = update.after
            unit = {
                "pk": self.units_pk(experiment_id),
                "sk": update.unit_id,
                "variant": after.variant,
                "version": after.version,
                "totals": _json(after.totals),
                "pre": _json(after.pre),
                "seen": _json(sorted(after.seen)),
            }
            put: dict[str, Any] = {"TableName": self.table, "Item": to_item(unit)}
            if update.before.version == 0:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = {":v": {"N": str(update.before.version)}}
            ops.append({"Put": put})
            for metric, delta in update.stats_delta.items():
                total = deltas.setdefault(f"{after.variant}#{metric}", dict.fromkeys(SUM_FIELDS, 0.0))
                for f in SUM_FIELDS:
                    total[f] += delta[f]
            if update.newly_exposed:
                deltas.setdefault(f"{after.variant}#{EXPOSURES}", {"n": 0.0})["n"] += 1
        for sk, delta in deltas.items():
            ops.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._key(stats_pk, sk),
                        "UpdateExpression": "ADD " + ", ".join(f"{f} :{f}" for f in delta),
                        "ExpressionAttributeValues": {f":{f}": {"N": str(_d(v))} for f, v in delta.items()},
                    }
                }
            )
        self._call("transact_write_items", TransactItems=ops)

    def statistics(self, experiment_id: str) -> dict[str, dict[str, dict[str, float]]]:
        """variant -> metric -> stored sums, and variant -> __exposures__ -> {n} (`ingest.with_counts` makes
        them sufficient statistics)."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for item in self._raw_query(
            KeyConditionExpression="pk = :p",
            ConsistentRead=True,
            ExpressionAttributeValues={":p": {"S": self.stats_pk(experiment_id)}},
        ):
            plain = from_item(item)
            variant, metric = plain["sk"].split("#", 1)
            out.setdefault(variant, {})[metric] = {
                f: float(v) for f, v in plain.items() if f == "n" or f in SUM_FIELDS
            }
        return out

    def unit_values(self, experiment_id: str) -> list[dict[str, Any]]:
        """Every exposed unit's totals (for rank tests and quantiles): cost grows with units, not events."""
        return [
            _unit_loaded(from_item(i))
            for i in self._raw_query(
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": self.units_pk(experiment_id)}},
                ProjectionExpression="variant, totals, pre",
            )
        ]


def now_ms() -> int:
    return int(time.time() * 1000)


def running_experiments(table: str) -> list[dict[str, Any]]:
    """Every tenant's running experiments (the scheduler's view): gsi1 holds only running ones."""
    return [_loaded(i) for i in across_tenants(table, "AB#RUNNING")]
