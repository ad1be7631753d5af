"""SES's feedback on mail Paperboy sent: hard bounces and complaints take an address off the list.

SES publishes the configuration set's events to SNS; `handle` takes the decoded SNS `Message`.
Event publishing names the kind `eventType`, identity notifications `notificationType`; everything
else is shaped alike, so one set of models reads both. Whatever cannot be read is ignored with a
reason, never raised: a retry would not make junk readable, and SNS would only redeliver it.

- Permanent bounce (every subtype, `OnAccountSuppressionList` included: SES will not deliver to the
  address, and each attempt still costs quota and creates another event) -> reader `suppressed`.
- Complaint -> `suppressed`, unless the ISP's feedback type is `not-spam` (a correction, not a complaint).
- Transient or Undetermined bounce (published only after SES stopped retrying) -> counted; the
  `TRANSIENT_LIMIT`-th in a row suppresses. A Delivery event for the address resets the count:
  only SES knows that a later mail arrived (sending is not arriving: a mail that bounces is sent).
- Send, Reject and Rendering Failure of a digest (tagged with its reader and period) are noted on
  the period's claim: the proof the hourly sweep needs to settle a claim whose sender died before
  SES answered (`claims`). Noting twice changes nothing.
- Redelivered SNS messages: suppressing twice changes nothing, and a transient bounce whose
  feedbackId the reader already counted is not counted again. The id list lives on the profile and
  is written in the same versioned put as the counter, so the two cannot disagree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from paperboy.digests.ledger import DigestLedger
from paperboy.mail.addresses import normalised
from paperboy.readers.lifecycle import change
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.store import SubscriberStore

# Transient bounces in a row that suppress an address: five digests, most of a week for a daily reader.
TRANSIENT_LIMIT = 5
# feedbackIds remembered per reader: SNS and Lambda redeliver within hours, not 20 bounces later.
COUNTED_BOUNCES = 20
NOT_SPAM = "not-spam"


class _SesModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class Mail(_SesModel):
    """The mail an event is about (only what Paperboy reads; headers are left out)."""

    message_id: str = ""
    timestamp: datetime | None = None
    source: str = ""
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class Recipient(_SesModel):
    email_address: str
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = None


class BounceType(StrEnum):
    PERMANENT = "Permanent"
    TRANSIENT = "Transient"
    UNDETERMINED = "Undetermined"


class Bounce(_SesModel):
    bounce_type: BounceType
    bounce_sub_type: str = ""
    bounced_recipients: list[Recipient] = Field(min_length=1)
    timestamp: datetime | None = None
    feedback_id: str = ""
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class Complaint(_SesModel):
    complained_recipients: list[Recipient] = Field(min_length=1)
    timestamp: datetime | None = None
    feedback_id: str = ""
    # Only when the ISP attached a feedback report: abuse, auth-failure, fraud, not-spam, other, virus.
    complaint_feedback_type: str | None = None
    complaint_sub_type: str | None = None
    user_agent: str | None = None
    arrival_date: datetime | None = None


class Delivery(_SesModel):
    timestamp: datetime | None = None
    processing_time_millis: int | None = None
    recipients: list[str] = Field(min_length=1)
    smtp_response: str | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class Send(_SesModel):
    """Always empty."""


class Reject(_SesModel):
    reason: str | None = None


class RenderingFailure(_SesModel):
    error_message: str | None = None
    template_name: str | None = None


class DeliveryDelay(_SesModel):
    delay_type: str | None = None
    delayed_recipients: list[Recipient] = Field(default_factory=list)
    expiration_time: datetime | None = None
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")
    timestamp: datetime | None = None


class _Event(_SesModel):
    kind: str = Field(validation_alias=AliasChoices("eventType", "notificationType"))
    mail: Mail = Field(default_factory=Mail)


class BounceEvent(_Event):
    bounce: Bounce


class ComplaintEvent(_Event):
    complaint: Complaint


class DeliveryEvent(_Event):
    delivery: Delivery


class SendEvent(_Event):
    send: Send = Field(default_factory=Send)


class RejectEvent(_Event):
    reject: Reject = Field(default_factory=Reject)


class DeliveryDelayEvent(_Event):
    delivery_delay: DeliveryDelay = Field(default_factory=DeliveryDelay)


class RenderingFailureEvent(_Event):
    failure: RenderingFailure = Field(default_factory=RenderingFailure)


type MailEvent = (
    BounceEvent
    | ComplaintEvent
    | DeliveryEvent
    | SendEvent
    | RejectEvent
    | DeliveryDelayEvent
    | RenderingFailureEvent
)

EVENT_MODELS: dict[str, type[_Event]] = {
    "Bounce": BounceEvent,
    "Complaint": ComplaintEvent,
    "Delivery": DeliveryEvent,
    "Send": SendEvent,
    "Reject": RejectEvent,
    "DeliveryDelay": DeliveryDelayEvent,
    "Rendering Failure": RenderingFailureEvent,
}


class UnusableEvent(ValueError):
    """The message is not an SES event Paperboy can read; the text says why."""


def parse_event(message: dict[str, Any] | str | bytes) -> MailEvent:
    """The SES event in an SNS `Message` (JSON text or already decoded). Raises UnusableEvent."""
    if isinstance(message, str | bytes):
        try:
            message = json.loads(message)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise UnusableEvent("not JSON") from None
    if not isinstance(message, dict):
        raise UnusableEvent("not a JSON object")
    kind = message.get("eventType") or message.get("notificationType")
    if not isinstance(kind, str):
        raise UnusableEvent("no eventType or notificationType")
    model = EVENT_MODELS.get(kind)
    if model is None:
        raise UnusableEvent(f"{kind[:40]} events are not used")
    try:
        return model.model_validate(message)  # type: ignore[return-value]
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
        raise UnusableEvent(f"malformed {kind} event ({problems})") from None


class Signal(StrEnum):
    """What SES reported about one recipient."""

    PERMANENT_BOUNCE = "permanent_bounce"
    TRANSIENT_BOUNCE = "transient_bounce"  # Transient and Undetermined
    COMPLAINT = "complaint"
    NOT_SPAM = "not_spam"  # a complaint report that says the mail was wanted
    DELIVERY = "delivery"
    SEND = "send"  # SES accepted a digest
    REFUSED = "refused"  # SES accepted the call, then did not send (Reject, Rendering Failure)
    OTHER = "other"  # DeliveryDelay, untagged sends, unknown kinds, junk


class Action(StrEnum):
    """What Paperboy did about it."""

    SUPPRESSED = "suppressed"  # the reader is never mailed again (this event did it)
    ALREADY_SUPPRESSED = "already_suppressed"
    COUNTED = "counted"  # one more transient bounce, below the limit
    DUPLICATE = "duplicate"  # this bounce was counted before (SNS redelivered it)
    RESET = "reset"  # a delivery cleared the transient bounce count
    CLAIM_NOTED = "claim_noted"  # a digest's Send/Reject event noted on its period's claim
    # No claim made before the mail for that period: it was released already (the event came later
    # than the sweep's safe age, so the period may be sent twice) or the reader is gone.
    NO_CLAIM = "no_claim"
    UNCHANGED = "unchanged"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    IGNORED = "ignored"


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    signal: Signal
    action: Action
    at: datetime
    email: str | None = None
    subscriber_id: str | None = None
    transient_bounces: int | None = None
    # The bounce subtype, the complaint's feedback type, or why the event was ignored.
    detail: str = ""
    # SES's id of the mail concerned (the one send_email returned).
    message_id: str = ""


type Edit = Callable[[Subscriber], tuple[Subscriber, Action]]

_SUPPRESS = {"status": Status.SUPPRESSED, "next_due": None, "paused_until": None}


@dataclass(frozen=True)
class _Recipients:
    """One event's recipients: the edit it calls for, applied to each one's reader."""

    store: SubscriberStore
    event: _Event
    now: datetime

    def apply(
        self, recipients: list[Recipient] | list[str], signal: Signal, detail: str, edit: Edit | None
    ) -> list[Outcome]:
        outcomes = []
        for email in _emails(recipients):
            action, reader, note = Action.IGNORED, None, detail
            if not email:
                note = "recipient is not an address"
            elif edit is not None:
                action, reader = _apply(self.store, email, edit)
            outcomes.append(
                Outcome(
                    signal=signal,
                    action=action,
                    at=self.now,
                    email=email or None,
                    detail=note,
                    message_id=self.event.mail.message_id,
                    subscriber_id=reader.id if reader else None,
                    transient_bounces=reader.transient_bounces if reader else None,
                )
            )
        return outcomes


def handle(
    store: SubscriberStore,
    ledger: DigestLedger,
    event_message: dict[str, Any] | str | bytes,
    now: datetime,
    *,
    transient_limit: int = TRANSIENT_LIMIT,
) -> list[Outcome]:
    """Apply one SES event (the decoded SNS `Message`) to the readers it names; one outcome per recipient."""
    try:
        event = parse_event(event_message)
    except UnusableEvent as error:
        return [Outcome(signal=Signal.OTHER, action=Action.IGNORED, at=now, detail=str(error))]
    each = _Recipients(store, event, now).apply
    match event:
        case BounceEvent(bounce=bounce) if bounce.bounce_type is BounceType.PERMANENT:
            return each(bounce.bounced_recipients, Signal.PERMANENT_BOUNCE, bounce.bounce_sub_type, _suppress)
        case BounceEvent(bounce=bounce):
            # Without a feedbackId the mail's id still tells a redelivery from a new bounce; without
            # either, the event's own content does (a redelivery is the same event, byte for byte).
            key = bounce.feedback_id or event.mail.message_id or _fingerprint(event)
            counting = _count(key, transient_limit)
            detail = f"{bounce.bounce_type}/{bounce.bounce_sub_type}"
            return each(bounce.bounced_recipients, Signal.TRANSIENT_BOUNCE, detail, counting)
        case ComplaintEvent(complaint=complaint) if _not_spam(complaint):
            return each(complaint.complained_recipients, Signal.NOT_SPAM, NOT_SPAM, None)
        case ComplaintEvent(complaint=complaint):
            detail = complaint.complaint_feedback_type or complaint.complaint_sub_type or "unspecified"
            return each(complaint.complained_recipients, Signal.COMPLAINT, detail, _suppress)
        case DeliveryEvent(delivery=delivery):
            return each(delivery.recipients, Signal.DELIVERY, "", _reset)
        case SendEvent() if _claim_of(event) is not None:
            return [_note_claim(ledger, event, Signal.SEND, None, now)]
        case RejectEvent(reject=reject) if _claim_of(event) is not None:
            detail = f"Reject: {reject.reason or 'unspecified'}"
            return [_note_claim(ledger, event, Signal.REFUSED, detail[:200], now)]
        case RenderingFailureEvent(failure=failure) if _claim_of(event) is not None:
            detail = f"Rendering Failure: {failure.error_message or 'unspecified'}"
            return [_note_claim(ledger, event, Signal.REFUSED, detail[:200], now)]
        case _:
            return [
                Outcome(
                    signal=Signal.OTHER,
                    action=Action.IGNORED,
                    at=now,
                    detail=f"{event.kind} changes nothing",
                    message_id=event.mail.message_id,
                )
            ]


def unwrap_dead_letter(body: str) -> list[str]:
    """The SES event messages inside a dead-lettered message: SNS's redrive of an undeliverable
    notification (the SNS envelope), or Lambda's on-failure record of a failed invocation (the
    original SNS event under `requestPayload`). Junk yields nothing."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("Message"), str):
        return [data["Message"]]
    records = (
        (data.get("requestPayload") or {}).get("Records")
        if isinstance(data.get("requestPayload"), dict)
        else None
    )
    return [
        record["Sns"]["Message"]
        for record in records or []
        if isinstance(record, dict)
        and isinstance(record.get("Sns"), dict)
        and isinstance(record["Sns"].get("Message"), str)
    ]


def redrive(
    store: SubscriberStore,
    ledger: DigestLedger,
    sqs: Any,
    queue_url: str,
    now: datetime,
    *,
    limit: int = 10_000,
) -> list[Outcome]:
    """Apply the events that failed on their way to MailEvents (the operator's redrive after the
    dead-letter alarm), deleting each message only once its events are applied.

    Resumable: an operator's command can die half way (a lost connection, a closed laptop). The
    messages are received without hiding them (visibility 0), so a run that dies holds none of them
    back: running it again at once finds every message not yet deleted and applies it again, which
    changes nothing for the events the dead run applied (every action is idempotent)."""
    outcomes: list[Outcome] = []
    for _ in range(0, limit, 10):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            for event in unwrap_dead_letter(message["Body"]):
                outcomes.extend(handle(store, ledger, event, now))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return outcomes


def _claim_of(event: _Event) -> tuple[str, date] | None:
    """(reader id, period) of a digest's event, from the tags the sender gave the mail."""
    tags = event.mail.tags
    if tags.get("kind") != ["digest"] or len(tags.get("subscriber", [])) != 1:
        return None
    try:
        return tags["subscriber"][0], date.fromisoformat(tags.get("period", [""])[0])
    except ValueError:
        return None


def _note_claim(
    ledger: DigestLedger, event: _Event, signal: Signal, refused: str | None, now: datetime
) -> Outcome:
    claim = _claim_of(event)
    assert claim is not None
    subscriber_id, period = claim
    noted = ledger.record_ses_event(
        subscriber_id,
        period,
        message_id=event.mail.message_id,
        at=event.mail.timestamp or now,
        refused=refused,
    )
    return Outcome(
        signal=signal,
        action=Action.CLAIM_NOTED if noted else Action.NO_CLAIM,
        at=now,
        subscriber_id=subscriber_id,
        detail=refused or period.isoformat(),
        message_id=event.mail.message_id,
    )


def _fingerprint(event: _Event) -> str:
    return "sha256:" + hashlib.sha256(event.model_dump_json().encode()).hexdigest()[:32]


def _not_spam(complaint: Complaint) -> bool:
    return (complaint.complaint_feedback_type or "").lower() == NOT_SPAM


def _emails(recipients: list[Recipient] | list[str]) -> list[str]:
    """Bare normalised addresses (the form readers are keyed on), each once ("" for one that is
    none); a DSN may say `Name <a@b>`."""
    found: dict[str, None] = {}
    for recipient in recipients:
        text = recipient if isinstance(recipient, str) else recipient.email_address
        address = parseaddr(text)[1].strip().lower()
        with contextlib.suppress(ValueError):
            address = normalised(address)
        found[address if "@" in address else ""] = None
    return list(found)


def _apply(store: SubscriberStore, email: str, edit: Edit) -> tuple[Action, Subscriber | None]:
    """Edit the reader the address belongs to under the profile's version; the action and the reader."""
    reader = store.by_email(email)
    if reader is None:
        return Action.UNKNOWN_RECIPIENT, None
    edited, action = edit(reader)
    if edited == reader:
        # Nothing to write (most deliveries, redeliveries): spare the read and the write `change` would do.
        return action, reader
    actions: list[Action] = []

    def recorded(current: Subscriber) -> Subscriber:
        # `change` edits again after a concurrent write: the action is the one of the read it saved.
        edited, action = edit(current)
        actions.append(action)
        return edited

    try:
        saved = change(store, reader.id, recorded)
    except LookupError:  # the reader was deleted since the address was looked up
        return Action.UNKNOWN_RECIPIENT, None
    return actions[-1], saved


def _suppress(reader: Subscriber) -> tuple[Subscriber, Action]:
    if reader.status is Status.SUPPRESSED:
        return reader, Action.ALREADY_SUPPRESSED
    return reader.model_copy(update=_SUPPRESS), Action.SUPPRESSED


def _count(feedback_id: str, limit: int) -> Edit:
    def edit(reader: Subscriber) -> tuple[Subscriber, Action]:
        if reader.status is Status.SUPPRESSED:
            return reader, Action.ALREADY_SUPPRESSED
        if feedback_id and feedback_id in reader.counted_bounces:
            return reader, Action.DUPLICATE
        count = reader.transient_bounces + 1
        counted = (
            [*reader.counted_bounces, feedback_id][-COUNTED_BOUNCES:]
            if feedback_id
            else reader.counted_bounces
        )
        update: dict[str, Any] = {"transient_bounces": count, "counted_bounces": counted}
        if count >= limit:
            return reader.model_copy(update={**update, **_SUPPRESS}), Action.SUPPRESSED
        return reader.model_copy(update=update), Action.COUNTED

    return edit


def _reset(reader: Subscriber) -> tuple[Subscriber, Action]:
    if reader.status is Status.SUPPRESSED or reader.transient_bounces == 0:
        return reader, Action.UNCHANGED
    return reader.model_copy(update={"transient_bounces": 0}), Action.RESET
