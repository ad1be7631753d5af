"""One mailbox, one form (issue 14, item 5): an address typed in full-width characters or with an
internationalised domain is the same reader as its plain ASCII/IDNA form everywhere Paperboy keys or
compares an address. And Paperboy never mails its own addresses, nor shows a reader's address to
whoever holds a forwarded unsubscribe link (item 9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from samtranslator.yaml_helper import yaml_parse
from test_mail_events import bounce, complaint

from local_stack import scenario
from local_stack.links import mail_link
from local_stack.sources import SourceFixtures
from local_stack.template import TEMPLATE
from paperboy.admin import Admin
from paperboy.mail import events as mail_events
from paperboy.mail.addresses import normalised
from paperboy.readers.limits import mailbox
from paperboy.readers.model import ReaderSettings, Status
from paperboy.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
# Full-width "ｅ" (U+FF45): NFKC makes it "e".
FULL_WIDTH = "ada@\uff45xample.org"
IDN = "ada@bücher.example"
IDN_ASCII = "ada@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ada@example.org", "ada@example.org"),
        (" Ada@Example.ORG ", "ada@example.org"),
        (FULL_WIDTH, "ada@example.org"),
        (
            "\uff41\uff44\uff41\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff4f\uff52\uff47",
            "ada@example.org",
        ),
        (IDN, IDN_ASCII),
        ("ADA@BÜCHER.EXAMPLE", IDN_ASCII),
        (IDN_ASCII, IDN_ASCII),
        ("ada+news@example.org", "ada+news@example.org"),  # a tag is the reader's own choice: kept
    ],
)
def test_every_spelling_of_an_address_has_one_form(typed, expected):
    assert normalised(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "ada", "ada@", '"q"@example.org', "jürgen@example.org", "a\r\nb@example.org"]
)
def test_what_the_mailer_refuses_has_no_form(typed):
    with pytest.raises(ValueError):
        normalised(typed)


def test_the_sign_up_limits_count_one_mailbox_however_it_is_typed():
    assert mailbox(FULL_WIDTH) == mailbox("ada@example.org") == mailbox("ADA+x@example.org")
    assert mailbox(IDN) == mailbox(IDN_ASCII)


@pytest.fixture
def stack(stack_pool):
    with stack_pool.stack(domain=DOMAIN, start=START, fixtures=SourceFixtures()) as running:
        yield running


def post_form(stack, address: str, client: str = "192.0.2.40") -> dict:
    return stack.web("POST", "/subscribe", body=f"email={quote(address)}".encode(), client=client)


def readers(stack) -> list:
    return list(stack.subscribers.all())


def sign_up_by_form(stack, typed: str, mailed_as: str) -> None:
    assert post_form(stack, typed)["status"] == 200
    scenario.STEPS["click"](stack, {"to": mailed_as, "link": "confirm"})


def test_a_full_width_address_on_the_form_is_the_reader_already_subscribed(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    answer = post_form(stack, FULL_WIDTH)
    assert answer["status"] == 200
    [ada] = readers(stack)
    assert ada.email == "ada@example.org"
    # She is told she is subscribed already: no confirmation, no second digest a day.
    assert [mail.kind for mail in stack.mailbox.delivered] == ["notice"]


def utf8_mail(tmp_path: Path, sender: str, to: str) -> dict:
    """An `email` step of a message whose From is raw UTF-8, as an SMTPUTF8 client writes it."""
    eml = tmp_path / "utf8.eml"
    eml.write_bytes(
        f"From: {sender}\r\nTo: {to}\r\nSubject: hi\r\nMessage-ID: <u1@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n".encode()
    )
    return {"from": sender, "to": to, "eml": str(eml)}


def test_a_full_width_address_mailed_to_subscribe_is_the_reader_already_subscribed(stack, tmp_path):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    scenario.FILE_STEPS["email"](stack, utf8_mail(tmp_path, FULL_WIDTH, f"subscribe@{DOMAIN}"), Path())
    assert [reader.email for reader in readers(stack)] == ["ada@example.org"]
    assert [mail.kind for mail in stack.mailbox.delivered] == ["notice"]


@pytest.mark.parametrize(("typed", "mailed_as"), [(FULL_WIDTH, "ada@example.org"), (IDN, IDN_ASCII)])
@pytest.mark.parametrize("event", [bounce, complaint])
def test_a_bounce_or_complaint_in_ascii_form_suppresses_the_reader_however_they_typed(
    stack, typed, mailed_as, event
):
    sign_up_by_form(stack, typed, mailed_as)
    [reader] = readers(stack)
    assert reader.status is Status.ACTIVE and reader.email == mailed_as
    # SES reports recipients as it sent to them: in ASCII, the domain as IDNA.
    [outcome] = mail_events.handle(stack.subscribers, stack.ledger, json.dumps(event(mailed_as)), stack.now)
    assert outcome.subscriber_id == reader.id
    assert stack.subscribers.get(reader.id).status is Status.SUPPRESSED
    # Typing the address again, in either form, does not bring it back.
    assert post_form(stack, typed, client="192.0.2.41")["status"] == 200
    assert post_form(stack, mailed_as, client="192.0.2.42")["status"] == 200
    assert [r.status for r in readers(stack)] == [Status.SUPPRESSED]


def test_an_idn_readers_own_replies_are_the_readers(stack):
    sign_up_by_form(stack, IDN, IDN_ASCII)
    scenario.FILE_STEPS["reply"](stack, {"from": IDN_ASCII, "text": "count 5"}, Path())
    [reader] = readers(stack)
    assert reader.settings.count == 5
    assert [mail.kind for mail in stack.mailbox.delivered] == ["confirm", "welcome", "ack"]


def test_the_admin_tool_finds_a_reader_by_any_spelling(stack):
    sign_up_by_form(stack, IDN, IDN_ASCII)
    admin = Admin(Settings.from_env(stack.functions["SendDigestsFunction"].environment))
    for spelling in (IDN, IDN_ASCII, "ADA@BÜCHER.EXAMPLE"):
        assert admin.reader(spelling).email == IDN_ASCII
    assert [r.email for r in admin.find("bücher")] == [IDN_ASCII]


# -- item 9 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ours",
    [
        f"digest@{DOMAIN}",
        f"subscribe@{DOMAIN}",
        f"reply+abc.def@{DOMAIN}",
        f"confirm+0123@{DOMAIN}",
        "Digest@Papers.Example.Org",
        "digest@\uff50apers.example.org",
    ],
)
def test_the_form_refuses_paperboys_own_addresses(stack, ours):
    answer = post_form(stack, ours)
    assert answer["status"] == 400
    assert "own address" in answer["body"]
    assert stack.mailbox.delivered == [] and readers(stack) == []


def test_neither_form_nor_subscribe_mails_a_sender_address_on_another_domain(stack_pool):
    with stack_pool.stack(
        domain=DOMAIN,
        start=START,
        fixtures=SourceFixtures(),
        parameters={"SenderAddress": "news@example.com"},
    ) as stack:
        answer = post_form(stack, "News@Example.com")
        assert answer["status"] == 400 and "own address" in answer["body"]
        scenario.FILE_STEPS["email"](
            stack,
            {"from": "news@example.com", "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""},
            Path(),
        )
        assert stack.mailbox.delivered == [] and readers(stack) == []


def test_subscribe_mail_from_our_own_domain_starts_nothing(stack, tmp_path):
    for sender in (f"digest@{DOMAIN}", f"reply+abc@{DOMAIN}"):
        scenario.FILE_STEPS["email"](
            stack, {"from": sender, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""}, Path()
        )
    scenario.FILE_STEPS["email"](
        stack, utf8_mail(tmp_path, "subscribe@\uff50apers.example.org", f"subscribe@{DOMAIN}"), Path()
    )
    assert stack.mailbox.delivered == [] and readers(stack) == []


def test_unsubscribe_pages_do_not_show_the_readers_address(stack):
    sign_up_by_form(stack, "zoe.q@example.org", "zoe.q@example.org")
    url = mail_link(stack.mailbox.latest_to("zoe.q@example.org").raw, "unsubscribe")
    pages = [stack.request("GET", url), stack.request("POST", url)]
    status, page = pages[-1]
    assert status == 200 and "unsubscribed" in page.lower()
    stack.last_page["zoe.q@example.org"] = pages[-1]
    scenario.STEPS["click"](stack, {"to": "zoe.q@example.org", "link": "undo"})
    pages.append(stack.last_page["zoe.q@example.org"])
    assert "again" in pages[-1][1]
    for status, page in pages:
        assert status == 200
        assert "zoe" not in page.lower()


def test_inbound_mail_must_arrive_over_tls_unless_the_operator_says_otherwise():
    template = yaml_parse(TEMPLATE.read_text())
    parameter = template["Parameters"]["InboundTlsPolicy"]
    assert parameter["Default"] == "Require" and parameter["AllowedValues"] == ["Require", "Optional"]
    [rule] = [r for r in template["Resources"].values() if r["Type"] == "AWS::SES::ReceiptRule"]
    assert rule["Properties"]["Rule"]["TlsPolicy"] == {"Ref": "InboundTlsPolicy"}
    readme = (TEMPLATE.parent / "README.md").read_text()
    assert "| `InboundTlsPolicy` |" in readme


def stored_as_typed(stack, reader_id: str, typed: str) -> None:
    """A reader as the web form stored it before addresses were normalised: key and profile as typed."""
    table = stack.table("SubscribersTable")
    table.put_item(Item={"pk": f"EMAIL#{typed.lower()}", "sk": "EMAIL", "subscriber_id": reader_id})
    table.update_item(
        Key={"pk": f"SUB#{reader_id}", "sk": "PROFILE"},
        UpdateExpression="SET email = :typed",
        ExpressionAttributeValues={":typed": typed},
    )


def test_the_admin_tool_moves_readers_stored_as_typed_to_the_one_form(stack):
    for address in ("old@example.org", "twice@example.org", "twice2@example.org"):
        stack.add_subscriber(address, ReaderSettings())
    old = stack.subscribers.by_email("old@example.org")
    twice = stack.subscribers.by_email("twice2@example.org")
    table = stack.table("SubscribersTable")
    for address in ("old@example.org", "twice2@example.org"):
        table.delete_item(Key={"pk": f"EMAIL#{address}", "sk": "EMAIL"})
    stored_as_typed(stack, old.id, "old@bücher.example")
    stored_as_typed(stack, twice.id, "twice@\uff45xample.org")  # a second record for twice@example.org
    assert stack.subscribers.by_email("old@xn--bcher-kva.example") is None  # lost before the move

    admin = Admin(Settings.from_env(stack.functions["SendDigestsFunction"].environment))
    result = admin.normalise_addresses()

    assert result["moved"] == [old.id]
    held_by = stack.subscribers.by_email("twice@example.org").id
    assert result["clashes"] == [{"id": twice.id, "email": "twice@example.org", "held_by": held_by}]
    moved = stack.subscribers.by_email("old@bücher.example")
    assert moved.id == old.id and moved.email == "old@xn--bcher-kva.example"
    assert admin.normalise_addresses() == {"moved": [], "clashes": result["clashes"]}
