"""The reader's profile (`SUB#<id>` / `PROFILE`) and the email lock (`EMAIL#<address>` / `EMAIL`) on
the subscribers table; readers.table describes the whole table. The two live in one store because
they are written together: creating a reader and moving one to a new address are one transaction
over both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from paperboy.mail.addresses import normalised
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.schedule import due_slot
from paperboy.readers.slots import SlotIndex
from paperboy.readers.table import PROFILE, conditional_failed, sub_key, subscriber_from_item

# An unconfirmed sign-up lives this long (docs/architecture.md, "Subscribing"). Its record carries
# the TTL on every write, and confirming checks the time too: DynamoDB deletes expired items only
# within days (moto never).
PENDING_LIFETIME = timedelta(days=7)


class Conflict(Exception):
    """Someone else changed the record since it was read; read again and retry."""


def _email_key(email: str) -> str:
    """The key that makes an address belong to one reader: its normalised form, so every spelling
    of one mailbox (full-width, Unicode domain, case) finds the same reader."""
    return f"EMAIL#{normalised(email)}"


def pending_expiry(subscriber: Subscriber) -> datetime | None:
    """When an unconfirmed sign-up lapses; None for any other status."""
    return subscriber.created_at + PENDING_LIFETIME if subscriber.status is Status.PENDING else None


def profile_item(subscriber: Subscriber) -> dict[str, Any]:
    """The profile as stored: every write (here and the ledger's) puts the whole item."""
    item = subscriber.model_dump(mode="json", exclude_none=True)
    item.update(pk=sub_key(subscriber.id), sk=PROFILE)
    # Every write replaces the whole item: a pending reader's TTL is written each time, and any
    # other status (confirmed, unsubscribed) leaves it out, so the record stays.
    expires = pending_expiry(subscriber)
    if expires is not None:
        item["expires_at"] = int(expires.timestamp())
    # Stored as DynamoDB Binary, not as the base64 text a JSON dump makes of bytes.
    item["topic_vectors"] = {topic: Binary(vector) for topic, vector in subscriber.topic_vectors.items()}
    item["like_vectors"] = {paper: Binary(vector) for paper, vector in subscriber.like_vectors.items()}
    if subscriber.profile_vector is not None:
        item["profile_vector"] = Binary(subscriber.profile_vector)
    scheduled = subscriber.next_due is not None and subscriber.status in (Status.ACTIVE, Status.PAUSED)
    if scheduled and subscriber.next_due is not None:
        item["due_slot"] = due_slot(subscriber.id, subscriber.next_due)
    return item


class SubscriberStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client
        self._slots = SlotIndex(table)

    def create(self, subscriber: Subscriber) -> bool:
        """Store a new reader; False when the address already belongs to someone.

        DynamoDB's TTL removes an unconfirmed subscription (see `pending_expiry`), and an address
        whose reader is gone can be claimed again.
        """
        email_item: dict[str, Any] = {
            "pk": _email_key(subscriber.email),
            "sk": "EMAIL",
            "subscriber_id": subscriber.id,
        }
        profile = profile_item(subscriber)
        self._slots.mark_slot(profile.get("due_slot"))
        stale = self._table.get_item(Key={"pk": email_item["pk"], "sk": "EMAIL"}, ConsistentRead=True).get(
            "Item"
        )
        if stale is not None and self.get(stale["subscriber_id"]) is not None:
            return False
        email_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if stale is not None:  # the address's earlier pending reader expired: take the address over
            email_condition = {
                "ConditionExpression": "subscriber_id = :stale",
                "ExpressionAttributeValues": {":stale": stale["subscriber_id"]},
            }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table.name, "Item": email_item, **email_condition}},
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": profile,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def get(self, subscriber_id: str) -> Subscriber | None:
        item = self._table.get_item(
            Key={"pk": sub_key(subscriber_id), "sk": PROFILE}, ConsistentRead=True
        ).get("Item")
        return subscriber_from_item(item) if item else None

    def by_email(self, email: str) -> Subscriber | None:
        try:
            key = _email_key(email)
        except ValueError:  # no reader can have an address the mailer refuses
            return None
        item = self._table.get_item(Key={"pk": key, "sk": "EMAIL"}, ConsistentRead=True).get("Item")
        return self.get(item["subscriber_id"]) if item else None

    def renormalise_email(self, subscriber: Subscriber) -> bool:
        """Move a reader stored before addresses were normalised (key `EMAIL#<typed, lower-cased>`)
        to its normalised address, in one transaction; False when another reader holds that address
        (two records for one mailbox: the operator chooses) or the reader changed meanwhile."""
        address = normalised(subscriber.email)
        moved = subscriber.model_copy(update={"email": address, "version": subscriber.version + 1})
        table = self._table.name
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": table,
                            "Key": {"pk": f"EMAIL#{subscriber.email.lower()}", "sk": "EMAIL"},
                            "ConditionExpression": "subscriber_id = :id",
                            "ExpressionAttributeValues": {":id": subscriber.id},
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {
                                "pk": _email_key(address),
                                "sk": "EMAIL",
                                "subscriber_id": subscriber.id,
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": profile_item(moved),
                            "ConditionExpression": "#version = :read",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {":read": subscriber.version},
                        }
                    },
                ]
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def save(self, subscriber: Subscriber) -> Subscriber:
        """Write a changed reader if nobody else wrote it since it was read (else Conflict)."""
        saved = subscriber.model_copy(update={"version": subscriber.version + 1})
        profile = profile_item(saved)
        self._slots.mark_slot(profile.get("due_slot"))
        try:
            self._table.put_item(
                Item=profile,
                ConditionExpression="#version = :read",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":read": subscriber.version},
            )
        except ClientError as error:
            if conditional_failed(error):
                raise Conflict(subscriber.id) from None
            raise
        return saved

    def all(self) -> Iterator[Subscriber]:
        """Every reader (operator tools and the local stack's state; never on a hot path)."""
        scan: dict[str, Any] = {
            "FilterExpression": "sk = :profile",
            "ExpressionAttributeValues": {":profile": PROFILE},
        }
        while True:
            page = self._table.scan(**scan)
            yield from (subscriber_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
