"""Limits on mail nobody has verifiably asked for: confirmations (the web form, `subscribe@`) and
answers to senders DMARC did not verify. Without them anyone could make Paperboy mail any address,
in bulk, under our domain's signature, and SES reviews (then pauses, for every reader) an account
whose bounces or complaints climb.

Each request takes one unit from five counters before anything is written or sent: the client (the
web request's source IP, or the IP of the server that handed a mail to SES) per hour and per day (a
share of the whole service's day, so that no one client can spend it all), the recipient's mailbox
per day, the recipient's domain per day, and the whole service per day. Each counter is one
DynamoDB item changed by a conditional `ADD` whose condition is the limit, so concurrent requests
cannot pass it together. A request refused by a later counter gives back what it took from the
earlier ones: a refused request never uses up anyone else's allowance (a crash in between can only
refuse too much, never allow too much).

Counters live in the subscribers table (pk `LIMIT#<counter>#<key>`, sk the window) and expire by
its TTL. Addresses and client addresses are stored as hashes, domains as they are.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from paperboy.mail.addresses import normalised

# Providers that deliver every dotted spelling of a local part to one mailbox.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# An IPv6 client usually holds a whole /64: counting single addresses would give it 2^64 clients.
_IPV6_CLIENT_PREFIX = 64
# One client may use at most this fraction of the whole service's daily total.
CLIENT_SHARE_OF_TOTAL = 0.1
# The hop SES adds on top of every message it receives:
# `from HELO (rDNS [IP]) by inbound-smtp.REGION.amazonaws.com with SMTP id ... for RCPT; DATE`.
_SES_HOP = re.compile(
    r"\[(?:IPv6:)?([0-9A-Fa-f:.]{2,45})\]\)\s+by\s+inbound-smtp\.[a-z0-9-]+\.amazonaws\.com\s",
    re.IGNORECASE,
)
# Mail whose connecting server cannot be told: all such mail shares one client's allowance.
UNKNOWN_MAIL_CLIENT = "mail:unknown-server"


class Limit(StrEnum):
    """The counters, in the order a request takes from them (the attacker's own first)."""

    CLIENT = "client"
    CLIENT_DAY = "client_day"
    ADDRESS = "address"
    DOMAIN = "domain"
    TOTAL = "total"


class Quotas(BaseModel):
    """How many unverified mails each counter allows in its window (operator parameters)."""

    per_client_per_hour: int = Field(default=10, ge=0)
    per_address_per_day: int = Field(default=3, ge=0)
    per_domain_per_day: int = Field(default=50, ge=0)
    total_per_day: int = Field(default=200, ge=0)

    @property
    def per_client_per_day(self) -> int:
        """A client's share of the day: a flood from one source cannot refuse everyone else."""
        return max(1, int(self.total_per_day * CLIENT_SHARE_OF_TOTAL))


class Refused(BaseModel):
    """A limit was reached: which one, and when its window ends."""

    limit: Limit
    retry_after: timedelta


def mailbox(address: str) -> str:
    """The mailbox an address reaches, for counting: its normalised form (ValueError for an address
    the mailer refuses), without a `+tag`, and without dots where the provider ignores them."""
    checked = normalised(address)
    local, _, domain = checked.rpartition("@")
    base = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        base = base.replace(".", "") or base
    return f"{base}@{domain}"


def ip_client(source_ip: str) -> str:
    """The client key of an IP address (a web request's, a mail server's): IPv4 as it is, IPv6 as
    its /64."""
    try:
        ip = ipaddress.ip_address(source_ip)
    except ValueError:
        return f"ip:{source_ip[:64]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/{_IPV6_CLIENT_PREFIX}', strict=False)}"
    return f"ip:{ip}"


def mail_client(received: list[str]) -> str:
    """The client key of an inbound mail: the IP address of the server that connected to SES, as
    the topmost Received field (`received`: the message's Received fields, in order) names it. SES
    adds that field above whatever the sender wrote; everything else (From, envelope, the sender's
    own Received fields) is the sender's to choose, and a key from it gives one sender as many
    allowances as names it claims (or, verified, as addresses at its own domain).
    A field that names the SES hop more than once (a HELO or recipient crafted to look like it)
    or not at all gives UNKNOWN_MAIL_CLIENT: such mail shares one allowance."""
    hops = _SES_HOP.findall(received[0]) if received else []
    if len(hops) != 1:
        return UNKNOWN_MAIL_CLIENT
    try:
        ipaddress.ip_address(hops[0])
    except ValueError:
        return UNKNOWN_MAIL_CLIENT
    return ip_client(hops[0])


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Counter:
    limit: Limit
    key: str
    window: str
    allowed: int
    ends: datetime


class Limiter:
    def __init__(self, table: Any, quotas: Quotas) -> None:
        self._table = table
        self.quotas = quotas

    def take(self, address: str, client: str, now: datetime) -> Refused | None:
        """Count one mail to `address` asked for by `client`; None when every limit allows it.
        Raises ValueError for an address the mailer would refuse (nothing is counted)."""
        recipient = mailbox(address)
        now = now.astimezone(UTC)
        for_hour = now.replace(minute=0, second=0, microsecond=0)
        for_day = for_hour.replace(hour=0)
        hour_ends, day_ends = for_hour + timedelta(hours=1), for_day + timedelta(days=1)
        day, hour = for_day.strftime("%Y-%m-%d"), for_hour.strftime("%Y-%m-%dT%H")
        quotas = self.quotas
        counters = [
            _Counter(Limit.CLIENT, _hashed(client), hour, quotas.per_client_per_hour, hour_ends),
            _Counter(Limit.CLIENT_DAY, _hashed(client), day, quotas.per_client_per_day, day_ends),
            _Counter(Limit.ADDRESS, _hashed(recipient), day, quotas.per_address_per_day, day_ends),
            _Counter(Limit.DOMAIN, recipient.rpartition("@")[2], day, quotas.per_domain_per_day, day_ends),
            _Counter(Limit.TOTAL, "all", day, quotas.total_per_day, day_ends),
        ]
        taken: list[_Counter] = []
        for counter in counters:
            if not self._take(counter):
                for earlier in taken:
                    self._give_back(earlier)
                return Refused(limit=counter.limit, retry_after=counter.ends - now)
            taken.append(counter)
        return None

    @staticmethod
    def _item_key(counter: _Counter) -> dict[str, str]:
        return {"pk": f"LIMIT#{counter.limit.value}#{counter.key}", "sk": counter.window}

    def _take(self, counter: _Counter) -> bool:
        if counter.allowed <= 0:
            return False
        try:
            self._table.update_item(
                Key=self._item_key(counter),
                UpdateExpression="ADD used :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(used) OR used < :allowed",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":allowed": counter.allowed,
                    # TTL deletes within days of this; the window in the key already retires it.
                    ":expires": int((counter.ends + timedelta(days=1)).timestamp()),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _give_back(self, counter: _Counter) -> None:
        try:
            self._table.update_item(
                Key=self._item_key(counter),
                UpdateExpression="ADD used :minus_one",
                ConditionExpression="used > :zero",
                ExpressionAttributeValues={":minus_one": -1, ":zero": 0},
            )
        except ClientError as error:
            # Expired by TTL in between: there is nothing left to give back.
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
