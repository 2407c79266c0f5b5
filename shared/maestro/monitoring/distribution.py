"""One column's distribution as monitoring keeps it: mergeable, bounded in size whatever the traffic, and
never the raw rows beyond a small exact sample. A numeric column keeps DDSketch's logarithmic buckets
(relative accuracy ALPHA, through ddsketch's own mapping) with its count, missing and invalid values, min,
max, sum and sum of squares; while it holds at most EXACT_LIMIT values it also keeps them exactly, so a
small reference or window is tested on exact data. A categorical column keeps its counts per value. Must
never grow with the number of rows beyond those bounds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ALPHA = 0.005  # DDSketch's relative accuracy: a value is kept within 0.5% of itself
EXACT_LIMIT = 1000  # Evidently's line between small references (KS, chi-square) and large ones
DISTINCT_LIMIT = 21  # distinct numeric values tracked: enough to tell <= 5 and <= 20 (test choice, binning)
MAX_CATEGORIES = 1000  # beyond this, a categorical column's rarest values are pooled as OTHER
# Buckets kept per sign: a factor of about 27,000 between the largest and smallest magnitude at full accuracy
# (DDSketch's collapsing-lowest store); smaller magnitudes join the smallest kept bucket. Without the bound a
# column around 0 would keep more buckets the more rows it sees (ever smaller values).
MAX_BUCKETS = 1024
OTHER = "__other__"
NUMERIC, CATEGORICAL = "numeric", "categorical"


def _added(into: dict[Any, int], other: dict[Any, int]) -> dict[Any, int]:
    """`into` with `other`'s counts added (in place: callers merge into a distribution of their own)."""
    for key, count in other.items():
        into[key] = into.get(key, 0) + count
    return into


def _dense(store: dict[int, int]) -> list[Any]:
    """Bucket counts as stored: the lowest key, then the count of each key from it up (most are used)."""
    if not store:
        return []
    low, high = min(store), max(store)
    return [low, [store.get(k, 0) for k in range(low, high + 1)]]


def _sparse(stored: Any) -> dict[int, int]:
    if isinstance(stored, dict):  # the first stored form: key -> count
        return {int(k): int(n) for k, n in stored.items()}
    if not stored:
        return {}
    low, counts = stored
    return {low + i: int(n) for i, n in enumerate(counts) if n}


@cache
def _mapping() -> Any:
    from ddsketch.mapping import LogarithmicMapping  # deferred: ~60 ms, only numeric columns need it

    return LogarithmicMapping(ALPHA)


def is_missing(value: Any) -> bool:
    """None, an empty cell or NaN: a value the row does not have."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    """The value as a finite float, None when it is not one (bool is not a number here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class Distribution:
    kind: str
    count: int = 0  # values present (not missing, not invalid)
    missing: int = 0
    invalid: int = 0  # present but not of the column's kind (text in a numeric column)
    # numeric
    exact: list[float] | None = field(default_factory=list)  # None once more than EXACT_LIMIT were seen
    distinct: dict[float, int] | None = field(default_factory=dict)  # None once more than DISTINCT_LIMIT
    positive: dict[int, int] = field(default_factory=dict)  # DDSketch bucket key -> count
    negative: dict[int, int] = field(default_factory=dict)
    zeros: int = 0
    low: float | None = None
    high: float | None = None
    total: float = 0.0
    squares: float = 0.0
    # categorical
    categories: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, values: Iterable[Any]) -> Distribution:
        column = cls(kind)
        for value in values:
            column.add(value)
        return column

    def add(self, value: Any) -> None:
        if is_missing(value):
            self.missing += 1
        elif self.kind == CATEGORICAL:
            self.count += 1
            key = str(value)
            self.categories[key] = self.categories.get(key, 0) + 1
        else:
            number = _number(value)
            if number is None:
                self.invalid += 1
            else:
                self._add_number(number)
                self._bound()

    def _add_number(self, number: float, weight: int = 1) -> None:
        self.count += weight
        self.total += number * weight
        self.squares += number * number * weight
        self.low = number if self.low is None else min(self.low, number)
        self.high = number if self.high is None else max(self.high, number)
        if self.exact is not None:
            self.exact.extend([number] * weight)
        if self.distinct is not None:
            self.distinct[number] = self.distinct.get(number, 0) + weight
        if number > 0:
            key = int(_mapping().key(number))
            self.positive[key] = self.positive.get(key, 0) + weight
        elif number < 0:
            key = int(_mapping().key(-number))
            self.negative[key] = self.negative.get(key, 0) + weight
        else:
            self.zeros += weight

    def _bound(self) -> None:
        for store in (self.positive, self.negative):
            if len(store) > MAX_BUCKETS:
                keys = sorted(store)
                floor = keys[-MAX_BUCKETS]
                collapsed = sum(store.pop(k) for k in keys[:-MAX_BUCKETS])
                store[floor] += collapsed
        if self.exact is not None and len(self.exact) > EXACT_LIMIT:
            self.exact = None
        if self.distinct is not None and len(self.distinct) > DISTINCT_LIMIT:
            self.distinct = None
        if len(self.categories) > MAX_CATEGORIES:
            kept = Counter(self.categories).most_common(MAX_CATEGORIES - 1)
            pooled = sum(self.categories.values()) - sum(n for _, n in kept)
            self.categories = dict(kept) | {OTHER: pooled}

    def merge(self, other: Distribution) -> Distribution:
        """This distribution and `other` as one (of the same column); `other` is left as it is."""
        self.count += other.count
        self.missing += other.missing
        self.invalid += other.invalid
        self.exact = None if self.exact is None or other.exact is None else self.exact + other.exact
        if self.distinct is None or other.distinct is None:
            self.distinct = None
        else:
            self.distinct = _added(dict(self.distinct), other.distinct)
        self.positive = _added(self.positive, other.positive)
        self.negative = _added(self.negative, other.negative)
        self.zeros += other.zeros
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        self.low, self.high = (min(lows) if lows else None), (max(highs) if highs else None)
        self.total += other.total
        self.squares += other.squares
        self.categories = _added(self.categories, other.categories)
        self._bound()
        return self

    # -- what the tests read ------------------------------------------------------------------------------
    def weighted(self) -> tuple[list[float], list[float]]:
        """The column's values with their weights: exactly (weight 1 each) while it keeps them, else each
        DDSketch bucket's representative value (within ALPHA of every value it counts)."""
        if self.exact is not None:
            return list(self.exact), [1.0] * len(self.exact)
        mapping = _mapping()
        values = [-float(mapping.value(k)) for k in sorted(self.negative, reverse=True)]
        weights = [float(self.negative[k]) for k in sorted(self.negative, reverse=True)]
        if self.zeros:
            values.append(0.0)
            weights.append(float(self.zeros))
        values += [float(mapping.value(k)) for k in sorted(self.positive)]
        weights += [float(self.positive[k]) for k in sorted(self.positive)]
        return values, weights

    @property
    def std(self) -> float:
        """The population standard deviation (numpy's np.std), from the exact sums."""
        if not self.count:
            return 0.0
        mean = self.total / self.count
        return math.sqrt(max(self.squares / self.count - mean * mean, 0.0))

    def frequencies(self) -> dict[Any, int]:
        """Counts per value: a categorical column's, or a numeric one's while it has few distinct values."""
        if self.kind == CATEGORICAL:
            return dict(self.categories)
        return dict(self.distinct or {})

    def distinct_values(self) -> set[Any] | None:
        """Its distinct values, None when a numeric column has more than DISTINCT_LIMIT."""
        if self.kind == CATEGORICAL:
            return set(self.categories)
        return None if self.distinct is None else set(self.distinct)

    @property
    def missing_rate(self) -> float:
        seen = self.count + self.missing + self.invalid
        return self.missing / seen if seen else 0.0

    # -- stored form --------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "count": self.count, "missing": self.missing}
        out["invalid"] = self.invalid
        if self.kind == CATEGORICAL:
            return out | {"categories": self.categories}
        return out | {
            "exact": self.exact,
            "distinct": None if self.distinct is None else [[v, n] for v, n in self.distinct.items()],
            "positive": _dense(self.positive),
            "negative": _dense(self.negative),
            "zeros": self.zeros,
            "low": self.low,
            "high": self.high,
            "total": self.total,
            "squares": self.squares,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Distribution:
        column = cls(data["kind"], int(data["count"]), int(data["missing"]), int(data.get("invalid", 0)))
        if column.kind == CATEGORICAL:
            column.categories = {str(k): int(n) for k, n in data["categories"].items()}
            return column
        column.exact = None if data["exact"] is None else [float(v) for v in data["exact"]]
        column.distinct = (
            None if data["distinct"] is None else {float(v): int(n) for v, n in data["distinct"]}
        )
        column.positive = _sparse(data["positive"])
        column.negative = _sparse(data["negative"])
        column.zeros = int(data["zeros"])
        column.low = None if data["low"] is None else float(data["low"])
        column.high = None if data["high"] is None else float(data["high"])
        column.total, column.squares = float(data["total"]), float(data["squares"])
        return column
