"""Consent end to end on the local stack (issue 14, items 1, 4, 6, 7 and 9): every command from an
unverified reader is named in our words, a From that is not exactly one address is nobody, only a yes
confirms, confirmation addresses work once for their reader, and one Message-ID is applied once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path

import pytest
from boto3.dynamodb.conditions import Attr
from test_unsubscribe_final import step

from local_stack.links import mail_link
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.mail.inbound import catalogue
from paperboy.mail.inbound.commands import CommandKind, parse_commands
from paperboy.mail.inbound.message import parse_message
from paperboy.papers.store import PaperStore
from paperboy.readers.model import ReaderSettings, Status
from paperboy.semantic import vectors

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
ADA = "ada@example.org"
EVE = "eve@example.net"
GRAY = {"dmarc": "GRAY"}
START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"


@pytest.fixture
def stack(stack_pool):
    with stack_pool.stack(domain=DOMAIN, start=START, fixtures=SourceFixtures()) as running:
        yield running


def reader(stack: LocalStack, address: str = ADA):
    found = stack.subscribers.by_email(address)
    assert found is not None
    return found


def mails_to(stack: LocalStack, address: str = ADA) -> list:
    return [mail for mail in stack.mailbox.delivered if mail.to == address]


def text_of(mail) -> str:
    return " ".join((mail.part("plain") or "").split())


def unverified(stack: LocalStack, to: str, text: str) -> None:
    """Mail from Ada's address that DMARC could not verify (GRAY, common for small domains)."""
    step(stack, "email", {"from": ADA, "to": to, "subject": "", "text": text, "verdicts": GRAY})


def resubscribe_by_form(stack: LocalStack) -> None:
    """Someone posts Ada's address to the web form (an unsubscribed reader gets an offer to confirm)."""
    form = {"method": "POST", "path": "/subscribe", "form": {"email": ADA}, "client": "192.0.2.7"}
    step(stack, "web", form)


def unsubscribed_then_offered(stack: LocalStack) -> None:
    """Ada subscribes, unsubscribes, then someone posts her address to the form: she is mailed an
    offer to come back, whose reply address is `confirm+NONCE@`."""
    signed_up(stack)
    step(stack, "click", {"to": ADA, "link": "confirm"})
    step(stack, "reply", {"from": ADA, "text": "unsubscribe"})
    resubscribe_by_form(stack)


def reply_address(mail) -> str:
    return getaddresses([str(mail.message["Reply-To"])])[0][1]


def signed_up(stack: LocalStack, address: str = ADA) -> None:
    """A pending sign-up: mail to subscribe@ (its confirmation is the latest mail to the address)."""
    step(stack, "email", {"from": address, "to": f"subscribe@{DOMAIN}", "subject": "hi", "text": ""})
    assert reader(stack, address).status is Status.PENDING


def units_taken(stack: LocalStack) -> int:
    """Sign-up-limit units in use, over every counter."""
    items = stack.table("SubscribersTable").scan(FilterExpression=Attr("pk").begins_with("LIMIT#"))["Items"]
    return sum(int(item.get("used", 0)) for item in items)


def token_address(stack: LocalStack, address: str = ADA) -> str:
    """The reader's own reply address (what every digest carries), from the "already subscribed"
    answer to a mail to subscribe@."""
    step(stack, "email", {"from": address, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    found = reply_address(mails_to(stack, address)[-1])
    assert found.startswith("reply+")
    return found


# -- item 1: every command has wording for an unverified sender ---------------------------------------
# One line per command kind; a kind added without a line here fails the first assertion below.
SAMPLES = {
    CommandKind.UNSUBSCRIBE: "unsubscribe",
    CommandKind.SUBSCRIBE: "subscribe",
    CommandKind.PAUSE: "pause 2 weeks",
    CommandKind.RESUME: "resume",
    CommandKind.TOPICS_SET: "topics: speech recognition",
    CommandKind.TOPIC_ADD: "add topic robotics",
    CommandKind.TOPIC_REMOVE: "remove topic robotics",
    CommandKind.EXCLUDE_ADD: "exclude: crypto",
    CommandKind.EXCLUDE_REMOVE: "unexclude crypto",
    CommandKind.CATEGORIES_SET: "categories: cs.CL",
    CommandKind.FOLLOW: "follow Yann LeCun",
    CommandKind.UNFOLLOW: "unfollow Yann LeCun",
    CommandKind.MORE: "more 2",
    CommandKind.MORE_LIKE: "more like 2",
    CommandKind.LIKE: "like 2611.10021",
    CommandKind.UNLIKE: "unlike 2611.10021",
    CommandKind.LIKES: "likes",
    CommandKind.ME: "me: Ada Lovelace",
    CommandKind.SECTIONS: "sections off",
    CommandKind.LESS: "less 3",
    CommandKind.COUNT: "count 5",
    CommandKind.TIME: "time 7:30",
    CommandKind.TIMEZONE: "timezone Europe/Berlin",
    CommandKind.DAILY: "daily",
    CommandKind.WEEKLY: "weekly friday",
    CommandKind.FORMAT: "format text",
    CommandKind.QUIET_DAYS: "quiet days on",
    CommandKind.TRENDING: "trending off",
    CommandKind.SETTINGS: "settings",
    CommandKind.HELP: "help",
}


def test_every_command_from_an_unverified_reader_is_named_in_our_words():
    assert set(SAMPLES) == set(CommandKind)
    # Enough allowance that every kind reaches the confirmation rather than a limit.
    limits = {
        "SignupLimitPerClientPerHour": "100",
        "SignupLimitPerAddressPerDay": "100",
        "SignupLimitPerDomainPerDay": "100",
        # One client may spend a tenth of the day's total: 100 here.
        "SignupLimitTotalPerDay": "1000",
    }
    with LocalStack(domain=DOMAIN, start=START, fixtures=SourceFixtures(), parameters=limits) as stack:
        stack.add_subscriber(ADA, ReaderSettings())
        address = token_address(stack)
        for kind, line in SAMPLES.items():
            # `me:` is two commands: it follows the name too.
            alone = [CommandKind.FOLLOW, kind] if kind is CommandKind.ME else [kind]
            assert [c.kind for c in parse_commands(line, today=START.date()).commands] == alone, line
            before = len(stack.mailbox.delivered)
            unverified(stack, address, line)
            sent = stack.mailbox.delivered[before:]
            assert [mail.kind for mail in sent] == ["confirm"], line
            assert "It asks to: • " in text_of(sent[0]), line
        ada = reader(stack)
        assert ada.status is Status.ACTIVE and ada.settings == ReaderSettings()


def test_no_limit_unit_is_taken_before_the_wording_is_known(stack, monkeypatch):
    stack.add_subscriber(ADA, ReaderSettings())
    address = token_address(stack)
    used = units_taken(stack)
    # A kind whose wording went missing is a programming error: it may fail, but spends nobody's allowance.
    monkeypatch.delitem(catalogue.CATALOGUE, CommandKind.TRENDING, raising=False)
    with pytest.raises(KeyError):
        step(
            stack,
            "email",
            {"from": ADA, "to": address, "subject": "", "text": "trending off", "verdicts": GRAY},
        )
    assert units_taken(stack) == used


def test_trending_off_from_a_gray_dmarc_reader_asks_to_confirm_and_the_yes_applies(stack):
    stack.add_subscriber(ADA, ReaderSettings())
    address = token_address(stack)
    step(
        stack, "email", {"from": ADA, "to": address, "subject": "", "text": "trending off", "verdicts": GRAY}
    )
    confirmation = mails_to(stack)[-1]
    assert confirmation.kind == "confirm" and "“Also trending”" in text_of(confirmation)
    step(stack, "reply", {"from": ADA, "text": "yes", "verdicts": GRAY})
    assert reader(stack).settings.trending is False


# -- item 4: a From that is not exactly one address is nobody -----------------------------------------
FORGED_FROM = "ada@example.org <mallory@evil.example>"


def forged(path: Path, text: str, sender: str = FORGED_FROM) -> Path:
    path.write_bytes(
        (
            f"From: {sender}\r\nTo: someone@{DOMAIN}\r\nSubject: hi\r\n"
            "Message-ID: <forged-1@evil.example>\r\nDate: Mon, 23 Nov 2026 05:00:00 +0000\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        ).encode()
    )
    return path


@pytest.mark.parametrize(
    "sender",
    [
        FORGED_FROM,
        "Ada <ada@example.org> <mallory@evil.example>",
        "Lovelace, Ada <ada@example.org>",
        "ada@example.org mallory@evil.example",
    ],
)
def test_a_from_that_is_not_exactly_one_address_has_no_sender(sender):
    raw = forged_bytes(sender)
    assert parse_message(raw).from_address == ""


@pytest.mark.parametrize(
    ("sender", "address"),
    [
        ("Ada Lovelace <ada@example.org>", ADA),
        ('"Lovelace, Ada" <ada@example.org>', ADA),
        ("Dr. Ada <ada@example.org>", ADA),  # RFC 5322's obsolete syntax, still what clients write
        ("ada@example.org (Ada)", ADA),
        ("<ADA@Example.org>", ADA),
    ],
)
def test_ordinary_from_headers_still_name_their_sender(sender, address):
    assert parse_message(forged_bytes(sender)).from_address == address


def forged_bytes(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: subscribe@{DOMAIN}\r\nSubject: hi\r\n\r\ntopics: cheap pills\r\n"
    ).encode()


def test_a_forged_display_name_changes_nothing_for_the_reader(stack, tmp_path):
    stack.add_subscriber(ADA, ReaderSettings(topics=("robotics",)))
    step(stack, "email", {"from": ADA, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    before = len(stack.mailbox.delivered)
    eml = forged(tmp_path / "reply.eml", "topics: cheap pills at evil.example\nunsubscribe")
    step(stack, "reply", {"from": "mallory@evil.example", "to_latest_of": ADA, "eml": str(eml)})
    ada = reader(stack)
    assert ada.status is Status.ACTIVE and ada.settings.topics == ("robotics",)
    assert stack.mailbox.delivered[before:] == []


def test_a_forged_display_name_to_subscribe_mails_nobody(stack, tmp_path):
    eml = forged(tmp_path / "subscribe.eml", "topics: cheap pills at evil.example")
    step(stack, "email", {"from": "mallory@evil.example", "to": f"subscribe@{DOMAIN}", "eml": str(eml)})
    assert stack.subscribers.by_email(ADA) is None
    assert stack.mailbox.delivered == []


# -- item 6: only a yes confirms ----------------------------------------------------------------------
REFUSALS = [
    "unsubscribe — I never asked for this",
    "this was NOT me",
    "no",
    "No.",
    "stop",
    "No thanks",
    "I didn’t sign up for this",
    "Please remove me",
    "nein danke",
]
YESES = [
    "yes",
    "Yes please",
    "ok",
    "Yes please\n\nSent from my iPhone",
    "Yes!\n\nAda",
    "Hi,\n\nconfirm\n\nBest,\nAda",
    "👍",
    "oui",
    "Sure, thanks!",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_a_refusal_cancels_the_sign_up_and_says_so(stack, text):
    signed_up(stack)
    step(stack, "reply", {"from": ADA, "text": text})
    assert reader(stack).status is Status.UNSUBSCRIBED
    answer = mails_to(stack)[-1]
    assert answer.kind == "notice" and "cancelled" in text_of(answer)
    assert text_of(answer).count("•") == 0  # short: no help text, nothing they wrote
    # The confirmation's button no longer works either.
    confirmation = mails_to(stack)[0]
    link = mail_link(confirmation.raw, "confirm")
    assert confirmation.kind == "confirm" and link is not None
    stack.click(link)
    assert reader(stack).status is Status.UNSUBSCRIBED


@pytest.mark.parametrize("text", [*YESES, ""])
def test_an_affirmative_or_empty_reply_confirms(stack, text):
    signed_up(stack)
    step(stack, "reply", {"from": ADA, "text": text})
    assert reader(stack).status is Status.ACTIVE
    assert mails_to(stack)[-1].kind == "welcome"


def test_a_verified_yes_with_commands_confirms_and_applies_them(stack):
    signed_up(stack)
    step(stack, "reply", {"from": ADA, "text": "yes, topics: robotics\ncount 5"})
    ada = reader(stack)
    assert ada.status is Status.ACTIVE
    assert ada.settings.topics == ("robotics",) and ada.settings.count == 5


def test_an_unverified_reply_with_commands_confirms_but_applies_none(stack):
    signed_up(stack)
    step(stack, "reply", {"from": ADA, "text": "yes\ntopics: cheap pills", "verdicts": GRAY})
    ada = reader(stack)
    assert ada.status is Status.ACTIVE and ada.settings.topics == ()


def test_an_unclear_reply_confirms_nothing_and_asks_again(stack):
    signed_up(stack)
    step(stack, "reply", {"from": ADA, "text": "who is this?"})
    assert reader(stack).status is Status.PENDING
    answer = mails_to(stack)[-1]
    assert answer.kind == "notice" and "yes" in text_of(answer) and "who is this" not in text_of(answer)
    step(stack, "reply", {"from": ADA, "text": "yes"})
    assert reader(stack).status is Status.ACTIVE


@pytest.mark.parametrize("text", ["this was NOT me", "no", "stop"])
def test_a_refused_change_is_never_applied(stack, text):
    stack.add_subscriber(ADA, ReaderSettings(topics=("robotics",)))
    address = token_address(stack)
    step(
        stack,
        "email",
        {"from": ADA, "to": address, "subject": "", "text": "topics: cheap pills", "verdicts": GRAY},
    )
    confirmation = mails_to(stack)[-1]
    assert confirmation.kind == "confirm"
    step(stack, "reply", {"from": ADA, "text": text})
    ada = reader(stack)
    assert ada.status is Status.ACTIVE and ada.settings.topics == ("robotics",)
    answer = mails_to(stack)[-1]
    assert answer.kind == "notice" and "nothing was changed" in text_of(answer)
    # The refused confirmation is used up: a later yes to it changes nothing.
    step(stack, "email", {"from": ADA, "to": reply_address(confirmation), "subject": "Re:", "text": "yes"})
    assert reader(stack).settings.topics == ("robotics",)


def test_a_refused_resubscription_keeps_the_reader_out(stack):
    unsubscribed_then_offered(stack)
    assert mails_to(stack)[-1].kind == "confirm"
    step(stack, "reply", {"from": ADA, "text": "I never asked for this"})
    assert reader(stack).status is Status.UNSUBSCRIBED
    assert mails_to(stack)[-1].kind == "notice"


# -- item 7: confirmation addresses work once, for their reader, at their token version ---------------
def test_a_confirmation_address_works_only_from_the_readers_address(stack):
    stack.add_subscriber(ADA, ReaderSettings())
    token = token_address(stack)
    unverified(stack, token, "count 3")
    address = reply_address(mails_to(stack)[-1])
    step(stack, "email", {"from": EVE, "to": address, "subject": "Re:", "text": "yes"})
    assert reader(stack).settings.count == 10
    # Eve's try did not use it up: Ada's own yes applies it.
    step(stack, "email", {"from": ADA, "to": address, "subject": "Re:", "text": "yes"})
    assert reader(stack).settings.count == 3


def test_an_unused_resubscription_nonce_dies_when_the_link_is_clicked(stack):
    unsubscribed_then_offered(stack)
    offer = mails_to(stack)[-1]
    assert offer.kind == "confirm" and reply_address(offer).startswith("confirm+")
    step(stack, "click", {"to": ADA, "link": "confirm"})
    assert reader(stack).status is Status.ACTIVE
    step(stack, "reply", {"from": ADA, "text": "unsubscribe"})
    assert reader(stack).status is Status.UNSUBSCRIBED
    # The offer's reply address, never used, must not bring her back after the later unsubscribe.
    stack.now += timedelta(hours=1)
    step(stack, "email", {"from": ADA, "to": reply_address(offer), "subject": "Re:", "text": "yes"})
    assert reader(stack).status is Status.UNSUBSCRIBED


def test_a_pending_change_dies_with_an_unsubscribe(stack):
    stack.add_subscriber(ADA, ReaderSettings())
    token = token_address(stack)
    unverified(stack, token, "count 3")
    address = reply_address(mails_to(stack)[-1])
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})  # the notice before it carries the link
    assert reader(stack).status is Status.UNSUBSCRIBED
    before = len(stack.mailbox.delivered)
    step(stack, "email", {"from": ADA, "to": address, "subject": "Re:", "text": "yes"})
    ada = reader(stack)
    assert ada.status is Status.UNSUBSCRIBED and ada.settings.count == 10
    assert stack.mailbox.delivered[before:] == []


# -- item 9: one Message-ID is applied once per sender -----------------------------------------------
@pytest.fixture
def papers_stack(stack_pool):
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with stack_pool.stack(domain=DOMAIN, start=START, fixtures=fixtures, prepare=LocalStack.fetch) as running:
        yield running


def test_the_same_message_id_delivered_twice_is_applied_once(papers_stack):
    stack = papers_stack
    stack.add_subscriber(ADA, ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    record = stack.ledger.recent_digests(reader(stack).id)[0]
    vector = vectors.pack([1.0, -0.5] + [0.0] * (vectors.DIM - 2))
    assert PaperStore(stack.table("PapersTable")).set_vector(record.paper_ids[1], vector, vectors.MODEL)
    step(stack, "reply", {"from": ADA, "text": "more 2"})
    once = reader(stack).profile_vector
    acks = [mail.kind for mail in mails_to(stack)].count("ack")
    # The same message again under a new SES message id (SES invoked per recipient, or a resend).
    _, event = stack._last_inbound
    mail = event["Records"][0]["ses"]["mail"]
    raw = (
        stack.aws.client("s3")
        .get_object(
            Bucket=stack.template.resolve({"Ref": "InboundMailBucket"}), Key=f"inbound/{mail['messageId']}"
        )["Body"]
        .read()
    )
    passed = dict.fromkeys(("spf", "dkim", "dmarc", "spam", "virus"), "PASS")
    stack.receive(
        raw, source=ADA, recipients=event["Records"][0]["ses"]["receipt"]["recipients"], verdicts=passed
    )
    assert reader(stack).profile_vector == once
    assert [mail.kind for mail in mails_to(stack)].count("ack") == acks
    assert re.search(r"Message-I[dD]", raw.decode())
