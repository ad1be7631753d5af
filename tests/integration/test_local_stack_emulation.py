"""The local stack's cheaper moto answers as moto itself does."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_stack.emulation import item_level_rollback, linear_sqs

TABLE = "readers"


def _table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "due", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "Due",
                "KeySchema": [{"AttributeName": "due", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for number in range(20):
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": f"r{number}"}, "sk": {"S": "profile"}, "due": {"S": "07"}, "v": {"N": "1"}},
        )


def _put(pk: str, sk: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}}


def _bump(pk: str, expected: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": pk}, "sk": {"S": "profile"}},
            "UpdateExpression": "SET v = v + :one, due = :later",
            "ConditionExpression": "v = :expected",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":expected": {"N": str(expected)},
                ":later": {"S": "08"},
            },
        }
    }


def _delete(pk: str) -> dict[str, Any]:
    return {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": "profile"}}}}


TRANSACTIONS: list[list[dict[str, Any]]] = [
    [_put("r1", "sent#2026-11-23"), _bump("r1", 1)],  # applies
    [_put("r2", "sent#2026-11-23"), _bump("r2", 7)],  # cancelled by its second item: the put is undone
    [_bump("r3", 1), _delete("r4"), _bump("r5", 9)],  # cancelled after an update and a delete
    [_put("r1", "sent#2026-11-23"), _bump("r1", 1)],  # replayed after success: cancelled, nothing changes
    [_delete("r6"), _put("r7", "sent#2026-11-24")],  # applies
]


def _run(wrapper: Callable[[], Any]) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    with mock_aws(), wrapper():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client)
        outcomes = []
        for items in TRANSACTIONS:
            try:
                client.transact_write_items(TransactItems=items)
                outcomes.append("applied")
            except ClientError as error:
                outcomes.append(error.response["Error"]["Code"])
        rows = client.scan(TableName=TABLE)["Items"]
        due = client.query(
            TableName=TABLE,
            IndexName="Due",
            KeyConditionExpression="due = :h",
            ExpressionAttributeValues={":h": {"S": "07"}},
        )["Items"]
    order = sorted(rows, key=lambda row: (row["pk"]["S"], row["sk"]["S"]))
    return outcomes, order, sorted(row["pk"]["S"] for row in due)


def test_item_level_rollback_leaves_the_table_as_moto_itself_would() -> None:
    expected = _run(contextlib.nullcontext)
    assert expected[0] == [
        "applied",
        "TransactionCanceledException",
        "TransactionCanceledException",
        "TransactionCanceledException",
        "applied",
    ]
    assert _run(item_level_rollback) == expected


def test_the_patch_is_gone_after_the_block() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    before = DynamoDBBackend.transact_write_items
    with item_level_rollback():
        assert DynamoDBBackend.transact_write_items is not before
    assert DynamoDBBackend.transact_write_items is before
    assert "__deepcopy__" not in Table.__dict__


def test_an_undone_put_is_gone() -> None:
    with mock_aws(), item_level_rollback():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client)
        with pytest.raises(ClientError):
            client.transact_write_items(TransactItems=[_put("new", "profile"), _bump("r0", 5)])
        assert (
            client.get_item(TableName=TABLE, Key={"pk": {"S": "new"}, "sk": {"S": "profile"}}).get("Item")
            is None
        )
        assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 20


def test_sqs_keeps_retention_visibility_and_delay_with_the_cheap_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])
    with mock_aws(), linear_sqs():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="jobs", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="first")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=10)

        def receive() -> list[str]:
            found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=5)
            return sorted(message["Body"] for message in found.get("Messages", []))

        assert receive() == ["first"]  # the delayed one is not due yet
        assert receive() == []  # "first" is invisible for 5 s
        offset[0] = 11
        assert receive() == ["first", "later"]
        offset[0] = 61  # past "first"'s retention: gone; "later" was sent at 0 too
        assert receive() == []
