"""DynamoDB access for the audit trail: each tenant's chain (records by sequence number, their head), the
markers that make a record count once, digests, the tenant's audit settings, and AccessDenied counters.
The only DynamoDB user of the capability. Must never append to a chain except in one transaction that
moves its head from the sequence number it was read at."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from maestro.audit.records import GENESIS, canonical
from maestro.core.dynamo_store import (
    TenantTable,
    across_tenants,
    cancellation_reasons,
    from_item,
    is_conditional_failure,
    to_item,
)

HEADS_INDEX_PK = "AUDIT#CHAINS"
MAX_RECORDS_PER_TRANSACTION = 49  # each record is 2 items (record, marker), plus the head: within 100


class ChainMoved(Exception):
    """Another writer appended first: read the head again."""


def seq_key(seq: int) -> str:
    return f"{seq:012d}"


class AuditStore(TenantTable):
    capability = "AUDIT"

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    # -- the chain ----------------------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        item = self._get(self.k("HEAD"), "CHAIN")
        return (item["seq"], item["hash"]) if item else (0, GENESIS)

    def append(self, records: list[dict[str, Any]], head_seq: int, expires: list[int]) -> list[int]:
        """Append chained records after `head_seq` (one transaction). Returns the indexes of records whose
        id was already in the chain (duplicates): nothing is written then, and the caller drops them."""
        last = records[-1]
        head = {
            "pk": self.k("HEAD"),
            "sk": "CHAIN",
            "seq": last["seq"],
            "hash": last["hash"],
            "gsi1pk": HEADS_INDEX_PK,
            "gsi1sk": self.tenant,
        }
        head_put: dict[str, Any] = {"TableName": self.table, "Item": to_item(head)}
        if head_seq:
            head_put |= {
                "ConditionExpression": "seq = :s",
                "ExpressionAttributeValues": {":s": {"N": str(head_seq)}},
            }
        else:
            head_put["ConditionExpression"] = "attribute_not_exists(pk)"
        writes: list[dict[str, Any]] = [{"Put": head_put}]
        for record, expires_at in zip(records, expires, strict=True):
            writes.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": self.k("ID"),
                                "sk": record["record_id"],
                                "seq": record["seq"],
                                "expires_at": expires_at,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            writes.append(
                {"Put": {"TableName": self.table, "Item": to_item(self._record_item(record, expires_at))}}
            )
        try:
            self._call("transact_write_items", TransactItems=writes)
            return []
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            reasons = cancellation_reasons(exc)
            duplicates = (
                [i for i in range(len(records)) if reasons[1 + 2 * i] == "ConditionalCheckFailed"]
                if reasons
                else []
            )
            if duplicates:
                return duplicates
            raise ChainMoved() from exc

    def _record_item(self, record: dict[str, Any], expires_at: int) -> dict[str, Any]:
        return {
            "pk": self.k("LOG"),
            "sk": seq_key(record["seq"]),
            "record": canonical(record),
            "hash": record["hash"],
            "principal": record["principal"],
            "action": record["action"],
            "resource": record["resource"],
            "outcome": record["outcome"],
            "occurred_at": record["occurred_at"],
            "gsi1pk": self.k("TIME"),
            "gsi1sk": f"{record['occurred_at']}#{seq_key(record['seq'])}",
            "expires_at": expires_at,
        }

    def records(self, first_seq: int = 1, last_seq: int | None = None) -> Iterator[dict[str, Any]]:
        """Index items in sequence order (raw: `record` is the JSON text the hash covers)."""
        return self._query(
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": self.k("LOG")},
                ":a": {"S": seq_key(first_seq)},
                ":b": {"S": seq_key(last_seq if last_seq is not None else 10**12 - 1)},
            },
        )

    def search(
        self, start: str, end: str, filters: dict[str, str], limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Records with start <= occurred_at < end (gsi1), filtered, one page."""
        names = {f"#{k}": k for k in filters}
        values: dict[str, Any] = {":p": {"S": self.k("TIME")}, ":a": {"S": start}, ":b": {"S": end}}
        values |= {f":{k}": {"S": v} for k, v in filters.items()}
        args: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": values,
        }
        if filters:
            args["FilterExpression"] = " AND ".join(f"#{k} = :{k}" for k in filters)
            args["ExpressionAttributeNames"] = names
        items, cursor = self._page(limit, cursor, **args)
        return [json.loads(from_item(i)["record"]) for i in items], cursor

    # -- digests ------------------------------------------------------------------------------------------
    def digest_head(self) -> dict[str, Any]:
        return self._get(self.k("HEAD"), "DIGEST") or {"number": 0, "last_seq": 0, "hash": GENESIS}

    def put_digest(
        self, digest: dict[str, Any], signature: str, archive_key: str, previous_number: int
    ) -> None:
        """The digest and the new digest head, in one transaction conditional on the previous head."""
        head = {
            "pk": self.k("HEAD"),
            "sk": "DIGEST",
            "number": digest["number"],
            "last_seq": digest["last_seq"],
            "hash": digest["hash"],
        }
        head_put: dict[str, Any] = {"TableName": self.table, "Item": to_item(head)}
        if previous_number:
            head_put |= {
                "ConditionExpression": "#n = :n",
                "ExpressionAttributeNames": {"#n": "number"},
                "ExpressionAttributeValues": {":n": {"N": str(previous_number)}},
            }
        else:
            head_put["ConditionExpression"] = "attribute_not_exists(pk)"
        item = {
            "pk": self.k("DIGEST"),
            "sk": f"{digest['number']:08d}",
            "digest": canonical(digest),
            "signature": signature,
            "archive_key": archive_key,
        }
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {"Put": head_put},
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise ChainMoved() from exc
            raise

    def digests(self) -> list[dict[str, Any]]:
        return list(
            self._query(
                KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": self.k("DIGEST")}}
            )
        )

    # -- settings and counters ----------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        item = self._get(self.k("SETTINGS"), "SETTINGS")
        return json.loads(item["settings"]) if item else {}

    def put_settings(self, settings: dict[str, Any]) -> None:
        self._call(
            "put_item",
            Item=to_item({"pk": self.k("SETTINGS"), "sk": "SETTINGS", "settings": canonical(settings)}),
        )

    def count_denied(self, principal: str, window_start: int, expires_at: int) -> int:
        """Atomically count one AccessDenied for `principal` in the window; returns the new count."""
        item = self._call(
            "update_item",
            Key={"pk": {"S": self.k("DENIED", principal)}, "sk": {"S": str(window_start)}},
            UpdateExpression="ADD #c :one SET expires_at = :e",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":e": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW",
        )["Attributes"]
        return int(item["count"]["N"])


def chains(table: str) -> list[str]:
    """Every tenant with an audit chain (gsi1 lists their heads)."""
    return [from_item(i)["gsi1sk"] for i in across_tenants(table, HEADS_INDEX_PK)]


def now_s() -> int:
    return int(time.time())
