"""MailEvents: SES's events (configuration set -> SNS) keep the list clean and settle digest claims."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SnsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperboy import clock, wiring
from paperboy.mail import events as mail_events
from paperboy.mail.events import Action, Outcome, Signal
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
    Signal.DELIVERY: "Deliveries",
    Signal.PERMANENT_BOUNCE: "BouncesPermanent",
    Signal.TRANSIENT_BOUNCE: "BouncesTransient",
    Signal.COMPLAINT: "Complaints",
}
ACTION_METRICS = {
    Action.CLAIM_NOTED: "SendEventsNoted",
    # A digest's event with no claim to note it on: late beyond the safe age, or its reader is gone.
    Action.NO_CLAIM: "SendEventsWithoutClaim",
    Action.SUPPRESSED: "SuppressedReaders",
    Action.UNKNOWN_RECIPIENT: "MailEventsUnknownRecipient",
    Action.IGNORED: "MailEventsIgnored",
}


def _record(outcomes: list[Outcome]) -> None:
    counts = Counter(SIGNAL_METRICS.get(o.signal) for o in outcomes) + Counter(
        ACTION_METRICS.get(o.action) for o in outcomes
    )
    for name, value in counts.items():
        if name:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for outcome in outcomes:
        # Deliveries and sends are one per mail: only those that changed something are worth a line.
        if outcome.action not in (Action.UNCHANGED, Action.CLAIM_NOTED):
            # A known reader is named by id; an address appears only when no reader has it.
            hidden = {"email"} if outcome.subscriber_id else set()
            logger.info("mail event", extra=outcome.model_dump(mode="json", exclude=hidden))


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId", log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = [
        outcome
        for record in parse(event=event, model=SnsModel).Records
        for outcome in mail_events.handle(STORE, LEDGER, str(record.Sns.Message), clock.now())
    ]
    _record(outcomes)
    return {"outcomes": [f"{outcome.signal.value}:{outcome.action.value}" for outcome in outcomes]}
