"""The tenants' quota and usage items as DynamoDB sees them: their keys, and the updates that move a quota
counter (held to its limit) or a day's usage, built for a transaction; and why a refused update was refused.
Must never move a quota counter without its condition when a limit applies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.core.dynamo_store import from_item, to_item
from maestro.core.errors import Conflict
from maestro.core.tenancy import tenant_key
from maestro.tenants.plans import Limit, day_resets_at
from maestro.tenants.quotas import COUNTERS, quota_exceeded

QUOTA = "QUOTA"
USAGE_INDEX = "USAGE#"  # gsi1pk "USAGE#<day>": every tenant's usage of that day (the billing export)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


def quota_key(tenant: str) -> dict[str, Any]:
    return {"pk": _s(tenant_key(tenant, "TENANT")), "sk": _s(QUOTA)}


def quota_op(table: str, tenant: str, counter: str, delta: int, maximum: int | None) -> dict[str, Any]:
    """A TransactWriteItems Update that moves `counter` of `tenant`'s quota item by `delta`. An increase
    against a `maximum` lands only while the counter stays within it, on the tenant's existing quota item (a
    deleted tenant has none); an unlimited increase, or any decrease, always lands."""
    update: dict[str, Any] = {
        "TableName": table,
        "Key": quota_key(tenant),
        "UpdateExpression": "ADD #c :d",
        "ExpressionAttributeNames": {"#c": counter},
        "ExpressionAttributeValues": {":d": _n(delta)},
    }
    if delta > 0 and maximum is not None:
        update["ConditionExpression"] = "attribute_exists(pk) AND (attribute_not_exists(#c) OR #c <= :room)"
        update["ExpressionAttributeValues"][":room"] = _n(maximum - delta)
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Update": update}


def quota_refusal(
    old_item: Mapping[str, Any] | None, counter: str, delta: int, maximum: int | None
) -> Exception:
    """Why a reservation's condition failed, from the quota item as it stood: no item means the tenant's
    records are gone (it is being deleted); otherwise the limit was reached."""
    old = from_item(dict(old_item or {}))
    if not old or maximum is None:
        return Conflict("the tenant has no quota record: it is being deleted")
    return quota_exceeded(COUNTERS[counter], maximum, int(old.get(counter, 0)), delta)


def raise_if_quota(exc: Exception, index: int, counter: str, delta: int, maximum: int | None) -> None:
    """A cancelled transaction whose quota operation (at `index`) failed its condition: QuotaExceeded."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
    if index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed":
        raise quota_refusal(reasons[index].get("Item"), counter, delta, maximum) from exc


def usage_update(
    table: str, tenant: str, day: str, add: Mapping[str, int], put: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """An Update (for a transaction or update_item) of `tenant`'s usage of `day`: counts in `add` are added,
    values in `put` replace what was there; the item joins the day's billing index."""
    sets = {"gsi1pk": USAGE_INDEX + day, "gsi1sk": tenant, **(put or {})}
    names = {f"#s{i}": name for i, name in enumerate(sets)} | {f"#a{i}": name for i, name in enumerate(add)}
    values = {f":s{i}": to_item({"v": v})["v"] for i, v in enumerate(sets.values())}
    values |= {f":a{i}": _n(v) for i, v in enumerate(add.values())}
    expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    if add:
        expression += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(add)))
    return {
        "TableName": table,
        "Key": {"pk": _s(tenant_key(tenant, "TENANT", "USAGE")), "sk": _s(day)},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def daily_quota_update(
    table: str, tenant: str, day: str, counter: str, amount: int, maximum: int | None
) -> dict[str, Any]:
    """An Update (for a transaction or update_item) counting `amount` more of `counter` on `tenant`'s usage
    item of `day`; against a `maximum` it lands only while the day stays within it."""
    update = usage_update(table, tenant, day, {counter: amount})
    if maximum is not None:
        update["ConditionExpression"] = "attribute_not_exists(#a0) OR #a0 <= :room"
        update["ExpressionAttributeValues"][":room"] = _n(maximum - amount)
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return update


def daily_refusal(
    old_item: Mapping[str, Any] | None, counter: str, limit: Limit, maximum: int, amount: int, day: str
) -> Exception:
    """Why a daily_quota_update was refused, from the usage item as it stood: the limit was reached."""
    used = int(from_item(dict(old_item or {})).get(counter, 0))
    return quota_exceeded(limit, maximum, used, amount, day_resets_at(day))
