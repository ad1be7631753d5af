"""Email-first subscriptions end to end on the local stack: subscribe, confirm, manage by reply,
unsubscribe; forged, looping and malformed mail change nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
import test_large_replies as large_replies
from test_fetch_papers import metrics

from local_stack import iam, scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.mail.inbound.catalogue import save_settings
from paperboy.mail.inbound.commands import parse_commands
from paperboy.papers.store import PaperStore
from paperboy.readers.model import ReaderSettings, Status
from paperboy.semantic import vectors

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
DOMAIN = "papers.example.org"


@pytest.fixture
def stack(stack_pool):
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    with stack_pool.stack(domain=DOMAIN, start=start, fixtures=fixtures, prepare=LocalStack.fetch) as running:
        yield running


def email(stack, **fields):
    scenario.FILE_STEPS["email"](stack, fields, Path())


def reply(stack, **fields):
    scenario.FILE_STEPS["reply"](stack, fields, Path())


def kinds_to(stack, address):
    return [mail.kind for mail in stack.mailbox.delivered if mail.to == address]


def reader(stack, address):
    return stack.subscribers.by_email(address)


def subscribe(stack, address, text="topics: speech recognition, robotics"):
    email(stack, **{"from": address, "to": f"subscribe@{DOMAIN}", "subject": "hi", "text": text})
    reply(stack, **{"from": address, "text": "yes please"})


def test_subscribe_by_email_confirm_by_reply_then_daily_digest(stack):
    email(
        stack,
        **{
            "from": "ada@example.org",
            "to": f"subscribe@{DOMAIN}",
            "subject": "hi",
            "text": "topics: speech recognition, robotics\ncount 5",
        },
    )
    assert kinds_to(stack, "ada@example.org") == ["confirm"]
    assert reader(stack, "ada@example.org").status == "pending"
    stack.advance(timedelta(hours=4))
    assert kinds_to(stack, "ada@example.org") == ["confirm"]  # nobody gets digests before confirming

    reply(stack, **{"from": "ada@example.org", "text": "yes please"})
    ada = reader(stack, "ada@example.org")
    assert ada.status == "active"
    assert ada.settings.topics == ("speech recognition", "robotics") and ada.settings.count == 5
    assert kinds_to(stack, "ada@example.org") == ["confirm", "welcome"]
    stack.advance(timedelta(days=1))
    assert kinds_to(stack, "ada@example.org")[-1] == "digest"


def test_settings_change_by_reply_is_acknowledged_with_the_settings_in_force(stack):
    subscribe(stack, "ada@example.org")
    reply(stack, **{"from": "ada@example.org", "text": "Topics: reinforcement learning\ncount 3\ntime 7:30"})
    ada = reader(stack, "ada@example.org")
    assert ada.settings.topics == ("reinforcement learning",)
    assert ada.settings.count == 3
    ack = stack.mailbox.delivered[-1]
    assert ack.kind == "ack"
    text = ack.part("plain")
    assert "reinforcement learning" in text and "07:30" in text


def test_a_settings_reply_reads_the_reader_once_and_acknowledges_what_it_saved(stack):
    subscribe(stack, "ada@example.org")
    with iam.recording() as recording:
        reply(stack, **{"from": "ada@example.org", "text": "count 4\ntrending off"})
    reads = [
        (call.api, count)
        for call, count in recording.calls.items()
        if call.function == "InboundMailFunction" and call.api == "dynamodb.GetItem"
    ]
    # The token's check reads the profile; the save and the answer use that copy, not new reads.
    assert sum(count for _, count in reads) == 1
    ada = reader(stack, "ada@example.org")
    assert ada.settings.count == 4 and not ada.settings.trending
    ack = stack.mailbox.delivered[-1]
    assert ack.kind == "ack" and "4 papers" in ack.part("plain")


def test_a_reply_whose_profile_changed_meanwhile_is_saved_on_the_stored_copy(stack):
    subscribe(stack, "ada@example.org")
    ada = reader(stack, "ada@example.org")
    # Another writer (a digest, the web page) saved the profile after this message read it.
    stack.subscribers.save(ada.model_copy(update={"settings": ada.settings.model_copy(update={"count": 7})}))
    commands = parse_commands("trending off", today=stack.now.date()).commands
    saved = save_settings(stack.subscribers, ada.id, commands, stack.now, read=ada)
    # The stale copy's write is refused and the change is made again on the stored reader.
    assert saved.settings.count == 7 and not saved.settings.trending
    assert reader(stack, "ada@example.org") == saved


def test_a_forwarded_digest_answered_by_a_stranger_changes_nothing_for_its_owner(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings(topics=("robotics",)))
    stack.advance(timedelta(hours=4))
    reply(
        stack,
        **{"from": "eve@example.net", "to_latest_of": "ada@example.org", "text": "unsubscribe\ncount 1"},
    )
    ada = reader(stack, "ada@example.org")
    assert ada.status == "active" and ada.settings.count == 10
    # The stranger may subscribe themselves, through the usual double opt-in.
    assert kinds_to(stack, "eve@example.net") == ["confirm"]
    assert reader(stack, "eve@example.net").status == "pending"


def test_a_forged_sender_with_failing_dmarc_changes_nothing_and_gets_no_answer(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    before = len(stack.mailbox.delivered)
    reply(stack, **{"from": "ada@example.org", "text": "unsubscribe", "verdicts": {"dmarc": "FAIL"}})
    assert reader(stack, "ada@example.org").status == "active"
    assert len(stack.mailbox.delivered) == before


def test_auto_replies_are_never_answered(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    before = len(stack.mailbox.delivered)
    reply(
        stack,
        **{
            "from": "ada@example.org",
            "text": "I am out of the office until Monday.",
            "headers": {"Auto-Submitted": "auto-replied"},
        },
    )
    email(
        stack,
        **{
            "from": "MAILER-DAEMON@mx.example.org",
            "to": f"subscribe@{DOMAIN}",
            "subject": "failure",
            "text": "delivery failed",
        },
    )
    assert len(stack.mailbox.delivered) == before


def test_unsubscribe_in_the_quoted_footer_does_not_unsubscribe(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    # The stack quotes the digest below the new text, footer and its "unsubscribe" included.
    reply(stack, **{"from": "ada@example.org", "text": "Thanks, great list!"})
    assert reader(stack, "ada@example.org").status == "active"
    assert stack.mailbox.delivered[-1].kind == "help"


def test_more_and_less_resolve_against_the_digest_replied_to(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    record = stack.ledger.recent_digests(reader(stack, "ada@example.org").id)[0]
    reply(stack, **{"from": "ada@example.org", "text": "more 2\nless 3"})
    feedback = reader(stack, "ada@example.org").feedback
    assert [paper.id for paper in feedback.more] == [record.paper_ids[1]]
    assert [paper.id for paper in feedback.less] == [record.paper_ids[2]]


def test_unsubscribe_by_reply_then_come_back(stack):
    subscribe(stack, "ada@example.org")
    reply(stack, **{"from": "ada@example.org", "text": "unsubscribe"})
    assert reader(stack, "ada@example.org").status == "unsubscribed"
    assert stack.mailbox.delivered[-1].kind == "goodbye"
    stack.advance(timedelta(days=2))
    assert "digest" not in kinds_to(stack, "ada@example.org")
    # Coming back is a fresh double opt-in: the reply sends a confirmation, confirming it resumes.
    reply(stack, **{"from": "ada@example.org", "text": "subscribe"})
    assert reader(stack, "ada@example.org").status == "unsubscribed"
    assert stack.mailbox.delivered[-1].kind == "confirm"
    reply(stack, **{"from": "ada@example.org", "text": "yes"})
    assert reader(stack, "ada@example.org").status == "active"


def test_ses_invoking_twice_handles_the_message_once(stack):
    subscribe(stack, "ada@example.org")
    spec = {"from": "ada@example.org", "text": "add topic diffusion models"}
    original = stack.mailbox.latest_to("ada@example.org")
    reply(stack, **spec)
    acks = kinds_to(stack, "ada@example.org").count("ack")
    # Replay the exact inbound event: the same SES message id reaches the function again.
    inbound_calls = [name for _, name in stack.invocations if name == "InboundMailFunction"]
    assert original is not None and inbound_calls
    stack.replay_last_inbound()
    assert kinds_to(stack, "ada@example.org").count("ack") == acks
    assert reader(stack, "ada@example.org").settings.topics.count("diffusion models") == 1


def test_unknown_lines_get_help_and_change_nothing(stack):
    subscribe(stack, "ada@example.org")
    before = reader(stack, "ada@example.org").settings
    reply(stack, **{"from": "ada@example.org", "text": "please send me cat pictures"})
    assert reader(stack, "ada@example.org").settings == before
    assert stack.mailbox.delivered[-1].kind == "help"


def test_header_and_html_injection_end_up_inert(stack):
    subscribe(stack, "ada@example.org")
    reply(
        stack,
        **{
            "from": "ada@example.org",
            "text": "topics: <script>alert(1)</script>, robotics\r\nBcc: victim@example.com",
        },
    )
    ack = stack.mailbox.delivered[-1]
    assert "victim@example.com" not in (ack.message.get("Bcc") or "")
    html = ack.part("html") or ""
    assert "<script>" not in html
    assert all("\n" not in value and "\r" not in value for value in map(str, ack.message.values()))


def test_confirm_link_activates_and_one_click_unsubscribe_stops(stack):
    email(stack, **{"from": "bo@example.org", "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    scenario.STEPS["click"](stack, {"to": "bo@example.org", "link": "confirm"})
    assert reader(stack, "bo@example.org").status == "active"
    assert kinds_to(stack, "bo@example.org") == ["confirm", "welcome"]
    scenario.STEPS["click"](stack, {"to": "bo@example.org", "link": "unsubscribe"})
    assert reader(stack, "bo@example.org").status == "unsubscribed"


def test_confirmations_to_one_address_are_limited_per_day(stack):
    for _ in range(6):
        email(
            stack,
            **{"from": "spam-target@example.org", "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""},
        )
    assert kinds_to(stack, "spam-target@example.org") == ["confirm"] * 3


def test_subscribe_form_starts_a_double_opt_in(stack):
    base = stack.template.function_urls["WebFunction"]
    status, page = stack.request("GET", f"{base}subscribe")
    assert status == 200 and 'name="email"' in page
    status, page = stack.request(
        "POST",
        f"{base}subscribe",
        b"email=cy%40example.org",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and "Check your inbox" in page
    assert kinds_to(stack, "cy@example.org") == ["confirm"]


def test_undo_never_resubscribes_a_suppressed_address(stack):
    stack.add_subscriber("gone@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    scenario.STEPS["click"](stack, {"to": "gone@example.org", "link": "unsubscribe"})
    reader_id = reader(stack, "gone@example.org").id
    from paperboy.readers import lifecycle as subscriptions

    subscriptions.change(
        stack.subscribers, reader_id, lambda r: r.model_copy(update={"status": Status.SUPPRESSED})
    )
    scenario.STEPS["click"](stack, {"to": "gone@example.org", "link": "undo"})
    status, page = stack.last_page["gone@example.org"]
    assert status == 409 and "cannot be subscribed again" in page
    assert reader(stack, "gone@example.org").status == "suppressed"


def everything_in(mail) -> str:
    """What a recipient can read of a mail: decoded headers, text and HTML."""
    headers = "\n".join(f"{name}: {value}" for name, value in mail.message.items())
    return "\n".join([headers, mail.part("plain") or "", mail.part("html") or ""])


def test_nothing_an_unverified_sender_writes_goes_out_in_our_mail(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    gray = {"dmarc": "GRAY"}
    reply(
        stack,
        **{
            "from": "ada@example.org",
            "subject": "Claim your prize at evil.example",
            "text": "Visit http://evil.example/win now",
            "verdicts": gray,
        },
    )
    helped = stack.mailbox.delivered[-1]
    assert helped.kind == "help" and "evil.example" not in everything_in(helped)
    assert helped.message["In-Reply-To"] is None  # its message ids are the sender's words too
    reply(
        stack,
        **{
            "from": "ada@example.org",
            "subject": "evil.example",
            "text": "topics: cheap pills at evil.example",
            "verdicts": gray,
        },
    )
    confirm = stack.mailbox.delivered[-1]
    assert confirm.kind == "confirm" and "evil.example" not in everything_in(confirm)
    assert "change your topics" in (confirm.part("plain") or "")
    email(
        stack,
        **{
            "from": "new@example.net",
            "to": f"subscribe@{DOMAIN}",
            "subject": "evil.example",
            "text": "topics: cheap pills at evil.example",
            "verdicts": gray,
        },
    )
    offer = stack.mailbox.delivered[-1]
    assert offer.to == "new@example.net" and offer.kind == "confirm"
    assert "evil.example" not in everything_in(offer)
    assert reader(stack, "new@example.net").settings.topics == ()


def test_a_verified_sender_still_sees_its_subject_and_settings(stack):
    subscribe(stack, "ada@example.org", text="topics: speech recognition")
    assert reader(stack, "ada@example.org").settings.topics == ("speech recognition",)
    reply(stack, **{"from": "ada@example.org", "subject": "my digest", "text": "please send cats"})
    helped = stack.mailbox.delivered[-1]
    assert helped.subject == "Re: my digest" and "please send cats" in (helped.part("plain") or "")


def test_answers_to_unverified_senders_are_limited_per_day(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    digest = stack.mailbox.latest_to("ada@example.org")
    before = len(kinds_to(stack, "ada@example.org"))
    for text in ["hello", "hello again", "topics: x", "count 3", "hi", "pause"]:
        email(
            stack,
            **{
                "from": "ada@example.org",
                "to": parseaddr(str(digest.message["Reply-To"]))[1],
                "subject": "Re: digest",
                "text": text,
                "verdicts": {"dmarc": "GRAY"},
            },
        )
    assert len(kinds_to(stack, "ada@example.org")) - before == 3


# -- hostile mail: over the parsing limits ---------------------------------------------------------------
def _oversized(address: str) -> bytes:
    """A plain reply of 1.2 MB whose first line would unsubscribe."""
    head = f"From: {address}\r\nSubject: Re: your digest\r\nMIME-Version: 1.0\r\n"
    body = "unsubscribe\r\n" + ("filler line of an enormous reply " * 3 + "\r\n") * 12_000
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def _many_parts(address: str) -> bytes:
    """The review's 100,000-part message (about 700 KB), its first part a command."""
    head = f"From: {address}\r\nSubject: Re: your digest\r\nMIME-Version: 1.0\r\n"
    first = "--b\r\nContent-Type: text/plain\r\n\r\nunsubscribe\r\n"
    return (head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + first).encode() + (
        b"--b\r\n\r\n" * 100_000 + b"--b--\r\n"
    )


HOSTILE = {"oversized": _oversized, "many_parts": _many_parts}


def hostile_reply(stack, tmp_path, raw, sender, verdicts=None):
    """The `reply` step with an .eml file, as `make scenario` replays one."""
    (tmp_path / "hostile.eml").write_bytes(raw)
    spec = {
        "from": sender,
        "eml": "hostile.eml",
        "to_latest_of": "ada@example.org",
        "verdicts": verdicts or {},
    }
    scenario.FILE_STEPS["reply"](stack, spec, tmp_path)


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_a_hostile_reply_from_the_reader_changes_nothing_and_gets_a_short_answer(stack_pool, tmp_path, shape):
    log = io.StringIO()
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with stack_pool.stack(
        domain=DOMAIN,
        start=datetime(2026, 11, 23, 5, tzinfo=UTC),
        fixtures=fixtures,
        log=log,
        prepare=LocalStack.fetch,
    ) as stack:
        stack.add_subscriber("ada@example.org", ReaderSettings())
        stack.advance(timedelta(hours=4))
        before = len(stack.mailbox.delivered)
        # The stack is strict: an exception in InboundMail would fail the test here.
        hostile_reply(stack, tmp_path, HOSTILE[shape]("ada@example.org"), "ada@example.org")
        assert reader(stack, "ada@example.org").status == "active"
        answers = stack.mailbox.delivered[before:]
    assert [(mail.to, mail.kind) for mail in answers] == [("ada@example.org", "notice")]
    assert "too large" in answers[0].subject and "too large" in answers[0].part("plain")
    records = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    handled = [r for r in records if r.get("message") == "inbound handled"]
    assert [(r["action"], r["mails"]) for r in handled] == [("too_large", ["notice"])]
    assert handled[0]["bytes_read"] <= 2**20 + 1  # a ranged read: S3 never sends the rest
    assert [m["value"] for m in metrics(log.getvalue()) if m["name"] == "InboundTooLarge"] == [1]


@pytest.mark.parametrize(
    ("shape", "sender", "verdicts", "extra"),
    [
        ("oversized", "ada@example.org", {"dmarc": "GRAY"}, b""),  # the reader's address, not proven
        ("many_parts", "ada@example.org", {"dmarc": "FAIL"}, b""),
        ("many_parts", "eve@example.net", {}, b""),  # a stranger answering a forwarded digest
        ("oversized", "ada@example.org", {}, b"Auto-Submitted: auto-replied\r\n"),
    ],
)
def test_a_hostile_reply_from_anyone_else_changes_nothing_and_gets_no_answer(
    stack, tmp_path, shape, sender, verdicts, extra
):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    before = len(stack.mailbox.delivered)
    hostile_reply(stack, tmp_path, extra + HOSTILE[shape](sender), sender, verdicts)
    assert reader(stack, "ada@example.org").status == "active"
    assert reader(stack, "eve@example.net") is None
    assert len(stack.mailbox.delivered) == before


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_an_unsubscribed_reader_s_too_large_reply_gets_no_answer(stack, tmp_path, shape):
    """They could not have commanded anything by it, so they are not told it was too large."""
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    reply(stack, **{"from": "ada@example.org", "text": "unsubscribe"})
    assert kinds_to(stack, "ada@example.org")[-1] == "goodbye"
    before = len(stack.mailbox.delivered)
    hostile_reply(stack, tmp_path, HOSTILE[shape]("ada@example.org"), "ada@example.org")
    assert reader(stack, "ada@example.org").status == "unsubscribed"
    assert len(stack.mailbox.delivered) == before


@pytest.mark.parametrize("client", [large_replies.gmail, large_replies.iphone])
def test_a_reply_with_a_5_mb_attachment_is_applied_and_acknowledged(stack, tmp_path, client):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    before = len(stack.mailbox.delivered)
    hostile_reply(stack, tmp_path, client("ada@example.org", "pause"), "ada@example.org")
    assert reader(stack, "ada@example.org").status == "paused"
    answers = stack.mailbox.delivered[before:]
    assert [(mail.to, mail.kind) for mail in answers] == [("ada@example.org", "ack")]
    assert "paused until you reply" in answers[0].part("plain")


def test_a_reply_whose_text_is_past_the_read_limit_changes_nothing_and_says_why(stack, tmp_path):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    before = len(stack.mailbox.delivered)
    # A 2 MB inline image before the text: the text starts past the 1 MB that is read.
    raw = large_replies.related("ada@example.org", "pause", size=2_000, logo=2 * 2**20)
    hostile_reply(stack, tmp_path, raw, "ada@example.org")
    assert reader(stack, "ada@example.org").status == "active"
    answers = stack.mailbox.delivered[before:]
    assert [(mail.to, mail.kind) for mail in answers] == [("ada@example.org", "notice")]
    assert "no text in its first 1024 KB" in answers[0].part("plain")


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_a_hostile_mail_to_subscribe_starts_nothing(stack, tmp_path, shape):
    (tmp_path / "hostile.eml").write_bytes(HOSTILE[shape]("mallory@example.net"))
    spec = {"from": "mallory@example.net", "to": f"subscribe@{DOMAIN}", "eml": "hostile.eml"}
    scenario.FILE_STEPS["email"](stack, spec, tmp_path)
    assert reader(stack, "mallory@example.net") is None
    assert kinds_to(stack, "mallory@example.net") == []


def test_an_empty_message_is_ignored_not_retried(stack):
    # S3 refuses any byte range of an empty object (InvalidRange); the handler must not fail on it.
    results = stack.receive(b"", source="", recipients=[f"subscribe@{DOMAIN}"], verdicts={})
    assert results == [{"results": ["ignored"]}]
    assert stack.mailbox.delivered == []


def test_a_hostile_reply_from_a_suppressed_reader_gets_no_answer(stack, tmp_path):
    from paperboy.readers import lifecycle as subscriptions

    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    ada = reader(stack, "ada@example.org")
    subscriptions.change(
        stack.subscribers, ada.id, lambda r: r.model_copy(update={"status": Status.SUPPRESSED})
    )
    before = len(stack.mailbox.delivered)
    hostile_reply(stack, tmp_path, _oversized("ada@example.org"), "ada@example.org")
    assert len(stack.mailbox.delivered) == before


# -- interests as people write them, and feedback that learns (issue 9) -----------------------------------
COMPRESSION = (
    "I work on compressing deep neural networks — pruning, quantization and knowledge distillation — so "
    "that large pretrained models can run efficiently on edge devices"
)


def test_a_sentence_mailed_to_subscribe_is_kept_whole_and_confirmed_back(stack):
    email(
        stack,
        **{
            "from": "ada@example.org",
            "to": f"subscribe@{DOMAIN}",
            "subject": "hi",
            "text": f"topics: {COMPRESSION}",
        },
    )
    assert reader(stack, "ada@example.org").settings.topics == (COMPRESSION,)
    confirm = stack.mailbox.delivered[-1]
    assert confirm.kind == "confirm"
    assert f"Your topics: {COMPRESSION}" in " ".join(confirm.part("plain").split())


def test_a_bracketed_list_stays_one_topic_and_a_list_splits(stack):
    subscribe(stack, "ada@example.org", text="topics: generative models (diffusion, GANs, flows); robotics")
    assert reader(stack, "ada@example.org").settings.topics == (
        "generative models (diffusion, GANs, flows)",
        "robotics",
    )


def test_a_topics_line_that_cannot_be_used_is_named_in_the_confirmation(stack):
    too_long = "topics: " + "very " * 70 + "long interest"
    email(
        stack,
        **{
            "from": "bo@example.org",
            "to": f"subscribe@{DOMAIN}",
            "subject": "hi",
            "text": f"Hello!\n{too_long}",
        },
    )
    text = " ".join(stack.mailbox.delivered[-1].part("plain").split())
    assert "I did not understand" in text and "at most 300 characters" in text
    # Prose around commands is not echoed to an address nobody has proven yet.
    assert "Hello!" not in text


def test_less_moves_the_readers_profile_away_from_the_paper_and_the_ack_says_so(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    ada = reader(stack, "ada@example.org")
    record = stack.ledger.recent_digests(ada.id)[0]
    rated = record.paper_ids[2]
    vector = vectors.pack([1.0, -0.5] + [0.0] * (vectors.DIM - 2))
    assert PaperStore(stack.table("PapersTable")).set_vector(rated, vector, vectors.MODEL)
    reply(stack, **{"from": "ada@example.org", "text": "less 3"})
    profile = reader(stack, "ada@example.org").profile_vector
    assert profile is not None and vectors.unpack(profile) @ vectors.unpack(vector) < -0.99
    ack = " ".join(stack.mailbox.delivered[-1].part("plain").split())
    assert "papers close in meaning to it rank lower" in ack
    # "more 1" then moves it towards paper #1's stored vector (the Embed function made it).
    first = PaperStore(stack.table("PapersTable")).get(record.paper_ids[0])
    assert first is not None and first.vector is not None
    reply(stack, **{"from": "ada@example.org", "text": "more 1"})
    moved = reader(stack, "ada@example.org").profile_vector
    assert moved is not None
    towards = vectors.unpack(first.vector)
    assert vectors.unpack(moved) @ towards > vectors.unpack(profile) @ towards
    assert "papers close in meaning to it rank higher" in " ".join(
        stack.mailbox.delivered[-1].part("plain").split()
    )


def test_trending_off_and_on_by_reply(stack):
    subscribe(stack, "ada@example.org")
    assert reader(stack, "ada@example.org").settings.trending is True
    reply(stack, **{"from": "ada@example.org", "text": "trending off"})
    assert reader(stack, "ada@example.org").settings.trending is False
    assert "“Also trending” section off" in stack.mailbox.delivered[-1].part("plain")
    reply(stack, **{"from": "ada@example.org", "text": "trending on"})
    assert reader(stack, "ada@example.org").settings.trending is True
