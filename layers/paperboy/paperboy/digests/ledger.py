"""The claims ledger: one record per reader and period (`SUB#<id>` / `DIGEST#<local date>` on the
subscribers table, layout in readers.table), claimed before its mail is sent and settled after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from paperboy.readers.model import Subscriber
from paperboy.readers.schedule import shard_of
from paperboy.readers.slots import SlotIndex
from paperboy.readers.store import Conflict, profile_item
from paperboy.readers.table import conditional_failed, plain, sub_key

OPEN_CLAIMS_INDEX = "OpenClaims"
DIGEST_PREFIX = "DIGEST#"
# Digest records answer "more 2" and keep papers from repeating; a season is plenty for both.
DIGEST_RETENTION = timedelta(days=120)
# How many recently sent paper ids a profile remembers, newest last.
RECENT_PAPERS = 400


class DigestStatus(StrEnum):
    CLAIMED = "claimed"  # about to be sent: a redelivery must not send again
    SENT = "sent"
    EMPTY = "empty"  # nothing new for the reader this period; no mail
    REJECTED = "rejected"  # SES refused the mail for good; the job goes to the dead-letter queue


class DigestRecord(BaseModel):
    subscriber_id: str
    period: date
    status: DigestStatus
    # Paper ids in digest order: number N in the mail is paper_ids[N - 1].
    paper_ids: list[str] = Field(default_factory=list)
    paper_titles: list[str] = Field(default_factory=list)
    # "Also trending" papers shown below the picks: not numbered, not picks, but never shown again.
    trending_ids: list[str] = Field(default_factory=list)
    message_id: str | None = None
    claimed_at: datetime
    sent_at: datetime | None = None
    # What SES's own events said about the claimed mail (MailEvents writes these): the proof that
    # settles a claim whose sender died before SES answered.
    ses_sent_at: datetime | None = None
    ses_message_id: str | None = None
    ses_refused: str | None = None

    @property
    def open(self) -> bool:
        """Claimed, and nothing yet says whether its mail left."""
        return self.status is DigestStatus.CLAIMED and self.ses_sent_at is None and self.ses_refused is None


def _digest_key(subscriber_id: str, period: date) -> dict[str, str]:
    return {"pk": sub_key(subscriber_id), "sk": f"{DIGEST_PREFIX}{period.isoformat()}"}


def _claim_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _digest_item(record: DigestRecord) -> dict[str, Any]:
    item = record.model_dump(mode="json", exclude_none=True)
    item.update(
        _digest_key(record.subscriber_id, record.period),
        expires_at=int((record.claimed_at + DIGEST_RETENTION).timestamp()),
    )
    if record.status is DigestStatus.CLAIMED:
        # Only a claim sits in the sparse OpenClaims index; recording the outcome rewrites the item
        # without these, which takes it out.
        item.update(claim_shard=str(shard_of(record.subscriber_id)), claim_ms=_claim_ms(record.claimed_at))
    return item


class DigestLedger:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client
        self._slots = SlotIndex(table)

    def claim_digest(self, record: DigestRecord) -> bool:
        """Claim the reader's period before sending; False if any earlier attempt claimed it."""
        try:
            self._table.put_item(Item=_digest_item(record), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def save_digest(self, record: DigestRecord) -> None:
        """Store a period's record as it stands (its reader has moved on already)."""
        self._table.put_item(Item=_digest_item(record))

    def mark_rejected(self, record: DigestRecord) -> None:
        """SES refused the period's mail for good: keep the claim, say why, never retry sending it."""
        self._table.update_item(
            Key=_digest_key(record.subscriber_id, record.period),
            UpdateExpression="SET #status = :rejected REMOVE claim_shard, claim_ms",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":rejected": DigestStatus.REJECTED.value},
        )

    def release_claim(self, subscriber_id: str, period: date) -> None:
        """Undo a claim whose mail certainly did not leave (SES refused it), so a retry can send."""
        try:
            self._table.delete_item(
                Key=_digest_key(subscriber_id, period),
                ConditionExpression="#status = :claimed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":claimed": DigestStatus.CLAIMED.value},
            )
        except ClientError as error:
            if not conditional_failed(error):
                raise

    def release_open_claim(self, record: DigestRecord) -> bool:
        """Drop a claim nothing has settled: the same claim, still claimed, no SES event recorded.
        False when something settled it meanwhile (a late event, a redelivered job)."""
        try:
            self._table.delete_item(
                Key=_digest_key(record.subscriber_id, record.period),
                ConditionExpression=(
                    "#status = :claimed AND claim_ms = :claim_ms"
                    " AND attribute_not_exists(ses_sent_at) AND attribute_not_exists(ses_refused)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":claimed": DigestStatus.CLAIMED.value,
                    ":claim_ms": _claim_ms(record.claimed_at),
                },
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def record_ses_event(
        self, subscriber_id: str, period: date, *, message_id: str, at: datetime, refused: str | None = None
    ) -> bool:
        """SES said it sent (or refused) the period's mail: note it on the claim it belongs to.

        Only a claim made before SES accepted the mail can be its claim: a later one is a resend of
        a released claim, and a missing one was released already. False for both."""
        noted = "ses_refused" if refused else "ses_sent_at"
        try:
            self._table.update_item(
                Key=_digest_key(subscriber_id, period),
                UpdateExpression=f"SET ses_message_id = :id, {noted} = :value",
                ConditionExpression=(
                    "attribute_exists(pk) AND (attribute_not_exists(claim_ms) OR claim_ms <= :at)"
                ),
                ExpressionAttributeValues={
                    ":id": message_id,
                    ":value": refused or at.isoformat(),
                    ":at": _claim_ms(at),
                },
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def open_claims(self) -> Iterator[DigestRecord]:
        """Every claim whose outcome is not recorded yet, in no particular order.

        The index is sparse (a claim leaves it when its outcome is recorded), so a Scan of it reads
        only open claims, as one query per shard would, in one request instead of one per shard
        (the shards spread the claims' writes; the sweep needs no order)."""
        scan: dict[str, Any] = {"IndexName": OPEN_CLAIMS_INDEX}
        while True:
            page = self._table.scan(**scan)
            yield from (DigestRecord.model_validate(plain(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def digest(self, subscriber_id: str, period: date) -> DigestRecord | None:
        item = self._table.get_item(Key=_digest_key(subscriber_id, period), ConsistentRead=True).get("Item")
        return DigestRecord.model_validate(plain(item)) if item else None

    def recent_digests(self, subscriber_id: str, limit: int = 14) -> list[DigestRecord]:
        """The reader's latest digest records, newest first."""
        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(sub_key(subscriber_id))
            & Key("sk").begins_with(DIGEST_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [DigestRecord.model_validate(plain(item)) for item in page.get("Items", [])]

    def complete_digest(self, subscriber: Subscriber, record: DigestRecord, next_due: datetime) -> Subscriber:
        """Record the sent mail and move the reader to their next period, in one transaction (the
        profile's write is versioned as readers.store's are: a reader changed meanwhile is a Conflict)."""
        recent = [*subscriber.recent_papers, *record.paper_ids, *record.trending_ids][-RECENT_PAPERS:]
        updated = subscriber.model_copy(
            update={
                "last_period": record.period,
                "next_due": next_due,
                "recent_papers": recent,
                "version": subscriber.version + 1,
            }
        )
        digest_item = _digest_item(record)
        profile = profile_item(updated)
        self._slots.mark_slot(profile.get("due_slot"))
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table.name, "Item": digest_item}},
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": profile,
                            "ConditionExpression": "#version = :read",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {":read": subscriber.version},
                        }
                    },
                ]
            )
        except ClientError as error:
            if conditional_failed(error):
                raise Conflict(subscriber.id) from None
            raise
        return updated
