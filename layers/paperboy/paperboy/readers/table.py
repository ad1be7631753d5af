"""The subscribers table's layout (keys and index names match template.yaml) and what every store on
it shares. One table holds several aggregates, each with a store of its own:

pk `SUB#<id>`:   sk `PROFILE` (the Subscriber: readers.store, its topic vectors: readers.vectors)
                 and `DIGEST#<local date>` (one per period sent: digests.ledger)
pk `EMAIL#<a>`:  sk `EMAIL` (makes an address belong to exactly one reader: readers.store)
pk `CONFIRM#<nonce>`: sk `CONFIRM` (commands a reader was asked to confirm: mail.inbound.records)
pk `INBOUND#<hash of sender and Message-ID>`: sk `INBOUND` (inbound mail already handled: the same)
pk `SLOT#<slot>`: sk `SLOT`, the slot's occupancy mark: written before any reader is put in the slot,
                 never removed before its TTL, so the planner reads which slots hold readers
                 (readers.slots).
Index `Due`:     `due_slot` = "<UTC hour>#<shard>", present only while a digest is scheduled.
Index `OpenClaims`: `claim_shard` + `claim_ms`, present only on a digest record whose mail may or
                 may not have left (claimed, SES's answer not yet recorded).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from paperboy.readers.model import Subscriber

PROFILE = "PROFILE"


def sub_key(subscriber_id: str) -> str:
    return f"SUB#{subscriber_id}"


def subscriber_from_item(item: dict[str, Any]) -> Subscriber:
    return Subscriber.model_validate(plain(item))


def plain(value: Any) -> Any:
    """DynamoDB returns numbers as Decimal and binary as Binary; the models want ints and bytes."""
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        return int(value) if value == int(value) else float(value)
    return value


def conditional_failed(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    reasons = error.response.get("CancellationReasons") or []
    return code == "TransactionCanceledException" and any(
        reason.get("Code") == "ConditionalCheckFailed" for reason in reasons
    )
