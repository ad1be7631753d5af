"""What each email command does to a reader: the effects the command catalogue names.

Two shapes, so that a setting can be applied where there is no reader yet (a mail to subscribe@):
- a setting effect is pure: (settings, command) -> the fields it changes and one sentence saying so,
  or None when the command carries nothing to apply;
- a reader effect acts on the stored reader (status, feedback) through `Applying`, the one reply
  being applied, and records what it did there (a sentence, or that the answer shows the settings,
  the commands, or a goodbye).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from paperboy.mail.inbound.grammar import MAX_TERMS, Command
from paperboy.readers import lifecycle
from paperboy.readers.model import (
    MAX_FEEDBACK,
    WEEKDAYS,
    Feedback,
    Format,
    Frequency,
    LikedPaper,
    ReaderSettings,
    Subscriber,
)

if TYPE_CHECKING:
    from paperboy.digests.ledger import DigestLedger, DigestRecord
    from paperboy.mail.inbound.message import InboundMessage
    from paperboy.papers.store import PaperStore
    from paperboy.readers.store import SubscriberStore

# The fields a setting changes, and the sentence that says so.
Update = tuple[dict[str, object], str]
SettingEffect = Callable[[ReaderSettings, Command], Update | None]


@dataclass
class Applying:
    """One reply's commands being applied to its reader, and what the answer is to say."""

    store: SubscriberStore
    ledger: DigestLedger
    papers: PaperStore
    reader: Subscriber
    message: InboundMessage | None
    now: datetime
    changes: list[str] = field(default_factory=list)
    show_settings: bool = False
    show_help: bool = False
    # Unsubscribed: nothing after it applies, and the answer is a goodbye.
    unsubscribed: bool = False


ReaderEffect = Callable[[Applying, Command], None]


# -- settings -----------------------------------------------------------------------------------------
def _quoted(terms: tuple[str, ...]) -> str:
    # A topic may hold commas ("generative models (diffusion, GANs)"): then semicolons separate.
    return ("; " if any("," in term for term in terms) else ", ").join(terms)


def _described(label: str, empty: str, value: tuple[str, ...], note: str) -> str:
    return (f"{label}: {_quoted(value)}" if value else empty) + note


def _dropped(dropped: tuple[str, ...]) -> str:
    return f" (at most {MAX_TERMS}: “{_quoted(dropped)}” left out)" if dropped else ""


def set_list(name: str, label: str, empty: str) -> SettingEffect:
    """The list becomes the command's terms (the first MAX_TERMS of them)."""

    def effect(settings: ReaderSettings, command: Command) -> Update:
        value, dropped = command.terms[:MAX_TERMS], command.terms[MAX_TERMS:]
        return {name: value}, _described(label, empty, value, _dropped(dropped))

    return effect


def add_to_list(name: str, label: str) -> SettingEffect:
    """The command's terms join the list, those it already has aside."""

    def effect(settings: ReaderSettings, command: Command) -> Update:
        current: tuple[str, ...] = getattr(settings, name)
        known = {term.lower() for term in current}
        merged = (*current, *(term for term in command.terms if term.lower() not in known))
        value, dropped = merged[:MAX_TERMS], merged[MAX_TERMS:]
        return {name: value}, _described(label, "", value, _dropped(dropped))

    return effect


def remove_from_list(name: str, label: str, empty: str) -> SettingEffect:
    """The command's terms leave the list; terms it did not have are named."""

    def effect(settings: ReaderSettings, command: Command) -> Update:
        current: tuple[str, ...] = getattr(settings, name)
        gone = {term.lower() for term in command.terms}
        had = {term.lower() for term in current}
        missing = tuple(term for term in command.terms if term.lower() not in had)
        value = tuple(term for term in current if term.lower() not in gone)
        note = f" (there was no “{_quoted(missing)}”)" if missing else ""
        return {name: value}, _described(label, empty, value, note)

    return effect


def count(settings: ReaderSettings, command: Command) -> Update | None:
    if command.number is None:
        return None
    return {"count": command.number}, f"papers per digest: {command.number}"


def send_time(settings: ReaderSettings, command: Command) -> Update | None:
    if command.send_time is None:
        return None
    return {"send_time": command.send_time}, f"delivery time: {command.send_time:%H:%M} ({settings.timezone})"


def timezone(settings: ReaderSettings, command: Command) -> Update | None:
    if not command.timezone:
        return None
    when = f"{settings.send_time:%H:%M}"
    return {"timezone": command.timezone}, f"time zone: {command.timezone} (delivery at {when})"


def daily(settings: ReaderSettings, command: Command) -> Update:
    return {"frequency": Frequency.DAILY}, "a digest every day"


def weekly(settings: ReaderSettings, command: Command) -> Update:
    weekday = settings.weekday if command.weekday is None else command.weekday
    return {"frequency": Frequency.WEEKLY, "weekday": weekday}, f"a digest every {WEEKDAYS[weekday].title()}"


def mail_format(settings: ReaderSettings, command: Command) -> Update | None:
    if command.format is None:
        return None
    text = command.format is Format.TEXT
    return {"format": command.format}, "plain-text mail only" if text else "HTML mail with a plain-text part"


def quiet_days(settings: ReaderSettings, command: Command) -> Update | None:
    if command.on is None:
        return None
    return {"quiet_days": command.on}, f"quiet-day notes {'on' if command.on else 'off'}"


def trending(settings: ReaderSettings, command: Command) -> Update | None:
    if command.on is None:
        return None
    shown = "on: the day's top papers follow your picks" if command.on else "off"
    return {"trending": command.on}, f"“Also trending” section {shown}"


# -- the reader ---------------------------------------------------------------------------------------
def unsubscribe(applying: Applying, command: Command) -> None:
    lifecycle.unsubscribe(applying.store, applying.reader.id, applying.now)
    applying.unsubscribed = True


def activate(applying: Applying, command: Command) -> None:
    lifecycle.activate(applying.store, applying.reader.id, applying.now)
    applying.changes.append("digests are on")


def pause(applying: Applying, command: Command) -> None:
    lifecycle.pause(applying.store, applying.reader.id, command.until, applying.now)
    applying.changes.append(
        f"paused until {command.until:%d %b %Y}" if command.until else "paused until you reply “resume”"
    )


def show_settings(applying: Applying, command: Command) -> None:
    applying.show_settings = True


def show_help(applying: Applying, command: Command) -> None:
    applying.show_help = True


def rate(*, more: bool) -> ReaderEffect:
    """Feedback on paper N of the digest replied to: kept in the reader's feedback, and the profile
    moved towards (or away from) the paper."""

    def effect(applying: Applying, command: Command) -> None:
        applying.changes.append(_rated(applying, command, more=more))

    return effect


def _rated(applying: Applying, command: Command, *, more: bool) -> str:
    record = digest_replied_to(applying.ledger, applying.reader, applying.message)
    number = command.number or 0
    if record is None or not 1 <= number <= len(record.paper_ids):
        return f"“{command.line}”: there is no paper #{number} in the digest you replied to"
    paper_id = record.paper_ids[number - 1]
    title = record.paper_titles[number - 1] if number <= len(record.paper_titles) else paper_id
    stored = applying.papers.get(paper_id)
    liked = LikedPaper(id=paper_id, title=title, keywords=stored.keywords if stored else ())
    vector = stored.vector if stored is not None else None

    def edit(current: Subscriber) -> Subscriber:
        kept_more = tuple(p for p in current.feedback.more if p.id != paper_id)
        kept_less = tuple(p for p in current.feedback.less if p.id != paper_id)
        feedback = Feedback(
            more=((*kept_more, liked) if more else kept_more)[-MAX_FEEDBACK:],
            less=(kept_less if more else (*kept_less, liked))[-MAX_FEEDBACK:],
        )
        update: dict[str, object] = {"feedback": feedback}
        if vector is not None:
            # Imported here: numpy is needed only by a rating, not by every cold start that imports this.
            from paperboy.semantic.profiles import moved_profile

            update["profile_vector"] = moved_profile(current.profile_vector, vector, more=more)
        return current.model_copy(update=update)

    lifecycle.change(applying.store, applying.reader.id, edit)
    # Say what the next digest will do differently: papers close in meaning (by the paper's
    # vector) or, for a paper not embedded yet, papers sharing its title's words.
    how = "close in meaning to it" if vector is not None else "sharing its title's words"
    moves = "rank higher" if more else "rank lower"
    return (
        f"{'more' if more else 'fewer'} papers like #{number} “{title}”: "
        f"from your next digest, papers {how} {moves}"
    )


def digest_replied_to(
    ledger: DigestLedger, reader: Subscriber, message: InboundMessage | None
) -> DigestRecord | None:
    """The digest a reply answers (by its In-Reply-To and References), else the latest one."""
    records = [r for r in ledger.recent_digests(reader.id) if r.paper_ids]
    if message is not None:
        referenced = {ref.strip("<>").split("@")[0] for ref in (*message.in_reply_to, *message.references)}
        for record in records:
            if record.message_id and record.message_id in referenced:
                return record
            if f"digest.{record.period.isoformat()}.{reader.id}" in referenced:
                return record
    return records[0] if records else None
