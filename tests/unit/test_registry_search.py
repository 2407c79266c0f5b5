"""MLflow's search grammar: our parser against mlflow's own on the same strings; evaluation; paging."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mlflow.utils.search_utils import SearchUtils

from maestro.core.errors import ValidationError
from maestro.registry.search import (
    OrderBy,
    compare,
    decode_page_token,
    page,
    parse_filter,
    parse_order_by,
    sort_records,
)

FILTERS = [
    "metrics.acc > 0.9",
    "metrics.`val loss` <= 0.25 and params.lr = '0.01'",
    "tags.team = 'ml' AND attributes.status = 'FINISHED'",
    "params.model LIKE 'xgb%' and tags.`mlflow.user` ILIKE '%ALICE%'",
    "attributes.run_name != 'baseline'",
    "metrics.loss < -1e-3",
    "attributes.run_id IN ('a1', 'b2')",
]
KIND = {"metric": "metrics", "parameter": "params", "tag": "tags", "attribute": "attributes"}


@pytest.mark.parametrize("text", FILTERS)
def test_parser_agrees_with_mlflows(text: str) -> None:
    ours = [(c.kind, c.key, c.op, c.value) for c in parse_filter(text)]
    theirs = []
    for clause in SearchUtils.parse_search_filter(text):
        value = clause["value"]
        if clause["type"] == "metric":
            value = float(value)
        elif isinstance(value, list | tuple):
            value = tuple(value)
        theirs.append((KIND[clause["type"]], clause["key"], clause["comparator"].upper(), value))
    assert ours == theirs


@pytest.mark.parametrize(
    "text",
    ["metrics.acc >", "metrics.acc ~ 1", "a = 1 or b = 2", "params.x > 'a'", "metrics.x LIKE 'a'", "x IN 1"],
)
def test_malformed_filters_name_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_filter(text)
    assert raised.value.field == "filter"


def test_comparisons_follow_mlflow() -> None:
    assert compare("churn-model", "LIKE", "churn%")
    assert not compare("Churn-model", "LIKE", "churn%")
    assert compare("Churn-model", "ILIKE", "churn%")
    assert compare("a_b", "LIKE", "a_b")
    assert not compare("ab", "LIKE", "a_b")
    assert compare(0.95, ">", 0.9)
    assert not compare(float("nan"), ">", 0.9)
    assert not compare(None, "!=", "x")  # a run without the key never matches
    assert compare("dev", "IN", ("dev", "prod"))
    assert compare(None, "IS NULL", None)


def test_order_by_sorts_missing_values_last_in_both_directions() -> None:
    records = [{"id": 1, "m": 0.5}, {"id": 2}, {"id": 3, "m": 0.9}]

    def lookup(r, spec):
        return r.get(spec.key)

    for ascending, expected in ((True, [1, 3, 2]), (False, [3, 1, 2])):
        order = [OrderBy("metrics", "m", ascending)]
        assert [r["id"] for r in sort_records(records, order, lookup, tiebreak=lambda r: r["id"])] == expected
    assert parse_order_by(["metrics.acc DESC", "start_time"]) == [
        OrderBy("metrics", "acc", False),
        OrderBy("attributes", "start_time", True),
    ]


@given(st.lists(st.integers(), max_size=60), st.integers(min_value=1, max_value=25))
def test_pages_cover_every_record_exactly_once(records: list[int], size: int) -> None:
    seen, token = [], None
    while True:
        chunk, token = page(records, token, size)
        seen += chunk
        if token is None:
            break
    assert seen == records


def test_forged_page_tokens_are_refused() -> None:
    with pytest.raises(ValidationError):
        decode_page_token("not-base64!")
