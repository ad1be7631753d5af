"""The Web function under hostile requests: whatever arrives at the Function URL gets a page with a
2xx-4xx status, never an exception (a 502 for the caller and a data point for the errors alarm)."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.web import function_url_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(domain=DOMAIN, start=START, fixtures=SourceFixtures()) as running:
        yield running


header_text = st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=300)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE"]) | st.text(
    alphabet=string.ascii_uppercase, min_size=1, max_size=12
)
paths = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["/", "/subscribe", "/unsubscribe/", "/resubscribe/", "/confirm/", "//", "/SUBSCRIBE"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="#\x00"), max_size=200),
)
headers = st.dictionaries(
    st.sampled_from(
        ["content-type", "x-forwarded-proto", "x-forwarded-for", "cookie", "user-agent", "accept", "origin"]
    )
    | st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=30),
    st.sampled_from(
        [
            FORM,
            f"{FORM}; charset=iso-8859-1",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
            "",
            "https",
            "http",
        ]
    )
    | header_text,
    max_size=8,
)
form_fields = st.dictionaries(
    st.sampled_from(["email", "Email", "email[]", "token", ""]) | st.text(max_size=20),
    st.lists(
        st.emails()
        | st.sampled_from(['"q"@example.org', "jürgen@example.org", "a@b@c"])
        | st.text(max_size=300),
        min_size=1,
        max_size=3,
    ),
    max_size=14,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=5000),
    form_fields.map(lambda fields: urlencode(fields, doseq=True).encode()),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"email=" + b"a" * 1_000_000, b"&" * 100_000, b"email=%FF%FE%00@x.org", b"=" * 5000]),
)
clients = st.ip_addresses().map(str)


def answer(
    stack: LocalStack, method: str, path: str, body: bytes, header_values: dict[str, str], client: str
):
    base = stack.template.function_url("WebFunction")
    event = function_url_event(method, f"{base}{path.lstrip('/')}", body, header_values, source_ip=client)
    return stack.invoke("WebFunction", event)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=methods, path=paths, body=bodies, header_values=headers, client=clients)
def test_every_request_gets_a_page_never_an_exception(stack, method, path, body, header_values, client):
    response = answer(stack, method, path, body, header_values, client)
    assert 200 <= response["statusCode"] < 500, response
    assert isinstance(response["body"], str) and response["body"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, header_values=headers, client=clients)
def test_every_post_to_the_form_gets_a_page_never_an_exception(stack, body, header_values, client):
    response = answer(stack, "POST", "/subscribe", body, {"content-type": FORM, **header_values}, client)
    assert 200 <= response["statusCode"] < 500, response


def test_a_refused_post_leaves_no_record(stack):
    before = {reader.email for reader in stack.subscribers.all()}
    for address in ['"q"@example.org', "jürgen@example.org", "ok@example.org\nBcc: x@example.org"]:
        response = answer(
            stack, "POST", "/subscribe", urlencode({"email": address}).encode(), {}, "192.0.2.1"
        )
        assert response["statusCode"] == 400
    assert {reader.email for reader in stack.subscribers.all()} == before
