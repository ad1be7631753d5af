"""The limits on unverified mail (paperboy.readers.limits): what counts as one mailbox and one client, and
counters that refuse in the same write that counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import template_table

from paperboy.readers.limits import (
    UNKNOWN_MAIL_CLIENT,
    Limit,
    Limiter,
    Quotas,
    ip_client,
    mail_client,
    mailbox,
)

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ada@example.org", "ada@example.org"),
        (" Ada+News@Example.ORG ", "ada@example.org"),
        ("ada+a+b@example.org", "ada@example.org"),
        ("a.d.a@example.org", "a.d.a@example.org"),  # dots matter at most providers
        ("A.d.A+x@gmail.com", "ada@gmail.com"),
        ("ada@googlemail.com", "ada@gmail.com"),
        ("+tag@example.org", "+tag@example.org"),
        ("ada@bücher.de", "ada@xn--bcher-kva.de"),
    ],
)
def test_one_mailbox_however_it_is_spelled(address, expected):
    assert mailbox(address) == expected


@pytest.mark.parametrize(
    "address",
    ['"q"@example.org', "jürgen@example.org", "a@b@example.org", ".ada@example.org", "ada@localhost", ""],
)
def test_addresses_the_mailer_refuses_are_refused_here_too(address):
    with pytest.raises(ValueError):
        mailbox(address)


def test_clients():
    assert ip_client("203.0.113.7") == "ip:203.0.113.7"
    assert ip_client("2001:db8:1:2::7") == ip_client("2001:db8:1:2:ffff::1") == "ip:2001:db8:1:2::/64"
    assert ip_client("2001:db8:1:3::7") != ip_client("2001:db8:1:2::7")
    assert ip_client("::ffff:203.0.113.7") == "ip:203.0.113.7"


def ses_hop(helo: str, ip: str, rcpt: str = "subscribe@papers.example.org") -> str:
    """The Received field SES puts on top of a message it receives (research: email-mechanics 1.1)."""
    return (
        f"from {helo} (mx.example.net [{ip}]) by inbound-smtp.us-east-1.amazonaws.com with SMTP id "
        f"o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1 for {rcpt}; Fri, 28 Nov 2026 07:12:03 +0000 (UTC)"
    )


def test_the_client_of_a_mail_is_the_server_ses_names_whatever_the_mail_claims():
    sender_wrote = (
        "from forged.example ([198.51.100.1]) by mx.forged.example with SMTP id 1; Fri, 28 Nov 2026"
    )
    assert mail_client([ses_hop("mail-yw1-f170.google.com", "209.85.128.170"), sender_wrote]) == (
        "ip:209.85.128.170"
    )
    assert mail_client([ses_hop("mx", "IPv6:2001:db8:1:2::7")]) == "ip:2001:db8:1:2::/64"
    # A HELO or recipient crafted to look like SES's hop cannot choose the key: such mail shares one.
    crafted = "x (y [192.0.2.7]) by inbound-smtp.us-east-1.amazonaws.com with"
    assert mail_client([ses_hop(crafted, "203.0.113.66")]) == UNKNOWN_MAIL_CLIENT
    assert mail_client([ses_hop("mx", "203.0.113.66", rcpt=f'"{crafted}"@papers.example.org')]) == (
        UNKNOWN_MAIL_CLIENT
    )
    assert mail_client([sender_wrote]) == UNKNOWN_MAIL_CLIENT
    assert mail_client([]) == UNKNOWN_MAIL_CLIENT


def test_no_client_can_spend_more_than_its_share_of_the_day(table):
    limiter = Limiter(table, Quotas(per_client_per_hour=10, total_per_day=200))
    assert limiter.quotas.per_client_per_day == 20
    taken = [
        limiter.take(f"v{hour}-{n}@site{hour}-{n}.example", "ip:203.0.113.66", NOW + timedelta(hours=hour))
        for hour in range(3)
        for n in range(10)
    ]
    assert taken[:20] == [None] * 20
    assert {refused.limit for refused in taken[20:]} == {Limit.CLIENT_DAY}
    # Everyone else still signs up.
    assert limiter.take("ada@example.org", "ip:198.51.100.80", NOW + timedelta(hours=2)) is None


@pytest.fixture
def table(aws):
    """The counters live in the subscribers table, as template.yaml declares it."""
    return template_table("SubscribersTable", "limits")


def used(table) -> dict[str, int]:
    """Units used per counter kind, summed over keys and windows."""
    totals: dict[str, int] = {}
    for item in table.scan()["Items"]:
        kind = item["pk"].split("#")[1]
        totals[kind] = totals.get(kind, 0) + int(item["used"])
    return totals


def test_each_counter_refuses_at_its_limit_and_refusals_use_nothing(table):
    limiter = Limiter(table, Quotas(per_client_per_hour=5, per_address_per_day=2, per_domain_per_day=3))
    assert limiter.take("ada@example.org", "ip:1", NOW) is None
    assert limiter.take("ada+2@example.org", "ip:1", NOW) is None
    refused = limiter.take("ADA+3@example.org", "ip:1", NOW)
    assert refused is not None and refused.limit is Limit.ADDRESS
    assert refused.retry_after == timedelta(hours=14, minutes=30)  # midnight UTC
    # The refused request gave back what it took from the client counter.
    assert used(table) == {"client": 2, "client_day": 2, "address": 2, "domain": 2, "total": 2}
    assert limiter.take("bo@example.org", "ip:1", NOW) is None
    refused = limiter.take("cy@example.org", "ip:1", NOW)
    assert refused is not None and refused.limit is Limit.DOMAIN
    assert used(table) == {"client": 3, "client_day": 3, "address": 3, "domain": 3, "total": 3}


def test_the_client_window_is_an_hour_and_the_others_a_day(table):
    limiter = Limiter(table, Quotas(per_client_per_hour=1))
    assert limiter.take("ada@example.org", "ip:1", NOW) is None
    refused = limiter.take("bo@example.org", "ip:1", NOW)
    assert refused is not None and refused.limit is Limit.CLIENT
    assert refused.retry_after == timedelta(minutes=30)
    assert limiter.take("bo@example.org", "ip:1", NOW + timedelta(minutes=30)) is None


def test_a_total_of_zero_refuses_everything(table):
    refused = Limiter(table, Quotas(total_per_day=0)).take("ada@example.org", "ip:1", NOW)
    assert refused is not None and refused.limit is Limit.TOTAL
    assert used(table) == {"client": 0, "client_day": 0, "address": 0, "domain": 0}


def test_the_limit_is_checked_by_the_write_itself(table):
    # Another container counted in between: the count on the table decides, not what this one saw.
    limiter = Limiter(table, Quotas(total_per_day=2))
    assert limiter.take("ada@example.org", "ip:1", NOW) is None
    table.update_item(
        Key={"pk": "LIMIT#total#all", "sk": "2026-11-24"},
        UpdateExpression="ADD used :one",
        ExpressionAttributeValues={":one": 1},
    )
    refused = limiter.take("bo@example.org", "ip:2", NOW)
    assert refused is not None and refused.limit is Limit.TOTAL
    # Items expire by the table's TTL a day after their window.
    item = table.get_item(Key={"pk": "LIMIT#total#all", "sk": "2026-11-24"})["Item"]
    assert int(item["expires_at"]) == int(datetime(2026, 11, 26, tzinfo=UTC).timestamp())
