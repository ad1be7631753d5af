"""The functions' tables (paperboy.tables) behave as boto3's resource tables the stores were written
for: the same Python values in and out, the same conditions, the same errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from moto import mock_aws

from paperboy.tables import Tables

ITEM = {
    "pk": "SUB#1",
    "sk": "PROFILE",
    "count": Decimal(3),
    "ratio": Decimal("0.25"),
    "vector": Binary(b"\x00\x01"),
    "topics": ["speech", "robotics"],
    "tags": {"a", "b"},
    "nested": {"when": "2026-11-23", "empty": None, "flag": True},
}


@pytest.fixture
def tables() -> Iterator[tuple[Any, Any]]:
    """The same moto table as a resource's Table and as paperboy's."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        resource = boto3.resource("dynamodb", region_name="us-east-1").Table("t")
        yield resource, Tables(boto3.client("dynamodb", region_name="us-east-1")).table("t")


def test_an_item_written_either_way_reads_back_the_same_either_way(tables: tuple[Any, Any]) -> None:
    resource, ours = tables
    ours.put_item(Item=ITEM)
    resource.put_item(Item={**ITEM, "sk": "OTHER"})
    for sk in ("PROFILE", "OTHER"):
        key = {"pk": "SUB#1", "sk": sk}
        assert ours.get_item(Key=key)["Item"] == resource.get_item(Key=key)["Item"] == {**ITEM, "sk": sk}
    query = {"KeyConditionExpression": Key("pk").eq("SUB#1") & Key("sk").begins_with("PRO")}
    assert ours.query(**query)["Items"] == resource.query(**query)["Items"] == [ITEM]
    assert ours.scan(FilterExpression=Attr("count").gt(2))["Count"] == 2
    assert ours.name == "t"
    with pytest.raises(AttributeError):
        ours.batch_writer()  # not an action the stores use


def test_conditions_updates_and_deletes_act_and_fail_as_the_resource_s_do(tables: tuple[Any, Any]) -> None:
    resource, ours = tables
    ours.put_item(Item=ITEM, ConditionExpression=Attr("pk").not_exists())
    with pytest.raises(ClientError) as refused:
        ours.put_item(Item=ITEM, ConditionExpression=Attr("pk").not_exists())
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    answer = ours.update_item(
        Key={"pk": "SUB#1", "sk": "PROFILE"},
        UpdateExpression="SET #c = #c + :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    assert answer["Attributes"] == {"count": Decimal(4)}
    ours.delete_item(Key={"pk": "SUB#1", "sk": "PROFILE"})
    assert "Item" not in resource.get_item(Key={"pk": "SUB#1", "sk": "PROFILE"})


def test_the_table_s_client_takes_python_values_in_transactions_and_batches(tables: tuple[Any, Any]) -> None:
    """The stores write transactions and batch reads on `table.meta.client`, in Python values."""
    resource, ours = tables
    ours.meta.client.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": ITEM}}])
    answer = ours.meta.client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": "SUB#1", "sk": "PROFILE"}]}})
    assert answer["Responses"]["t"] == [ITEM]
    assert resource.get_item(Key={"pk": "SUB#1", "sk": "PROFILE"})["Item"] == ITEM
