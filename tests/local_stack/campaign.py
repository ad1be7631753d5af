"""`make faults`: a seeded fault-injection campaign over the local stack.

Readers in many time zones get digests for several days while SES throttles and crashes, DynamoDB,
S3 and SQS calls fail, handlers die right after a call succeeded (the claim written, SES not yet
asked, among them), planners fire twice, SQS delivers twice, SES invokes InboundMail twice and its
Send events come late, twice or never; readers send commands meanwhile. Afterwards every reader's
mail is checked: one digest per due period, never two, no paper twice, every understood command
applied (or its message kept in a dead-letter queue, never dropped in silence).
"""

from __future__ import annotations

import json
import random
import re
import time as wall
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local_stack import scenario
from local_stack.faults import InjectedCrash
from local_stack.ses_events import EventFaults
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.admin import Admin
from paperboy.digests.claims import SAFE_AGE
from paperboy.digests.ledger import DigestStatus
from paperboy.readers.model import ReaderSettings
from paperboy.readers.schedule import local_delivery
from paperboy.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Europe/London",
)
TOPICS = (
    "reinforcement learning",
    "transfer learning",
    "knowledge distillation",
    "domain adaptation",
    "prompt",
    "adversarial",
    "continual learning",
    "meta-learning",
    "robot",
    "vision-language",
)
# (operation, when, error code, HTTP status, probability)
FAULTS = (
    ("sesv2.SendEmail", "before", "TooManyRequestsException", 429, 0.10),
    ("sesv2.SendEmail", "after", "", 0, 0.03),
    ("dynamodb.PutItem", "after", "", 0, 0.02),
    ("dynamodb.TransactWriteItems", "before", "InternalServerError", 500, 0.05),
    ("dynamodb.TransactWriteItems", "after", "", 0, 0.02),
    ("dynamodb.GetItem", "before", "ProvisionedThroughputExceededException", 400, 0.03),
    ("dynamodb.Query", "before", "InternalServerError", 500, 0.03),
    # The sweep dying after it released a claim, before it queued the job again.
    ("dynamodb.DeleteItem", "after", "", 0, 0.05),
    ("dynamodb.UpdateItem", "after", "", 0, 0.02),
    ("s3.GetObject", "before", "InternalError", 500, 0.10),
    ("sqs.SendMessageBatch", "before", "InternalError", 500, 0.05),
    ("sqs.ChangeMessageVisibility", "before", "InternalError", 500, 0.05),
)
# What happens to SES's Send events on their way to MailEvents (SNS, a throttled function).
EVENT_FAULTS = {"lost": 0.05, "duplicated": 0.05, "late": 0.05}
# After the faults stop, the campaign runs this long so that every claim can be settled.
SETTLE = SAFE_AGE + timedelta(hours=3)
# How often the on-call operator answers the MailEvents dead-letter alarm with a redrive.
OPERATOR_EVERY = timedelta(hours=6)
# A person whose command died (a traceback, an AWS error) runs it again; after this many they stop.
OPERATOR_ATTEMPTS = 10
_DIGEST_REFERENCE = re.compile(r"<digest\.(\d{4}-\d{2}-\d{2})\.")


@dataclass
class Report:
    seed: int
    readers: int
    days: int
    commands_sent: int = 0
    planner_double_fires: int = 0
    inbound_replays: int = 0
    sqs_duplicates: int = 0
    ses_event_faults: dict[str, int] = field(default_factory=dict)
    events_redriven: int = 0
    operator_retries: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    handler_failures: int = 0
    crashes: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    digests_sent: int = 0
    periods_due: int = 0
    periods_accounted: Counter[str] = field(default_factory=Counter)
    lost_digests: list[str] = field(default_factory=list)
    duplicated_digests: list[str] = field(default_factory=list)
    repeated_papers: list[str] = field(default_factory=list)
    commands_applied: int = 0
    commands_dead_lettered: int = 0
    lost_commands: list[str] = field(default_factory=list)
    duplicate_acks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.lost_digests or self.duplicated_digests or self.repeated_papers or self.lost_commands
        )

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["faults_injected"] = dict(self.faults_injected)
        data["dead_letters"] = dict(self.dead_letters)
        data["periods_accounted"] = dict(self.periods_accounted)
        data["ok"] = self.ok
        return data


def run(seed: int = 7, *, readers: int = 200, days: int = 3, commands: int = 100) -> Report:
    rng = random.Random(seed)
    report = Report(seed=seed, readers=readers, days=days)
    started = wall.perf_counter()
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    start = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    with LocalStack(domain="papers.example.org", start=start, fixtures=fixtures, strict=False) as stack:
        stack.faults.rng = random.Random(seed)
        stack.ses_events.faults = EventFaults(**EVENT_FAULTS, rng=random.Random(seed + 1))
        stack.fetch()
        addresses = []
        for number in range(readers):
            address = f"reader{number}@example.org"
            stack.add_subscriber(
                address,
                ReaderSettings(
                    topics=tuple(rng.sample(TOPICS, rng.choice((0, 1, 1, 2)))),
                    timezone=rng.choice(ZONES),
                    send_time=f"{rng.randint(5, 9):02d}:{rng.choice((0, 30)):02d}",
                    count=rng.choice((3, 5, 8)),
                ),
            )
            addresses.append(address)
        for operation, when, code, status, probability in FAULTS:
            stack.faults.add(
                operation,
                when=when,
                code=code or "InternalFailure",
                status=status or 500,
                times=10**9,
                probability=probability,
            )
        expected_topics: dict[str, set[str]] = {}
        end = start + timedelta(days=days)
        command_times = sorted(
            start + timedelta(hours=12) + timedelta(minutes=rng.randint(0, (days - 1) * 24 * 60))
            for _ in range(commands)
        )
        inbound_ids: list[str] = []
        operator = Admin(Settings.from_env(stack.functions["PlanDigestsFunction"].environment))
        while stack.now < end:
            if (stack.now - start) % OPERATOR_EVERY < timedelta(hours=1):
                _operator_redrives(operator, stack.now, report)
            step_end = min(stack.now + timedelta(hours=1), end)
            due_commands = [t for t in command_times if stack.now <= t < step_end]
            stack.advance(step_end - stack.now)
            if rng.random() < 0.15:
                report.planner_double_fires += 1
                stack.digest()
            if rng.random() < 0.15:
                report.sqs_duplicates += _duplicate_a_job(stack, rng)
            for _ in due_commands:
                address = rng.choice(addresses)
                if stack.mailbox.latest_to(address) is None:
                    continue
                topic = f"campaign topic {report.commands_sent}"
                report.commands_sent += 1
                before = len(stack.mailbox.delivered)
                scenario.FILE_STEPS["reply"](stack, {"from": address, "text": f"add topic {topic}"}, FIXTURES)
                expected_topics.setdefault(address, set()).add(topic)
                inbound_ids.append(topic)
                if rng.random() < 0.3:
                    report.inbound_replays += 1
                    stack.replay_last_inbound()
                del before
        stack.faults.clear()
        report.ses_event_faults = dict(stack.ses_events.faults.tally)
        stack.ses_events.faults = EventFaults()
        _operator_redrives(operator, stack.now, report)
        stack.advance(SETTLE)
        for rule in stack.faults.log:
            report.faults_injected[f"{rule[1]} ({rule[0]})"] += 1
        report.handler_failures = stack.failed_invocations
        report.crashes = stack.crashes
        for logical, _, _ in stack.dead_letters:
            report.dead_letters[logical] += 1
        report.dead_letters["DigestDeadLetterQueue"] = _queue_depth(stack, "DigestDeadLetterQueue")
        _check_digests(stack, addresses, report)
        _check_commands(stack, expected_topics, report)
    report.seconds = round(wall.perf_counter() - started, 1)
    return report


def _operator_redrives(operator: Admin, now: datetime, report: Report) -> None:
    """The on-call operator's redrive of MailEvents' dead letters, run again as a person would when
    it dies half way (an injected crash, or an AWS error that outlasted the client's retries)."""
    for _ in range(OPERATOR_ATTEMPTS - 1):
        try:
            report.events_redriven += operator.redrive_mail_events(now)["events"]
            return
        except (InjectedCrash, ClientError):
            report.operator_retries += 1
    report.events_redriven += operator.redrive_mail_events(now)["events"]


def _duplicate_a_job(stack: LocalStack, rng: random.Random) -> int:
    """SQS delivering a message twice: re-queue a job of a digest already sent."""
    readers = [r for r in stack.subscribers.all() if r.last_period is not None]
    if not readers:
        return 0
    reader = rng.choice(readers)
    job = {
        "subscriber_id": reader.id,
        "period": reader.last_period.isoformat(),
        "due": (reader.next_due or stack.now).isoformat(),
    }
    boto3.client("sqs").send_message(
        QueueUrl=stack.template.attributes["DigestQueue"]["QueueUrl"], MessageBody=json.dumps(job)
    )
    stack.drain_queues()
    stack.mailbox.collect()
    return 1


def _queue_depth(stack: LocalStack, logical: str) -> int:
    url = stack.template.attributes[logical]["QueueUrl"]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _check_digests(stack: LocalStack, addresses: list[str], report: Report) -> None:
    per_period: Counter[tuple[str, str]] = Counter()
    mailed_at: dict[tuple[str, str], datetime] = {}
    for mail in stack.mailbox.delivered:
        if mail.kind == "digest":
            report.digests_sent += 1
            # The period a digest is for, as it names itself: a late one is mailed on a later day.
            found = _DIGEST_REFERENCE.search(str(mail.message["References"] or ""))
            period = found.group(1) if found else "?"
            per_period[(mail.to, period)] += 1
            mailed_at[(mail.to, period)] = mail.clock
    for (address, day), count in per_period.items():
        if count > 1:
            report.duplicated_digests.append(f"{address} {day} x{count}")
    for address in addresses:
        reader = stack.subscribers.by_email(address)
        records = {r.period.isoformat(): r for r in stack.ledger.recent_digests(reader.id, limit=30)}
        sent_ids = [pid for r in records.values() if r.status is DigestStatus.SENT for pid in r.paper_ids]
        if len(sent_ids) != len(set(sent_ids)):
            report.repeated_papers.append(address)
        # Every local date whose delivery time passed while the campaign ran must be accounted for.
        campaign_end = stack.now - SETTLE
        day = (campaign_end - timedelta(days=report.days + 1)).astimezone(reader.settings.zone).date()
        while day <= campaign_end.astimezone(reader.settings.zone).date():
            due = local_delivery(reader.settings, day)
            if reader.created_at < due <= campaign_end - timedelta(hours=1):
                report.periods_due += 1
                record = records.get(day.isoformat())
                mailed = per_period.get((address, day.isoformat()), 0)
                if record is None:
                    report.lost_digests.append(
                        f"{address} {day}: never claimed (status {reader.status}, {reader.settings.timezone} "
                        f"{reader.settings.send_time}, next due {reader.next_due}, last {reader.last_period})"
                    )
                elif record.status is DigestStatus.SENT and mailed == 1:
                    late = mailed_at[(address, day.isoformat())] - due >= SAFE_AGE
                    # Late by the safe age or more: a claim whose sender died was released and sent again.
                    report.periods_accounted["sent once, late" if late else "sent once"] += 1
                elif record.status is DigestStatus.EMPTY and mailed == 0:
                    report.periods_accounted["nothing new"] += 1
                elif record.status is DigestStatus.REJECTED:
                    report.periods_accounted["rejected (dead-letter queue)"] += 1
                else:
                    report.lost_digests.append(f"{address} {day}: {record.status} with {mailed} mails")
            day += timedelta(days=1)


def _check_commands(stack: LocalStack, expected: dict[str, set[str]], report: Report) -> None:
    dead = sum(1 for logical, _, _ in stack.dead_letters if logical == "InboundMailFunction")
    missing = []
    for address, topics in expected.items():
        have = {t.lower() for t in stack.subscribers.by_email(address).settings.topics}
        for topic in topics:
            if topic.lower() in have:
                report.commands_applied += 1
            else:
                missing.append(f"{address}: {topic}")
    report.commands_dead_lettered = dead
    # A missing command is lost only if no dead letter accounts for it.
    if len(missing) > dead:
        report.lost_commands = missing
    acks = Counter(str(mail.message["In-Reply-To"]) for mail in stack.mailbox.delivered if mail.kind == "ack")
    report.duplicate_acks = sum(count - 1 for count in acks.values() if count > 1)


def table(report: Report) -> str:
    lines = [
        f"fault campaign seed {report.seed}: {report.readers} readers, {report.days} days, "
        f"{report.commands_sent} commands, {report.seconds} s",
        "faults injected: " + ", ".join(f"{name} {n}" for name, n in sorted(report.faults_injected.items())),
        f"handler failures {report.handler_failures} (crashes {report.crashes}); "
        f"duplicates: planner fired twice "
        f"{report.planner_double_fires}, SQS redelivered {report.sqs_duplicates}, SES invoked twice "
        f"{report.inbound_replays}; SES Send events {report.ses_event_faults}, "
        f"redriven by the operator {report.events_redriven} (commands run again after dying "
        f"{report.operator_retries})",
        f"dead letters: {dict(report.dead_letters)}",
        f"digests: {report.digests_sent} sent for {report.periods_due} due periods; "
        + ", ".join(f"{k} {v}" for k, v in report.periods_accounted.items()),
        f"lost digests {len(report.lost_digests)}, duplicated digests {len(report.duplicated_digests)}, "
        f"readers with a repeated paper {len(report.repeated_papers)}",
        f"commands: {report.commands_applied} applied, "
        f"{report.commands_dead_lettered} in the dead-letter queue, "
        f"lost {len(report.lost_commands)}, duplicate acknowledgements {report.duplicate_acks}",
        "RESULT: " + ("PASS" if report.ok else "FAIL"),
    ]
    return "\n".join(lines)


def summary(report: Report) -> str:
    """One line for a seed of a multi-seed run."""
    return f"seed {report.seed}: {'PASS' if report.ok else 'FAIL'}  {_figures([report])}; {report.seconds} s"


def total(reports: list[Report], seconds: float) -> str:
    """The line under the per-seed lines: sums over every seed, and the wall-clock time of all."""
    passed = sum(report.ok for report in reports)
    return f"total: {passed}/{len(reports)} seeds PASS  {_figures(reports)}; {seconds:.1f} s wall clock"


def _figures(reports: list[Report]) -> str:
    periods: Counter[str] = Counter()
    for report in reports:
        periods.update(report.periods_accounted)
    late = periods["sent once, late"]

    def count(name: str) -> int:
        return sum(len(getattr(report, name)) for report in reports)

    def add(name: str) -> int:
        return sum(getattr(report, name) for report in reports)

    return (
        f"faults {sum(sum(r.faults_injected.values()) for r in reports)}, "
        f"due reader-days {add('periods_due')}: sent {periods['sent once'] + late} (late {late}), "
        f"nothing new {periods['nothing new']}, lost {count('lost_digests')}, "
        f"duplicated {count('duplicated_digests')}, repeated papers {count('repeated_papers')}; "
        f"commands {add('commands_applied')}/{add('commands_sent')} applied "
        f"({add('commands_dead_lettered')} dead-lettered, lost {count('lost_commands')}); "
        f"operator retries {add('operator_retries')}"
    )
