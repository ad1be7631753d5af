"""The local stack: moto plays AWS (created from template.yaml), local servers play the paper
sources and the Function URL, the handlers run as Lambda would run them, and the stack owns the clock."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO
from urllib.parse import urlsplit

import boto3
from moto import mock_aws

from local_stack import embeddings, iam, inbound, schedules
from local_stack.emulation import linear_moto
from local_stack.faults import FaultInjector, InjectedCrash
from local_stack.lambdas import RUNTIME_ENVIRONMENT, LocalFunction, functions
from local_stack.mailbox import Mailbox
from local_stack.resources import create_all
from local_stack.ses_events import SesEvents
from local_stack.snapshot import MotoState
from local_stack.sources import SourceFixtures, SourceServer
from local_stack.streams import STREAM_TYPES, StreamMapping, lambda_record, passes
from local_stack.template import Template
from local_stack.web import FunctionUrlServer, function_url_event, response_fields, url_response
from paperboy import clock
from paperboy.digests.ledger import DigestLedger
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.schedule import next_due
from paperboy.readers.store import SubscriberStore
from paperboy.readers.tokens import new_subscriber_id

REGION = "us-east-1"
# Every client created from here on reports its calls to tests/e2e/test_iam.py's recordings.
iam.install()
FETCH_FUNCTIONS = ("FetchPapersFunction",)
PLAN_FUNCTION = "PlanDigestsFunction"
# Lambda tries an asynchronous invocation three times in all (MaximumRetryAttempts: 2).
ASYNC_ATTEMPTS = 3
STATE_FIELDS = (
    "email",
    "status",
    "topics",
    "excludes",
    "authors",
    "categories",
    "count",
    "frequency",
    "timezone",
    "send_time",
    "weekday",
    "format",
    "quiet_days",
)
_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"', re.IGNORECASE)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


# What a resumed stack takes back from its checkpoint (the rest is built once and never changes).
_RESTORED = (
    "now",
    "strict",
    "invocations",
    "mailbox",
    "faults",
    "ses_events",
    "streams",
    "dead_letters",
    "_last_inbound",
    "crashes",
    "failed_invocations",
    "web_answers",
    "last_page",
)


@dataclass(frozen=True)
class _Checkpoint:
    moto: MotoState
    state: dict[str, Any]
    fixtures: SourceFixtures | None
    # Per function: invocations, whether it had started, its environment (tests may change it).
    functions: dict[str, tuple[int, bool, dict[str, str]]]


@dataclass(frozen=True)
class Firing:
    at: datetime
    function: str
    event: dict[str, Any]


class LocalStack:
    def __init__(
        self,
        *,
        domain: str,
        start: datetime,
        fixtures: SourceFixtures,
        log: TextIO | None = None,
        parameters: dict[str, str] | None = None,
        strict: bool = True,
    ) -> None:
        self.domain = domain
        self.now = start.astimezone(UTC)
        self.fixtures = fixtures
        self._log = log
        self._parameters = parameters or {}
        self._exit = contextlib.ExitStack()
        self.template: Template
        self.functions: dict[str, LocalFunction] = {}
        self.skipped_resources: list[str] = []
        self.invocations: list[tuple[datetime, str]] = []
        self.mailbox = Mailbox(REGION, lambda: self.now)
        self.faults = FaultInjector()
        # strict: a failing asynchronous invocation raises (tests see bugs at once). Otherwise it is
        # retried twice, as Lambda retries async invocations, then kept as a dead letter.
        self.strict = strict
        self.dead_letters: list[tuple[str, dict[str, Any], str]] = []
        self._last_inbound: tuple[str, dict[str, Any]] = ("", {})
        self.crashes = 0
        self.failed_invocations = 0
        # Answers to the scenario's `web` steps, in order: OUT/web/NNNN.json.
        self.web_answers: list[dict[str, Any]] = []
        self.ses_events = SesEvents(REGION)
        # The last Web page (status, HTML) a scenario click showed for each address.
        self.last_page: dict[str, tuple[int, str]] = {}
        self.streams: list[StreamMapping] = []
        # One client per service for the stack's own calls: the schedule drains the queues and
        # streams after every invocation, and a new client each time cost more than the calls.
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}
        self._patches = contextlib.ExitStack()
        self._null: TextIO | None = None

    def __enter__(self) -> Self:
        self._activate()
        log = self._log or self._devnull()
        self._function_log = log
        # The stack's own calls (queue delivery, fixtures, state) go through a session of their own:
        # injected faults and counted calls are the handlers' alone.
        self.aws = boto3.Session()
        self._sources = SourceServer(self.fixtures).start()
        self._exit.callback(self._sources.stop)
        self.template = Template.load(
            {
                "MailDomain": self.domain,
                "AlarmEmail": f"operator@{self.domain}",
                "HuggingFaceBaseUrl": self._sources.url,
                "ArxivBaseUrl": self._sources.url,
                "ArxivApiBaseUrl": self._sources.url,
                # moto never throttles and a local run must not crawl: pace as a large account would.
                "SesMaxSendRate": "10000",
                **self._parameters,
            },
            region=REGION,
        )
        for logical, spec in self.template.resources("AWS::Serverless::Function").items():
            if "FunctionUrlConfig" in spec["Properties"]:
                server = FunctionUrlServer(lambda event, name=logical: self.invoke(name, event)).start()
                self._exit.callback(server.stop)
                self.template.function_urls[logical] = server.url
        self.skipped_resources = create_all(self.template)
        self.ses_events.template = self.template
        self.functions = functions(self.template, log)
        self.streams = [
            StreamMapping.of(logical, self.template.resolve(event["Properties"]))
            for logical, function in self.functions.items()
            for event in function.events.values()
            if event.get("Type") in STREAM_TYPES
        ]
        self._attach()
        return self

    def _activate(self) -> None:
        """The process-wide part of a running stack: moto, the runtime environment, the hooks on
        boto3's default session; left again by `suspend` or on exit."""
        self._patches = contextlib.ExitStack()
        self._patches.enter_context(_environment({**RUNTIME_ENVIRONMENT, "AWS_DEFAULT_REGION": REGION}))
        self._patches.enter_context(mock_aws())
        self._patches.enter_context(linear_moto())
        self.mailbox.install()
        # Before the fault injector: a handler that dies right after SES accepted its mail does
        # not stop SES from publishing the mail's events.
        self.ses_events.install(lambda: self.now)
        self.faults.install()
        # The Embed function's model: the local model files, with vectors cached on disk.
        self._patches.enter_context(embeddings.installed())

    def _attach(self) -> None:
        """The calls made from now on are this stack's, at this stack's time."""
        self._patches.enter_context(iam.stack_template(self.template))
        clock.use(lambda: self.now)
        self._patches.callback(clock.reset)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._patches.close()
        self._exit.close()

    # -- a stack kept across tests (local_stack.pool) ----------------------------------------
    def checkpoint(self, *, fixtures: bool = True) -> None:
        """Remember everything this stack holds now, for `resume` to return to; `fixtures`: the
        fixtures too (else each `resume` serves the ones it is given, as they are)."""
        self._checkpoint = _Checkpoint(
            moto=MotoState.take(),
            state=self._copy_state({name: getattr(self, name) for name in _RESTORED}),
            fixtures=self.fixtures.copy() if fixtures else None,
            functions={
                name: (f.invocations, f.loaded, dict(f.environment)) for name, f in self.functions.items()
            },
        )

    def suspend(self) -> None:
        """Leave moto, the environment, the hooks and the clock as they were before the stack ran;
        the servers and the parsed template stay for `resume`."""
        self._patches.close()

    def resume(self, fixtures: SourceFixtures, log: TextIO | None = None) -> None:
        """Run again exactly as at `checkpoint`: every table, queue, bucket and sent mail, the clock,
        the mailbox, faults and counters as they were then; `fixtures` (the test's own object) served,
        made to hold what the checkpoint's held if it kept them; functions that had started start
        cold again."""
        saved = self._checkpoint
        # Before the hooks are installed: they belong to the restored mailbox, faults and events.
        restored = self._copy_state(saved.state)
        for name, value in restored.items():
            setattr(self, name, value)
        if saved.fixtures is not None:
            fixtures.assign(saved.fixtures)
        self.fixtures = fixtures
        self._sources.serve(fixtures)
        self._function_log = log or self._devnull()
        self._activate()
        saved.moto.put_back()
        self._attach()
        for name, function in self.functions.items():
            function.invocations, loaded, environment = saved.functions[name]
            function.environment = dict(environment)
            function.log = self._function_log
            function.reset(cold_start=loaded)

    def _copy_state(self, state: dict[str, Any]) -> dict[str, Any]:
        # The template is built once and shared (SES events resolve topics through it).
        return copy.deepcopy(state, {id(self.template): self.template})

    def _devnull(self) -> TextIO:
        if self._null is None:
            self._null = self._exit.enter_context(Path(os.devnull).open("w"))  # noqa: SIM115 (closed on exit)
        return self._null

    def client(self, service: str) -> Any:
        """The stack's own client of `service` (not the handlers': faults and recordings skip it)."""
        if service not in self._clients:
            self._clients[service] = self.aws.client(service)
        return self._clients[service]

    # -- invoking functions ------------------------------------------------------------------
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.invocations.append((self.now, logical_id))
        return self.functions[logical_id].invoke(event)

    def _invoke_async(self, logical_id: str, event: dict[str, Any]) -> Any:
        """An asynchronous invocation (schedule, SES receipt rule, SNS): retried, then dead-lettered."""
        for attempt in range(1 if self.strict else ASYNC_ATTEMPTS):
            try:
                return self.invoke(logical_id, event)
            except (Exception, InjectedCrash) as error:
                self.crashes += isinstance(error, InjectedCrash)
                self.failed_invocations += 1
                if self.strict:
                    raise
                if attempt == ASYNC_ATTEMPTS - 1:
                    self._dead_letter(logical_id, event, f"{type(error).__name__}: {error}")
        return None

    def _dead_letter(self, logical_id: str, event: dict[str, Any], error: str) -> None:
        """Retries spent: the event goes where the function's EventInvokeConfig sends failures."""
        self.dead_letters.append((logical_id, event, error))
        spec = self.template.resources("AWS::Serverless::Function")[logical_id]["Properties"]
        failure = spec.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
        if failure.get("Type") != "SQS":
            return
        record = {
            "version": "1.0",
            "timestamp": self.now.isoformat(),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.functions[logical_id].arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": ASYNC_ATTEMPTS,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": error},
        }
        queue = self.template.resolve(failure["Destination"]).rsplit(":", 1)[1]
        sqs = self.client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], MessageBody=json.dumps(record)
        )

    def _run_and_drain(self, logical_id: str, event: dict[str, Any]) -> Any:
        result = self._invoke_async(logical_id, event)
        self.settle()
        return result

    def settle(self) -> None:
        """Let everything in flight land: queued jobs, mail, and SES's events due by now."""
        self.drain_queues()
        self.mailbox.collect()
        self.ses_events.dead_letter(self.client("sqs"))
        for logical_id, event in self.ses_events.due(self.now):
            self._invoke_async(logical_id, event)

    def drain_queues(self, max_rounds: int = 100_000) -> int:
        """Deliver queued messages to their SQS-triggered functions until the queues are empty,
        as Lambda's event source mapping would: batches, partial failures redelivered."""
        delivered = 0
        for _ in range(max_rounds):
            # Streams first: a change waiting for its vector is handled before the work queued
            # after it (on AWS, Embed runs seconds after a write; digests are planned hourly).
            moved = self.drain_streams()
            for logical, function in self.functions.items():
                for event_spec in function.events.values():
                    if event_spec.get("Type") == "SQS":
                        moved += self._deliver_batch(logical, self.template.resolve(event_spec["Properties"]))
            delivered += moved
            if not moved:
                return delivered
        return delivered

    def drain_streams(self, max_rounds: int = 10_000) -> int:
        """Deliver the tables' stream records to their functions until every stream is read."""
        delivered = 0
        for _ in range(max_rounds):
            moved = sum(self._deliver_stream_batch(mapping) for mapping in self.streams)
            delivered += moved
            if not moved:
                break
        return delivered

    def _deliver_stream_batch(self, mapping: StreamMapping) -> int:
        records = mapping.pending(self.client("dynamodbstreams"))
        batch: list[dict[str, Any]] = []
        end = mapping.after
        for record in records:
            end = record["dynamodb"]["SequenceNumber"]
            if passes(mapping.filters, record):
                batch.append(record)
                if len(batch) == mapping.batch_size:
                    break
        if not batch:
            mapping.after = end
            return 0
        event = {"Records": [lambda_record(record, mapping.stream_arn) for record in batch]}
        sequences = [record["dynamodb"]["SequenceNumber"] for record in batch]
        try:
            response = self.invoke(mapping.function, event) or {}
            failed = [item["itemIdentifier"] for item in response.get("batchItemFailures", [])]
        except (Exception, InjectedCrash) as error:
            self.crashes += isinstance(error, InjectedCrash)
            self.failed_invocations += 1
            failed = [sequences[0]]
        if not failed:
            mapping.after, mapping.attempts = end, 0
            return len(batch)
        first = min(failed, key=int)
        mapping.attempts += 1
        if mapping.retries >= 0 and mapping.attempts > mapping.retries:
            # The on-failure destination gets the batch's range; the shard moves on.
            self.dead_letters.append(
                (mapping.function, {"stream": mapping.stream_arn, "from": first}, "retries spent")
            )
            mapping.after, mapping.attempts = end, 0
        else:  # Lambda resumes at the earliest failed record; those before it are done.
            before = [sequence for sequence in sequences if int(sequence) < int(first)]
            mapping.after = before[-1] if before else mapping.after
        return len(batch)

    def _deliver_batch(self, logical: str, properties: dict[str, Any]) -> int:
        queue_arn = properties["Queue"]
        queue_name = queue_arn.rsplit(":", 1)[1]
        sqs = self.client("sqs")
        url = self._queue_urls.get(queue_name) or self._queue_urls.setdefault(
            queue_name, sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        )
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(int(properties.get("BatchSize", 10)), 10),
            AttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(message, queue_arn) for message in messages]}
        try:
            response = self.invoke(logical, event) or {}
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except (Exception, InjectedCrash) as error:
            # A failed invocation (or a dead process) reports nothing: the whole batch comes back.
            self.crashes += isinstance(error, InjectedCrash)
            self.failed_invocations += 1
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                # Redeliver at once: the local clock does not wait out visibility timeouts.
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    # -- what scenario steps do -------------------------------------------------------------
    def fetch(self) -> list[Any]:
        """Run the fetch functions now, as their schedule would."""
        return [
            self._run_and_drain(name, schedules.scheduled_input(self.functions[name], self.now))
            for name in FETCH_FUNCTIONS
            if name in self.functions
        ]

    def digest(self) -> Any:
        """Plan and send now for everyone due, as if the hourly schedule fired."""
        return self._run_and_drain(
            PLAN_FUNCTION, schedules.scheduled_input(self.functions[PLAN_FUNCTION], self.now)
        )

    def advance(self, duration: timedelta) -> list[Firing]:
        """Move the clock forward, firing every schedule due on the way, in order."""
        if duration < timedelta(0):
            raise ValueError("the clock only moves forward")
        end = self.now + duration
        order = list(self.functions)
        firings = sorted(
            (
                Firing(at, logical, event)
                for logical, function in self.functions.items()
                for at, event in schedules.firings(self.template, function, self.now, end)
            ),
            key=lambda firing: (firing.at, order.index(firing.function)),
        )
        for firing in firings:
            self.now = firing.at
            self._run_and_drain(firing.function, firing.event)
        self.now = end
        self.settle()
        return firings

    def add_subscriber(self, email: str, settings: ReaderSettings) -> Subscriber:
        """A fixture shortcut: an active, confirmed reader straight into the store."""
        reader = Subscriber(
            id=new_subscriber_id(secrets.token_bytes(10)),
            email=email.lower(),
            status=Status.ACTIVE,
            settings=settings,
            created_at=self.now,
            confirmed_at=self.now,
            next_due=next_due(settings, self.now),
        )
        if not self.subscribers.create(reader):
            raise ValueError(f"{email} is already subscribed")
        return reader

    def click(self, url: str) -> tuple[int, str]:
        """Open a link as a person would: GET it, then press the page's button if it has one."""
        status, page = self.request("GET", url)
        form = _FORM.search(page)
        if status == 200 and form:
            parts = urlsplit(url)
            fields = "&".join(f"{name}={value}" for name, value in _HIDDEN.findall(page))
            status, page = self.request(
                "POST",
                f"{parts.scheme}://{parts.netloc}{form.group(1)}",
                fields.encode(),
                {"content-type": "application/x-www-form-urlencoded"},
            )
        return status, page

    def request(
        self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        logical = next(name for name, base in self.template.function_urls.items() if url.startswith(base))
        response = self.invoke(logical, function_url_event(method, url, body, headers))
        self.drain_streams()
        self.mailbox.collect()
        payload = response.get("body") or ""
        text = base64.b64decode(payload).decode() if response.get("isBase64Encoded") else payload
        return int(response["statusCode"]), text

    def web(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        client: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """A request to the Web function's URL from `client`, answered as the Function URL answers
        (a handler that raised is a 502); the answer is kept for OUT/web/."""
        url = f"{self.template.function_url('WebFunction')}{path.lstrip('/')}"
        event = function_url_event(method, url, body, headers, source_ip=client)
        response = url_response(lambda: self.invoke("WebFunction", event), self._function_log)
        self.mailbox.collect()
        status, response_headers, data = response_fields(response)
        answer = {
            "method": method,
            "path": path,
            "client": client,
            "status": status,
            "headers": response_headers,
            "body": data.decode("utf-8", errors="replace"),
        }
        self.web_answers.append(answer)
        return answer

    def receive(
        self,
        raw: bytes,
        *,
        source: str,
        recipients: list[str],
        verdicts: dict[str, str],
        client: str | None = None,
    ) -> list[Any]:
        """Deliver an inbound message the way SES's receipt rules would: every matching rule stores
        it with its S3 action and invokes its Lambda action. `client`: the IP the sending server
        connects from (default: one per envelope sender)."""
        message_id = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        results = []
        for rule in self._receipt_rules():
            matched = [r for r in recipients if _rule_matches(rule.get("Recipients", []), r)]
            if not matched:
                continue
            for action in rule.get("Actions", []):
                if "S3Action" in action:
                    s3 = action["S3Action"]
                    self.client("s3").put_object(
                        Bucket=s3["BucketName"], Key=f"{s3.get('ObjectKeyPrefix', '')}{message_id}", Body=raw
                    )
                elif "LambdaAction" in action:
                    arn = action["LambdaAction"]["FunctionArn"]
                    logical = next(name for name, fn in self.functions.items() if fn.arn == arn)
                    event = inbound.ses_event(
                        message_id=message_id,
                        source=source,
                        recipients=matched,
                        verdicts=verdicts,
                        function_arn=arn,
                        raw=raw,
                        now=self.now,
                        client=client or inbound.server_ip(source),
                    )
                    self._last_inbound = (logical, event)
                    results.append(self._run_and_drain(logical, event))
        return results

    def replay_last_inbound(self) -> Any:
        """SES invoking the Lambda action a second time for the same message."""
        logical, event = self._last_inbound
        return self._run_and_drain(logical, event)

    def _receipt_rules(self) -> list[dict[str, Any]]:
        return [
            self.template.resolve(spec["Properties"]["Rule"])
            for spec in self.template.resources("AWS::SES::ReceiptRule").values()
        ]

    # -- what the stack holds ----------------------------------------------------------------
    @property
    def subscribers(self) -> SubscriberStore:
        return SubscriberStore(self.table("SubscribersTable"))

    @property
    def ledger(self) -> DigestLedger:
        return DigestLedger(self.table("SubscribersTable"))

    def table(self, logical_id: str) -> Any:
        return self.aws.resource("dynamodb").Table(self.template.attributes[logical_id]["Ref"])

    def papers_by_day(self) -> dict[str, list[dict[str, Any]]]:
        days: dict[str, list[dict[str, Any]]] = {}
        for item in _scan(self.table("PapersTable")):
            days.setdefault(item["day"], []).append(
                {"id": item["id"], "title": item["display_title"], "upvotes": int(item.get("upvotes", 0))}
            )
        return {
            day: sorted(papers, key=lambda p: (-p["upvotes"], p["id"]))
            for day, papers in sorted(days.items())
        }

    def state(self) -> dict[str, Any]:
        readers = []
        for reader in sorted(self.subscribers.all(), key=lambda r: (r.created_at, r.email)):
            settings = reader.settings.model_dump(mode="json")
            entry = {"email": reader.email, "status": reader.status.value}
            entry.update({name: settings[name] for name in STATE_FIELDS if name in settings})
            entry["send_time"] = reader.settings.send_time.strftime("%H:%M")
            entry.update(
                paused_until=reader.paused_until.isoformat() if reader.paused_until else None,
                next_due=reader.next_due.isoformat() if reader.next_due else None,
                last_period=reader.last_period.isoformat() if reader.last_period else None,
            )
            readers.append(entry)
        return {"clock": self.now.isoformat(), "subscribers": readers, "papers": self.papers_by_day()}

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "state.json").write_text(json.dumps(self.state(), indent=2, ensure_ascii=False) + "\n")
        self.mailbox.write(out)
        if self.web_answers:
            folder = out / "web"
            folder.mkdir(exist_ok=True)
            for number, answer in enumerate(self.web_answers, start=1):
                text = json.dumps(answer, indent=2, ensure_ascii=False) + "\n"
                (folder / f"{number:04d}.json").write_text(text)


def _rule_matches(rule_recipients: list[str], address: str) -> bool:
    """SES recipient conditions: a domain matches its addresses; an address also matches `user+tag@`."""
    address = address.lower()
    local, _, domain = address.rpartition("@")
    for condition in (r.lower() for r in rule_recipients):
        if "@" in condition:
            base, _, cond_domain = condition.rpartition("@")
            if domain == cond_domain and local.split("+")[0] == base:
                return True
        elif domain == condition or (condition.startswith(".") and domain.endswith(condition)):
            return True
    return not rule_recipients


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
