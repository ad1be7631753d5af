"""Web: the Function URL behind every link in Paperboy's mail (unsubscribe, undo, confirm) and the
subscribe form a site can embed."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from paperboy import clock, wiring
from paperboy.readers import Purpose, ReaderSettings, Status, Subscriber, pending_expiry
from paperboy.readers import lifecycle as subscriptions
from paperboy.settings import Settings
from paperboy.web import Routes, pages

if TYPE_CHECKING:
    from paperboy.mail import OptIn, Result

logger = Logger()
metrics = Metrics()
tracer = Tracer()
routes = Routes()
SETTINGS = Settings.from_env()
TABLES = wiring.dynamodb()
STORE = wiring.subscriber_store(SETTINGS, TABLES)
SIGNER = wiring.signer(SETTINGS)
LINKS = wiring.links(SETTINGS, SIGNER)
FORM_TYPE = "application/x-www-form-urlencoded"
# The subscribe form has one field of at most 254 characters: anything much larger is not ours.
MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 10
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


# A Function URL answer (payload format 2.0).
Response = dict[str, Any]


class _Http(BaseModel):
    method: str
    source_ip: str = Field(alias="sourceIp")


class _RequestContext(BaseModel):
    http: _Http


class Request(BaseModel):
    """What the pages use of a Function URL request (payload format 2.0; header names lower case)."""

    path: str = Field(alias="rawPath")
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")
    context: _RequestContext = Field(alias="requestContext")


def _html(page: pages.Page) -> Response:
    return {
        "statusCode": page.status,
        "headers": {"Content-Type": "text/html; charset=utf-8", **HEADERS},
        "body": pages.render(page),
        "isBase64Encoded": False,
    }


INVALID_LINK = pages.Page(
    title="This link is not valid",
    paragraphs=[
        "It may be mistyped or out of date: unsubscribing makes every earlier link stop working. "
        "Reply “unsubscribe” to your latest Paperboy email, or use its unsubscribe link."
    ],
    status=404,
)


def _start_again(title: str, why: str) -> pages.Page:
    """A refusal that offers the way back: the subscribe form, which mails a fresh confirmation."""
    return pages.Page(
        title=title,
        paragraphs=[why, "To get the digest, enter your address: we will mail you a confirmation first."],
        button=pages.Button(action="/subscribe", label="Send me a confirmation"),
        email_field=True,
        status=410,
    )


UNDO_GONE = _start_again(
    "This undo no longer works",
    "The undo works once, within a day of unsubscribing.",
)
CONFIRM_EXPIRED = _start_again(
    "This confirmation has expired",
    "Confirmation links work for 7 days, and this one is older.",
)
OWN_ADDRESS = pages.Page(
    title="That is Paperboy's own address",
    paragraphs=[
        "Paperboy cannot send its digest to one of its own addresses. "
        "Please go back and enter the address where you read your mail."
    ],
    status=400,
)
ALREADY_UNSUBSCRIBED = pages.Page(
    title="You are unsubscribed",
    paragraphs=["This address gets no digests from Paperboy."],
)


# Unsubscribe links travel in forwarded digests: their pages never name the reader's address.
def _unsubscribed_page(reader: Subscriber, now: datetime) -> pages.Page:
    undo = SIGNER.token(Purpose.UNDO, reader.id, reader.token_version, now + subscriptions.UNDO_LIFETIME)
    return pages.Page(
        title="You are unsubscribed",
        paragraphs=["This address will get no more digests.", "Changed your mind? Undo within a day."],
        button=pages.Button(action=f"/resubscribe/{undo}", label="Undo: keep my digest"),
    )


@routes.get("/unsubscribe/<token>")
def unsubscribe_page(request: Request, token: str) -> Response:
    holder = subscriptions.token_holder(STORE, SIGNER, Purpose.UNSUBSCRIBE, token, clock.now())
    if holder is not None and holder.reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
        return _html(ALREADY_UNSUBSCRIBED)
    if holder is None or not holder.valid:
        return _html(INVALID_LINK)
    return _html(
        pages.Page(
            title="Unsubscribe from Paperboy?",
            paragraphs=["The address this digest was sent to will get no more digests."],
            button=pages.Button(action=f"/unsubscribe/{token}", label="Unsubscribe"),
        )
    )


@routes.post("/unsubscribe/<token>")
def unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click (the mail client's button) and the page's button: no redirect, no cookies.
    Idempotent: a repeated POST (its token now revoked) answers the same without an undo."""
    now = clock.now()
    holder = subscriptions.token_holder(STORE, SIGNER, Purpose.UNSUBSCRIBE, token, now)
    if holder is not None and holder.reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
        return _html(ALREADY_UNSUBSCRIBED)
    if holder is None or not holder.valid:
        return _html(INVALID_LINK)
    reader = subscriptions.unsubscribe(STORE, holder.reader.id, now)
    metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
    return _html(_unsubscribed_page(reader, now))


@routes.post("/resubscribe/<token>")
def resubscribe(request: Request, token: str) -> Response:
    """The undo button of the unsubscribe page: its own token, valid once and for a day."""
    now = clock.now()
    holder = subscriptions.token_holder(STORE, SIGNER, Purpose.UNDO, token, now)
    if holder is None:
        return _html(INVALID_LINK)
    reader = holder.reader
    if reader.status is Status.SUPPRESSED:
        # A suppressed address (hard bounce or complaint) is never mailed again, not even by undo.
        return _html(
            pages.Page(
                title="This address cannot be subscribed again",
                paragraphs=[
                    "Mail to this address bounced or was reported as spam, so Paperboy stopped for good."
                ],
                status=409,
            )
        )
    if not holder.valid or not subscriptions.undo_unsubscribe(STORE, reader.id, reader.token_version, now):
        return _html(UNDO_GONE)
    metrics.add_metric(name="Resubscribed", unit=MetricUnit.Count, value=1)
    again = STORE.get(reader.id) or reader
    return _html(
        pages.Page(
            title="Welcome back",
            paragraphs=["This address is subscribed again, with the same settings as before."],
            button=pages.Button(
                action=f"/unsubscribe/{LINKS.unsubscribe_token(again)}", label="Unsubscribe after all"
            ),
        )
    )


@functools.cache
def _optin() -> OptIn:
    """The double opt-in, built on the first request that mails (a page view needs no mail templates,
    mail client or limits), with links to this Function URL as configuration names it, never as the
    request does: a client chooses its own Host and X-Forwarded-Proto."""
    links = dataclasses.replace(LINKS, web_base_url=wiring.web_base_url(SETTINGS))
    return wiring.optin(SETTINGS, TABLES, links, STORE)


class BadRequest(Exception):
    """A request the form cannot take: answered with its page (a 4xx), never a crash."""

    def __init__(self, page: pages.Page) -> None:
        super().__init__(page.title)
        self.page = page


def _refusal(status: int, title: str) -> BadRequest:
    return BadRequest(
        pages.Page(title=title, paragraphs=["Please go back and use the form on the page."], status=status)
    )


def _form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each): a URL-encoded body of at most
    MAX_FORM_BYTES and MAX_FORM_FIELDS fields, UTF-8 throughout, else BadRequest."""
    content_type = (request.headers.get("content-type") or FORM_TYPE).split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise _refusal(415, "This form takes only what a browser sends")
    body = request.body or ""
    try:
        raw = base64.b64decode(body, validate=True) if request.is_base64_encoded else body.encode()
    except (binascii.Error, UnicodeError):
        raise _refusal(400, "That request could not be read") from None
    if len(raw) > MAX_FORM_BYTES:
        raise _refusal(413, "That request is too large")
    try:
        fields = parse_qs(raw.decode(), max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except ValueError:  # too many fields, or not UTF-8 (UnicodeDecodeError is a ValueError)
        raise _refusal(400, "That request could not be read") from None
    return {name: values[0] for name, values in fields.items()}


def _confirmable(token: str, now: datetime) -> Subscriber | pages.Page:
    """The reader a confirm link may activate, or the page that refuses it."""
    holder = subscriptions.token_holder(STORE, SIGNER, Purpose.CONFIRM, token, now)
    if holder is None or not holder.current or holder.reader.status is Status.SUPPRESSED:
        return INVALID_LINK
    expires = pending_expiry(holder.reader)
    if holder.expired or (expires is not None and expires <= now):
        return CONFIRM_EXPIRED
    return holder.reader


@routes.get("/confirm/<token>")
def confirm_page(request: Request, token: str) -> Response:
    reader = _confirmable(token, clock.now())
    if isinstance(reader, pages.Page):
        return _html(reader)
    return _html(
        pages.Page(
            title="Confirm your subscription",
            paragraphs=[
                f"Send Paperboy's daily digest of trending machine-learning papers to {reader.email}?"
            ],
            button=pages.Button(action=f"/confirm/{token}", label="Yes, subscribe me"),
        )
    )


@routes.post("/confirm/<token>")
def confirm(request: Request, token: str) -> Response:
    now = clock.now()
    reader = _confirmable(token, now)
    if isinstance(reader, pages.Page):
        return _html(reader)
    if reader.status in (Status.PENDING, Status.UNSUBSCRIBED):
        _optin().confirmed(reader, now)
        metrics.add_metric(name="Confirmed", unit=MetricUnit.Count, value=1)
    return _html(
        pages.Page(
            title="You are subscribed",
            paragraphs=[
                f"Your first digest reaches {reader.email} at your delivery time.",
                "A welcome mail with your settings is on its way: reply to it to choose topics.",
            ],
        )
    )


@routes.get("/subscribe")
def subscribe_form(request: Request) -> Response:
    return _html(
        pages.Page(
            title="Get trending ML papers by email",
            paragraphs=["One digest a day, ranked for your interests. Manage everything by replying."],
            button=pages.Button(action="/subscribe", label="Subscribe", fields={}),
            email_field=True,
            papers_field=True,
        )
    )


@routes.post("/subscribe")
def subscribe(request: Request) -> Response:
    # Imported by the form alone: page views (most requests, and every cold start by a link) skip them.
    from paperboy.mail import Action
    from paperboy.papers import MAX_IDS, parse_ids
    from paperboy.readers import limits

    form = _form(request)
    address = form.get("email", "").strip()
    papers = parse_ids(form.get("papers", ""))
    if papers.refused or len(papers.ids) > MAX_IDS:
        # Nothing starts: the reader fixes the list, or leaves it empty.
        why = (
            f"“{papers.refused[0][:60]}” is not an arXiv id or an arxiv.org or huggingface.co/papers link."
            if papers.refused
            else f"At most {MAX_IDS} papers, please."
        )
        return _html(pages.Page(title="Those papers could not be read", paragraphs=[why], status=400))
    client = limits.ip_client(request.context.http.source_ip)
    optin, now = _optin(), clock.now()
    result = optin.start(address, ReaderSettings(), now, client=client)
    if papers.ids and result.action is Action.SUBSCRIBE_STARTED:
        optin.seed_likes(address, papers.ids, now)
    return _subscribe_answer(result, address)


def _subscribe_answer(result: Result, address: str) -> Response:
    """The page after the form: a refusal the visitor can act on, else the same answer whatever
    happened, since the page must not reveal who is subscribed."""
    from paperboy import telemetry
    from paperboy.mail import Action

    if result.action is Action.INVALID:
        return _html(
            pages.Page(
                title="That address does not look right",
                paragraphs=["Please go back and check the email address."],
                status=400,
            )
        )
    if result.action is Action.OWN_ADDRESS:
        return _html(OWN_ADDRESS)
    if result.action is Action.RATE_LIMITED:
        telemetry.record_throttled(metrics, result.limit or "unknown")
        logger.warning("sign-up refused by a limit", extra={"limit": result.limit})
        page = _html(
            pages.Page(
                title="Too many sign-ups",
                paragraphs=[
                    "Paperboy sends only a few confirmation mails to each address, for each visitor "
                    "and each day, so that nobody can use this form to flood someone's inbox.",
                    "Please try again later.",
                ],
                status=429,
            )
        )
        page["headers"]["Retry-After"] = str(result.retry_after)
        return page
    return _html(
        pages.Page(
            title="Check your inbox",
            paragraphs=[
                f"If {address} can receive mail, a confirmation is on its way. "
                "Reply to it or press its button to start your digest."
            ],
        )
    )


NOT_FOUND = pages.Page(title="Nothing here", paragraphs=["Paperboy lives in your inbox."], status=404)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every request counts, so a page view alone is a data point too (and no empty-metrics warning).
    metrics.add_metric(name="WebRequests", unit=MetricUnit.Count, value=1)
    request = Request.model_validate(event)
    found = routes.match(request.context.http.method, request.path)
    if found is None:
        return _html(NOT_FOUND)
    answer, parameters = found
    try:
        return answer(request, **parameters)
    except BadRequest as refused:
        return _html(refused.page)
