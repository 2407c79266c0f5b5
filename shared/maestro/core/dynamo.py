"""DynamoDB plumbing every capability's store shares: item (de)serialisation, conditional-failure
detection, pagination, and the tenant-scoped table a store builds on. Must never hold a capability's keys
or rules."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from maestro.core.aws import client, error_code, tenant_client
from maestro.core.tenancy import tenant_key


def _ser() -> Any:
    from boto3.dynamodb.types import TypeSerializer  # deferred: boto3 is not needed to import a handler

    return TypeSerializer()


def _deser() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: integral ones become int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    s = _ser()
    return {k: s.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    d = _deser()
    return plain({k: d.deserialize(v) for k, v in item.items()})


def expression_values(**values: Any) -> dict[str, Any]:
    s = _ser()
    return {f":{k}": s.serialize(v) for k, v in values.items()}


def is_conditional_failure(exc: Exception) -> bool:
    code = error_code(exc)
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def cancellation_reasons(exc: Exception) -> list[str]:
    """A cancelled transaction's reason code per item, in the order the items were given."""
    return [r.get("Code", "None") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]


TRANSACTION_ATTEMPTS = 6


def transact(ddb: Any, items: list[dict[str, Any]], attempts: int = TRANSACTION_ATTEMPTS) -> Any:
    """TransactWriteItems, sent again after a growing, jittered pause when DynamoDB cancelled it only for a
    conflict with another transaction on the same items (TransactionConflict): callers see real outcomes
    (a failed condition, or success), never the race. Nothing of a cancelled transaction was written."""
    for attempt in range(attempts):
        try:
            return ddb.transact_write_items(TransactItems=items)
        except Exception as exc:
            reasons = set(cancellation_reasons(exc)) - {"None"}
            if attempt + 1 == attempts or not reasons or reasons - {"TransactionConflict"}:
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - backoff jitter, not a secret
    raise AssertionError("unreachable")


def pages(query: Callable[..., dict[str, Any]], **args: Any) -> Iterator[dict[str, Any]]:
    """Every raw item of a Query or Scan, following LastEvaluatedKey."""
    while True:
        response = query(**args)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        args["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def across_tenants(table: str, gsi1pk: str) -> Iterator[dict[str, Any]]:
    """The raw items of one gsi1 partition that lists every tenant's items of a kind: what a scheduled job
    reads, never a tenant's request."""
    return pages(
        client("dynamodb").query,
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": gsi1pk}},
    )


# Operations that name their tables inside the request instead of taking a TableName.
_MULTI_TABLE = frozenset({"transact_write_items", "batch_get_item", "batch_write_item"})
BATCH_GET_LIMIT = 100


class TenantTable:
    """One capability's view of its table for one tenant: keys led by the tenant and the capability, requests
    made with the tenant's credentials (core.aws.tenant_client), and every DynamoDB request counted (the cost
    figures of `make bench` read `requests`)."""

    capability = ""

    def __init__(self, table: str, tenant: str) -> None:
        self.table, self.tenant = table, tenant
        self.ddb = tenant_client(tenant, "dynamodb")
        self.requests = 0

    def k(self, *parts: str) -> str:
        return tenant_key(self.tenant, self.capability, *parts)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        self.requests += 1
        if operation in _MULTI_TABLE:
            return getattr(self.ddb, operation)(**kwargs)
        return getattr(self.ddb, operation)(TableName=self.table, **kwargs)

    def _transact(self, items: list[dict[str, Any]]) -> Any:
        self.requests += 1
        return transact(self.ddb, items)

    def _raw_query(self, **args: Any) -> Iterator[dict[str, Any]]:
        return pages(lambda **page: self._call("query", **page), **args)

    def _query(self, **args: Any) -> Iterator[dict[str, Any]]:
        return (from_item(i) for i in self._raw_query(**args))

    def _page(
        self, limit: int, cursor: dict[str, Any] | None, **args: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a Query: at most `limit` raw items, and the cursor after the last item read (None:
        no more). A filtered query may need several requests to fill a page; each asks only for what is still
        missing, so the cursor never skips a match that did not fit."""
        items: list[dict[str, Any]] = []
        while True:
            page = {**args, "Limit": limit - len(items)}
            if cursor:
                page["ExclusiveStartKey"] = cursor
            response = self._call("query", **page)
            items += response.get("Items", [])
            cursor = response.get("LastEvaluatedKey")
            if not cursor or len(items) >= limit:
                return items, cursor

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every item of `keys` that exists (plain), 100 keys a request; keys DynamoDB leaves unprocessed
        (throttling) are asked again after a growing pause."""
        found: list[dict[str, Any]] = []
        pending, attempt = list(keys), 0
        while pending:
            response = self._call(
                "batch_get_item",
                RequestItems={self.table: {"Keys": pending[:BATCH_GET_LIMIT], "ConsistentRead": True}},
            )
            found += [from_item(i) for i in response.get("Responses", {}).get(self.table, [])]
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
            pending = unprocessed + pending[BATCH_GET_LIMIT:]
            if unprocessed:
                attempt += 1
                time.sleep(min(1.0, 0.02 * 2**attempt))
        return found
