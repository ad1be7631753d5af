"""The few web pages Paperboy has: tiny, accessible, no JavaScript, every value escaped."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

from paperboy import compiled_templates


def _environment(*, compiled: bool) -> Environment:
    source = PackageLoader("paperboy.web", "templates")
    return Environment(
        loader=compiled_templates.loader(__file__, source) if compiled else source,
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = _environment(compiled=True)


def compile_templates() -> None:
    """The pages compiled for the layer (see compiled_templates)."""
    compiled_templates.compile_into(__file__, _environment(compiled=False), lambda _name: True)


class Button(BaseModel):
    """A POST form with one button: state changes never happen on GET (link scanners follow links)."""

    action: str
    label: str
    fields: dict[str, str] = {}


class Page(BaseModel):
    title: str
    paragraphs: list[str]
    button: Button | None = None
    # The subscribe form's fields: the address, and optionally papers the reader has read.
    email_field: bool = False
    papers_field: bool = False
    status: int = 200


def render(page: Page) -> str:
    return _ENV.get_template("page.html").render(page=page)
