"""DynamoDB plumbing every capability's store shares: item (de)serialisation, conditional-failure
detection, pagination, and the tenant-scoped table a store builds on. Must never hold a capability's keys
or rules."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from maestro.core.aws import client, error_code, tenant_client
from maestro.core.errors import Conflict, NotFound, ValidationError
from maestro.core.tenancy import SEPARATOR, tenant_key


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


def batch_write(ddb: Any, table: str, requests: list[dict[str, Any]]) -> int:
    """BatchWriteItem of every Put or Delete request, 25 a call; what DynamoDB leaves unprocessed
    (throttling) is sent again after a growing pause, and an error is raised if some are still left. The
    calls made."""
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        batch = requests[start : start + BATCH_WRITE_LIMIT]
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            calls += 1
            batch = (
                ddb.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {}).get(table, [])
            )
            if not batch:
                break
            time.sleep(min(1.0, 0.02 * 2**attempt))
        if batch:
            raise RuntimeError(f"{len(batch)} writes to {table} stayed unprocessed after retries")
    return calls


def tenant_items_page(
    table: str, tenant: str, cursor: dict[str, Any] | None, *, keys_only: bool = False, limit: int = 1000
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page (strongly consistent, raw DynamoDB JSON) of a Scan for every item whose partition key is led
    by `tenant` (a tenant's items lie under many partition keys), its keys alone with `keys_only`, and where
    the next page starts (None: the table is done). For platform work across a whole table: deletion,
    exports, drills."""
    args: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :t)",
        "ExpressionAttributeValues": {":t": {"S": tenant + SEPARATOR}},
        "Limit": limit,
        "ConsistentRead": True,
    }
    if keys_only:
        args["ProjectionExpression"] = "pk, sk"
    if cursor:
        args["ExclusiveStartKey"] = cursor
    response = client("dynamodb").scan(**args)
    return response.get("Items", []), response.get("LastEvaluatedKey")


# Operations that name their tables inside the request instead of taking a TableName.
_MULTI_TABLE = frozenset({"transact_write_items", "batch_get_item", "batch_write_item"})
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
BATCH_WRITE_ATTEMPTS = 8


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
        """A key led by the tenant, then the capability (a store without one keys by the tenant alone)."""
        return tenant_key(self.tenant, *((self.capability,) if self.capability else ()), *parts)

    @staticmethod
    def key(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

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

    def newest_first(
        self, gsi1pk: str, limit: int, cursor: dict[str, Any] | None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page (plain items) of a gsi1 partition whose sort keys lead with the creation time, newest
        first; only items whose `status` is `status`, when given."""
        args: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": gsi1pk}},
            "ScanIndexForward": False,
        }
        if status:
            args["FilterExpression"] = "#s = :s"
            args["ExpressionAttributeNames"] = {"#s": "status"}
            args["ExpressionAttributeValues"][":s"] = {"S": status}
        items, cursor = self._page(limit, cursor, **args)
        return [from_item(i) for i in items], cursor

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

    # -- generic item access, for stores that keep plain items under (pk, sk) ---------------------------
    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key=self.key(pk, sk), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def items(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        sk_below: str | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The items of one partition (of the table, or of gsi1 with index="gsi1"), optionally those whose
        sort key starts with `sk_prefix` or sorts below `sk_below`; at most `limit` when given."""
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
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#p": pk_name, **({"#s": sk_name} if len(values) > 1 else {})},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index:
            args["IndexName"] = index
        else:
            args["ConsistentRead"] = True
        for returned, item in enumerate(self._raw_query(**args), 1):
            yield from_item(item)
            if limit and returned >= limit:
                return

    def count_items(self, pk: str) -> int:
        """The items of one partition, counted by DynamoDB (Select COUNT: no item is read out)."""
        args: dict[str, Any] = {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": pk}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = self._call("query", **args)
            total += int(response["Count"])
            if "LastEvaluatedKey" not in response:
                return total
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def update_item(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        """UpdateItem; the item as it is afterwards (plain)."""
        args: dict[str, Any] = {
            "Key": self.key(pk, sk),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            args["ExpressionAttributeNames"] = names
        if values:
            args["ExpressionAttributeValues"] = expression_values(**values)
        if condition:
            args["ConditionExpression"] = condition
        return from_item(self._call("update_item", **args)["Attributes"])

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
        on an existing item is re-raised for the caller to interpret; an item the change would take past
        DynamoDB's 400 KB is the body's fault (ValidationError)."""
        base = "attribute_exists(pk)"
        try:
            return self.update_item(
                pk,
                sk,
                expression,
                names=names,
                values=values,
                condition=f"{base} AND ({condition})" if condition else base,
            )
        except Exception as exc:
            if is_conditional_failure(exc) and (condition is None or self.item(pk, sk) is None):
                raise NotFound(missing) from exc
            if "Item size has exceeded" in str(exc):
                raise ValidationError("body", "the item would exceed DynamoDB's 400 KB item limit") from exc
            raise

    def put_op(self, data: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        """A TransactWriteItems Put of `data` (plain) into this table."""
        op: dict[str, Any] = {"Put": {"TableName": self.table, "Item": to_item(data)}}
        if condition:
            op["Put"]["ConditionExpression"] = condition
        return op

    def put_new(self, item: dict[str, Any], conflict: str) -> None:
        """Put only if no item has this key yet; `conflict` is the error when one does."""
        try:
            self._call("put_item", Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(conflict) from exc
            raise

    def delete_item(self, pk: str, sk: str) -> None:
        self._call("delete_item", Key=self.key(pk, sk))

    def batch_put(self, items: Iterable[dict[str, Any]]) -> None:
        """Put every item (plain), 25 a request (batch_write)."""
        self.requests += batch_write(
            self.ddb, self.table, [{"PutRequest": {"Item": to_item(i)}} for i in items]
        )
