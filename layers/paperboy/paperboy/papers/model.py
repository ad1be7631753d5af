"""The records Paperboy stores and passes between its parts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Paper(BaseModel):
    """A paper as stored: one row per arXiv id, whichever source saw it first."""

    # Vectors are raw bytes: JSON (logs, operator output) carries them as base64.
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    display_title: str = Field(min_length=1)
    summary: str = ""
    ai_summary: str = ""
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    upvotes: int = 0
    comments: int = 0
    published_at: datetime | None = None
    # The day a source featured the paper; the digest's "papers of the day" key.
    day: date
    source: str
    github_url: str = ""
    project_url: str = ""
    # Title + abstract as a packed sentence vector (paperboy.semantic.vectors), set by the Embed function
    # after the paper is stored; None until then. Only comparable with vectors of the same model.
    vector: bytes | None = None
    vector_model: str = ""

    @property
    def paper_url(self) -> str:
        """Hugging Face's page where it has one (it featured the paper), else the arXiv abstract."""
        if self.source == "arxiv":
            return self.arxiv_url
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"


class SourceReport(BaseModel):
    """What one fetch of one source did, for metrics and logs."""

    source: str
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    # Requests that were retried, and listings that could not be read even after retries.
    retried_requests: int = 0
    failed_listings: int = 0
    problems: list[str] = Field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Whether at least one listing of this source could be read."""
        return self.failed_listings == 0 or self.fetched > 0


class Pick(BaseModel):
    """A paper chosen for one reader, with the reasons a reader is shown ("matches: speech")."""

    model_config = ConfigDict(frozen=True)

    paper: Paper
    score: float
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "trending today"
