"""The one form of an email address that Paperboy stores, keys and compares.

A reader may type `ada@ｅxample.org` (full-width) or `ada@bücher.example`; the mailer sends to
`ada@example.org` and `ada@xn--bcher-kva.example`, SES reports bounces and complaints in that ASCII
form, and the reader's mail client writes it in From. Every record, key, lookup and comparison
uses the form the mail actually goes to, so each mailbox is one reader.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")


def normalised(value: str) -> str:
    """The address as every record and lookup keys it: compatibility characters folded (NFKC, so
    full-width letters, `＠` and `．` become plain), trimmed, lower-cased, the domain in IDNA, and
    checked as the mailer checks it (ValueError for an address the mailer would refuse)."""
    if not isinstance(value, str):
        raise ValueError(f"not an address: {value!r}")
    return checked_address(folded(value))


def normalised_domain(value: str) -> str:
    """A mail domain in the form `normalised` gives an address's domain."""
    return checked_domain(folded(value))


def folded(text: str) -> str:
    """Any text as `normalised` folds an address (NFKC, trimmed, lower-case), without checking it:
    for searching addresses by a part of one."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def readable(address: str) -> str:
    """A normalised address with its IDNA domain shown in Unicode, as its owner typed it."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


@functools.lru_cache(maxsize=4096)
def checked_domain(value: str) -> str:
    """A mail domain as it goes in a header: LDH labels, an internationalised one as IDNA."""
    domain = value
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"not a valid mail domain: {value!r}") from None
    if not _DOMAIN.match(domain):
        raise ValueError(f"not a valid mail domain: {value!r}")
    return domain


def checked_address(value: str) -> str:
    """A bare addr-spec safe to put in a header; an internationalised domain comes back as IDNA."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ValueError(f"address contains a line break (header injection?): {value!r}")
    problem = f"not a plain email address (one addr-spec, no name, <>, comma): {value!r}"
    local, at, domain = value.rpartition("@")
    if not at or not _LOCAL_PART.match(local) or local.startswith(".") or ".." in local:
        raise ValueError(problem)
    try:
        return f"{local}@{checked_domain(domain)}"
    except ValueError:
        raise ValueError(problem) from None
