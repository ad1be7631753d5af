"""Reader tokens: unguessable, bound to purpose and reader, revocable."""

from datetime import UTC, datetime, timedelta

import pytest

from paperboy.readers.tokens import Purpose, Signer, expiry_of, new_subscriber_id, parse

KEY = b"k" * 48


def test_a_token_verifies_for_its_reader_and_purpose_only():
    signer = Signer(KEY)
    token = signer.token(Purpose.REPLY, "abcdefghijklmnop", 1)
    assert signer.verify(Purpose.REPLY, token, 1)
    assert not signer.verify(Purpose.UNSUBSCRIBE, token, 1)
    assert not signer.verify(Purpose.REPLY, token, 2)  # revoked by a version bump
    assert not Signer(b"x" * 48).verify(Purpose.REPLY, token, 1)


def test_a_forged_or_mangled_token_is_rejected():
    signer = Signer(KEY)
    token = signer.token(Purpose.UNSUBSCRIBE, "abcdefghijklmnop", 1)
    reader, mac = token.split(".")
    assert not signer.verify(Purpose.UNSUBSCRIBE, f"{reader}.{'a' * len(mac)}", 1)
    assert not signer.verify(Purpose.UNSUBSCRIBE, f"bbcdefghijklmnop.{mac}", 1)
    for junk in ("", ".", "a.b", "x" * 500, "abcdefghijklmnop.\r\nBcc: x@y"):
        assert not signer.verify(Purpose.UNSUBSCRIBE, junk, 1)
        assert parse(junk) is None


def test_reply_address_fits_an_email_local_part():
    token = Signer(KEY).token(Purpose.REPLY, new_subscriber_id(bytes(range(10))), 1)
    assert len(f"reply+{token}") <= 64
    assert token == token.lower()


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(b"short")


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_undo_and_confirm_tokens_carry_a_signed_expiry():
    signer = Signer(KEY)
    token = signer.token(Purpose.UNDO, "abcdefghijklmnop", 2, NOW + timedelta(hours=24))
    assert expiry_of(token) == NOW + timedelta(hours=24)
    assert signer.verify(Purpose.UNDO, token, 2, NOW)
    assert not signer.verify(Purpose.UNDO, token, 2)  # an expiring token needs the time
    assert not signer.verify(Purpose.UNDO, token, 2, NOW + timedelta(hours=24))  # expired
    assert not signer.verify(Purpose.UNDO, token, 3, NOW)  # revoked
    assert not signer.verify(Purpose.CONFIRM, token, 2, NOW)  # another purpose
    reader, expires, mac = token.split(".")
    later = str(int(expires) + 3600)
    assert not signer.verify(Purpose.UNDO, f"{reader}.{later}.{mac}", 2, NOW)  # extended by hand
    assert not signer.verify(Purpose.UNDO, f"{reader}.{mac}", 2, NOW)  # expiry dropped


def test_expiring_purposes_need_an_expiry_and_others_take_none():
    signer = Signer(KEY)
    with pytest.raises(ValueError, match="need"):
        signer.token(Purpose.CONFIRM, "abcdefghijklmnop", 1)
    with pytest.raises(ValueError, match="take no"):
        signer.token(Purpose.REPLY, "abcdefghijklmnop", 1, NOW)


def test_the_version_a_token_was_issued_at_is_recognised_after_revocation():
    signer = Signer(KEY)
    token = signer.token(Purpose.UNSUBSCRIBE, "abcdefghijklmnop", 3)
    assert signer.issued_version(Purpose.UNSUBSCRIBE, token, 3) == 3
    assert signer.issued_version(Purpose.UNSUBSCRIBE, token, 5) == 3
    assert signer.issued_version(Purpose.UNSUBSCRIBE, token, 2) is None  # never issued
    assert signer.issued_version(Purpose.REPLY, token, 5) is None
