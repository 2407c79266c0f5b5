"""Plans and limits, the refusals' wording, usage aggregation and the billing CSV: no AWS."""

import csv
import io
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from maestro.tenants import usage
from maestro.tenants.plans import GIB, PLANS, Limit, effective_limits, minute_of
from maestro.tenants.quotas import quota_exceeded, rate_limited


def test_limits_are_the_plans_with_overrides_and_unlimited_ones_left_out() -> None:
    assert effective_limits("free", {}) == {str(k): v for k, v in PLANS["free"].items()}
    limits = effective_limits("free", {"registered_models": 3, "storage_bytes": None})
    assert limits["registered_models"] == 3
    assert "storage_bytes" not in limits  # an override of None lifts the limit
    assert limits["requests_per_minute"] == 600 and limits["explanation_rows_per_day"] == 10_000
    enterprise = effective_limits("enterprise", {"running_experiments": 50})
    assert enterprise == {"requests_per_minute": 60_000, "running_experiments": 50}


def test_a_rate_limit_refusal_says_which_limit_and_when_to_retry() -> None:
    now = datetime(2026, 12, 1, 10, 30, 42, tzinfo=UTC).timestamp()
    refusal = rate_limited(600, 600, minute_of(now), now)
    assert refusal.status == 429 and refusal.code == "RATE_LIMITED"
    assert refusal.details == {
        "limit": "requests_per_minute",
        "maximum": 600,
        "used": 600,
        "resets_at": "2026-12-01T10:31:00Z",
        "retry_after_s": 18,
    }
    assert "requests_per_minute" in refusal.message and "retry after 18 s" in refusal.message


def test_a_quota_refusal_names_the_limit_what_is_used_and_the_way_past_it() -> None:
    refusal = quota_exceeded(Limit.EXPLANATION_ROWS_PER_DAY, 10_000, 9_500, 1_000, "2026-12-02T00:00:00Z")
    assert refusal.status == 403 and refusal.code == "QUOTA_EXCEEDED"
    assert refusal.details["limit"] == "explanation_rows_per_day" and refusal.details["used"] == 9_500
    assert "9,500 of 10,000 used, 1,000 more requested; resets at 2026-12-02T00:00:00Z" in refusal.message
    models = quota_exceeded(Limit.REGISTERED_MODELS, 10, 10, 1)
    assert models.details["resets_at"] is None and "delete a registered model" in models.message


def outcome(
    tenant: str | None, capability: str, at: str, latency_ms: float, status: int = 200, kind="request"
):
    return {
        "service": f"maestro:{capability}",
        "timestamp": datetime.fromisoformat(at).timestamp(),
        "latency_ms": latency_ms,
        "status": status,
        **({"tenant": tenant} if tenant else {}),
        "capability": capability,
        "kind": kind,
    }


def test_usage_counts_requests_errors_and_compute_per_tenant_capability_and_utc_day() -> None:
    counts = usage.aggregate(
        [
            outcome("acme", "registry", "2026-12-01T23:59:59+00:00", 12.4),
            outcome("acme", "registry", "2026-12-01T10:00:00+00:00", 7.6, status=503),
            outcome("acme", "registry", "2026-12-02T00:00:01+00:00", 5.0),  # the next UTC day
            outcome("acme", "explain", "2026-12-01T11:00:00+00:00", 4_000.0, kind="job"),
            outcome("globex", "ab", "2026-12-01T11:00:00+00:00", 0.2),
        ]
    )
    assert counts == {
        ("acme", "2026-12-01"): {
            "requests_registry": 2,
            "errors_registry": 1,
            "compute_ms_registry": 20,
            "compute_ms_explain": 4_000,  # a workflow step is compute, not a request
        },
        ("acme", "2026-12-02"): {"requests_registry": 1, "compute_ms_registry": 5},
        ("globex", "2026-12-01"): {"requests_ab": 1, "compute_ms_ab": 1},  # at least 1 ms, as Lambda bills
    }


def test_outcomes_naming_no_tenant_or_an_unknown_capability_count_nothing() -> None:
    assert usage.aggregate([outcome(None, "registry", "2026-12-01T00:00:00+00:00", 3.0)]) == {}
    assert usage.aggregate([outcome("acme", "nonsense", "2026-12-01T00:00:00+00:00", 3.0)]) == {}


@given(st.lists(st.tuples(st.sampled_from(usage.CAPABILITIES), st.floats(0, 10_000)), max_size=40))
def test_aggregated_requests_add_up_to_the_requests_given(rows: list[tuple[str, float]]) -> None:
    counts = usage.aggregate([outcome("acme", c, "2026-12-01T12:00:00+00:00", ms) for c, ms in rows])
    day = counts.get(("acme", "2026-12-01"), {})
    assert sum(v for k, v in day.items() if k.startswith("requests_")) == len(rows)


def test_a_day_shows_totals_and_storage_is_a_level_not_a_flow() -> None:
    first = usage.day_view(
        {
            "sk": "2026-12-01",
            "requests_registry": 3,
            "requests_ab": 2,
            "compute_ms_ab": 1500,
            "storage_bytes": 7,
        }
    )
    second = usage.day_view({"sk": "2026-12-02", "rows_explained": 40, "storage_bytes": 9})
    assert first["requests"]["total"] == 5 and first["compute_seconds"]["ab"] == 1.5
    assert second["requests"]["total"] == 0 and second["rows_explained"] == 40
    assert usage.totals([first, second]) == {
        "requests": 5,
        "errors": 0,
        "compute_seconds": 1.5,
        "rows_explained": 40,
        "storage_bytes": 9,  # the latest measurement, not 16
    }


def test_the_billing_csv_has_a_row_per_tenant_and_day_with_every_column() -> None:
    items = [
        {"gsi1sk": "globex", "requests_sla": 4, "storage_bytes": 2 * GIB},
        {"gsi1sk": "acme", "requests_registry": 1, "compute_ms_registry": 250, "rows_explained": 12},
    ]
    body = usage.to_csv(usage.export_rows("2026-12-01", items, {"acme": "team", "globex": "free"}))
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0]) == usage.EXPORT_COLUMNS
    assert [(r["tenant_id"], r["plan"], r["requests"]) for r in rows] == [
        ("acme", "team", "1"),
        ("globex", "free", "4"),
    ]
    assert rows[0]["compute_seconds_registry"] == "0.25" and rows[0]["storage_bytes"] == ""
    assert rows[1]["storage_bytes"] == str(2 * GIB) and rows[1]["requests_sla"] == "4"
    assert usage.days_between(date(2026, 11, 30), date(2026, 12, 2)) == [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ]
