"""DynamoDB access for SLOs: definitions (with their alerting state), per-service minute and hour buckets of
observations (request count, server errors, latency sketch), and the markers that make a batch count once.
The only boto3 user of the capability. Must never write a batch's buckets except in one transaction with
its marker: a retried batch is then either wholly counted or wholly skipped."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from maestro.core.dynamo_store import (
    TenantTable,
    across_tenants,
    cancellation_reasons,
    from_item,
    is_conditional_failure,
    to_item,
)
from maestro.core.errors import Conflict, DependencyUnavailable, NotFound
from maestro.sla.evaluate import Aggregate, MinuteSource, Range, overlaps
from maestro.sla.sketch import LatencySketch

MINUTE_RETENTION_DAYS = 8  # minute buckets serve windows up to 3 days plus hour edges and recent exclusions
HOUR_RETENTION_DAYS = 92  # hour buckets serve the longest SLO window (90 days)
BATCH_MARKER_SECONDS = 86_400  # a retried batch is recognised for a day
MAX_ATTEMPTS = 10
SLOS_INDEX_PK = "SLA#SLOS"


def _minute_sk(minute: int) -> str:
    return f"M#{minute:010d}"


def _hour_sk(hour_start: int) -> str:
    return f"H#{hour_start:010d}"


def _aggregate(item: dict[str, Any]) -> Aggregate:
    return Aggregate(item["count"], item["errors"], LatencySketch.from_bytes(bytes(item["sketch"])))


def loaded_slo(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")},
        "spec": json.loads(item["spec"]),
        "state": json.loads(item.get("state") or "{}"),
    }


class SlaStore(TenantTable):
    capability = "SLA"

    # -- SLO definitions ----------------------------------------------------------------------------------
    def put_slo(self, slo: dict[str, Any], expected_version: int | None) -> None:
        """Create (expected_version None) or replace the SLO at `expected_version`."""
        item = {
            **slo,
            "pk": self.k("SLOS"),
            "sk": slo["slo_id"],
            "gsi1pk": SLOS_INDEX_PK,
            "gsi1sk": f"{self.tenant}#{slo['slo_id']}",
            "spec": json.dumps(slo["spec"], separators=(",", ":")),
            "state": json.dumps(slo.get("state") or {}, separators=(",", ":")),
        }
        condition = "attribute_not_exists(pk)" if expected_version is None else "version = :v"
        extra = (
            {}
            if expected_version is None
            else {"ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        )
        try:
            self._call("put_item", Item=to_item(item), ConditionExpression=condition, **extra)
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"SLO {slo['slo_id']} was changed concurrently; read it again") from exc
            raise

    def get_slo(self, slo_id: str) -> dict[str, Any]:
        item = self._call(
            "get_item", Key={"pk": {"S": self.k("SLOS")}, "sk": {"S": slo_id}}, ConsistentRead=True
        ).get("Item")
        if not item:
            raise NotFound(f"no SLO {slo_id}")
        return loaded_slo(from_item(item))

    def list_slos(self) -> list[dict[str, Any]]:
        return [
            loaded_slo(i)
            for i in self._query(
                KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": self.k("SLOS")}}
            )
        ]

    def delete_slo(self, slo_id: str) -> None:
        try:
            self._call(
                "delete_item",
                Key={"pk": {"S": self.k("SLOS")}, "sk": {"S": slo_id}},
                ConditionExpression="attribute_exists(pk)",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise NotFound(f"no SLO {slo_id}") from exc
            raise

    # -- observations -------------------------------------------------------------------------------------
    def record(self, batch_id: str, minutes: dict[tuple[str, int], Aggregate]) -> bool:
        """Fold one batch's per-(service, minute) aggregates into the minute and hour buckets, in one
        transaction with the batch's marker. False when the batch was already recorded."""
        hours: dict[tuple[str, int], Aggregate] = {}
        for (service, minute), aggregate in minutes.items():
            hours.setdefault((service, minute - minute % 60), Aggregate()).add(aggregate)
        deltas = {(self.k("SVC", s), _minute_sk(m)): a for (s, m), a in minutes.items()}
        deltas |= {(self.k("SVC", s), _hour_sk(h)): a for (s, h), a in hours.items()}
        now = int(time.time())
        for attempt in range(MAX_ATTEMPTS):
            current = self._get_many(list(deltas))
            writes = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": self.k("BATCHES"),
                                "sk": batch_id,
                                "expires_at": now + BATCH_MARKER_SECONDS,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
            for (pk, sk), delta in deltas.items():
                old = current.get((pk, sk))
                merged = Aggregate().add(delta) if old is None else _aggregate(old).add(delta)
                retention = MINUTE_RETENTION_DAYS if sk.startswith("M#") else HOUR_RETENTION_DAYS
                item = {
                    "pk": pk,
                    "sk": sk,
                    "count": int(merged.count),
                    "errors": int(merged.errors),
                    "sketch": merged.sketch.to_bytes(),
                    "version": (old["version"] + 1) if old else 1,
                    "expires_at": int(sk[2:]) * 60 + retention * 86_400,
                }
                put: dict[str, Any] = {"TableName": self.table, "Item": to_item(item)}
                if old is None:
                    put["ConditionExpression"] = "attribute_not_exists(pk)"
                else:
                    put["ConditionExpression"] = "version = :v"
                    put["ExpressionAttributeValues"] = {":v": {"N": str(old["version"])}}
                writes.append({"Put": put})
            try:
                self._call("transact_write_items", TransactItems=writes)
                return True
            except Exception as exc:
                if not is_conditional_failure(exc):
                    raise
                reasons = cancellation_reasons(exc)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False  # the marker exists: this batch was recorded before
                # Another batch changed a bucket first: read and merge again after a jittered pause.
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not security
        raise DependencyUnavailable(
            f"observation buckets stayed contended after {MAX_ATTEMPTS} attempts; retry the batch "
            "(it is recorded at most once)"
        )

    def _get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        items = self._batch_get([{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys])
        return {(item["pk"], item["sk"]): item for item in items}

    def buckets(self, service: str, prefix: str, start: int, end: int) -> dict[int, Aggregate]:
        """Buckets with start <= key < end, for the given kind ('M' minutes, 'H' hours)."""
        return {
            int(item["sk"][2:]): _aggregate(item)
            for item in self._query(
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": self.k("SVC", service)},
                    ":a": {"S": f"{prefix}#{start:010d}"},
                    ":b": {"S": f"{prefix}#{end - 1:010d}"},
                },
            )
        }


def every_slo(table: str) -> list[tuple[str, dict[str, Any]]]:
    """(tenant, SLO) for every tenant's SLOs: gsi1 lists them all (the checker's view)."""
    items = (from_item(raw) for raw in across_tenants(table, SLOS_INDEX_PK))
    return [(i["gsi1sk"].split("#", 1)[0], loaded_slo(i)) for i in items]


class StoredSource:
    """A service's observations read back from its buckets: whole hours from hour buckets, the edges and
    hours touched by an exclusion from minute buckets; each hour's minutes read once. The cost grows with
    the number of hours and edge minutes in a window, never with the number of observations."""

    def __init__(self, store: SlaStore, service: str) -> None:
        self.store, self.service = store, service
        self.hours: dict[int, Aggregate] = {}
        self.hours_loaded: Range | None = None
        self.minute_hours: set[int] = set()
        self.minutes = MinuteSource()

    def load_hours(self, start: int, end: int) -> None:
        """Read the hour buckets of [start, end) in one query, unless they are already read."""
        if self.hours_loaded and self.hours_loaded[0] <= start and end <= self.hours_loaded[1]:
            return
        self.hours = self.store.buckets(self.service, "H", start, end)
        self.hours_loaded = (start, end)

    def _load_minutes(self, hour: int) -> None:
        if hour not in self.minute_hours:
            self.minutes.minutes.update(self.store.buckets(self.service, "M", hour, hour + 60))
            self.minute_hours.add(hour)

    def aggregate(self, start: int, end: int, excluded: list[Range]) -> Aggregate:
        first = start - start % 60
        self.load_hours(first, end)
        total = Aggregate()
        for hour in range(first, end, 60):
            whole = start <= hour and hour + 60 <= end
            if whole and not any(overlaps((hour, hour + 60), e) for e in excluded):
                if hour in self.hours:
                    total.add(self.hours[hour])  # add() never changes its argument
                continue
            if hour not in self.hours:
                continue  # nothing was observed in this hour
            self._load_minutes(hour)
            total.add(self.minutes.aggregate(max(start, hour), min(end, hour + 60), excluded))
        return total
