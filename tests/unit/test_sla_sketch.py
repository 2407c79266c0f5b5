"""Latency sketches: percentiles of merged per-minute sketches against numpy's exact ones."""

import numpy as np
import pytest

from maestro.sla.sketch import LatencySketch


def test_p99_of_a_million_heavy_tailed_observations_is_within_one_percent() -> None:
    rng = np.random.default_rng(7)
    latencies = (rng.pareto(1.2, 1_000_000) + 1) * 25  # Pareto: a tail much heavier than log-normal
    merged = LatencySketch()
    for minute in np.array_split(latencies, 1440):  # a day of per-minute sketches, stored and merged
        sketch = LatencySketch()
        for value in minute.tolist():
            sketch.add(value)
        merged.merge(LatencySketch.from_bytes(sketch.to_bytes()))
    assert merged.count == 1_000_000
    for q in (0.5, 0.95, 0.99, 0.999):
        exact = float(np.percentile(latencies, q * 100))
        assert merged.quantile(q) == pytest.approx(exact, rel=0.01), q


def test_merging_equals_one_sketch_of_everything() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(4, 1, 20_000).tolist()
    whole, parts = LatencySketch(), [LatencySketch() for _ in range(7)]
    for i, value in enumerate(values):
        whole.add(value)
        parts[i % 7].add(value)
    merged = LatencySketch()
    for part in parts:
        merged.merge(part)
    for q in (0.1, 0.5, 0.9, 0.99):
        assert merged.quantile(q) == whole.quantile(q)


def test_count_at_most_a_threshold_is_exact_away_from_the_threshold() -> None:
    sketch = LatencySketch()
    for value in [0.0, 5, 10, 100, 290, 310, 1000, 5000]:
        sketch.add(value)
    assert sketch.count_at_most(300) == 5  # 0, 5, 10, 100, 290
    assert sketch.count_at_most(0.5) == 1  # only the zero
    assert sketch.count_at_most(10_000) == 8


def test_an_empty_sketch_has_no_quantiles() -> None:
    assert LatencySketch().quantile(0.99) is None
    assert LatencySketch.from_bytes(LatencySketch().to_bytes()).count == 0
