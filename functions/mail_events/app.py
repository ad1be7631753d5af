"""MailEvents: SES's events (configuration set -> SNS) keep the list clean and settle digest claims."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from paperboy import clock, wiring
from paperboy.mail import events as mail_events
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = Settings.from_env()
TABLES = wiring.dynamodb()
STORE = wiring.subscriber_store(SETTINGS, TABLES)
LEDGER = wiring.digest_ledger(SETTINGS, TABLES)
SIGNAL_METRICS = {
    # Deliveries are the denominator of every bounce and complaint rate on the dashboard.
    mail_events.Signal.DELIVERY: "Deliveries",
    mail_events.Signal.PERMANENT_BOUNCE: "BouncesPermanent",
    mail_events.Signal.TRANSIENT_BOUNCE: "BouncesTransient",
    mail_events.Signal.COMPLAINT: "Complaints",
}
ACTION_METRICS = {
    mail_events.Action.CLAIM_NOTED: "SendEventsNoted",
    # A digest's event with no claim to note it on: late beyond the safe age, or its reader is gone.
    mail_events.Action.NO_CLAIM: "SendEventsWithoutClaim",
    mail_events.Action.SUPPRESSED: "SuppressedReaders",
    mail_events.Action.UNKNOWN_RECIPIENT: "MailEventsUnknownRecipient",
    mail_events.Action.IGNORED: "MailEventsIgnored",
}


class _Notification(BaseModel):
    Message: str


class _Record(BaseModel):
    Sns: _Notification


class SnsEvent(BaseModel):
    """SNS's envelope, as much as is read of it: the SES event is the message, parsed by the domain.
    (Powertools' SnsModel would do, but importing its models builds every event model it has: a
    third of this function's cold start.)"""

    Records: list[_Record] = Field(min_length=1)


def _record(outcomes: list[mail_events.Outcome]) -> None:
    counts = Counter(SIGNAL_METRICS.get(o.signal) for o in outcomes) + Counter(
        ACTION_METRICS.get(o.action) for o in outcomes
    )
    for name, value in counts.items():
        if name:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for outcome in outcomes:
        # Deliveries and sends are one per mail: only those that changed something are worth a line.
        if outcome.action not in (mail_events.Action.UNCHANGED, mail_events.Action.CLAIM_NOTED):
            # A known reader is named by id; an address appears only when no reader has it.
            hidden = {"email"} if outcome.subscriber_id else set()
            logger.info("mail event", extra=outcome.model_dump(mode="json", exclude=hidden))


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = [
        outcome
        for record in SnsEvent.model_validate(event).Records
        for outcome in mail_events.handle(STORE, LEDGER, record.Sns.Message, clock.now())
    ]
    _record(outcomes)
    return {"outcomes": [f"{outcome.signal.value}:{outcome.action.value}" for outcome in outcomes]}
