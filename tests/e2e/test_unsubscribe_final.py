"""Unsubscribing is final, unconfirmed sign-ups expire, and links come from configuration: end to end
on the local stack, driven by scenario steps as `make scenario` would (issue 11, items 4, 5, 9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local_stack import scenario
from local_stack.links import mail_link
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.web import function_url_event
from paperboy.readers import lifecycle as subscriptions
from paperboy.readers.model import Status

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
ADA = "ada@example.org"


@pytest.fixture
def stack(stack_pool):
    # No paper sources: these readers' mail is confirmations, welcomes and answers.
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    with stack_pool.stack(domain=DOMAIN, start=start, fixtures=SourceFixtures()) as running:
        yield running


def step(stack: LocalStack, kind: str, argument: object) -> None:
    if kind in scenario.FILE_STEPS:
        scenario.FILE_STEPS[kind](stack, argument, Path())
    else:
        scenario.STEPS[kind](stack, argument)


def later(stack: LocalStack, duration: timedelta) -> None:
    """Jump the clock without firing the hourly schedules (weeks of them take minutes locally, and
    nothing they do concerns these readers)."""
    stack.now += duration


def subscribed(stack: LocalStack, address: str = ADA) -> None:
    """A reader through the double opt-in: mail to subscribe@, then the confirm link."""
    step(stack, "email", {"from": address, "to": f"subscribe@{DOMAIN}", "subject": "hi", "text": ""})
    step(stack, "click", {"to": address, "link": "confirm"})
    assert status_of(stack, address) == "active"


def status_of(stack: LocalStack, address: str = ADA) -> str:
    reader = stack.subscribers.by_email(address)
    assert reader is not None
    return reader.status.value


def kinds_to(stack: LocalStack, address: str = ADA) -> list[str]:
    return [mail.kind for mail in stack.mailbox.delivered if mail.to == address]


def page(stack: LocalStack, address: str = ADA) -> tuple[int, str]:
    return stack.last_page[address]


def test_the_scenario_file_replays_the_attacks_through_make_scenario(tmp_path):
    out = tmp_path / "out"
    scenario.run(Path(__file__).parents[1] / "scenarios" / "unsubscribe_is_final.json", out)
    state = {
        reader["email"]: reader for reader in json.loads((out / "state.json").read_text())["subscribers"]
    }
    # Undo after its day, the old token posted to the undo route, a reply to an old address, a
    # sign-up in Ada's name: she stays out, and only gets a confirmation she may ignore.
    ada = state["ada@example.org"]
    assert (ada["status"], ada["count"], ada["next_due"]) == ("unsubscribed", 10, None)
    kinds = [(mail["to"], mail["kind"]) for mail in json.loads((out / "mail" / "index.json").read_text())]
    assert kinds == [
        ("ada@example.org", "confirm"),
        ("ada@example.org", "welcome"),
        ("ada@example.org", "confirm"),
    ]


# -- item 4: unsubscribing is final ---------------------------------------------------------------
def test_the_old_unsubscribe_token_posted_to_resubscribe_40_days_later_is_refused(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    assert status_of(stack) == "unsubscribed"
    later(stack, timedelta(days=40))
    # The welcome mail's unsubscribe token, posted to the undo route as a forwarded mail's reader could.
    step(stack, "click", {"to": ADA, "link": "unsubscribe", "route": "resubscribe", "post": True})
    assert page(stack)[0] == 404
    assert status_of(stack) == "unsubscribed"


def test_mail_to_an_old_reply_address_changes_nothing(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    later(stack, timedelta(days=40))
    sent = len(stack.mailbox.delivered)
    # A stranger answering the forwarded welcome mail, then the reader's own address (forged or not).
    step(stack, "reply", {"from": ADA, "to_latest_of": ADA, "text": "count 3\ntime 6:00"})
    step(stack, "reply", {"from": "eve@example.net", "to_latest_of": ADA, "text": "subscribe"})
    reader = stack.subscribers.by_email(ADA)
    assert reader.status is Status.UNSUBSCRIBED
    assert reader.settings.count == 10 and reader.next_due is None
    # Eve may get an offer of her own; nothing goes to Ada.
    assert [mail.to for mail in stack.mailbox.delivered[sent:]] in ([], ["eve@example.net"])
    # The reader's own "subscribe" to that old address only sends a fresh confirmation to the
    # stored address; the status stays until it is confirmed.
    step(stack, "reply", {"from": ADA, "to_latest_of": ADA, "text": "subscribe"})
    assert status_of(stack) == "unsubscribed"
    assert kinds_to(stack)[-1] == "confirm"
    step(stack, "click", {"to": ADA, "link": "confirm"})
    assert status_of(stack) == "active"
    assert kinds_to(stack)[-1] == "welcome"


def test_undo_within_the_window_works_once(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    assert "Undo" in page(stack)[1]
    unsubscribed_page = page(stack)
    later(stack, timedelta(hours=23))
    step(stack, "click", {"to": ADA, "link": "undo"})
    status, html = page(stack)
    assert status == 200 and "Welcome back" in html
    assert status_of(stack) == "active"
    reader = stack.subscribers.by_email(ADA)
    assert reader.next_due is not None and reader.next_due > stack.now
    # The page's new unsubscribe button works; pressing the first undo again does not.
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})  # the welcome mail's link: revoked
    assert page(stack)[0] == 404 and status_of(stack) == "active"
    stack.last_page[ADA] = unsubscribed_page
    step(stack, "click", {"to": ADA, "link": "undo"})
    assert page(stack)[0] == 410 and "no longer works" in page(stack)[1]
    assert stack.subscribers.by_email(ADA).token_version == reader.token_version


def test_undo_after_the_window_is_refused_with_a_way_back(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    later(stack, subscriptions.UNDO_LIFETIME + timedelta(minutes=1))
    step(stack, "click", {"to": ADA, "link": "undo"})
    status, html = page(stack)
    assert status == 410 and "no longer works" in html
    assert 'action="/subscribe"' in html and 'name="email"' in html  # start again: a fresh opt-in
    assert status_of(stack) == "unsubscribed"


def test_a_strangers_form_post_for_an_unsubscribed_address_changes_nothing(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    before = stack.subscribers.by_email(ADA)
    base = stack.template.function_urls["WebFunction"]
    status, _ = stack.request(
        "POST",
        f"{base}subscribe",
        b"email=ada%40example.org",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert status == 200
    after = stack.subscribers.by_email(ADA)
    assert after.status is Status.UNSUBSCRIBED and after.token_version == before.token_version
    # The address gets one confirmation; only confirming it brings the reader back.
    assert kinds_to(stack)[-1] == "confirm"
    later(stack, timedelta(days=2))
    step(stack, "reply", {"from": ADA, "text": "yes"})
    assert status_of(stack) == "active"


def test_one_click_and_mailto_unsubscribe_are_idempotent(stack):
    subscribed(stack)
    for _ in range(2):  # RFC 8058: the mail client POSTs the List-Unsubscribe URL; it may retry
        step(stack, "click", {"to": ADA, "link": "unsubscribe", "post": True})
        assert page(stack)[0] == 200 and "You are unsubscribed" in page(stack)[1]
    assert "Undo" not in page(stack)[1]  # a repeat does not hand out another undo
    assert stack.subscribers.by_email(ADA).token_version == 2
    subscribed(stack, "bo@example.org")
    welcome = stack.mailbox.latest_to("bo@example.org")
    mailto = welcome.message["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    address = mailto.removeprefix("mailto:").split("?")[0]
    for _ in range(2):
        step(stack, "email", {"from": "bo@example.org", "to": address, "subject": "unsubscribe", "text": ""})
        assert status_of(stack, "bo@example.org") == "unsubscribed"
    assert stack.subscribers.by_email("bo@example.org").token_version == 2


def test_goodbye_says_how_to_come_back_and_that_way_works(stack):
    subscribed(stack)
    step(stack, "reply", {"from": ADA, "text": "unsubscribe"})
    goodbye = stack.mailbox.delivered[-1]
    assert goodbye.kind == "goodbye" and "we will first send a confirmation" in goodbye.part("plain")
    step(stack, "reply", {"from": ADA, "text": "subscribe"})
    assert status_of(stack) == "unsubscribed" and kinds_to(stack)[-1] == "confirm"
    step(stack, "reply", {"from": ADA, "text": "yes"})  # the confirmation's reply address
    assert status_of(stack) == "active" and kinds_to(stack)[-1] == "welcome"


def test_a_suppressed_address_stays_suppressed(stack):
    subscribed(stack)
    step(stack, "click", {"to": ADA, "link": "unsubscribe"})
    reader_id = stack.subscribers.by_email(ADA).id
    subscriptions.change(
        stack.subscribers, reader_id, lambda r: r.model_copy(update={"status": Status.SUPPRESSED})
    )
    step(stack, "click", {"to": ADA, "link": "undo"})
    assert page(stack)[0] == 409
    step(stack, "email", {"from": ADA, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    assert status_of(stack) == "suppressed"


# -- item 5: pending sign-ups expire ----------------------------------------------------------------
def test_a_confirm_link_after_the_pending_expiry_is_refused_with_a_way_back(stack):
    step(stack, "email", {"from": ADA, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    later(stack, timedelta(days=8))
    step(stack, "click", {"to": ADA, "link": "confirm"})
    status, html = page(stack)
    assert status == 410 and "expired" in html and 'action="/subscribe"' in html
    assert status_of(stack) == "pending"
    assert kinds_to(stack) == ["confirm"]


def test_a_reply_after_the_pending_expiry_only_sends_a_new_confirmation(stack):
    step(stack, "email", {"from": ADA, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
    later(stack, timedelta(days=60))
    step(stack, "reply", {"from": ADA, "text": "yes"})
    assert status_of(stack) == "pending"
    assert kinds_to(stack) == ["confirm", "confirm"]
    step(stack, "click", {"to": ADA, "link": "confirm"})  # the new one works
    assert status_of(stack) == "active"


def test_a_pending_record_keeps_its_expiry_on_every_save(stack):
    for _ in range(2):  # the second sign-up, an hour later, saves the existing pending record again
        step(stack, "email", {"from": ADA, "to": f"subscribe@{DOMAIN}", "subject": "", "text": ""})
        later(stack, timedelta(hours=1))
        reader = stack.subscribers.by_email(ADA)
        item = stack.table("SubscribersTable").get_item(Key={"pk": f"SUB#{reader.id}", "sk": "PROFILE"})[
            "Item"
        ]
        assert int(item["expires_at"]) == int((reader.created_at + timedelta(days=7)).timestamp())
    step(stack, "click", {"to": ADA, "link": "confirm"})
    item = stack.table("SubscribersTable").get_item(Key={"pk": f"SUB#{reader.id}", "sk": "PROFILE"})["Item"]
    assert "expires_at" not in item  # a confirmed reader is kept


# -- item 9: links from configuration ---------------------------------------------------------------
HOSTILE = {
    "x-forwarded-proto": "https://evil.example/#",
    "host": "evil.example",
    "x-forwarded-host": "evil.example",
}


def test_links_in_mail_sent_by_the_web_function_ignore_request_headers(stack):
    base = stack.template.function_urls["WebFunction"]
    form = {"content-type": "application/x-www-form-urlencoded", **HOSTILE}
    stack.request("POST", f"{base}subscribe", b"email=ada%40example.org", form)
    confirmation = stack.mailbox.latest_to(ADA)
    confirm = mail_link(confirmation.raw, "confirm")
    assert confirm is not None and confirm.startswith(f"{base}confirm/")
    assert "evil" not in confirmation.raw.decode(errors="replace")
    # The same through an event whose request context names another host (a proxy in front).
    event = function_url_event("POST", confirm, b"", HOSTILE)
    event["requestContext"]["domainName"] = "evil.example"
    stack.invoke("WebFunction", event)
    stack.mailbox.collect()
    welcome = stack.mailbox.latest_to(ADA)
    assert welcome.kind == "welcome"
    assert "evil" not in welcome.raw.decode(errors="replace")
    assert welcome.message["List-Unsubscribe"].startswith(f"<{base}unsubscribe/")
