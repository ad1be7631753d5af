"""Reader tokens: unguessable, bound to purpose and reader, revocable."""

import pytest

from paperboy.tokens import Purpose, Signer, new_subscriber_id, parse

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
