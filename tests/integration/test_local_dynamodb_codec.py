"""Local mode's DynamoDB codec answers exactly what moto's own shape walk answers: every request it reads and
every response it writes is compared, on generated attribute values of every type, with moto's JSONParser and
JSONSerializer; and what it cannot do exactly (errors, timestamps, objects) still goes through moto."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.parse import JSONParser
from moto.core.responses import ActionContext, ActionResult, get_service_model
from moto.core.serialize import JSONSerializer
from moto.dynamodb.responses import DynamoHandler

from maestro.local.dynamodb_codec import NeedsMoto, read_request, write_response
from tests.support import create_table_with_gsi1

SERVICE = get_service_model("dynamodb")  # moto's model, as its handler uses it

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
number = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
)
blob = st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
scalar = st.one_of(
    text.map(lambda s: {"S": s}),
    number.map(lambda n: {"N": n}),
    blob.map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(text, min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(number, min_size=1, max_size=3, unique=True).map(lambda v: {"NS": v}),
    st.lists(blob, min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}),
)
attribute = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.dictionaries(text, inner, max_size=3).map(lambda m: {"M": m}),
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
    ),
    max_leaves=8,
)
item = st.dictionaries(text, attribute, max_size=5).map(
    lambda attrs: {**attrs, "pk": {"S": "p"}, "sk": {"S": "s"}}
)
named = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
storable = st.dictionaries(named, attribute.filter(lambda v: not named_empty(v)), max_size=5).map(
    lambda attrs: {**attrs, "pk": {"S": "p"}, "sk": {"S": "s"}}
)  # DynamoDB refuses an empty attribute name (and moto then answers a broken document of its own)


def moto_reads(operation: str, body: bytes) -> dict[str, Any]:
    request = {"body": body, "headers": {}, "method": "POST", "url_path": "/", "url_params": {}, "values": {}}
    return JSONParser(SERVICE.operation_model(operation), map_type=dict).parse(request)  # type: ignore[arg-type]


def moto_writes(operation: str, result: Any) -> tuple[int, dict[str, str], str]:
    context = ActionContext(SERVICE, SERVICE.operation_model(operation), JSONSerializer, DynamoHandler())
    return ActionResult(result).execute_result(context)  # type: ignore[return-value]


def requests_for(one: dict[str, Any], other: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = {"pk": one["pk"], "sk": one["sk"]}
    values = {":v": {"N": "1"}, ":x": other.get("x", {"S": "x"})}
    return {
        "PutItem": {
            "TableName": "t",
            "Item": one,
            "ConditionExpression": "attribute_not_exists(pk) OR v = :v",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_OLD",
        },
        "UpdateItem": {
            "TableName": "t",
            "Key": key,
            "UpdateExpression": "SET #a = :x ADD n :v",
            "ExpressionAttributeNames": {"#a": "a"},
            "ExpressionAttributeValues": values,
        },
        "BatchGetItem": {"RequestItems": {"t": {"Keys": [key], "ConsistentRead": True}}},
        "BatchWriteItem": {
            "RequestItems": {"t": [{"PutRequest": {"Item": other}}, {"DeleteRequest": {"Key": key}}]}
        },
        "Query": {
            "TableName": "t",
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": values,
            "ExclusiveStartKey": key,
            "Limit": 7,
            "ScanIndexForward": False,
        },
        "Scan": {"TableName": "t", "Segment": 1, "TotalSegments": 4, "ExclusiveStartKey": key},
        "TransactWriteItems": {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": other, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Delete": {"TableName": "t", "Key": key}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
            "ClientRequestToken": "token",
        },
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one=item, other=item)
def test_requests_read_as_moto_reads_them(one: dict[str, Any], other: dict[str, Any]) -> None:
    for operation, request in requests_for(one, other).items():
        body = json.dumps(request).encode()
        assert read_request(SERVICE.operation_model(operation), body) == moto_reads(operation, body), (
            operation
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one=item, other=item)
def test_responses_written_as_moto_writes_them(one: dict[str, Any], other: dict[str, Any]) -> None:
    # Results as moto's handlers hold them: attribute values parsed (blobs as bytes), capacities as numbers.
    first = moto_reads("PutItem", json.dumps({"TableName": "t", "Item": one}).encode())["Item"]
    second = moto_reads("PutItem", json.dumps({"TableName": "t", "Item": other}).encode())["Item"]
    key = {"pk": first["pk"], "sk": first["sk"]}
    results = {
        "GetItem": {"Item": first, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}},
        "PutItem": {"Attributes": second},
        "BatchGetItem": {
            "Responses": {"t": [first, second]},
            "UnprocessedKeys": {"t": {"Keys": [key]}},
            "ConsumedCapacity": [{"CapacityUnits": 2, "TableName": "t"}],
        },
        "Query": {"Items": [first, second], "Count": 2, "ScannedCount": Decimal(3), "LastEvaluatedKey": key},
        "Scan": {"Items": [], "Count": 0, "ScannedCount": 0},
        "TransactWriteItems": {"ConsumedCapacity": [], "ItemCollectionMetrics": {}},
        "BatchWriteItem": {"UnprocessedItems": {"t": [{"PutRequest": {"Item": second}}]}},
    }
    for operation, result in results.items():
        moto_status, moto_headers, moto_body = moto_writes(operation, result)
        try:
            status, headers, body = write_response(SERVICE.operation_model(operation), result, None)
        except NeedsMoto:
            # moto merges a map entry named "" into the map itself: that one answer is left to moto
            assert named_empty(result), operation
            continue
        assert (status, headers) == (moto_status, moto_headers), operation
        assert json.loads(body) == json.loads(moto_body), operation


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        (
            "DescribeTable",
            {"Table": {"TableName": "t", "CreationDateTime": __import__("datetime").datetime(2026, 1, 1)}},
        ),
        ("GetItem", {"Item": {"pk": {"S": "p"}}, "ConsumedCapacity": {"TableName": "t", "Extra": 1}}),
        ("GetItem", {"item": {"pk": {"S": "p"}}}),  # moto would find it under its snake_case name
        ("GetItem", type("Holder", (), {"Item": {"pk": {"S": "p"}}})()),
    ],
)
def test_what_it_cannot_write_exactly_is_left_to_moto(operation: str, result: Any) -> None:
    with pytest.raises(NeedsMoto):
        write_response(SERVICE.operation_model(operation), result, None)


@pytest.mark.parametrize("body", [b"", b"{not json", b'{"TableName": "t", "Key": ["pk"]}', b'{"Limit": "x"}'])
def test_what_it_cannot_read_exactly_is_left_to_moto(body: bytes) -> None:
    operation = "Query" if b"Limit" in body else "GetItem"
    with pytest.raises(NeedsMoto):
        read_request(SERVICE.operation_model(operation), body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(stored=storable)
def test_items_round_trip_through_the_patched_endpoint(stored: dict[str, Any]) -> None:
    """End to end through boto3 and moto's patched handler (tests run moto as local mode does): what is put
    comes back from every read, errors keep their codes, and a control-plane answer with timestamps works."""
    assert getattr(DynamoHandler.serialized, "_maestro_patched", False), "tests/conftest.py patches moto"
    with mock_aws():
        create_table_with_gsi1("t")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        expected = botocore_view(stored)
        ddb.put_item(TableName="t", Item=expected)
        key = {"pk": stored["pk"], "sk": stored["sk"]}
        assert ddb.get_item(TableName="t", Key=key, ConsistentRead=True)["Item"] == expected
        assert ddb.query(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": stored["pk"]}
        )["Items"] == [expected]
        assert ddb.batch_get_item(RequestItems={"t": {"Keys": [key]}})["Responses"]["t"] == [expected]
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(TableName="t", Item=expected, ConditionExpression="attribute_not_exists(pk)")
        with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": expected,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
        assert cancelled.value.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"
        assert ddb.describe_table(TableName="t")["Table"]["CreationDateTime"].year >= 2026


def botocore_view(wire: dict[str, Any]) -> dict[str, Any]:
    """An item as boto3 takes and returns it: blobs as bytes."""

    def value(v: dict[str, Any]) -> dict[str, Any]:
        ((kind, inner),) = v.items()
        if kind == "B":
            return {"B": base64.b64decode(inner)}
        if kind == "BS":
            return {"BS": [base64.b64decode(b) for b in inner]}
        if kind == "M":
            return {"M": {k: value(x) for k, x in inner.items()}}
        if kind == "L":
            return {"L": [value(x) for x in inner]}
        return v

    return {k: value(v) for k, v in wire.items()}


def named_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return "" in value or any(named_empty(v) for v in value.values())
    if isinstance(value, list):
        return any(named_empty(v) for v in value)
    return False
