"""Configuration, read once from the environment that template.yaml gives each function."""

from __future__ import annotations

import os
from datetime import timedelta

from pydantic import BaseModel, Field, field_validator


class Settings(BaseModel):
    """Every knob a function reads. Field names are the environment variables, lower-cased."""

    papers_table: str = ""
    subscribers_table: str = ""
    digest_queue_url: str = ""
    plan_queue_url: str = ""
    # SES events that could not reach MailEvents (SNS redrive and Lambda's on-failure destination).
    mail_events_dlq_url: str = ""
    # A claimed digest with no SES event this old is released and sent again (see `claims`).
    claim_safe_age_minutes: int = Field(default=60, ge=10)
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
    arxiv_categories: list[str] = Field(default_factory=list)
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

    @field_validator("arxiv_categories", mode="before")
    @classmethod
    def _split_categories(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace("+", ",").split(",") if part.strip()]
        return value

    @property
    def claim_safe_age(self) -> timedelta:
        return timedelta(minutes=self.claim_safe_age_minutes)

    @property
    def sender(self) -> str:
        return self.sender_address or f"digest@{self.mail_domain}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        known = {name.upper(): name for name in cls.model_fields}
        return cls.model_validate({known[key]: value for key, value in environ.items() if key in known})
