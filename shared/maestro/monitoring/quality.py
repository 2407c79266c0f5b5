"""Data quality of a serving window against its baseline, column by column: a missing share that jumped,
values of the wrong type, numeric values outside the reference's range, and categories the reference never
had. Must never fail a column on a check its monitor turned off."""

from __future__ import annotations

from typing import Any

import numpy as np

from maestro.monitoring.distribution import CATEGORICAL, OTHER, Distribution
from maestro.monitoring.spec import QualityOptions


def _seen(column: Distribution) -> int:
    return column.count + column.missing + column.invalid


def out_of_range_share(ref: Distribution, cur: Distribution) -> float:
    """The share of the window's numeric values below the reference's minimum or above its maximum (from a
    sketch: values within its relative accuracy of a bound may fall on either side)."""
    if not cur.count or ref.low is None or ref.high is None:
        return 0.0
    values, weights = (np.asarray(a, dtype=float) for a in cur.weighted())
    outside = float(weights[(values < ref.low) | (values > ref.high)].sum())
    return outside / float(weights.sum())


def failures(
    column: str, ref: Distribution, cur: Distribution, options: QualityOptions
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if not _seen(cur):
        return found
    jump = cur.missing_rate - ref.missing_rate
    if jump > options.max_missing_increase:
        found.append(
            {
                "column": column,
                "check": "missing_increase",
                "value": jump,
                "limit": options.max_missing_increase,
            }
        )
    invalid = cur.invalid / _seen(cur)
    if invalid > options.max_invalid:
        found.append(
            {"column": column, "check": "invalid_type", "value": invalid, "limit": options.max_invalid}
        )
    if ref.kind == CATEGORICAL:
        new = sorted(set(cur.categories) - set(ref.categories) - {OTHER})
        if new and options.new_categories:
            found.append({"column": column, "check": "new_categories", "value": new[:20], "limit": None})
    else:
        outside = out_of_range_share(ref, cur)
        if outside > options.max_out_of_range:
            found.append(
                {
                    "column": column,
                    "check": "out_of_range",
                    "value": outside,
                    "limit": options.max_out_of_range,
                }
            )
    return found
