"""Configuration, read once from the environment that template.yaml gives each function.

A frozen dataclass whose fields are converted by their declared types, not a pydantic model: every
function builds it at import, and a model of this many fields costs a cold start several times what
the conversion does (its schema is built in every fresh container)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any


def _categories(value: str) -> list[str]:
    return [part.strip() for part in value.replace("+", ",").split(",") if part.strip()]


# Each field's declared type (a string: annotations are not evaluated) -> the conversion of its text.
_CONVERSIONS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "list[str]": _categories,
}
# Lower bounds a value must meet (a smaller one would break what the setting protects).
_MINIMUM = {"claim_safe_age_minutes": 10}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob a function reads. Field names are the environment variables, lower-cased."""

    papers_table: str = ""
    subscribers_table: str = ""
    digest_queue_url: str = ""
    plan_queue_url: str = ""
    # SES events that could not reach MailEvents (SNS redrive and Lambda's on-failure destination).
    mail_events_dlq_url: str = ""
    # A claimed digest with no SES event this old is released and sent again (see `claims`).
    claim_safe_age_minutes: int = 60
    mail_bucket: str = ""
    inbound_prefix: str = "inbound/"
    idempotency_table: str = ""
    # Mail larger than this is not read past its header (commands need a few KB; SES accepts 40 MB),
    # so that parsing it fits InboundMail's timeout. replies.MAX_RAW, written out: importing the mail
    # parser here would put it in every function's cold start.
    inbound_max_bytes: int = 1024 * 1024
    mail_domain: str = "papers.example.org"
    sender_address: str = ""
    configuration_set: str = ""
    web_base_url: str = ""
    # Where the Web function finds its own URL (its environment cannot name it, see wiring).
    web_base_url_parameter: str = ""
    # Secrets Manager secret holding the key every reader token is signed with.
    signing_key_secret: str = ""
    # The account's SES send rate, shared by this many concurrent SendDigests workers.
    ses_max_send_rate: float = 14.0
    sender_concurrency: int = 2
    # Mail nobody verifiably asked for (confirmations, answers to unverified senders): see limits.py.
    signup_limit_per_client_per_hour: int = 10
    signup_limit_per_address_per_day: int = 3
    signup_limit_per_domain_per_day: int = 50
    signup_limit_total_per_day: int = 200

    hf_base_url: str = "https://huggingface.co"
    arxiv_base_url: str = "https://rss.arxiv.org"
    arxiv_categories: list[str] = dataclasses.field(default_factory=list)
    # arXiv's search API, asked by InboundMail for papers a reader names (`like`, `me:`) while the
    # reader waits for the answer: a short timeout and one retry keep a reply within its timeout.
    arxiv_api_base_url: str = "https://export.arxiv.org"
    arxiv_api_timeout_seconds: float = 8.0
    arxiv_api_retries: int = 1
    # Papers stay fetchable for ranking this many days; older rows expire by TTL.
    paper_retention_days: int = 30

    # Folder holding the sentence model's model.onnx and tokenizer.json (the Embed function's layer
    # puts them in /opt/model; `make model` in .models/minilm).
    model_dir: str = ""

    http_timeout_seconds: float = 10.0
    http_retries: int = 4
    http_backoff_seconds: float = 1.0

    @property
    def claim_safe_age(self) -> timedelta:
        return timedelta(minutes=self.claim_safe_age_minutes)

    @property
    def sender(self) -> str:
        return self.sender_address or f"digest@{self.mail_domain}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment names (os.environ unless given); ValueError names a variable
        whose value is not of its setting's type or is below its minimum."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            text = environ.get(field.name.upper())
            if text is None:
                continue
            try:
                value = _CONVERSIONS[str(field.type)](text)
            except ValueError:
                raise ValueError(f"{field.name.upper()}={text!r} is not a valid {field.type}") from None
            least = _MINIMUM.get(field.name)
            if least is not None and value < least:
                raise ValueError(f"{field.name.upper()} must be at least {least}, not {text!r}")
            values[field.name] = value
        return cls(**values)
