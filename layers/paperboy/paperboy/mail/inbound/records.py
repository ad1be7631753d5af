"""What inbound mail leaves on the subscribers table (layout in readers.table): the commands a reader
was asked to confirm (`CONFIRM#<nonce>`) and the messages already handled (`INBOUND#<hash>`)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from paperboy.readers.model import Status, Subscriber
from paperboy.readers.table import conditional_failed, plain

# How long a handled Message-ID is remembered: SES retries and resends come within hours, and a
# confirmation (48 hours) or a sign-up (7 days) is answered within this.
INBOUND_RETENTION = timedelta(days=8)


class PendingCommands(BaseModel):
    """Commands a reader was asked to confirm at `confirm+NONCE@`, bound to the reader as they were
    when asked: their token version (an unsubscribe since revokes it) and their status."""

    subscriber_id: str
    lines: list[str]
    token_version: int | None = None
    status: Status | None = None

    def holds_for(self, reader: Subscriber) -> bool:
        """Whether the reader is still as they were when asked (paused and active count as one)."""
        subscribed = (Status.ACTIVE, Status.PAUSED)
        same_standing = self.status == reader.status or (
            self.status in subscribed and reader.status in subscribed
        )
        return (
            reader.id == self.subscriber_id
            and self.token_version == reader.token_version
            and same_standing
            and reader.status is not Status.SUPPRESSED
        )


class InboundRecords:
    def __init__(self, table: Any) -> None:
        self._table = table

    def put_pending_commands(
        self, nonce: str, reader: Subscriber, lines: list[str], expires: datetime
    ) -> None:
        self._table.put_item(
            Item={
                "pk": f"CONFIRM#{nonce}",
                "sk": "CONFIRM",
                "subscriber_id": reader.id,
                "lines": lines,
                "token_version": reader.token_version,
                "status": reader.status.value,
                "expires_at": int(expires.timestamp()),
            }
        )

    def pending_commands(self, nonce: str, now: datetime) -> PendingCommands | None:
        """The commands waiting under `nonce`; None if unknown, used or expired. Reading them uses
        nothing up: only `use_pending_commands` does, once the reply has been judged."""
        item = self._table.get_item(Key={"pk": f"CONFIRM#{nonce}", "sk": "CONFIRM"}, ConsistentRead=True).get(
            "Item"
        )
        if not item or int(item["expires_at"]) <= now.timestamp():
            return None
        return PendingCommands.model_validate(
            {
                key: plain(item[key])
                for key in ("subscriber_id", "lines", "token_version", "status")
                if key in item
            }
        )

    def use_pending_commands(self, nonce: str) -> bool:
        """Delete the commands under `nonce`: True for the one caller that did (they apply once)."""
        try:
            self._table.delete_item(
                Key={"pk": f"CONFIRM#{nonce}", "sk": "CONFIRM"}, ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def first_delivery(self, sender: str, message_id: str, delivery: str, now: datetime) -> bool:
        """Note that `sender`'s message `message_id` (its Message-ID header) arrived as SES message
        `delivery`: True the first time, and again for that same delivery (a retry must finish what
        it started); False when another delivery of the same message got here first (SES invoked
        once per recipient, a resend)."""
        digest = hashlib.sha256(f"{sender}\n{message_id}".encode()).hexdigest()[:40]
        try:
            self._table.put_item(
                Item={
                    "pk": f"INBOUND#{digest}",
                    "sk": "INBOUND",
                    "delivery": delivery,
                    "expires_at": int((now + INBOUND_RETENTION).timestamp()),
                },
                ConditionExpression="attribute_not_exists(pk) OR delivery = :delivery",
                ExpressionAttributeValues={":delivery": delivery},
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True
