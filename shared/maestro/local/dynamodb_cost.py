"""Local mode's DynamoDB at a cost proportional to the request, not to the table. moto backs up every table a
transaction touches with a deep copy, and answers a Query on a table's key by sorting every item of the table;
both made every writer and reader (A/B ingestion, the audit chain, registry versions, SLA buckets, leases)
slow down in proportion to the data already stored. Must never change what a request answers or how it
fails: only what it copies and reads to get there."""

from __future__ import annotations

import contextvars
import copy
from typing import Any

# While a transaction runs, moto's whole-table "backup" is the table itself (nothing copied); the items the
# transaction names are saved one by one instead and put back if it fails.
_IN_TRANSACTION: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)
# While a Query on the table's own key runs, the partition it names (a Query never leaves its partition).
_PARTITION: contextvars.ContextVar[Any] = contextvars.ContextVar("partition", default=None)
copies = {"items": 0, "tables": 0}  # what rollbacks copied since start: read by `make bench` and the tests


def cost_proportional_to_the_request() -> None:
    """Patches moto's DynamoDB engine once per process."""
    _rollback_item_by_item()
    _query_one_partition()


def _query_one_partition() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_maestro_patched", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = (
            kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        )
        if index_name or hash_key is None:  # an index is not stored apart in moto: it must look at every item
            return original_query(self, hash_key, *args, **kwargs)
        token = _PARTITION.set(hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _PARTITION.reset(token)

    def all_items(self: Any) -> Any:
        hash_key = _PARTITION.get()
        if hash_key is None:
            return original_all_items(self)
        partition = self.items.get(hash_key)
        if partition is None:
            return []
        if not self.range_key_attr:
            return [partition]
        return sorted(partition.values(), key=lambda item: item.range_key)

    query._maestro_patched = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def _rollback_item_by_item() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "_maestro_patched", False):
        return
    original_transact = models.DynamoDBBackend.transact_write_items
    real_deepcopy = copy.deepcopy

    class _Copy:
        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            if isinstance(obj, Table):
                if _IN_TRANSACTION.get():
                    return obj  # restoring "the backup" is then a no-op; _restore puts the items back
                copies["tables"] += 1
            return real_deepcopy(obj, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save_items(self, transact_items)
        token = _IN_TRANSACTION.set(True)
        try:
            return original_transact(self, transact_items)
        except Exception:
            _restore(self, saved)
            raise
        finally:
            _IN_TRANSACTION.reset(token)

    transact_write_items._maestro_patched = True  # type: ignore[attr-defined]
    models.copy = _Copy  # type: ignore[assignment]  # moto's module-level `copy` import
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _save_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Any]]:
    """(table, key, a copy of the item as it is now or None) for each item the transaction names. A malformed
    operation is skipped: moto refuses it before writing anything."""
    saved = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {name: op["Item"][name] for name in key_names}
            else:
                key = op["Key"]
            current = backend.get_item(op["TableName"], key)
        except Exception:  # noqa: BLE001, S112 - moto raises the real error for this operation itself
            continue
        copies["items"] += 1
        saved.append((op["TableName"], key, _copied(current.to_json()["Attributes"]) if current else None))
    return saved


SCALARS = frozenset(("S", "N", "B", "BOOL", "NULL"))


def _copied(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A copy an update in place cannot reach: scalar values are immutable, so only maps, lists and sets
    need a deep copy."""
    if all(next(iter(value)) in SCALARS for value in attributes.values()):
        return {name: dict(value) for name, value in attributes.items()}
    return copy.deepcopy(attributes)


def _restore(backend: Any, saved: list[tuple[str, dict[str, Any], Any]]) -> None:
    for table_name, key, attributes in reversed(saved):
        if attributes is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)
