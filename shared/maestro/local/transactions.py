"""Local mode's DynamoDB transactions at a cost proportional to the transaction, not to the table: moto backs
up every table a transaction touches with a deep copy, which made every transactional writer (A/B ingestion,
the audit chain, registry versions, SLA buckets, leases) slow down in proportion to the data already stored.
Must never change what a transaction does or how it fails: only what its rollback copies."""

from __future__ import annotations

import contextvars
import copy
from typing import Any

# While a transaction runs, moto's whole-table "backup" is the table itself (nothing copied); the items the
# transaction names are saved one by one instead and put back if it fails.
_IN_TRANSACTION: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)
copies = {"items": 0, "tables": 0}  # what rollbacks copied since start: read by `make bench` and the tests


def rollback_item_by_item() -> None:
    """Patches moto's DynamoDB backend once per process."""
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
        attributes = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        saved.append((op["TableName"], key, attributes))
    return saved


def _restore(backend: Any, saved: list[tuple[str, dict[str, Any], Any]]) -> None:
    for table_name, key, attributes in reversed(saved):
        if attributes is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)
