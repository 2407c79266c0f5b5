"""Usage metering: invocation outcomes turned into per-tenant, per-day counts (requests and compute by
capability), days shown with their totals, and the billing export's CSV. Must never count an outcome that
names no tenant, nor count a request twice (the caller makes each batch count once)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAX_DAYS = 366  # days one usage read or billing export covers
CAPABILITIES = ("platform", "registry", "ab", "explain", "audit", "sla", "tenants")
COUNTED = ("requests", "errors", "compute_ms")  # per capability: f"{kind}_{capability}"


def aggregate(outcomes: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, int]]:
    """(tenant, UTC day) -> counts to add: requests and 5xx errors of API requests, compute milliseconds of
    requests and workflow steps alike (the function's own time, which is what Lambda bills)."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for outcome in outcomes:
        tenant, capability = outcome.get("tenant"), outcome.get("capability")
        if not tenant or capability not in CAPABILITIES:
            continue
        day = datetime.fromtimestamp(float(outcome["timestamp"]), UTC).strftime("%Y-%m-%d")
        counts = out.setdefault((str(tenant), day), {})
        if outcome.get("kind") == "request":
            counts[f"requests_{capability}"] = counts.get(f"requests_{capability}", 0) + 1
            if int(outcome.get("status", 200)) >= 500:
                counts[f"errors_{capability}"] = counts.get(f"errors_{capability}", 0) + 1
        key = f"compute_ms_{capability}"
        counts[key] = counts.get(key, 0) + max(1, round(float(outcome.get("latency_ms", 0))))
    return out


def day_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """One day of one tenant's usage as the API shows it."""
    requests = {c: int(item.get(f"requests_{c}", 0)) for c in CAPABILITIES}
    errors = {c: int(item.get(f"errors_{c}", 0)) for c in CAPABILITIES}
    compute = {c: round(int(item.get(f"compute_ms_{c}", 0)) / 1000, 3) for c in CAPABILITIES}
    return {
        "day": item["sk"],
        "requests": {"total": sum(requests.values()), **requests},
        "errors": {"total": sum(errors.values()), **errors},
        "compute_seconds": {"total": round(sum(compute.values()), 3), **compute},
        "rows_explained": int(item.get("rows_explained", 0)),
        "rows_reserved": int(item.get("rows_reserved", 0)),
        "storage_bytes": item.get("storage_bytes"),
    }


def totals(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over days; storage is a level, not a flow: the last day's measurement."""
    measured = [d["storage_bytes"] for d in days if d["storage_bytes"] is not None]
    return {
        "requests": sum(d["requests"]["total"] for d in days),
        "errors": sum(d["errors"]["total"] for d in days),
        "compute_seconds": round(sum(d["compute_seconds"]["total"] for d in days), 3),
        "rows_explained": sum(d["rows_explained"] for d in days),
        "storage_bytes": measured[-1] if measured else None,
    }


def days_between(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


EXPORT_COLUMNS = [
    "day",
    "tenant_id",
    "plan",
    "requests",
    *(f"requests_{c}" for c in CAPABILITIES),
    "errors",
    "compute_seconds",
    *(f"compute_seconds_{c}" for c in CAPABILITIES),
    "rows_explained",
    "storage_bytes",
]


def export_rows(day: str, items: Iterable[Mapping[str, Any]], plans: Mapping[str, str]) -> list[list[Any]]:
    rows = []
    for item in sorted(items, key=lambda i: i["gsi1sk"]):
        view = day_view({**item, "sk": day})
        rows.append(
            [
                day,
                item["gsi1sk"],
                plans.get(item["gsi1sk"], ""),
                view["requests"]["total"],
                *(view["requests"][c] for c in CAPABILITIES),
                view["errors"]["total"],
                view["compute_seconds"]["total"],
                *(view["compute_seconds"][c] for c in CAPABILITIES),
                view["rows_explained"],
                "" if view["storage_bytes"] is None else view["storage_bytes"],
            ]
        )
    return rows


def to_csv(rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()
