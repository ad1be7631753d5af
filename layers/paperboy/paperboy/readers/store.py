"""DynamoDB access for the reader aggregate. Keys and index names match template.yaml.

pk `SUB#<id>`:   sk `PROFILE` (the Subscriber) and `DIGEST#<local date>` (one per period sent)
pk `EMAIL#<a>`:  sk `EMAIL` (makes an address belong to exactly one reader)
pk `CONFIRM#<nonce>`: sk `CONFIRM` (commands a reader was asked to confirm)
pk `INBOUND#<hash of sender and Message-ID>`: sk `INBOUND` (inbound mail already handled)
pk `SLOT#<slot>`: sk `SLOT`, the slot's occupancy mark: written before any reader is put in the slot,
                 never removed before its TTL, so the planner reads which slots hold readers.
Index `Due`:     `due_slot` = "<UTC hour>#<shard>", present only while a digest is scheduled.
Index `OpenClaims`: `claim_shard` + `claim_ms`, present only on a digest record whose mail may or
                 may not have left (claimed, SES's answer not yet recorded).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from paperboy.mail.addresses import normalised
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.schedule import DUE_SHARDS, due_slot, shard_of

DUE_INDEX = "Due"
OPEN_CLAIMS_INDEX = "OpenClaims"
PROFILE = "PROFILE"
DIGEST_PREFIX = "DIGEST#"
# Digest records answer "more 2" and keep papers from repeating; a season is plenty for both.
DIGEST_RETENTION = timedelta(days=120)
# How many recently sent paper ids a profile remembers, newest last.
RECENT_PAPERS = 400
# An unconfirmed sign-up lives this long (docs/architecture.md, "Subscribing"). Its record carries
# the TTL on every write, and confirming checks the time too: DynamoDB deletes expired items only
# within days (moto never).
PENDING_LIFETIME = timedelta(days=7)
# How long a handled Message-ID is remembered: SES retries and resends come within hours, and a
# confirmation (48 hours) or a sign-up (7 days) is answered within this.
INBOUND_RETENTION = timedelta(days=8)
# A slot's mark lives this long past the slot's hour: well past the planner's deepest look-back
# (planning.DEEP_CATCH_UP_HOURS), so no slot the planner reads loses its mark to the TTL.
SLOT_MARK_LIFETIME = timedelta(days=7)
# BatchGetItem's limit on keys per call.
BATCH_GET_KEYS = 100


class Conflict(Exception):
    """Someone else changed the record since it was read; read again and retry."""


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


def _sub_key(subscriber_id: str) -> str:
    return f"SUB#{subscriber_id}"


def _email_key(email: str) -> str:
    """The key that makes an address belong to one reader: its normalised form, so every spelling
    of one mailbox (full-width, Unicode domain, case) finds the same reader."""
    return f"EMAIL#{normalised(email)}"


def pending_expiry(subscriber: Subscriber) -> datetime | None:
    """When an unconfirmed sign-up lapses; None for any other status."""
    return subscriber.created_at + PENDING_LIFETIME if subscriber.status is Status.PENDING else None


def _profile_item(subscriber: Subscriber) -> dict[str, Any]:
    item = subscriber.model_dump(mode="json", exclude_none=True)
    item.update(pk=_sub_key(subscriber.id), sk=PROFILE)
    # Every write replaces the whole item: a pending reader's TTL is written each time, and any
    # other status (confirmed, unsubscribed) leaves it out, so the record stays.
    expires = pending_expiry(subscriber)
    if expires is not None:
        item["expires_at"] = int(expires.timestamp())
    # Stored as DynamoDB Binary, not as the base64 text a JSON dump makes of bytes.
    item["topic_vectors"] = {topic: Binary(vector) for topic, vector in subscriber.topic_vectors.items()}
    if subscriber.profile_vector is not None:
        item["profile_vector"] = Binary(subscriber.profile_vector)
    scheduled = subscriber.next_due is not None and subscriber.status in (Status.ACTIVE, Status.PAUSED)
    if scheduled and subscriber.next_due is not None:
        item["due_slot"] = due_slot(subscriber.id, subscriber.next_due)
    return item


def _slot_key(slot: str) -> dict[str, str]:
    return {"pk": f"SLOT#{slot}", "sk": "SLOT"}


def _slot_expiry(slot: str) -> int:
    hour = datetime.strptime(slot.partition("#")[0], "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return int((hour + SLOT_MARK_LIFETIME).timestamp())


def _digest_key(subscriber_id: str, period: date) -> dict[str, str]:
    return {"pk": _sub_key(subscriber_id), "sk": f"{DIGEST_PREFIX}{period.isoformat()}"}


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


def _subscriber(item: dict[str, Any]) -> Subscriber:
    return Subscriber.model_validate(_plain(item))


def _plain(value: Any) -> Any:
    """DynamoDB returns numbers as Decimal and binary as Binary; the models want ints and bytes."""
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        return int(value) if value == int(value) else float(value)
    return value


def _conditional_failed(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    reasons = error.response.get("CancellationReasons") or []
    return code == "TransactionCanceledException" and any(
        reason.get("Code") == "ConditionalCheckFailed" for reason in reasons
    )


class SubscriberStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    # -- readers --------------------------------------------------------------------------------
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
        profile = _profile_item(subscriber)
        self.mark_slot(profile.get("due_slot"))
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
            if _conditional_failed(error):
                return False
            raise
        return True

    def get(self, subscriber_id: str) -> Subscriber | None:
        item = self._table.get_item(
            Key={"pk": _sub_key(subscriber_id), "sk": PROFILE}, ConsistentRead=True
        ).get("Item")
        return _subscriber(item) if item else None

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
                            "Item": _profile_item(moved),
                            "ConditionExpression": "#version = :read",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {":read": subscriber.version},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def save(self, subscriber: Subscriber) -> Subscriber:
        """Write a changed reader if nobody else wrote it since it was read (else Conflict)."""
        saved = subscriber.model_copy(update={"version": subscriber.version + 1})
        profile = _profile_item(saved)
        self.mark_slot(profile.get("due_slot"))
        try:
            self._table.put_item(
                Item=profile,
                ConditionExpression="#version = :read",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":read": subscriber.version},
            )
        except ClientError as error:
            if _conditional_failed(error):
                raise Conflict(subscriber.id) from None
            raise
        return saved

    def set_topic_vectors(
        self, subscriber_id: str, topics: tuple[str, ...], vectors: dict[str, bytes], model: str
    ) -> bool:
        """Store the vectors of the reader's topics if the topics are still `topics` (else False).

        The version is left alone: a command that read the reader before this write still saves,
        and its put (which carries the vectors it read) shows up on the stream to be filled again.
        """
        try:
            self._table.update_item(
                Key={"pk": _sub_key(subscriber_id), "sk": PROFILE},
                UpdateExpression="SET #vectors = :vectors, #model = :model",
                ConditionExpression="attribute_exists(pk) AND #settings.#topics = :topics",
                ExpressionAttributeNames={
                    "#vectors": "topic_vectors",
                    "#model": "vector_model",
                    "#settings": "settings",
                    "#topics": "topics",
                },
                ExpressionAttributeValues={
                    ":vectors": {topic: Binary(vector) for topic, vector in vectors.items()},
                    ":model": model,
                    ":topics": list(topics),
                },
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def request_vectors(self, subscriber_id: str, now: datetime) -> bool:
        """Make the reader's profile show on the stream again, so that the Embed function fills in
        the topic vectors it lacks (backfill). The version is left alone, as in set_topic_vectors."""
        try:
            self._table.update_item(
                Key={"pk": _sub_key(subscriber_id), "sk": PROFILE},
                UpdateExpression="SET #requested = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#requested": "vectors_requested_at"},
                ExpressionAttributeValues={":now": now.isoformat()},
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

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
                key: _plain(item[key])
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
            if _conditional_failed(error):
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
            if _conditional_failed(error):
                return False
            raise
        return True

    def due_page(
        self, slot: str, start_key: dict[str, Any] | None = None, *, limit: int | None = None
    ) -> tuple[list[Subscriber], dict[str, Any] | None]:
        """One page of the readers whose next digest falls in an index slot (a query, never a scan),
        and where the next page starts (None after the last). Pages are DynamoDB's 1 MB unless
        `limit` asks for fewer items."""
        query: dict[str, Any] = {"IndexName": DUE_INDEX, "KeyConditionExpression": Key("due_slot").eq(slot)}
        if start_key is not None:
            query["ExclusiveStartKey"] = start_key
        if limit is not None:
            query["Limit"] = limit
        page = self._table.query(**query)
        return [_subscriber(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")

    def mark_slot(self, slot: str | None) -> None:
        """Mark the slot a profile write is about to put its reader in (None: no slot), before the
        write: a reader never sits in a slot the planner skips. A write that then fails leaves the
        mark on a slot that may be empty, which costs one empty PlanShard run per planner run that
        reads it. Marking a marked slot again changes nothing."""
        if slot is not None:
            self._table.update_item(
                Key=_slot_key(slot),
                UpdateExpression="SET expires_at = :expires",
                ExpressionAttributeValues={":expires": _slot_expiry(slot)},
            )

    def scheduled_slots(self) -> Iterator[str]:
        """The slot of every scheduled reader, one per reader: a scan of the sparse Due index, for
        the operator's upgrade step (`admin mark-slots`); never on a hot path."""
        scan: dict[str, Any] = {"IndexName": DUE_INDEX, "ProjectionExpression": "due_slot"}
        while True:
            page = self._table.scan(**scan)
            yield from (item["due_slot"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def marked_slots(self, slots: Sequence[str]) -> set[str]:
        """Which of `slots` carry an occupancy mark: one BatchGetItem per hundred slots, no scan."""
        marked: set[str] = set()
        for start in range(0, len(slots), BATCH_GET_KEYS):
            keys = [_slot_key(slot) for slot in slots[start : start + BATCH_GET_KEYS]]
            request: dict[str, Any] = {
                self._table.name: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk"}
            }
            for attempt in itertools.count():
                answer = self._client.batch_get_item(RequestItems=request)
                found = answer.get("Responses", {}).get(self._table.name, [])
                marked.update(item["pk"].removeprefix("SLOT#") for item in found)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                # Keys left unread under throttling: read them again, backing off as DynamoDB asks.
                time.sleep(min(0.05 * 2**attempt, 2.0))
        return marked

    def all(self) -> Iterator[Subscriber]:
        """Every reader (operator tools and the local stack's state; never on a hot path)."""
        scan: dict[str, Any] = {
            "FilterExpression": "sk = :profile",
            "ExpressionAttributeValues": {":profile": PROFILE},
        }
        while True:
            page = self._table.scan(**scan)
            yield from (_subscriber(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- digests --------------------------------------------------------------------------------
    def claim_digest(self, record: DigestRecord) -> bool:
        """Claim the reader's period before sending; False if any earlier attempt claimed it."""
        try:
            self._table.put_item(Item=_digest_item(record), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _conditional_failed(error):
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
            if not _conditional_failed(error):
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
            if _conditional_failed(error):
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
            if _conditional_failed(error):
                return False
            raise
        return True

    def open_claims(self) -> Iterator[DigestRecord]:
        """Every claim whose outcome is not recorded yet, oldest first within each index shard."""
        for shard in range(DUE_SHARDS):
            query: dict[str, Any] = {
                "IndexName": OPEN_CLAIMS_INDEX,
                "KeyConditionExpression": Key("claim_shard").eq(str(shard)),
            }
            while True:
                page = self._table.query(**query)
                yield from (DigestRecord.model_validate(_plain(item)) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def digest(self, subscriber_id: str, period: date) -> DigestRecord | None:
        item = self._table.get_item(Key=_digest_key(subscriber_id, period), ConsistentRead=True).get("Item")
        return DigestRecord.model_validate(_plain(item)) if item else None

    def recent_digests(self, subscriber_id: str, limit: int = 14) -> list[DigestRecord]:
        """The reader's latest digest records, newest first."""
        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(_sub_key(subscriber_id))
            & Key("sk").begins_with(DIGEST_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [DigestRecord.model_validate(_plain(item)) for item in page.get("Items", [])]

    def complete_digest(self, subscriber: Subscriber, record: DigestRecord, next_due: datetime) -> Subscriber:
        """Record the sent mail and move the reader to their next period, in one transaction."""
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
        profile = _profile_item(updated)
        self.mark_slot(profile.get("due_slot"))
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
            if _conditional_failed(error):
                raise Conflict(subscriber.id) from None
            raise
        return updated
