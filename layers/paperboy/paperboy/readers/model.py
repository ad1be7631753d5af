"""Readers: their settings, their feedback and their subscription status."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TOPICS = 20
MAX_FEEDBACK = 30


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class Format(StrEnum):
    HTML = "html"
    TEXT = "text"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


MAX_TOPIC = 300
# A topics line splits at commas, semicolons and line breaks outside brackets, unless it reads as a
# sentence: a piece this long, or a first-person or connecting word, keeps the line whole.
_LONG_PIECE = 6
_SPLIT_AT = ",;\n"
_SENTENCE_WORDS = re.compile(
    r"\b(i|i'm|im|we|my|our|me|us|am|that|which|so|because|where|how|especially|currently|mostly|"
    r"mainly|interested|working|work|research|study|studying)\b",
    re.IGNORECASE,
)


def split_topics(line: str) -> list[str]:
    """A reader's topics line as the topics they meant, each as written (spaces collapsed).

    "speech recognition, robotics" -> two; "generative models (diffusion, GANs, flows)" -> one;
    "I work on compressing deep networks — pruning, quantization and distillation — for edge
    devices" -> one (a sentence names one interest; ranking splits it into words and phrases).
    """
    pieces: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in line:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        if ch in _SPLIT_AT and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    pieces = [" ".join(piece.split()) for piece in pieces]
    pieces = [piece for piece in pieces if piece]
    whole = " ".join(line.split())
    if len(pieces) > 1 and (
        any(len(piece.split()) > _LONG_PIECE for piece in pieces) or _SENTENCE_WORDS.search(whole)
    ):
        return [whole]
    return pieces


def _clean_terms(values: object, split: bool = False) -> object:
    if isinstance(values, str):
        values = split_topics(values) if split else values.split(",")
    if isinstance(values, list | tuple):
        seen: dict[str, None] = {}
        for value in values:
            text = " ".join(str(value).split())
            if text and text.lower() not in {s.lower() for s in seen}:
                seen[text] = None
        return tuple(seen)[:MAX_TOPICS]
    return values


class LikedPaper(BaseModel):
    """A paper a reader answered `more N` or `less N` about, kept for ranking future papers."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    keywords: tuple[str, ...] = ()


class ReaderSettings(BaseModel):
    """Everything a reader can change by reply (brief section 4)."""

    model_config = ConfigDict(frozen=True)

    topics: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    count: int = Field(default=10, ge=1, le=25)
    send_time: time = time(8, 0)
    timezone: str = "UTC"
    frequency: Frequency = Frequency.DAILY
    # Day of the week a weekly digest goes out, 0 = Monday.
    weekday: int = Field(default=0, ge=0, le=6)
    format: Format = Format.HTML
    quiet_days: bool = False
    # "Also trending": the day's most upvoted papers below a topic reader's picks.
    trending: bool = True

    _topics = field_validator("topics", mode="before")(
        classmethod(lambda cls, value: _clean_terms(value, True))
    )
    _terms = field_validator("excludes", "authors", "categories", mode="before")(
        classmethod(lambda cls, value: _clean_terms(value))
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("send_time")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        return value.replace(second=0, microsecond=0, tzinfo=None)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Feedback(BaseModel):
    """Papers the reader asked for more or less of; newest last, bounded."""

    model_config = ConfigDict(frozen=True)

    more: tuple[LikedPaper, ...] = ()
    less: tuple[LikedPaper, ...] = ()


class Subscriber(BaseModel):
    # Vectors are raw bytes: JSON (logs, operator output) carries them as base64.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    email: str
    status: Status = Status.PENDING
    settings: ReaderSettings = Field(default_factory=ReaderSettings)
    feedback: Feedback = Field(default_factory=Feedback)
    # Bumping this invalidates every token issued for the reader (reply address, unsubscribe link).
    token_version: int = 1
    created_at: datetime
    confirmed_at: datetime | None = None
    paused_until: date | None = None
    # The next time a digest is due (UTC) and the local date of the last digest period sent.
    next_due: datetime | None = None
    last_period: date | None = None
    # Papers already sent, newest last: never send one twice.
    recent_papers: list[str] = Field(default_factory=list)
    # Transient bounces since SES last reported a delivery to the address; at a threshold the
    # address is suppressed (mail_events). The feedbackIds already counted, newest last and
    # bounded, make a redelivered SNS message count once.
    transient_bounces: int = 0
    counted_bounces: list[str] = Field(default_factory=list)
    # Packed sentence vectors (paperboy.semantic.vectors) of the topics, keyed by each topic exactly as in
    # settings.topics. The Embed function fills in missing ones after a change and prunes keys no
    # longer among the topics (ignore those until then); `vector_model` names the model that made them.
    topic_vectors: dict[str, bytes] = Field(default_factory=dict)
    vector_model: str = ""
    # The reader's Rocchio profile (`more N` / `less N` move it over the rated papers' stored vectors),
    # packed by `vectors.pack`; None until the first rating of a paper that has a vector.
    profile_vector: bytes | None = None
    # Optimistic-locking counter: every write is conditional on the version read.
    version: int = 0
