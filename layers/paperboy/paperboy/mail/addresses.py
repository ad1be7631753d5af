"""The one form of an email address that Paperboy stores, keys and compares.

A reader may type `ada@ｅxample.org` (full-width) or `ada@bücher.example`; the mailer sends to
`ada@example.org` and `ada@xn--bcher-kva.example`, SES reports bounces and complaints in that ASCII
form, and the reader's mail client writes it in From. Every record, key, lookup and comparison
uses the form the mail actually goes to, so each mailbox is one reader.
"""

from __future__ import annotations

import unicodedata

from paperboy.mail.outbound.mailer import checked_address, checked_domain


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
