"""Every AWS call a function makes is one its role in template.yaml allows.

moto answers whatever the role says, so without this a missing grant passes every test and fails on
AWS. The calls are recorded while the local stack runs the demo, a small fault campaign, and the two
paths those two never take (SES rejecting a digest for good, a bounce reaching MailEvents).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from local_stack import campaign, demo, iam, scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.template import Template
from paperboy.readers.model import ReaderSettings

EVENTS = Path(__file__).resolve().parents[2] / "events"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"


def _paths_the_demo_and_campaign_skip() -> None:
    """Someone subscribes on the web form; SES throttles a digest (SendDigests releases its claim and
    delays the job), then refuses it for good (the period is marked rejected); the address bounces
    (MailEvents suppresses the reader); a sender dies between claim and SES, so the hourly sweep
    releases the claim and queues the job again."""
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with LocalStack(
        domain="papers.example.org", start=datetime(2026, 11, 22, 7, 30, tzinfo=UTC), fixtures=fixtures
    ) as stack:
        stack.fetch()
        form = stack.template.function_url("WebFunction").rstrip("/") + "/subscribe"
        # With papers the reader has read: one stored, one only arXiv's API knows.
        status, _ = stack.request(
            "POST",
            form,
            b"email=new%40example.org&papers=2611.10078+2103.00020",
            {"content-type": "application/x-www-form-urlencoded"},
        )
        assert status == 200 and stack.mailbox.latest_to("new@example.org") is not None
        stack.add_subscriber("gone@example.net", ReaderSettings())
        stack.faults.add("sesv2.SendEmail", when="before", code="TooManyRequestsException", status=429)
        stack.faults.add("sesv2.SendEmail", when="before", code="MessageRejected", status=400)
        stack.advance(timedelta(hours=1))
        assert stack.faults.log == [("before", "sesv2.SendEmail")] * 2
        stack.invoke("MailEventsFunction", json.loads((EVENTS / "mail_events_bounce.json").read_text()))
        assert stack.subscribers.by_email("gone@example.net").status.value == "suppressed"
        stack.add_subscriber("late@example.org", ReaderSettings(send_time=time(9, 0)))
        stack.faults.add("dynamodb.PutItem", when="after", function="SendDigestsFunction")
        stack.strict = False
        stack.advance(timedelta(hours=3))
        assert stack.mailbox.latest_to("late@example.org") is not None
        # Papers a reader names (looked up on arXiv and stored, then embedded), papers like one of
        # the digest (the week's papers by day), and an author's papers.
        likes = {"from": "late@example.org", "text": "like 1706.03762\nmore like 1\nme: Ada Lovelace"}
        scenario.FILE_STEPS["reply"](stack, likes, Path())
        assert stack.subscribers.by_email("late@example.org").likes


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> iam.Recording:
    with iam.recording() as recording:
        demo.run(tmp_path_factory.mktemp("demo"))
        report = campaign.run(seed=7, readers=10, days=2, commands=10)
        _paths_the_demo_and_campaign_skip()
    assert report.ok and sum(report.faults_injected.values()) > 0
    return recording


def test_every_call_the_functions_make_is_allowed_by_their_role(recorded: iam.Recording) -> None:
    verdict = iam.check(recorded)
    print(verdict.report())
    assert not verdict.unmapped, "calls with no IAM mapping in local_stack/iam.py:\n" + "\n".join(
        verdict.unmapped
    )
    assert not verdict.denied, "template.yaml does not allow:\n" + "\n".join(verdict.denied)


def test_the_recording_saw_every_function_and_the_paths_that_need_extra_grants(
    recorded: iam.Recording,
) -> None:
    """A recording that missed a function or a path would vouch for grants it never checked."""
    functions = set(
        Template.load({"MailDomain": "x.org", "AlarmEmail": "a@x.org"}).resources("AWS::Serverless::Function")
    )
    assert recorded.callers == functions
    apis = {(call.function, call.api) for call in recorded.calls}
    assert ("FetchPapersFunction", "dynamodb.BatchGetItem") in apis
    assert any(
        call.function == "SendDigestsFunction" and call.api == "dynamodb.UpdateItem"
        for call in recorded.calls
    )


def test_no_grant_goes_unused(recorded: iam.Recording) -> None:
    """What the template grants a function and nothing it did needed. Where the code has a path the
    recording does not take, the grant is listed in PATHS_NOT_RECORDED with that path."""
    template = next(iter(recorded.templates.values()))
    arns = {logical: names["Arn"] for logical, names in template.attributes.items() if "Arn" in names}
    expected = {line.format(**arns) for line in PATHS_NOT_RECORDED}
    # ses:SendEmail is granted beside ses:SendRawEmail on the same two resources: AWS's reference names
    # it for SESv2 SendEmail, raw sends are reported refused as SendRawEmail; the recording shows one.
    unused = {line for line in iam.check(recorded).unused if ": ses:SendEmail on " not in line}
    assert unused <= expected, "granted but never needed:\n" + "\n".join(sorted(unused - expected))


PATHS_NOT_RECORDED = {
    # powertools Idempotency reads the record when its conditional put returns no old item, and
    # deletes it when the handler raises.
    "InboundMailFunction: dynamodb:GetItem on {IdempotencyTable}",
    "InboundMailFunction: dynamodb:DeleteItem on {IdempotencyTable}",
    # A reader's commands from their address without a DMARC pass wait (PutItem) until they confirm
    # (DeleteItem takes them).
    "InboundMailFunction: dynamodb:DeleteItem on {SubscribersTable}",
    # A slot planner short of time queues the rest of its slot (tests/integration/test_planning.py
    # drives it; the local stack's invocations never run short of time).
    "PlanShardFunction: sqs:SendMessage on {PlanQueue}",
    # The hourly sweep records a claim a Send event settled (a transaction's Put); in the recording a
    # redelivered job settles such claims first (tests/unit/test_claims.py drives the sweep's path).
    "PlanDigestsFunction: dynamodb:PutItem on {SubscribersTable}",
    # ... after marking the reader's next slot (UpdateItem), on the same path.
    "PlanDigestsFunction: dynamodb:UpdateItem on {SubscribersTable}",
}


def test_the_send_grant_follows_the_domain_of_the_sender_address() -> None:
    with LocalStack(
        domain="papers.example.org",
        start=datetime(2026, 11, 22, tzinfo=UTC),
        fixtures=SourceFixtures(),
        parameters={"SenderAddress": "news@lab.example.com"},
    ) as stack:
        role = iam.roles(stack.template)["SendDigestsFunction"]
    identity = "arn:aws:ses:us-east-1:123456789012:identity/"
    assert iam.evaluate(role.statements, iam.Need("ses:SendRawEmail", f"{identity}lab.example.com"))
    assert not iam.evaluate(role.statements, iam.Need("ses:SendRawEmail", f"{identity}papers.example.org"))
    assert not iam.evaluate(role.statements, iam.Need("ses:SendEmail", f"{identity}papers.example.org"))


# -- the matcher -------------------------------------------------------------------------------

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/papers"


def _policy(*specs: dict) -> list[iam.Statement]:
    return iam.statements(list(specs), "test")


def test_a_table_grant_does_not_cover_its_indexes_but_an_index_grant_does() -> None:
    policy = _policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE})
    assert iam.evaluate(policy, iam.Need("dynamodb:Query", TABLE))
    assert not iam.evaluate(policy, iam.Need("dynamodb:Query", f"{TABLE}/index/ByDay"))
    by_day = _policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/*"})
    assert iam.evaluate(by_day, iam.Need("dynamodb:Query", f"{TABLE}/index/ByDay"))
    assert not iam.evaluate(by_day, iam.Need("dynamodb:Query", TABLE))


def test_wildcards_match_as_iam_does() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:*:*:table/pap?rs"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/inbound/*"},
    )
    assert iam.evaluate(policy, iam.Need("dynamodb:GetItem", TABLE))
    assert iam.evaluate(policy, iam.Need("DynamoDB:getitem", TABLE))  # actions ignore case
    assert not iam.evaluate(policy, iam.Need("dynamodb:Query", TABLE))
    assert not iam.evaluate(policy, iam.Need("dynamodb:GetItem", TABLE.replace("papers", "PAPERS")))
    assert iam.evaluate(policy, iam.Need("s3:GetObject", "arn:aws:s3:::bucket/inbound/a/b"))
    assert not iam.evaluate(policy, iam.Need("s3:GetObject", "arn:aws:s3:::bucket/other/a"))


def test_a_call_not_granted_is_denied_and_an_explicit_deny_wins() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"},
        {"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:123456789012:dlq"},
    )
    assert not iam.evaluate(policy, iam.Need("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:q"))
    assert iam.evaluate(policy, iam.Need("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"))
    assert not iam.evaluate(policy, iam.Need("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dlq"))


def test_api_calls_become_the_actions_and_resources_iam_checks() -> None:
    def needs(service: str, operation: str, params: dict) -> list[tuple[str, str]]:
        return [(n.action, n.resource) for n in iam.needs_of(service, operation, params, "us-east-1")]

    account = "arn:aws:dynamodb:us-east-1:123456789012"
    assert needs("dynamodb", "Query", {"TableName": "subs", "IndexName": "Due"}) == [
        ("dynamodb:Query", f"{account}:table/subs/index/Due")
    ]
    assert needs("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}) == [
        ("dynamodb:BatchGetItem", f"{account}:table/a"),
        ("dynamodb:BatchGetItem", f"{account}:table/b"),
    ]
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "a"}},
            {"Update": {"TableName": "b"}},
            {"ConditionCheck": {"TableName": "a"}},
        ]
    }
    assert needs("dynamodb", "TransactWriteItems", transaction) == [
        ("dynamodb:PutItem", f"{account}:table/a"),
        ("dynamodb:UpdateItem", f"{account}:table/b"),
        ("dynamodb:ConditionCheckItem", f"{account}:table/a"),
    ]
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    assert needs("sqs", "SendMessageBatch", {"QueueUrl": queue}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:jobs")
    ]
    assert (
        needs("sqs", "ChangeMessageVisibilityBatch", {"QueueUrl": queue})[0][0]
        == "sqs:ChangeMessageVisibility"
    )
    assert needs("s3", "HeadObject", {"Bucket": "mail", "Key": "inbound/x"}) == [
        ("s3:GetObject", "arn:aws:s3:::mail/inbound/x")
    ]
    raw = {
        "FromEmailAddress": "Paperboy <digest@papers.example.org>",
        "Content": {"Raw": {"Data": b"..."}},
        "ConfigurationSetName": "cs",
    }
    assert needs("sesv2", "SendEmail", raw) == [
        ("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/papers.example.org"),
        ("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:configuration-set/cs"),
    ]
    simple = {"FromEmailAddress": "a@b.org", "Content": {"Simple": {}}}
    assert needs("sesv2", "SendEmail", simple) == [
        ("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/b.org")
    ]
    with pytest.raises(iam.Unmapped):
        iam.needs_of("sns", "Publish", {}, "us-east-1")
