"""Outbound MIME and sending: exact headers, one-click unsubscribe intact, no header injection, and
SES refusals mapped to what a caller can act on."""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from paperboy.mail.outbound.mailer import (
    Mailer,
    OutboundMail,
    SendBlocked,
    SendRejected,
    SendThrottled,
    build_mime,
)

DOMAIN = "papers.example.org"
SENDER = f"digest@{DOMAIN}"
REPLY = f"reply+01jd3hz78qk5.mfrgg3dfmzxw4@{DOMAIN}"
# As long as a real Function URL plus token: far past 78 columns once both URIs share the line.
UNSUBSCRIBE_URL = (
    "https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.us-east-1.on.aws/unsubscribe/"
    "01jd3hz78qk5.daily.k7x2mfrgg3dfmzxw4q5e.a8f3b2c1d0e9f8a7"
)
UNSUBSCRIBE_MAILTO = f"mailto:unsubscribe+01jd3hz78qk5.mfrgg3dfmzxw4@{DOMAIN}?subject=unsubscribe"
TEXT = "1. Speech Foundation Models\n   ▲ 42 upvotes\n   Why: matches: speech\n"
HTML = "<!doctype html><html><body><p>1. Speech Foundation Models ▲ 42 — naïve café</p>" + "<p>x</p>" * 80


def digest(**fields) -> OutboundMail:
    defaults = {
        "to": "ada@example.org",
        "subject": "7 papers for 28 Nov: Speech Foundation Models, RoboCat, …",
        "text": TEXT,
        "html": HTML,
        "reply_to": REPLY,
        "kind": "digest",
        "list_unsubscribe_url": UNSUBSCRIBE_URL,
        "list_unsubscribe_mailto": UNSUBSCRIBE_MAILTO,
        "references": [f"<digest.2026-11-28.01jd3hz78qk5@{DOMAIN}>"],
    }
    return OutboundMail(**(defaults | fields))


def raw_of(mail: OutboundMail) -> bytes:
    return build_mime(mail, sender=SENDER, domain=DOMAIN)


def head_lines(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body(message: email.message.EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    return part.get_content().replace("\r\n", "\n")


def test_a_digest_carries_every_list_and_loop_header_exactly():
    raw = raw_of(digest())
    lines = head_lines(raw)
    for line in (
        f"From: Paperboy <{SENDER}>",
        "To: ada@example.org",
        f"Reply-To: Paperboy <{REPLY}>",
        f"List-Id: Paperboy <digest.{DOMAIN}>",
        f"List-Unsubscribe: <{UNSUBSCRIBE_URL}>, <{UNSUBSCRIBE_MAILTO}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "X-Auto-Response-Suppress: OOF, AutoReply",
        f"References: <digest.2026-11-28.01jd3hz78qk5@{DOMAIN}>",
        "MIME-Version: 1.0",
    ):
        assert line in lines, line
    names = [line.split(":", 1)[0] for line in lines if line and not line[0].isspace()]
    assert len(names) == len(set(names)), "no header twice"
    assert "In-Reply-To" not in names
    message = parse(raw)
    assert message["Subject"] == "7 papers for 28 Nov: Speech Foundation Models, RoboCat, …"
    assert message["Reply-To"].addresses[0].addr_spec == REPLY


def test_list_unsubscribe_stays_one_verbatim_line_never_encoded_words():
    raw = raw_of(digest())
    (line,) = [line for line in head_lines(raw) if line.startswith("List-Unsubscribe:")]
    assert len(line) > 200 and "=?" not in line
    index = head_lines(raw).index(line)
    assert not head_lines(raw)[index + 1].startswith((" ", "\t")), "not folded"
    value = parse(raw)["List-Unsubscribe"]
    assert [uri.strip(" <>") for uri in str(value).split(",")] == [UNSUBSCRIBE_URL, UNSUBSCRIBE_MAILTO]


def test_both_parts_are_utf8_quoted_printable_and_decode_to_what_was_rendered():
    raw = raw_of(digest())
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert body(message, "plain") == TEXT
    assert body(message, "html") == HTML
    assert raw.isascii()
    body_lines = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(line) for line in body_lines) <= 76
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_text_only_mail_is_a_single_plain_part():
    message = parse(raw_of(digest(html=None)))
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_content().replace("\r\n", "\n") == TEXT


@pytest.mark.parametrize(
    "subject",
    [
        "Überlegungen über große Sprachmodelle für Spracherkennung — Ähnlichkeit, Größe und mehr ÄÖÜ",
        "十篇论文：大型语言模型的语音识别与机器人操作研究进展，以及更多关于多模态学习的论文和一些其他内容",
        "L²NAS: Learning to Optimize Neural Architectures via α-Search",
        "A title that says =?utf-8?q?gotcha?= literally",
    ],
)
def test_non_ascii_subjects_are_rfc2047_encoded_in_words_that_fit(subject):
    lines = head_lines(raw_of(digest(subject=subject)))
    start = next(n for n, line in enumerate(lines) if line.startswith("Subject:"))
    folded = [lines[start]] + [line for line in lines[start + 1 :] if line.startswith(" ")]
    assert all(len(line) <= 78 for line in folded)
    words = re.findall(r"=\?utf-8\?b\?[^?]*\?=", " ".join(folded))
    assert words and all(len(word) <= 75 for word in words)
    value = "".join(folded)[len("Subject: ") :].replace("\r\n", "")
    assert str(make_header(decode_header(value))) == subject
    assert parse(raw_of(digest(subject=subject)))["Subject"] == subject


def test_a_subject_with_line_breaks_becomes_one_line():
    message = parse(raw_of(digest(subject="7 papers\r\nBcc: victim@example.org\n for you")))
    assert message["Subject"] == "7 papers Bcc: victim@example.org for you"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org\r\nBcc: victim@example.org",
        "ada@example.org\nX-Injected: 1",
        "ada@example.org, eve@example.org",
        "<ada@example.org>",
        "Ada <ada@example.org>",
        "ada@example.org>",
        "ada",
        "ada@",
        "a da@example.org",
        'ada"@example.org',
        "ada@exa mple.org",
        "",
    ],
)
def test_addresses_that_could_break_a_header_are_refused(address):
    with pytest.raises(ValueError, match=r"address|line break"):
        digest(to=address)
    with pytest.raises(ValueError, match=r"address|line break"):
        digest(reply_to=address)
    with pytest.raises(ValueError, match=r"address|line break"):
        build_mime(digest(), sender=address, domain=DOMAIN)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("list_unsubscribe_url", "https://x.example/u\r\nBcc: victim@example.org"),
        ("list_unsubscribe_url", "https://x.example/u>, <https://evil.example/"),
        ("list_unsubscribe_url", "javascript:alert(1)"),
        ("list_unsubscribe_mailto", "https://x.example/not-a-mailto"),
        ("list_unsubscribe_mailto", "mailto:a@b.org?subject=x y"),
        ("list_id", "digest.example.org>\r\nX: y"),
    ],
)
def test_uris_and_list_ids_that_could_break_a_header_are_refused(field, value):
    with pytest.raises(ValueError, match=field.split("_")[-1] if field != "list_id" else "list id"):
        digest(**{field: value})


def test_an_internationalised_domain_is_written_as_idna():
    raw = raw_of(digest(to="joerg@münchen.de"))
    assert "To: joerg@xn--mnchen-3ya.de" in head_lines(raw)


def test_a_reply_to_a_command_is_marked_auto_replied_and_threads():
    raw = raw_of(
        digest(
            kind="ack",
            subject="Re: topics",
            html=None,
            in_reply_to="<CAF=abc123@mail.example.org>",
            references=["<first@mail.example.org>", "<CAF=abc123@mail.example.org>", "not an id", "<a b@c>"],
        )
    )
    lines = head_lines(raw)
    assert "Auto-Submitted: auto-replied" in lines
    assert "In-Reply-To: <CAF=abc123@mail.example.org>" in lines
    assert "References: <first@mail.example.org> <CAF=abc123@mail.example.org>" in lines
    assert not any(line.startswith("Precedence:") for line in lines)


def test_a_notice_that_answers_nothing_is_auto_generated_and_odd_message_ids_are_dropped():
    lines = head_lines(raw_of(digest(kind="confirm", in_reply_to="garbage <x>", references=[])))
    assert "Auto-Submitted: auto-generated" in lines
    assert not any(line.startswith(("In-Reply-To:", "References:", "Precedence:")) for line in lines)


def test_without_unsubscribe_uris_there_are_no_unsubscribe_headers():
    bare = digest(kind="confirm", list_unsubscribe_url=None, list_unsubscribe_mailto=None)
    lines = head_lines(raw_of(bare))
    assert not any(line.startswith("List-Unsubscribe") for line in lines)
    only_mailto = head_lines(raw_of(digest(list_unsubscribe_url=None)))
    assert f"List-Unsubscribe: <{UNSUBSCRIBE_MAILTO}>" in only_mailto
    assert not any(line.startswith("List-Unsubscribe-Post") for line in only_mailto)


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="kind"):
        digest(kind="newsletter")


@pytest.fixture
def ses(aws):
    client = boto3.client("sesv2", region_name="us-east-1")
    client.create_email_identity(EmailIdentity=DOMAIN)
    return client


def test_sending_through_ses_delivers_the_exact_raw_message(ses):
    mailer = Mailer(ses, sender=SENDER, domain=DOMAIN, configuration_set=None)
    message_id = mailer.send(digest())
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1 and sent[0].id == message_id
    raw = sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data
    assert f"List-Unsubscribe: <{UNSUBSCRIBE_URL}>, <{UNSUBSCRIBE_MAILTO}>" in head_lines(raw)
    assert "ada@example.org" in sent[0].destinations
    message = parse(raw)
    assert body(message, "plain") == TEXT and body(message, "html") == HTML


def test_the_request_names_the_configuration_set_and_tags_the_kind():
    client = boto3.client("sesv2", region_name="us-east-1")
    mailer = Mailer(client, sender=SENDER, domain=DOMAIN, configuration_set="paperboy-events")
    with Stubber(client) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "0100-abc"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["ada@example.org"]},
                "Content": {"Raw": {"Data": ANY}},
                "EmailTags": [{"Name": "kind", "Value": "digest"}],
                "ConfigurationSetName": "paperboy-events",
            },
        )
        assert mailer.send(digest()) == "0100-abc"
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("TooManyRequestsException", 429, SendThrottled),
        ("Throttling", 400, SendThrottled),
        ("LimitExceededException", 400, SendThrottled),
        ("MessageRejected", 400, SendRejected),
        ("BadRequestException", 400, SendRejected),
        ("SendingPausedException", 400, SendBlocked),
        ("AccountSuspendedException", 400, SendBlocked),
        ("MailFromDomainNotVerifiedException", 400, SendBlocked),
        ("NotFoundException", 404, SendBlocked),
    ],
)
def test_ses_refusals_become_exceptions_a_caller_can_act_on(code, status, raised):
    client = boto3.client("sesv2", region_name="us-east-1")
    mailer = Mailer(client, sender=SENDER, domain=DOMAIN, configuration_set=None)
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, http_status_code=status)
        with pytest.raises(raised) as caught:
            mailer.send(digest())
    assert code in str(caught.value)
    assert isinstance(caught.value.__cause__, ClientError)
    # A blocked account is also a rejection for callers that only know about rejections.
    assert isinstance(caught.value, SendRejected) == (raised is not SendThrottled)


def test_other_ses_errors_come_back_as_they_were():
    client = boto3.client("sesv2", region_name="us-east-1")
    mailer = Mailer(client, sender=SENDER, domain=DOMAIN, configuration_set=None)
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code="InternalFailure", http_status_code=500)
        with pytest.raises(ClientError, match="InternalFailure"):
            mailer.send(digest())


class _CountingClient:
    """A client whose every send is refused for rate: the mailer must not try again by itself."""

    def __init__(self) -> None:
        self.calls = 0

    def send_email(self, **request: object) -> dict[str, str]:
        self.calls += 1
        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}},
            "SendEmail",
        )


def test_a_throttled_send_is_not_retried_inside_the_mailer():
    client = _CountingClient()
    with pytest.raises(SendThrottled, match="Maximum sending rate exceeded"):
        Mailer(client, sender=SENDER, domain=DOMAIN, configuration_set=None).send(digest())
    assert client.calls == 1


def test_a_long_thread_folds_references_between_ids_only():
    ids = [f"<{'m' * 200}.{n}@mail.example.org>" for n in range(12)]
    raw = raw_of(digest(kind="ack", in_reply_to=ids[-1], references=ids))
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert parse(raw)["References"].split() == ids[-10:]
    assert parse(raw)["In-Reply-To"] == ids[-1]
