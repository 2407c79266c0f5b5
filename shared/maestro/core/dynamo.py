"""DynamoDB plumbing every capability's store shares: item (de)serialisation, conditional-failure
detection, pagination. Must never hold a capability's keys or rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any


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
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def cancellation_reasons(exc: Exception) -> list[str]:
    """A cancelled transaction's reason code per item, in the order the items were given."""
    return [r.get("Code", "None") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]


def pages(query: Callable[..., dict[str, Any]], **args: Any) -> Iterator[dict[str, Any]]:
    """Every raw item of a Query or Scan, following LastEvaluatedKey."""
    while True:
        response = query(**args)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        args["ExclusiveStartKey"] = response["LastEvaluatedKey"]
