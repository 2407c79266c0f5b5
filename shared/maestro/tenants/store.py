"""DynamoDB access for tenants, on the platform table: profiles (status, plan, limits, the request counter),
quota counters, role grants, usage by day and deletion records (the quota and usage items' own updates are
built in quota_store). Other capabilities reach it only through tenants.counters. Must never move a quota
counter outside a conditional update or the transaction of the change it counts."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from maestro.core.dynamo_store import (
    TenantTable,
    across_tenants,
    cancellation_reasons,
    expression_values,
    from_item,
    is_conditional_failure,
    to_item,
)
from maestro.core.errors import Conflict, NotFound
from maestro.core.object_store import Objects
from maestro.core.settings import get_settings
from maestro.core.tenancy import tenant_key, tenant_prefix
from maestro.tenants.plans import Limit
from maestro.tenants.quota_store import (
    QUOTA,
    USAGE_INDEX,
    _n,
    _s,
    daily_quota_update,
    daily_refusal,
    quota_op,
    quota_refusal,
    usage_update,
)
from maestro.tenants.quotas import COUNTERS

PROFILE, DELETION = "PROFILE", "DELETION"
TENANTS_INDEX = "TENANTS"  # gsi1pk of every tenant's profile
RPM = str(Limit.REQUESTS_PER_MINUTE)
NAMES = {"#s": "status", "#l": "limits", "#rpm": RPM, "#w": "rate_window", "#n": "rate_count"}


def now_ms() -> int:
    return int(time.time() * 1000)


class TenantStore(TenantTable):
    capability = "TENANT"

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": _s(pk), "sk": _s(sk)}

    @property
    def profile_key(self) -> dict[str, Any]:
        return self._key(self.k(), PROFILE)

    # -- profile -----------------------------------------------------------------------------------------
    def create(self, profile: dict[str, Any]) -> None:
        """The profile and its zeroed quota counters, together; Conflict if the id was ever used."""
        pk = self.k()
        item = {"pk": pk, "sk": PROFILE, "gsi1pk": TENANTS_INDEX, "gsi1sk": self.tenant, **profile}
        quota = {"pk": pk, "sk": QUOTA, "tenant_id": self.tenant, **dict.fromkeys(COUNTERS, 0)}
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table, "Item": to_item(quota)}},
                ]
            )
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            existing = self.get_profile()
            if existing and existing["status"] == "deleted":
                raise Conflict(
                    f"tenant id {self.tenant!r} belonged to a tenant deleted at "
                    f"{existing.get('status_changed_at')}; ids are never reused (its retained audit archive "
                    "stays under that id)"
                ) from exc
            raise Conflict(f"tenant {self.tenant!r} already exists") from exc

    def get_profile(self) -> dict[str, Any] | None:
        item = self._call("get_item", Key=self.profile_key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def require_profile(self) -> dict[str, Any]:
        profile = self.get_profile()
        if profile is None:
            raise NotFound(f"no tenant {self.tenant!r}")
        return profile

    def get_quota(self) -> dict[str, Any]:
        item = self._call("get_item", Key=self._key(self.k(), QUOTA), ConsistentRead=True).get("Item")
        return from_item(item) if item else {}

    def update_profile(
        self, fields: Mapping[str, Any], expected_version: int, *, statuses: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """SET `fields` (None sets null) if nobody changed the profile since `expected_version` was read (and
        its status is one of `statuses`, when given); the counters on the item are left alone."""
        names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#v": "version"}
        values = expression_values(
            **{f"f{i}": v for i, v in enumerate(fields.values())},
            new=expected_version + 1,
            expected=expected_version,
        )
        condition = "#v = :expected"
        if statuses:
            names["#s"] = "status"
            condition += " AND #s IN (" + ", ".join(f":st{i}" for i in range(len(statuses))) + ")"
            values |= {f":st{i}": _s(status) for i, status in enumerate(statuses)}
        assignments = [f"#f{i} = :f{i}" for i in range(len(fields))] + ["#v = :new"]
        try:
            response = self._call(
                "update_item",
                Key=self.profile_key,
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"tenant {self.tenant!r} changed since it was read; read it again") from exc
            raise
        return from_item(response["Attributes"])

    # -- admission: requests of the minute, reserved by conditional updates ----------------------------------
    def reserve_requests(
        self, minute: int, take: int = 1, limit: int | None = None
    ) -> tuple[bool, dict[str, Any] | None]:
        """Reserve `take` requests of `minute` if the tenant is active and they fit under its per-minute
        limit, in one conditional update that also returns the profile (status, limits, grants version). A
        block (take > 1) needs the caller's view of the limit (None: unlimited) and lands only if that is
        still the limit. (False, profile) when refused as the profile stood; (False, None): no such tenant."""
        if take == 1:
            fits = "(attribute_not_exists(#l.#rpm) OR #n < #l.#rpm)"
            extra: dict[str, Any] = {}
        elif limit is None:
            fits, extra = "attribute_not_exists(#l.#rpm)", {}
        else:
            fits, extra = "#l.#rpm = :limit AND #n <= :room", {":limit": _n(limit), ":room": _n(limit - take)}
        for _ in range(5):
            try:
                response = self._call(
                    "update_item",
                    Key=self.profile_key,
                    UpdateExpression="ADD #n :take",
                    ConditionExpression=f"#s = :active AND #w = :w AND {fits}",
                    ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues={
                        ":take": _n(take),
                        ":active": _s("active"),
                        ":w": _n(minute),
                        **extra,
                    },
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return True, from_item(response["Attributes"])
            except Exception as exc:
                if not is_conditional_failure(exc):
                    raise
                old = getattr(exc, "response", {}).get("Item")
                if not old:
                    return False, None
                profile = from_item(old)
                window = int(profile.get("rate_window", -1))
                if profile["status"] != "active" or window == minute:
                    return False, profile
                if window > minute:  # another function's clock is ahead: count in its window
                    minute = window
                    continue
            opened, now_stood = self._open_window(minute, take)
            if opened:
                return True, now_stood
            if now_stood is None or int(now_stood.get("rate_window", -1)) != minute:
                return False, now_stood  # it does not fit (or the tenant changed): not a race to retry
        raise Conflict("the tenant's request counter kept changing; retry")

    def _open_window(self, minute: int, take: int) -> tuple[bool, dict[str, Any] | None]:
        """Start `minute`'s count at `take`: (True, profile), or (False, the profile as it stood) when someone
        opened the minute first, the tenant is not active, or `take` exceeds its limit."""
        try:
            response = self._call(
                "update_item",
                Key=self.profile_key,
                UpdateExpression="SET #w = :w, #n = :take",
                ConditionExpression="#s = :active AND (attribute_not_exists(#w) OR #w < :w) AND "
                "(attribute_not_exists(#l.#rpm) OR #l.#rpm >= :take)",
                ExpressionAttributeNames=NAMES,
                ExpressionAttributeValues={":take": _n(take), ":active": _s("active"), ":w": _n(minute)},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            old = getattr(exc, "response", {}).get("Item")
            return False, from_item(old) if old else None
        return True, from_item(response["Attributes"])

    # -- role grants ---------------------------------------------------------------------------------------
    def get_user(self, principal: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key=self._key(self.k("USER"), principal), ConsistentRead=True).get(
            "Item"
        )
        return from_item(item) if item else None

    def list_users(self) -> list[dict[str, Any]]:
        return list(
            self._query(
                KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": _s(self.k("USER"))}
            )
        )

    def put_user(self, user: dict[str, Any], expected_version: int | None) -> None:
        """The grant, and a new grants version on the active tenant's profile, in one transaction: admission
        sees the change on the tenant's next request."""
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item({"pk": self.k("USER"), "sk": user["principal"], **user}),
        }
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": _n(expected_version)}
        try:
            self._transact(
                [
                    {"Put": put},
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self.profile_key,
                            "UpdateExpression": "ADD grants_version :one",
                            "ConditionExpression": "#s = :active",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":one": _n(1), ":active": _s("active")},
                        }
                    },
                ],
            )
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            reasons = cancellation_reasons(exc)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict(f"tenant {self.tenant!r} is not active: its grants cannot change") from exc
            raise Conflict(f"{user['principal']}'s grant changed since it was read; read it again") from exc

    # -- quotas --------------------------------------------------------------------------------------------
    def reserve(self, counter: str, amount: int, maximum: int | None) -> None:
        """Count `amount` more of `counter` (held to `maximum`), alone: for changes outside a transaction."""
        try:
            self._update(quota_op(self.table, self.tenant, counter, amount, maximum)["Update"])
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise
            raise quota_refusal(getattr(exc, "response", {}).get("Item"), counter, amount, maximum) from exc

    def _update(self, update: Mapping[str, Any]) -> Any:
        """An Update built for a transaction (it names its table), sent on its own."""
        return self._call("update_item", **{k: v for k, v in update.items() if k != "TableName"})

    def release(self, counter: str, amount: int) -> None:
        self._update(quota_op(self.table, self.tenant, counter, -amount, None)["Update"])

    def reserve_rows(self, day: str, rows: int, maximum: int | None) -> None:
        """Explanation rows of `day`, held to `maximum` a day (the day's usage item counts them)."""
        try:
            self._update(daily_quota_update(self.table, self.tenant, day, "rows_reserved", rows, maximum))
        except Exception as exc:
            if not is_conditional_failure(exc) or maximum is None:
                raise
            old, limit = getattr(exc, "response", {}).get("Item"), Limit.EXPLANATION_ROWS_PER_DAY
            raise daily_refusal(old, "rows_reserved", limit, maximum, rows, day) from exc

    def rows_reserved(self, day: str) -> int:
        return int(next(iter(self.usage(day, day)), {}).get("rows_reserved", 0))

    def add_usage(self, day: str, add: Mapping[str, int]) -> None:
        self._update(usage_update(self.table, self.tenant, day, add))

    def usage(self, first_day: str, last_day: str) -> list[dict[str, Any]]:
        return list(
            self._query(
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": _s(self.k("USAGE")),
                    ":a": _s(first_day),
                    ":b": _s(last_day),
                },
            )
        )

    def record_storage(self, day: str, measured: int) -> None:
        """The day's latest measurement of the tenant's stored bytes."""
        measurement = {"storage_bytes": measured, "storage_measured_at": now_ms()}
        self._update(usage_update(self.table, self.tenant, day, {}, measurement))

    def set_counter(self, counter: str, value: int, seen: int | None) -> bool:
        """Correct a drifted counter to a value counted from the data, only if it still holds `seen`."""
        if seen == value:
            return False
        try:
            self._call(
                "update_item",
                Key=self._key(self.k(), QUOTA),
                UpdateExpression="SET #c = :v",
                ConditionExpression="attribute_exists(pk) AND "
                + ("attribute_not_exists(#c)" if seen is None else "#c = :seen"),
                ExpressionAttributeNames={"#c": counter},
                ExpressionAttributeValues={":v": _n(value), **({} if seen is None else {":seen": _n(seen)})},
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    # -- metering (on the platform tenant's own items) ---------------------------------------------------
    def meter(
        self, marker: str, counts: Mapping[tuple[str, str], Mapping[str, int]], expires_at: int
    ) -> bool:
        """Add `counts` ((tenant, day) -> usage to add) with a marker named by the batch, in one transaction:
        a batch delivered again counts once (False)."""
        ops: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": self.k("METERED"), "sk": marker, "expires_at": expires_at}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        ops += [{"Update": usage_update(self.table, t, day, add)} for (t, day), add in counts.items()]
        try:
            self._transact(ops)
        except Exception as exc:
            if is_conditional_failure(exc) and cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    # -- deletion --------------------------------------------------------------------------------------------
    def get_deletion(self) -> dict[str, Any] | None:
        item = self._call("get_item", Key=self._key(self.k(), DELETION), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def put_deletion(self, deletion: dict[str, Any]) -> None:
        self._call("put_item", Item=to_item({"pk": self.k(), "sk": DELETION, **deletion}))

    def update_deletion(self, **fields: Any) -> None:
        """SET `fields` on the existing deletion record (its request stays as it was)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        self._call(
            "update_item",
            Key=self._key(self.k(), DELETION),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=expression_values(
                **{f"f{i}": v for i, v in enumerate(fields.values())}
            ),
        )


def stored_bytes(bucket: str, tenant: str) -> int:
    """The bytes of the tenant's current objects in `bucket` (noncurrent versions expire on their own)."""
    return Objects.of_tenant(bucket, tenant).total_bytes(tenant_prefix(tenant))


def statuses(table: str, tenants: set[str]) -> dict[str, str]:
    """The status of each of `tenants` that has a profile (the platform tenant has none)."""
    reader = TenantStore(table, get_settings().platform_tenant)
    keys = [{"pk": _s(tenant_key(t, "TENANT")), "sk": _s(PROFILE)} for t in sorted(tenants)]
    return {p["tenant_id"]: p["status"] for p in reader._batch_get(keys)}


def all_profiles(table: str) -> Iterator[dict[str, Any]]:
    return (from_item(i) for i in across_tenants(table, TENANTS_INDEX))


def usage_of_day(table: str, day: str) -> list[dict[str, Any]]:
    return [from_item(i) for i in across_tenants(table, USAGE_INDEX + day)]
