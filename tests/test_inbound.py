"""Email-first subscriptions end to end on the local stack: subscribe, confirm, manage by reply,
unsubscribe; forged, looping and malformed mail change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local_stack import scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy import vectors
from paperboy.readers import ReaderSettings, Status
from paperboy.store import PaperStore

FIXTURES = Path(__file__).parent / "fixtures" / "daily_papers"
DOMAIN = "papers.example.org"


@pytest.fixture
def stack():
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    with LocalStack(domain=DOMAIN, start=start, fixtures=fixtures) as running:
        running.fetch()
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
    record = stack.subscribers.recent_digests(reader(stack, "ada@example.org").id)[0]
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
    reply(stack, **{"from": "ada@example.org", "text": "subscribe"})
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
    mail = stack.mailbox.latest_to("gone@example.org")
    url = mail.message["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    reader_id = reader(stack, "gone@example.org").id
    from paperboy import subscriptions

    subscriptions.change(
        stack.subscribers, reader_id, lambda r: r.model_copy(update={"status": Status.SUPPRESSED})
    )
    status, page = stack.request("POST", url.replace("/unsubscribe/", "/resubscribe/"))
    assert status == 409 and "cannot be subscribed again" in page
    assert reader(stack, "gone@example.org").status == "suppressed"


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
    record = stack.subscribers.recent_digests(ada.id)[0]
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
