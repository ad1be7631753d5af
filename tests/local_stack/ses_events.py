"""SES's event publishing, played locally: for each mail the handlers send with a configuration set,
the Send event its event destination asks for, published (as SNS would deliver it) to the function
subscribed to the destination's topic. moto records the mail but publishes no events.

Only Send is emulated: Delivery, Bounce and Complaint need a real recipient. A fault campaign can make
SES's events late, duplicated or lost (`EventFaults`), as SNS and a throttled function can.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3

from local_stack.template import Template

ACCOUNT = "123456789012"


@dataclass
class EventFaults:
    """What happens to each published event: undeliverable (SNS moves it to the subscription's
    dead-letter queue), delivered twice, or delivered late."""

    lost: float = 0.0
    duplicated: float = 0.0
    late: float = 0.0
    # Within the claims' safe age: later than that, an event cannot settle a claim
    # (docs/architecture.md, "Exactly once").
    late_by: timedelta = timedelta(minutes=20)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    tally: Counter[str] = field(default_factory=Counter)

    def schedule(self, now: datetime) -> list[datetime]:
        """When the event reaches the subscriber: never, once or twice, now or later."""
        roll = self.rng.random()
        if roll < self.lost:
            self.tally["lost"] += 1
            return []
        if roll < self.lost + self.late:
            self.tally["late"] += 1
            return [now + self.late_by]
        if roll < self.lost + self.late + self.duplicated:
            self.tally["duplicated"] += 1
            return [now, now]
        return [now]


@dataclass
class _Pending:
    at: datetime
    function: str
    event: dict[str, Any]


@dataclass
class SesEvents:
    """Captures every SendEmail the handlers make and turns it into the events SES would publish."""

    region: str
    template: Template | None = None
    faults: EventFaults = field(default_factory=EventFaults)
    published: int = 0
    _pending: list[_Pending] = field(default_factory=list)
    _undeliverable: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _clock: Any = None

    def install(self, now: Any) -> None:
        self._clock = now
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("provide-client-params.sesv2.SendEmail", self._remember)
        events.register("after-call.sesv2.SendEmail", self._sent)

    def _remember(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["paperboy_send"] = params

    def _sent(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("paperboy_send")
        if not params or not parsed.get("MessageId") or parsed.get("Error") or self.template is None:
            return
        subscriber = self._subscriber(params.get("ConfigurationSetName", ""), "send")
        if subscriber is None:
            return
        now = self._clock()
        tags = {tag["Name"]: [tag["Value"]] for tag in params.get("EmailTags", [])}
        tags["ses:configuration-set"] = [params["ConfigurationSetName"]]
        message = {
            "eventType": "Send",
            "mail": {
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "source": params.get("FromEmailAddress", ""),
                "sendingAccountId": ACCOUNT,
                "messageId": parsed["MessageId"],
                "destination": params.get("Destination", {}).get("ToAddresses", []),
                "headersTruncated": False,
                "tags": tags,
            },
            "send": {},
        }
        function, topic, redrive = subscriber
        times = self.faults.schedule(now)
        event = _sns_event(topic, message, now, self.region)
        if not times and redrive:
            # SNS's doing, not the sending function's: queued when the stack settles.
            self._undeliverable.append((redrive, event["Records"][0]["Sns"]))
        for at in times:
            self._pending.append(_Pending(at, function, event))

    def _subscriber(self, configuration_set: str, event_type: str) -> tuple[str, str, str | None] | None:
        """(function, topic ARN, its subscription's dead-letter queue ARN) that receives
        `event_type` events of the configuration set."""
        assert self.template is not None
        for spec in self.template.resources("AWS::SES::ConfigurationSetEventDestination").values():
            properties = self.template.resolve(spec["Properties"])
            destination = properties["EventDestination"]
            if properties["ConfigurationSetName"] != configuration_set or not destination.get("Enabled"):
                continue
            if event_type not in destination.get("MatchingEventTypes", []):
                continue
            topic = destination.get("SnsDestination", {}).get("TopicARN")
            for logical, function in self.template.resources("AWS::Serverless::Function").items():
                for event in function["Properties"].get("Events", {}).values():
                    properties = event.get("Properties", {})
                    if event.get("Type") == "SNS" and self.template.resolve(properties["Topic"]) == topic:
                        redrive = self.template.resolve(properties.get("RedrivePolicy", {}))
                        return logical, topic, redrive.get("deadLetterTargetArn")
        return None

    def dead_letter(self, sqs: Any) -> None:
        """Put the events SNS could not deliver into their subscription's dead-letter queue."""
        for queue_arn, notification in self._undeliverable:
            url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(notification))
        self._undeliverable.clear()

    def due(self, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        """The events that reach their subscriber by `now`, in order, taken off the list."""
        ready = sorted((p for p in self._pending if p.at <= now), key=lambda p: p.at)
        self._pending = [p for p in self._pending if p.at > now]
        self.published += len(ready)
        return [(p.function, p.event) for p in ready]


def _sns_event(topic: str, message: dict[str, Any], now: datetime, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": now.isoformat().replace("+00:00", "Z"),
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/local.pem",
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }
