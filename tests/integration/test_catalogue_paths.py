"""Every example of every command kind in the catalogue, mailed through the InboundMail function
(the real Inbox) by every kind of sender: the reader verified, the reader unverified (DMARC GRAY)
and their "yes", a stranger to the reader's address, a pending reader answering the confirmation,
an unsubscribed reader, and a new address writing to subscribe@. Nothing may raise (the stack is
strict), and every answer must carry the kind's wording. A kind added to the catalogue is walked
here without a line of this file changing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from test_unsubscribe_final import step

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.mail.inbound import consent
from paperboy.mail.inbound.catalogue import CATALOGUE, apply, asks_to, brings_back, settings_of
from paperboy.mail.inbound.commands import Command, CommandKind, parse_commands
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.tokens import Links, Signer

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
PASS: dict[str, str] = {}
GRAY = {"dmarc": "GRAY"}
# Every case uses addresses of its own; these keep the sign-up limits out of the way.
LIMITS = {
    "SignupLimitPerClientPerHour": "100000",
    "SignupLimitPerAddressPerDay": "100000",
    "SignupLimitPerDomainPerDay": "100000",
    "SignupLimitTotalPerDay": "1000000",
}
CASES = [(spec.kind, example) for spec in CATALOGUE.values() for example in spec.examples]
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def stack():
    with LocalStack(domain=DOMAIN, start=START, fixtures=SourceFixtures(), parameters=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def links(stack) -> Links:
    """Links signed with the stack's key: a reader's reply address without a mail to learn it from."""
    secrets = stack.client("secretsmanager")
    (secret,) = secrets.list_secrets()["SecretList"]
    key = secrets.get_secret_value(SecretId=secret["Name"])["SecretString"]
    return Links(signer=Signer(key.encode()), domain=DOMAIN, web_base_url="https://web.invalid/")


def mail(stack: LocalStack, sender: str, to: str, text: str, verdicts: dict[str, str]) -> None:
    step(stack, "email", {"from": sender, "to": to, "subject": "Re: hi", "text": text, "verdicts": verdicts})


def answer(stack: LocalStack, sender: str, text: str, verdicts: dict[str, str]) -> None:
    """A reply to the latest mail `sender` got, at its Reply-To."""
    step(stack, "reply", {"from": sender, "text": text, "verdicts": verdicts})


def delivered(stack: LocalStack, address: str) -> list:
    return [sent for sent in stack.mailbox.delivered if sent.to == address]


def text_of(sent) -> str:
    return " ".join((sent.part("plain") or "").split())


def reader(stack: LocalStack, address: str) -> Subscriber:
    found = stack.subscribers.by_email(address)
    assert found is not None
    return found


def active_reader(stack: LocalStack, links: Links) -> tuple[str, str]:
    """A new active reader and their reply address (what every digest carries)."""
    address = f"reader{next(_numbers)}@example.org"
    return address, links.reply_address(stack.add_subscriber(address, ReaderSettings()))


def commands_of(example: str) -> list[Command]:
    return parse_commands(example, today=START.date()).commands


def assert_answered(sent, commands: list[Command], before: ReaderSettings) -> None:
    """An answer to commands that applied: a goodbye, or what changed (each setting's sentence),
    the settings, or the help; never an "I did not understand"."""
    text = text_of(sent)
    assert "did not understand" not in text
    if sent.kind == "goodbye":
        assert "You are unsubscribed" in text
        return
    _, said = apply(before, commands)
    for sentence in said:
        assert " ".join(sentence.split()) in text
    assert "Done: •" in text or "Settings now in force:" in text
    if sent.kind == "help":
        assert "To see this list: help" in text


def from_reader(
    stack: LocalStack, links: Links, example: str, verdicts: dict[str, str]
) -> tuple[str, Subscriber, list]:
    """A new reader mails the line to their reply address: the reader, as before, and the answers."""
    address, reply_to = active_reader(stack, links)
    before = reader(stack, address)
    mail(stack, address, reply_to, example, verdicts)
    return address, before, delivered(stack, address)


def verified(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    address, before, sent = from_reader(stack, links, example, PASS)
    commands = commands_of(example)
    assert len(sent) == 1
    assert_answered(sent[0], commands, before.settings)
    after = reader(stack, address)
    assert after.settings == apply(before.settings, commands)[0]
    assert (after.status is Status.UNSUBSCRIBED) == (sent[0].kind == "goodbye")


def unverified(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    """Asked to confirm in our words; the reader's "yes" (also unverified) applies it."""
    address, before, sent = from_reader(stack, links, example, GRAY)
    commands = commands_of(example)
    assert [s.kind for s in sent] == ["confirm"]
    assert f"• {CATALOGUE[kind].unverified}" in text_of(sent[0])
    for wording in asks_to(commands):
        assert f"• {wording}" in text_of(sent[0])
    assert reader(stack, address).model_dump() == before.model_dump()
    answer(stack, address, "yes", GRAY)
    sent = delivered(stack, address)[1:]
    assert len(sent) == 1
    assert_answered(sent[0], commands, before.settings)
    assert reader(stack, address).settings == apply(before.settings, commands)[0]


def stranger(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    """A forwarded digest answered by someone else: nothing changes for the reader, and the
    stranger is at most offered a subscription of their own."""
    address, reply_to = active_reader(stack, links)
    before = reader(stack, address)
    other = f"stranger{next(_numbers)}@example.net"
    count = len(delivered(stack, address))
    mail(stack, other, reply_to, example, PASS)
    assert delivered(stack, address)[count:] == []
    assert reader(stack, address).model_dump() == before.model_dump()
    assert [s.kind for s in delivered(stack, other)] == ["confirm"]
    assert reader(stack, other).status is Status.PENDING


def pending(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    """The line answers a confirmation: a refusal cancels, anything else is a yes whose settings apply."""
    address = f"pending{next(_numbers)}@example.org"
    mail(stack, address, f"subscribe@{DOMAIN}", "", PASS)
    assert reader(stack, address).status is Status.PENDING
    count = len(delivered(stack, address))
    answer(stack, address, example, PASS)
    sent = delivered(stack, address)[count:]
    assert len(sent) == 1
    after = reader(stack, address)
    if consent.read(example, today=START.date()).answer is consent.Answer.NO:
        assert (sent[0].kind, after.status) == ("notice", Status.UNSUBSCRIBED)
        assert "You said no" in text_of(sent[0])
        return
    assert (sent[0].kind, after.status) == ("welcome", Status.ACTIVE)
    assert "To see this list: help" in text_of(sent[0])
    assert after.settings == apply(ReaderSettings(), settings_of(commands_of(example)))[0]


def unsubscribed(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    """An old reply address changes nothing; only a command that brings the reader back gets a
    fresh confirmation, and even that leaves the reader unsubscribed until it is answered."""
    address, reply_to = active_reader(stack, links)
    mail(stack, address, reply_to, "unsubscribe", PASS)
    assert reader(stack, address).status is Status.UNSUBSCRIBED
    count = len(delivered(stack, address))
    mail(stack, address, reply_to, example, PASS)
    sent = delivered(stack, address)[count:]
    assert [s.kind for s in sent] == (["confirm"] if brings_back(commands_of(example)) else [])
    assert reader(stack, address).status is Status.UNSUBSCRIBED


def sign_up(stack: LocalStack, links: Links, kind: CommandKind, example: str) -> None:
    """A mail to subscribe@ with the line: a confirmation, the line's settings waiting in it."""
    address = f"new{next(_numbers)}@example.org"
    mail(stack, address, f"subscribe@{DOMAIN}", example, PASS)
    assert [s.kind for s in delivered(stack, address)] == ["confirm"]
    new = reader(stack, address)
    assert new.status is Status.PENDING
    assert new.settings == apply(ReaderSettings(), settings_of(commands_of(example)))[0]


PATHS = [verified, unverified, stranger, pending, unsubscribed, sign_up]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
@pytest.mark.parametrize(("kind", "example"), CASES)
def test_every_command_through_every_sender_path(stack, links, kind, example, path):
    path(stack, links, kind, example)
