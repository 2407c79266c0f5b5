"""Assignment is deterministic, uniform, sticky under coverage changes, and exclusive within a namespace."""

import hashlib
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from maestro.ab.assignment import AssignmentConfig, Variant, assign, hash01

AB = (Variant("control", 0.5), Variant("treatment", 0.5))


def test_hash01_matches_its_specification_on_fixed_vectors() -> None:
    # Independent re-statement of the spec: top 53 bits of SHA-256's first 8 bytes over 2**53.
    for text in ["exp:user-1", "exp:ü-ñ-日本", "exp:", "seed:🙂"]:
        top = int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) >> 11
        assert hash01(text) == top / 2**53
        assert 0.0 <= hash01(text) < 1.0
    assert hash01("exp:user-1") == hash01("exp:user-1")


def test_non_ascii_ids_are_hashed_as_utf8_without_normalisation() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"  # the same word, two code point sequences
    assert hash01(f"s:{composed}") != hash01(f"s:{decomposed}")
    config = AssignmentConfig("s", AB)
    assert assign(config, "用户-42").variant == assign(config, "用户-42").variant


def test_buckets_are_uniform() -> None:
    buckets = [hash01(f"uniformity:{i}") for i in range(20_000)]
    assert stats.kstest(buckets, "uniform").pvalue > 1e-3
    counts = Counter(assign(AssignmentConfig("u", AB), f"user-{i}").variant for i in range(20_000))
    assert stats.chisquare([counts["control"], counts["treatment"]]).pvalue > 1e-3


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=40), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_raising_coverage_never_moves_an_enrolled_unit(unit: str, low: float, high: float) -> None:
    low, high = min(low, high), max(low, high)
    weights = (Variant("a", 0.2), Variant("b", 0.3), Variant("c", 0.5))
    before = assign(AssignmentConfig("cov", weights, coverage=low), unit)
    after = assign(AssignmentConfig("cov", weights, coverage=high), unit)
    if before.variant is not None:
        assert after.variant == before.variant


@given(st.text(min_size=1, max_size=40))
def test_assignment_is_sticky(unit: str) -> None:
    config = AssignmentConfig("sticky", AB, coverage=0.7)
    assert assign(config, unit) == assign(config, unit)


def test_experiments_in_one_namespace_never_share_a_unit() -> None:
    first = AssignmentConfig("e1", AB, namespace="checkout", namespace_range=(0.0, 0.5))
    second = AssignmentConfig("e2", AB, namespace="checkout", namespace_range=(0.5, 1.0))
    both = [
        u
        for u in (f"u{i}" for i in range(5000))
        if assign(first, u).variant is not None and assign(second, u).variant is not None
    ]
    assert both == []
    share = sum(assign(first, f"u{i}").variant is not None for i in range(5000)) / 5000
    assert math.isclose(share, 0.5, abs_tol=0.03)


def test_overrides_and_the_global_holdout() -> None:
    config = AssignmentConfig(
        "o", AB, overrides={"qa-user": "treatment"}, holdout_seed="h", holdout_fraction=0.1
    )
    assert assign(config, "qa-user").variant == "treatment"
    held = [assign(config, f"u{i}") for i in range(5000)]
    assert all(a.variant is None for a in held if a.reason == "holdout")
    assert math.isclose(sum(a.reason == "holdout" for a in held) / 5000, 0.1, abs_tol=0.015)


@pytest.mark.parametrize(
    "bad",
    [
        {"variants": (Variant("a", 0.6), Variant("b", 0.6))},
        {"variants": (Variant("a", 0.5), Variant("a", 0.5))},
        {"variants": AB, "coverage": 1.5},
        {"variants": AB, "overrides": {"u": "nope"}},
        {"variants": AB, "namespace": "n", "namespace_range": (0.6, 0.4)},
    ],
)
def test_invalid_configs_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match=r"weights|unique|coverage|unknown|namespace"):
        AssignmentConfig("s", **bad)


def test_assignment_imports_no_numpy_or_scipy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import maestro.ab.assignment; "
        "bad = [m for m in ('numpy', 'scipy') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_assignment_handler_imports_no_numpy_or_scipy() -> None:
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ.setdefault('POWERTOOLS_SERVICE_NAME', 'x'); "
        "from maestro.local.functions import load_handler_module; load_handler_module('ab_assign'); "
        "bad = [m for m in ('numpy', 'scipy') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
