"""A pooled stack is handed to the next test exactly as a fresh one would be: whatever a test did to
its tables, queues, buckets, mail, clock, fixtures, faults, counters and functions is gone, and
nothing of the stack is left running in the process between tests."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.core.models import botocore_stubber

from local_stack.pool import StackPool
from local_stack.sources import Fault, SourceFixtures
from local_stack.stack import LocalStack
from paperboy import clock
from paperboy.readers.model import ReaderSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
DOMAIN = "papers.example.org"
START = datetime(2026, 11, 23, 5, tzinfo=UTC)
SUBSCRIBE_MAIL = (
    b"From: bo@example.org\r\nTo: subscribe@papers.example.org\r\nSubject: hi\r\n\r\ntopics: robotics\r\n"
)


def _fixtures() -> SourceFixtures:
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    return fixtures


def observed(stack: LocalStack) -> dict[str, Any]:
    """Everything a test could look at: every table's items, every queue's messages, every
    bucket's keys, the mail SES took, the stack's clock, counters, fixtures and functions (with the
    ports of its local servers left out: two stacks listen on different ones)."""
    resources, attributes = stack.template.resources, stack.template.attributes
    tables = {
        logical: sorted(map(repr, stack.table(logical).scan()["Items"]))
        for logical in resources("AWS::DynamoDB::Table")
    }
    queues = {}
    for logical in resources("AWS::SQS::Queue"):
        url = attributes[logical]["QueueUrl"]
        found = stack.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues[logical] = {k: v for k, v in found.items() if k.startswith("ApproximateNumberOfMessages")}
    buckets = {}
    for logical in resources("AWS::S3::Bucket"):
        listed = stack.client("s3").list_objects_v2(Bucket=attributes[logical]["Ref"])
        buckets[logical] = [item["Key"] for item in listed.get("Contents", [])]
    parameters = {}
    for logical in resources("AWS::SSM::Parameter"):
        found = stack.client("ssm").get_parameter(Name=attributes[logical]["Ref"])["Parameter"]
        parameters[logical] = _without_ports(found["Value"])
    return {
        "tables": tables,
        "queues": queues,
        "buckets": buckets,
        "parameters": parameters,
        "ses_sent": stack.client("ses").get_send_quota()["SentLast24Hours"],
        "mail": [(mail.to, mail.kind, mail.subject) for mail in stack.mailbox.delivered],
        "now": stack.now,
        "clock": clock.now(),
        "strict": stack.strict,
        "invocations": list(stack.invocations),
        "dead_letters": list(stack.dead_letters),
        "crashes": (stack.crashes, stack.failed_invocations),
        "web": list(stack.web_answers),
        "faults": (list(stack.faults.rules), list(stack.faults.log)),
        "ses_events": (stack.ses_events.published, len(stack.ses_events._pending)),
        "streams": [(mapping.after, mapping.attempts) for mapping in stack.streams],
        "fixtures": (stack.fixtures.fingerprint(), list(stack.fixtures.requests)),
        "functions": {name: (f.invocations, f.loaded) for name, f in stack.functions.items()},
        "environments": {
            name: _without_ports(repr(sorted(f.environment.items()))) for name, f in stack.functions.items()
        },
    }


def _without_ports(text: str) -> str:
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


def dirty_everything(stack: LocalStack) -> None:
    """One of every kind of change a test makes."""
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.receive(
        SUBSCRIBE_MAIL,
        source="bo@example.org",
        recipients=[f"subscribe@{DOMAIN}"],
        verdicts={},
    )
    stack.advance(timedelta(hours=4))  # a digest for Ada: planned, queued, sent, recorded
    stack.web("POST", "/subscribe", body=b"email=cy%40example.org")
    sqs = stack.client("sqs")
    for logical in stack.template.resources("AWS::SQS::Queue"):
        sqs.send_message(QueueUrl=stack.template.attributes[logical]["QueueUrl"], MessageBody="{}")
    for logical in stack.template.resources("AWS::S3::Bucket"):
        stack.client("s3").put_object(
            Bucket=stack.template.attributes[logical]["Ref"], Key="stray", Body=b"x"
        )
    for logical in stack.template.resources("AWS::SSM::Parameter"):
        name = stack.template.attributes[logical]["Ref"]
        stack.client("ssm").put_parameter(Name=name, Value="changed", Type="String", Overwrite=True)
    stack.fixtures.hf_days.clear()
    stack.fixtures.faults.append(Fault(status=503))
    stack.fixtures.requests.append("/stray")
    stack.faults.add("sesv2.SendEmail", times=3)
    stack.strict = False
    stack.dead_letters.append(("X", {}, "stray"))
    stack.crashes += 1
    for function in stack.functions.values():
        function.environment["STRAY"] = "1"


def test_the_next_use_of_a_pooled_stack_is_clean_whatever_the_last_one_did():
    pool = StackPool()
    outside = dict(os.environ)
    try:
        with pool.stack(domain=DOMAIN, start=START, fixtures=_fixtures(), prepare=LocalStack.fetch) as stack:
            fresh = observed(stack)
            assert fresh["tables"]["PapersTable"], "the checkpoint holds the fetched papers"
            modules = {name: f._module for name, f in stack.functions.items()}
            assert modules["FetchPapersFunction"] is not None  # started by the fetch, as on a fresh stack
            dirty_everything(stack)
            dirty = observed(stack)
            for kind in fresh:
                if kind not in ("clock", "strict"):
                    assert dirty[kind] != fresh[kind], f"the test did not change {kind}"
            stack.functions["FetchPapersFunction"]._module.STRAY = True
        # Between tests nothing of the stack runs: moto is off, the clock and environment are the
        # process's own.
        assert not botocore_stubber.enabled
        assert os.environ == outside
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)

        fixtures = _fixtures()
        with pool.stack(domain=DOMAIN, start=START, fixtures=fixtures, prepare=LocalStack.fetch) as again:
            assert again is stack
            assert again.fixtures is fixtures, "the test's own fixtures are the ones served"
            assert observed(again) == fresh
            assert again.functions["FetchPapersFunction"]._module is not modules["FetchPapersFunction"]
            assert not hasattr(again.functions["FetchPapersFunction"]._module, "STRAY")
            # The restored stack works: Ada can subscribe again as on the first use.
            again.add_subscriber("ada@example.org", ReaderSettings())
    finally:
        pool.close()


def test_a_pooled_stack_looks_the_same_as_a_fresh_one():
    """What a checkpoint restores is what building the stack gives (the functions' environments
    aside: they name secrets, whose ARNs end in random characters)."""
    with LocalStack(domain=DOMAIN, start=START, fixtures=_fixtures()) as fresh_stack:
        fresh_stack.fetch()
        fresh = observed(fresh_stack)
    pool = StackPool()
    try:
        for _ in range(2):
            with pool.stack(
                domain=DOMAIN, start=START, fixtures=_fixtures(), prepare=LocalStack.fetch
            ) as stack:
                pooled = observed(stack)
                assert {**pooled, "environments": None} == {**fresh, "environments": None}
                dirty_everything(stack)
    finally:
        pool.close()


def test_stacks_without_preparation_serve_each_test_s_own_fixtures():
    pool = StackPool()
    try:
        first, second = SourceFixtures(), _fixtures()
        with pool.stack(domain=DOMAIN, start=START, fixtures=first) as stack:
            assert stack.fixtures is first
            stack.fetch()
            assert not stack.papers_by_day()
        with pool.stack(domain=DOMAIN, start=START, fixtures=second) as again:
            assert again is stack and again.fixtures is second
            assert not again.papers_by_day() and again.invocations == []
            again.fetch()
            assert again.papers_by_day()
    finally:
        pool.close()


def test_a_stack_that_failed_to_prepare_is_not_kept():
    def broken(stack: LocalStack) -> None:
        raise RuntimeError("no papers today")

    pool = StackPool()
    with (
        pytest.raises(RuntimeError),
        pool.stack(domain=DOMAIN, start=START, fixtures=_fixtures(), prepare=broken),
    ):
        pass
    assert not botocore_stubber.enabled
    pool.close()
