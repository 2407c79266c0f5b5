"""Local mode's DynamoDB at a cost proportional to the request: a failed transaction leaves every item as it
was while its rollback copies only the items it names, and a Query reads only its partition yet answers
exactly what moto's full scan answers (order, ranges, limits, pages, filters)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from maestro.local import dynamodb_cost
from tests.support import create_table_with_gsi1


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


@pytest.fixture
def table() -> object:
    with mock_aws():
        create_table_with_gsi1("t")
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table) -> None:
    ddb = table
    ddb.put_item(
        TableName="t", Item={**_key("a", "1"), "n": {"N": "1"}, "gsi1pk": {"S": "g"}, "gsi1sk": {"S": "1"}}
    )
    ddb.put_item(TableName="t", Item={**_key("a", "2"), "n": {"N": "2"}})
    # Given a transaction whose last condition fails after a put, an update and a delete were applied
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**_key("a", "new"), "n": {"N": "9"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": _key("a", "1"),
                        "UpdateExpression": "SET n = :v REMOVE gsi1pk",
                        "ExpressionAttributeValues": {":v": {"N": "100"}},
                    }
                },
                {"Delete": {"TableName": "t", "Key": _key("a", "2")}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": _key("a", "missing"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # Then the table holds exactly what it held before, index included
    items = ddb.query(
        TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}
    )
    assert {(i["sk"]["S"], i["n"]["N"]) for i in items["Items"]} == {("1", "1"), ("2", "2")}
    indexed = ddb.query(
        TableName="t",
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    assert [i["sk"]["S"] for i in indexed["Items"]] == ["1"]


def test_a_transaction_copies_the_items_it_names_whatever_the_table_holds(table) -> None:
    ddb = table
    filled = 0
    for stored in (10, 2000):
        for i in range(filled, stored):
            ddb.put_item(TableName="t", Item=_key("bulk", f"{i:06d}"))
        filled = stored
        before = dict(dynamodb_cost.copies)
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": _key("tx", f"{stored}-{j}")}} for j in range(5)]
        )
        assert dynamodb_cost.copies["tables"] == before["tables"]  # no table copied
        assert dynamodb_cost.copies["items"] - before["items"] == 5  # one copy per named item


def _all_pages(ddb, **args) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out, pages = [], 0
    while True:
        page = ddb.query(TableName="t", **args)
        out += [(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
        pages += 1
        if "LastEvaluatedKey" not in page:
            return out
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_query_on_the_key_answers_what_a_scan_of_every_item_answers(table) -> None:
    ddb = table
    for p in range(30):
        for s in range(40):
            ddb.put_item(
                TableName="t",
                Item={
                    **_key(f"p{p:02d}", f"s{s:03d}"),
                    "n": {"N": str(s)},
                    "gsi1pk": {"S": "g"},
                    "gsi1sk": {"S": f"{s}"},
                },
            )
    pk = {":p": {"S": "p07"}}
    assert _all_pages(ddb, KeyConditionExpression="pk = :p", ExpressionAttributeValues=pk, Limit=7) == [
        ("p07", f"s{s:03d}") for s in range(40)
    ]
    backwards = _all_pages(
        ddb,
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={**pk, ":a": {"S": "s010"}, ":b": {"S": "s019"}},
        ScanIndexForward=False,
        Limit=3,
    )
    assert backwards == [("p07", f"s{s:03d}") for s in range(19, 9, -1)]
    filtered = _all_pages(
        ddb,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        FilterExpression="n > :n",
        ExpressionAttributeValues={**pk, ":s": {"S": "s02"}, ":n": {"N": "25"}},
    )
    assert filtered == [("p07", f"s{s:03d}") for s in range(26, 30)]
    assert (
        _all_pages(ddb, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}})
        == []
    )
    indexed = _all_pages(
        ddb,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g AND gsi1sk = :k",
        ExpressionAttributeValues={":g": {"S": "g"}, ":k": {"S": "5"}},
    )
    assert sorted(indexed) == [(f"p{p:02d}", "s005") for p in range(30)]
