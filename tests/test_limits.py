"""The limits on unverified mail (paperboy.limits): what counts as one mailbox and one client, and
counters that refuse in the same write that counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import template_table

from paperboy.limits import Limit, Limiter, Quotas, mail_client, mailbox, web_client

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
    assert web_client("203.0.113.7") == "ip:203.0.113.7"
    assert web_client("2001:db8:1:2::7") == web_client("2001:db8:1:2:ffff::1") == "ip:2001:db8:1:2::/64"
    assert web_client("2001:db8:1:3::7") != web_client("2001:db8:1:2::7")
    assert web_client("::ffff:203.0.113.7") == "ip:203.0.113.7"
    assert mail_client("Ada+x@Example.org", proven=True) == "mail:ada@example.org"
    assert mail_client("ada@example.org", proven=False) == "mail-domain:example.org"


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
    assert used(table) == {"client": 2, "address": 2, "domain": 2, "total": 2}
    assert limiter.take("bo@example.org", "ip:1", NOW) is None
    refused = limiter.take("cy@example.org", "ip:1", NOW)
    assert refused is not None and refused.limit is Limit.DOMAIN
    assert used(table) == {"client": 3, "address": 3, "domain": 3, "total": 3}


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
    assert used(table) == {"client": 0, "address": 0, "domain": 0}


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
