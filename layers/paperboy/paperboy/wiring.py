"""Builds the domain's collaborators (tables, clients, signer) from settings, once per container.

Each factory imports what it builds: a handler pays at cold start only for the modules it uses
(FetchPapers never loads the templates, the ranking or the mail code). Every client comes from
boto3's default session, and the tables of one function share one DynamoDB client (tables.py): each
new session loads the SDK's endpoint and model files again (tens of ms of a cold start each).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from paperboy.settings import Settings
from paperboy.tables import Table, Tables

if TYPE_CHECKING:
    from paperboy.digests.ledger import DigestLedger
    from paperboy.digests.sender import DigestSender
    from paperboy.mail.inbound.inbox import Inbox
    from paperboy.mail.inbound.records import InboundRecords
    from paperboy.mail.optin import OptIn
    from paperboy.mail.outbound.mailer import Mailer
    from paperboy.papers.lookup import PaperLookup
    from paperboy.papers.sources.http import HttpClient
    from paperboy.papers.store import PaperStore
    from paperboy.readers.limits import Limiter
    from paperboy.readers.slots import SlotIndex
    from paperboy.readers.store import SubscriberStore
    from paperboy.readers.tokens import Links, Signer
    from paperboy.readers.vectors import TopicVectorStore

# Standard retry mode backs off on throttling and transient errors before our code sees them.
AWS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
# No automatic retry of SendEmail: a retried timeout could send a mail SES had already accepted.
# A throttled or failed send goes back to the queue, which waits and retries safely.
SES_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1})


def dynamodb() -> Tables:
    """Every table of one function, on one client (pass it to each store it builds)."""
    return Tables(boto3.client("dynamodb", config=AWS_CONFIG))


def paper_store(settings: Settings, tables: Tables | None = None) -> PaperStore:
    from paperboy.papers.store import PaperStore

    table = (tables or dynamodb()).table(settings.papers_table)
    return PaperStore(table, retention_days=settings.paper_retention_days)


def _subscribers_table(settings: Settings, tables: Tables | None) -> Table:
    return (tables or dynamodb()).table(settings.subscribers_table)


# The subscribers table holds several aggregates, each with its own store (readers.table): a
# function builds the ones it uses, on one DynamoDB client when it uses more than one.
def subscriber_store(settings: Settings, tables: Tables | None = None) -> SubscriberStore:
    """Reader profiles and the address each one owns."""
    from paperboy.readers.store import SubscriberStore

    return SubscriberStore(_subscribers_table(settings, tables))


def digest_ledger(settings: Settings, tables: Tables | None = None) -> DigestLedger:
    """The claim and outcome of every reader's period."""
    from paperboy.digests.ledger import DigestLedger

    return DigestLedger(_subscribers_table(settings, tables))


def slot_index(settings: Settings, tables: Tables | None = None) -> SlotIndex:
    """Which slots hold readers and which readers a slot holds."""
    from paperboy.readers.slots import SlotIndex

    return SlotIndex(_subscribers_table(settings, tables))


def topic_vector_store(settings: Settings, tables: Tables | None = None) -> TopicVectorStore:
    from paperboy.readers.vectors import TopicVectorStore

    return TopicVectorStore(_subscribers_table(settings, tables))


def inbound_records(settings: Settings, tables: Tables | None = None) -> InboundRecords:
    """Commands waiting for confirmation, and the inbound messages already handled."""
    from paperboy.mail.inbound.records import InboundRecords

    return InboundRecords(_subscribers_table(settings, tables))


def http_client(settings: Settings) -> HttpClient:
    from paperboy.papers.sources.http import HttpClient

    return HttpClient(
        timeout=settings.http_timeout_seconds,
        retries=settings.http_retries,
        backoff=settings.http_backoff_seconds,
    )


def paper_lookup(settings: Settings, tables: Tables | None = None) -> PaperLookup:
    """arXiv's API for InboundMail: the sources' HTTP client with the reply's own budget (a reader
    waits; a rate limit's long Retry-After is not waited out, the reader is told to try later)."""
    from paperboy.papers.lookup import PaperLookup
    from paperboy.papers.sources.http import HttpClient

    client = HttpClient(
        timeout=settings.arxiv_api_timeout_seconds,
        retries=settings.arxiv_api_retries,
        backoff=settings.http_backoff_seconds,
        max_wait=settings.arxiv_api_timeout_seconds,
    )
    return PaperLookup(paper_store(settings, tables), client, settings.arxiv_api_base_url)


def signer(settings: Settings) -> Signer:
    """The token signer, its key read once per container (powertools' get_secret would start a
    session of its own for it)."""
    from paperboy.readers.tokens import Signer

    secrets = boto3.client("secretsmanager", config=AWS_CONFIG)
    key = secrets.get_secret_value(SecretId=settings.signing_key_secret)["SecretString"]
    return Signer(key.encode())


def links(settings: Settings, key_signer: Signer | None = None) -> Links:
    from paperboy.readers.tokens import Links

    return Links(
        signer=key_signer or signer(settings), domain=settings.mail_domain, web_base_url=settings.web_base_url
    )


def web_base_url(settings: Settings) -> str:
    """The Web function's URL, the base of every link in Paperboy's mail: from configuration only.

    Other functions get it in WEB_BASE_URL. The Web function cannot (its environment naming its own
    URL would be a circular reference in the template), so the template writes it to an SSM
    parameter, read here (the caller keeps it: it is fixed for the life of the stack).
    """
    if settings.web_base_url:
        return settings.web_base_url
    if not settings.web_base_url_parameter:
        raise RuntimeError("neither WEB_BASE_URL nor WEB_BASE_URL_PARAMETER is set")
    ssm = boto3.client("ssm", config=AWS_CONFIG)
    return str(ssm.get_parameter(Name=settings.web_base_url_parameter)["Parameter"]["Value"])


def mailer(settings: Settings) -> Mailer:
    from paperboy.mail.outbound.mailer import Mailer

    return Mailer(
        boto3.client("sesv2", config=SES_CONFIG),
        sender=settings.sender,
        domain=settings.mail_domain,
        configuration_set=settings.configuration_set or None,
    )


def limiter(settings: Settings, tables: Tables | None = None) -> Limiter:
    from paperboy.readers.limits import Limiter, Quotas

    quotas = Quotas(
        per_client_per_hour=settings.signup_limit_per_client_per_hour,
        per_address_per_day=settings.signup_limit_per_address_per_day,
        per_domain_per_day=settings.signup_limit_per_domain_per_day,
        total_per_day=settings.signup_limit_total_per_day,
    )
    return Limiter(_subscribers_table(settings, tables), quotas)


def optin(
    settings: Settings,
    tables: Tables | None = None,
    key_links: Links | None = None,
    store: SubscriberStore | None = None,
) -> OptIn:
    """The double opt-in and the notices it sends (the Web function's form and confirm link, and
    the Inbox's)."""
    from paperboy.mail.notices import Notices
    from paperboy.mail.optin import OptIn
    from paperboy.mail.outbound.render import Renderer

    tables = tables or dynamodb()
    store = store or subscriber_store(settings, tables)
    notices = Notices(
        store=store,
        renderer=Renderer(),
        mailer=mailer(settings),
        links=key_links or links(settings),
        limiter=limiter(settings, tables),
    )
    return OptIn(
        store=store,
        records=inbound_records(settings, tables),
        notices=notices,
        lookup=paper_lookup(settings, tables),
    )


def inbox(settings: Settings, tables: Tables | None = None, key_signer: Signer | None = None) -> Inbox:
    from paperboy.mail.inbound.inbox import Inbox

    tables = tables or dynamodb()
    key_signer = key_signer or signer(settings)
    store = subscriber_store(settings, tables)
    return Inbox(
        store=store,
        records=inbound_records(settings, tables),
        ledger=digest_ledger(settings, tables),
        papers=paper_store(settings, tables),
        signer=key_signer,
        optin=optin(settings, tables, links(settings, key_signer), store),
    )


def digest_sender(settings: Settings) -> DigestSender:
    from paperboy.digests.pacing import TokenBucket
    from paperboy.digests.sender import CandidatePool, DigestSender
    from paperboy.mail.outbound.render import Renderer

    tables = dynamodb()
    return DigestSender(
        store=subscriber_store(settings, tables),
        ledger=digest_ledger(settings, tables),
        pool=CandidatePool(paper_store(settings, tables)),
        renderer=Renderer(),
        mailer=mailer(settings),
        links=links(settings),
        pacer=TokenBucket(settings.ses_max_send_rate / max(settings.sender_concurrency, 1)),
    )
