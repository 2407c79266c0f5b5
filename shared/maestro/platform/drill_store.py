"""What a restore drill asks of DynamoDB, and where it keeps its reports: every tenant's items of a table,
counted and digested; a table's latest restorable time (point-in-time recovery); a point-in-time restore into
a new table, its status, and its removal; and the drills' reports, in the platform table under the platform
tenant. The only boto3 user of drills. Must never write to a source table, nor delete a table it did not
restore (targets are named <source>-drill-<id>)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maestro.core.aws import client
from maestro.core.dynamo_store import TenantTable, batch_write, tenant_items_page, to_item
from maestro.core.errors import NotFound
from maestro.core.item_digest import ItemDigest
from maestro.core.submissions import numbers, shown
from maestro.core.tenancy import SEPARATOR

DRILL_MARK = "-drill-"


def target_name(source: str, drill_id: str) -> str:
    return f"{source}{DRILL_MARK}{drill_id[-8:]}"[:255]


def tenant_digests(table: str) -> dict[str, dict[str, Any]]:
    """{tenant: {items, digest}}: every item of `table` by the tenant leading its partition key (the digest:
    core.item_digest's, the one tenant exports record)."""
    ddb, args = client("dynamodb"), {"TableName": table, "ConsistentRead": True}
    by_tenant: dict[str, ItemDigest] = {}
    while True:
        page = ddb.scan(**args)
        for item in page.get("Items", []):
            by_tenant.setdefault(item["pk"]["S"].split(SEPARATOR, 1)[0], ItemDigest()).add(item)
        if "LastEvaluatedKey" not in page:
            break
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {tenant: digest.shown() for tenant, digest in sorted(by_tenant.items())}


def clear_tenant(table: str, tenant: str) -> int:
    """Remove the tenant's items from a drill's copy (only a table named as one), so that an export restored
    into it stands alone; how many were removed."""
    if DRILL_MARK not in table:
        raise ValueError(f"{table} is not a drill's copy")
    cursor, removed = None, 0
    while True:
        keys, cursor = tenant_items_page(table, tenant, cursor, keys_only=True)
        batch_write(client("dynamodb"), table, [{"DeleteRequest": {"Key": k}} for k in keys])
        removed += len(keys)
        if cursor is None:
            return removed


def latest_restorable(table: str) -> datetime | None:
    described = client("dynamodb").describe_continuous_backups(TableName=table)[
        "ContinuousBackupsDescription"
    ]
    recovery = described.get("PointInTimeRecoveryDescription") or {}
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        return None
    latest = recovery.get("LatestRestorableDateTime")
    return latest if isinstance(latest, datetime) else None


def restore(source: str, target: str, at: datetime) -> None:
    """Restore `source` as it was at `at` into the new table `target`."""
    client("dynamodb").restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=target, RestoreDateTime=at
    )


def status(target: str) -> str | None:
    """The restored table's status (CREATING, ACTIVE, ...), None when there is none."""
    try:
        return str(client("dynamodb").describe_table(TableName=target)["Table"]["TableStatus"])
    except Exception as exc:
        if "ResourceNotFound" in str(exc):
            return None
        raise


def remove(target: str) -> bool:
    if DRILL_MARK not in target:
        raise ValueError(f"{target} is not a drill's table")
    try:
        client("dynamodb").delete_table(TableName=target)
    except Exception as exc:
        if "ResourceNotFound" in str(exc):
            return False
        raise
    return True


class DrillStore(TenantTable):
    """The drills' reports: one item each, newest first through gsi1 (the platform tenant's keys)."""

    capability = "DRILL"

    def _pk(self, drill_id: str) -> str:
        return self.k("DRILL", drill_id)

    def put(self, drill: dict[str, Any]) -> None:
        item = {
            **numbers(drill),
            "pk": self._pk(drill["drill_id"]),
            "sk": "DRILL",
            "gsi1pk": self.k("DRILLS"),
            "gsi1sk": f"{drill['started_at']}#{drill['drill_id']}",
        }
        self._call("put_item", Item=to_item(item))

    def get(self, drill_id: str) -> dict[str, Any]:
        found = self.item(self._pk(drill_id), "DRILL")
        if found is None:
            raise NotFound(f"drill {drill_id} does not exist")
        return shown(found)

    def page(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("DRILLS"), limit, cursor)
        return [shown(i) for i in items], cursor
