"""Deterministic variant assignment, specified precisely enough for any client SDK to reproduce it.
Must never depend on process state, randomness or anything but its inputs (no numpy, no I/O).

The algorithm (version 1):

1. hash01(text) = the first 8 bytes of SHA-256(UTF-8 bytes of `text`, no normalisation), read as a big-endian
   unsigned 64-bit integer, shifted right by 11 bits (keeping 53 bits), divided by 2**53. The result is in
   [0, 1) and is exactly representable as an IEEE-754 double in every language.
2. Forced overrides win: if the unit id is in `overrides`, that variant is returned (reason "override").
3. Global holdout: if hash01("holdout:" + holdout_seed + ":" + unit_id) < holdout_fraction, no variant
   (reason "holdout").
4. Namespace (mutual exclusion): if the experiment claims [start, end) of a namespace, the unit takes part
   only if start <= hash01("namespace:" + namespace + ":" + unit_id) < end (else reason "namespace").
5. Bucket: b = hash01(seed + ":" + unit_id).
6. Ranges: variant i (in configured order, weights summing to 1) owns [c_i, c_i + coverage * w_i), where c_i
   is the sum of the weights before it. The unit gets the variant whose range holds b, else no variant
   (reason "coverage"). Raising coverage only lengthens ranges from their fixed starts, so an enrolled unit
   never moves to another variant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ALGORITHM_VERSION = 1
_SCALE = 2.0**53


def hash01(text: str) -> float:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / _SCALE


@dataclass(frozen=True)
class Variant:
    key: str
    weight: float


@dataclass(frozen=True)
class AssignmentConfig:
    seed: str
    variants: tuple[Variant, ...]
    coverage: float = 1.0
    namespace: str | None = None
    namespace_range: tuple[float, float] = (0.0, 1.0)
    overrides: Mapping[str, str] = field(default_factory=dict)
    holdout_seed: str | None = None
    holdout_fraction: float = 0.0

    def __post_init__(self) -> None:
        total = sum(v.weight for v in self.variants)
        if not self.variants or abs(total - 1.0) > 1e-9 or any(v.weight < 0 for v in self.variants):
            raise ValueError(f"variant weights must be non-negative and sum to 1 (they sum to {total})")
        if not 0.0 <= self.coverage <= 1.0:
            raise ValueError("coverage must be within [0, 1]")
        start, end = self.namespace_range
        if not 0.0 <= start < end <= 1.0:
            raise ValueError("namespace range must satisfy 0 <= start < end <= 1")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise ValueError("holdout fraction must be within [0, 1)")
        keys = [v.key for v in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        unknown = set(self.overrides.values()) - set(keys)
        if unknown:
            raise ValueError(f"overrides name unknown variants {sorted(unknown)}")


@dataclass(frozen=True)
class Assignment:
    variant: str | None
    reason: str  # "assigned" | "override" | "holdout" | "namespace" | "coverage"
    bucket: float | None = None


def ranges(variants: Sequence[Variant], coverage: float) -> list[tuple[str, float, float]]:
    out, start = [], 0.0
    for v in variants:
        out.append((v.key, start, start + coverage * v.weight))
        start += v.weight
    return out


def assign(config: AssignmentConfig, unit_id: str) -> Assignment:
    forced = config.overrides.get(unit_id)
    if forced is not None:
        return Assignment(forced, "override")
    if (
        config.holdout_fraction
        and hash01(f"holdout:{config.holdout_seed}:{unit_id}") < config.holdout_fraction
    ):
        return Assignment(None, "holdout")
    if config.namespace is not None:
        start, end = config.namespace_range
        if not start <= hash01(f"namespace:{config.namespace}:{unit_id}") < end:
            return Assignment(None, "namespace")
    bucket = hash01(f"{config.seed}:{unit_id}")
    for key, low, high in ranges(config.variants, config.coverage):
        if low <= bucket < high:
            return Assignment(key, "assigned", bucket)
    return Assignment(None, "coverage", bucket)
