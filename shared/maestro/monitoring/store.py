"""DynamoDB access for model monitoring, on its own table: monitors (listed for the scheduled checks through
gsi1), each model version's baseline (one item per column beside a summary), the serving windows (one item
per hour and column, holding that hour's distribution, expiring after WINDOW_DAYS), batch markers and check
results. The only AWS user of the capability. Must never fold a batch twice (its marker is written in the
same transaction as the buckets it changes) nor lose a concurrent batch's values (buckets are versioned)."""

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
from maestro.core.errors import DependencyUnavailable, NotFound
from maestro.monitoring.distribution import Distribution
from maestro.tenants.counters import DailyRecords
from maestro.tenants.plans import day_of

MONITORS_INDEX = "MON#MONITORS"  # gsi1pk of every tenant's monitors
WINDOW_DAYS = 35
CHECK_DAYS = 90
BATCH_MARKER_SECONDS = 7 * 86_400
MAX_ATTEMPTS = 8


def now_ms() -> int:
    return int(time.time() * 1000)


def _hour_sk(hour: int, column: str) -> str:
    return f"{hour:010d}#{column}"


class MonitoringStore(TenantTable):
    capability = "MON"

    # -- monitors -------------------------------------------------------------------------------------------
    def put_monitor(self, monitor: dict[str, Any]) -> None:
        item = {
            "pk": self.k("MONITORS"),
            "sk": monitor["monitor_id"],
            "gsi1pk": MONITORS_INDEX,
            "gsi1sk": f"{self.tenant}#{monitor['monitor_id']}",
            "monitor": json.dumps(monitor),
        }
        self._call("put_item", Item=to_item(item))

    def get_monitor(self, monitor_id: str) -> dict[str, Any]:
        item = self.item(self.k("MONITORS"), monitor_id)
        if item is None:
            raise NotFound(f"no monitor {monitor_id}")
        monitor: dict[str, Any] = json.loads(item["monitor"])
        return monitor

    def monitors(self) -> list[dict[str, Any]]:
        return [json.loads(i["monitor"]) for i in self.items(self.k("MONITORS"))]

    def delete_monitor(self, monitor_id: str) -> None:
        try:
            self._call(
                "delete_item",
                Key=self.key(self.k("MONITORS"), monitor_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise NotFound(f"no monitor {monitor_id}") from exc
            raise

    # -- baselines ------------------------------------------------------------------------------------------
    def _baseline_pk(self, model: str, version: int) -> str:
        return self.k("BASELINE", model, str(version))

    def put_baseline(
        self, model: str, version: int, summary: dict[str, Any], columns: dict[str, Distribution]
    ) -> None:
        """The columns first, then the summary that names them: a reader never sees a summary whose columns
        are not all written (a replaced baseline's older columns are simply no longer named)."""
        pk = self._baseline_pk(model, version)
        self.batch_put(
            {"pk": pk, "sk": f"COL#{c}", "dist": json.dumps(d.to_json())} for c, d in columns.items()
        )
        self._call("put_item", Item=to_item({"pk": pk, "sk": "SUMMARY", "summary": json.dumps(summary)}))

    def baseline_summary(self, model: str, version: int) -> dict[str, Any] | None:
        """The summary alone (the columns and their kinds): one small read, all that ingestion needs."""
        item = self.item(self._baseline_pk(model, version), "SUMMARY")
        return None if item is None else dict(json.loads(item["summary"]))

    def baseline(self, model: str, version: int) -> tuple[dict[str, Any], dict[str, Distribution]] | None:
        items = {i["sk"]: i for i in self.items(self._baseline_pk(model, version))}
        if "SUMMARY" not in items:
            return None
        summary = json.loads(items["SUMMARY"]["summary"])
        columns = {
            c: Distribution.from_json(json.loads(items[f"COL#{c}"]["dist"]))
            for c in summary["columns"]
            if f"COL#{c}" in items
        }
        return summary, columns

    # -- serving windows ------------------------------------------------------------------------------------
    def _window_pk(self, model: str, version: int) -> str:
        return self.k("WINDOW", model, str(version))

    def record(
        self,
        model: str,
        version: int,
        batch_id: str,
        hour: int,
        columns: dict[str, Distribution],
        quota: DailyRecords,
        records: int,
    ) -> bool:
        """Fold one batch's distributions into the hour's buckets, in one transaction with the batch's marker
        and the day's count of records (held to the tenant's quota: QuotaExceeded, and nothing is folded).
        False when the batch was already recorded."""
        pk = self._window_pk(model, version)
        keys = [(pk, _hour_sk(hour, c)) for c in columns]
        expires = hour * 3600 + WINDOW_DAYS * 86_400
        marker = {
            "pk": self.k("BATCHES"),
            "sk": f"{model}#{version}#{batch_id}",
            "expires_at": int(time.time()) + BATCH_MARKER_SECONDS,
        }
        day = day_of(hour * 3600)
        for attempt in range(MAX_ATTEMPTS):
            current = {(i["pk"], i["sk"]): i for i in self._batch_get([self.key(p, s) for p, s in keys])}
            writes = [self.put_op(marker, "attribute_not_exists(pk)"), quota.op(day, records)]
            for (item_pk, sk), delta in zip(keys, columns.values(), strict=True):
                old = current.get((item_pk, sk))
                merged = (
                    delta if old is None else Distribution.from_json(json.loads(old["dist"])).merge(delta)
                )
                item = {"pk": item_pk, "sk": sk, "dist": json.dumps(merged.to_json()), "expires_at": expires}
                item["version"] = int(old["version"]) + 1 if old else 1
                put = self.put_op(item, "attribute_not_exists(pk)" if old is None else "version = :v")
                if old is not None:
                    put["Put"]["ExpressionAttributeValues"] = {":v": {"N": str(old["version"])}}
                writes.append(put)
            try:
                self._transact(writes)
                return True
            except Exception as exc:
                if not is_conditional_failure(exc):
                    raise
                if cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                    return False  # the marker exists: this batch was recorded before
                quota.raise_if_refused(exc, 1, day, records)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not security
        raise DependencyUnavailable(
            f"the window's buckets stayed contended after {MAX_ATTEMPTS} attempts; retry the batch "
            "(it is recorded at most once)"
        )

    def window(self, model: str, version: int, first_hour: int, last_hour: int) -> dict[str, Distribution]:
        """Each column's distribution over the hours first_hour..last_hour (both included), merged."""
        merged: dict[str, Distribution] = {}
        for item in self._query(
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": self._window_pk(model, version)},
                ":a": {"S": f"{first_hour:010d}#"},
                ":b": {"S": f"{last_hour:010d}#~"},
            },
        ):
            column = item["sk"].split("#", 1)[1]
            distribution = Distribution.from_json(json.loads(item["dist"]))
            merged[column] = merged[column].merge(distribution) if column in merged else distribution
        return merged

    # -- checks ---------------------------------------------------------------------------------------------
    def put_check(self, monitor_id: str, result: dict[str, Any]) -> None:
        item = {
            "pk": self.k("CHECKS", monitor_id),
            "sk": f"{result['checked_at']:015d}",
            "result": json.dumps(result),
            "expires_at": result["checked_at"] // 1000 + CHECK_DAYS * 86_400,
        }
        self._call("put_item", Item=to_item(item))

    def check(self, monitor_id: str, checked_at: int) -> dict[str, Any]:
        item = self.item(self.k("CHECKS", monitor_id), f"{checked_at:015d}")
        if item is None:
            raise NotFound(f"monitor {monitor_id} has no check at {checked_at}")
        result: dict[str, Any] = json.loads(item["result"])
        return result

    def checks(self, monitor_id: str, limit: int) -> list[dict[str, Any]]:
        """The monitor's latest checks, newest first."""
        items = self.items(self.k("CHECKS", monitor_id), forward=False, limit=limit)
        return [json.loads(i["result"]) for i in items]


def every_monitor(table: str) -> list[tuple[str, dict[str, Any]]]:
    """(tenant, monitor) for every tenant's monitors: what the scheduled check reads, never a request."""
    return [
        (item["gsi1sk"].split("#", 1)[0], json.loads(item["monitor"]))
        for item in (from_item(i) for i in across_tenants(table, MONITORS_INDEX))
    ]
