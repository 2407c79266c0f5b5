"""Local mode's DynamoDB transactions: a failed one leaves every item as it was, and a transaction's rollback
copies the items it names, never the table (the cost must not grow with the data already stored)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from maestro.local import transactions
from tests.support import create_table_with_gsi1


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


@pytest.fixture
def table() -> object:
    transactions.rollback_item_by_item()
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
        before = dict(transactions.copies)
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": _key("tx", f"{stored}-{j}")}} for j in range(5)]
        )
        assert transactions.copies["tables"] == before["tables"]  # no table copied
        assert transactions.copies["items"] - before["items"] == 5  # one copy per named item
