"""Latency distributions as DDSketch (DataDog's `ddsketch`): 1% relative accuracy, mergeable, and stored in
DDSketch's standard protobuf form, so a window's percentiles come from merging per-minute sketches, never
from raw observations. Must never store a raw observation."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ddsketch.ddsketch import BaseDDSketch
    from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.01


def _empty() -> BaseDDSketch:
    # ddsketch and protobuf are imported at first use (~60 ms): routes that never touch a sketch skip them.
    from ddsketch import DDSketch

    return DDSketch(RELATIVE_ACCURACY)


@dataclass
class LatencySketch:
    sketch: BaseDDSketch = field(default_factory=_empty)

    def add(self, latency_ms: float, count: float = 1.0) -> None:
        self.sketch.add(latency_ms, count)

    def merge(self, other: LatencySketch) -> LatencySketch:
        if other.count:
            self.sketch.merge(other.sketch)
        return self

    @property
    def count(self) -> float:
        return float(self.sketch.count or 0)

    def quantile(self, q: float) -> float | None:
        """The value at rank q of the merged data, within 1% relative error; None when empty."""
        value = self.sketch.get_quantile_value(q) if self.count else None
        return None if value is None else float(value)

    def count_at_most(self, threshold_ms: float) -> float:
        """How many latencies were at most `threshold_ms`, at the sketch's resolution: values within 1% of
        the threshold may fall on either side of it."""
        from ddsketch.pb.proto import DDSketchProto, KeyMappingProto

        proto = DDSketchProto.to_proto(self.sketch)
        mapping = KeyMappingProto.from_proto(proto.mapping)
        store = proto.positiveValues
        total = float(proto.zeroCount)
        for offset, count in enumerate(store.contiguousBinCounts):
            if count and mapping.value(store.contiguousBinIndexOffset + offset) <= threshold_ms:
                total += count
        return total

    def to_bytes(self) -> bytes:
        from ddsketch.pb.proto import DDSketchProto

        return bytes(DDSketchProto.to_proto(self.sketch).SerializeToString())

    @classmethod
    def from_bytes(cls, data: bytes) -> LatencySketch:
        from ddsketch.ddsketch import BaseDDSketch
        from ddsketch.pb.proto import KeyMappingProto, pb

        proto = pb.DDSketch()
        proto.ParseFromString(data)
        sketch = BaseDDSketch(
            mapping=KeyMappingProto.from_proto(proto.mapping),
            store=_dense_store(proto.positiveValues),
            negative_store=_dense_store(proto.negativeValues),
            zero_count=proto.zeroCount,
        )
        return cls(sketch)


def _dense_store(proto: Any) -> DenseStore:
    """The store as one list copy (DenseStore.copy), where the library's from_proto adds bin by bin: reading
    a month of hour buckets is ~8x faster."""
    from ddsketch.store import DenseStore

    store = DenseStore()
    bins = list(proto.contiguousBinCounts)
    used = [i for i, count in enumerate(bins) if count]
    if used:
        offset = proto.contiguousBinIndexOffset
        parts = SimpleNamespace(
            bins=bins, count=sum(bins), offset=offset, min_key=offset + used[0], max_key=offset + used[-1]
        )
        store.copy(cast(DenseStore, parts))  # copy() reads only these five attributes
    return store
