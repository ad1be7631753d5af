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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from paperboy.mail.inbound.grammar import MAX_TERMS, Command
from paperboy.readers import lifecycle, likes
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
    from paperboy.papers.lookup import Found, PaperLookup
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
    # arXiv's API for papers a reader names that are not stored (`like`, `me:`); None: unreachable.
    lookup: PaperLookup | None = None
    # What the answer lists after the changes (`likes`, `more like 2`, the papers `me:` found).
    listed: list[str] = field(default_factory=list)


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


def sections(settings: ReaderSettings, command: Command) -> Update | None:
    if command.on is None:
        return None
    shown = "on: with two or more topics, one section per topic" if command.on else "off: one list"
    return {"sections": command.on}, f"sections {shown}"


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


# -- papers the reader names (issue 17) ------------------------------------------------------------
def _look_up(applying: Applying, ids: tuple[str, ...]) -> Found:
    from paperboy.papers.lookup import Found

    if applying.lookup is not None:
        return applying.lookup.by_ids(ids, applying.now)
    stored = [paper for paper_id in ids if (paper := applying.papers.get(paper_id)) is not None]
    return Found(papers=stored, unreachable=[i for i in ids if i not in {p.id for p in stored}])


def like(applying: Applying, command: Command) -> None:
    """Stored papers are liked at once; others are looked up on arXiv (one request) and stored, and
    Embed gives each its vector. Ids arXiv does not know are named; nothing else changes for them."""
    found = _look_up(applying, command.terms)
    if found.papers:
        lifecycle.change(
            applying.store, applying.reader.id, lambda current: likes.liked(current, found.papers)
        )
        titles = "; ".join(f"“{paper.display_title}” ({paper.id})" for paper in found.papers)
        applying.changes.append(
            f"liked: {titles}. Papers close to them now rank higher; these are never sent"
        )
    if found.missing:
        applying.changes.append(f"arXiv has no paper {', '.join(found.missing)}: nothing changed for it")
    if found.unreachable:
        applying.changes.append(
            f"arXiv could not be reached for {', '.join(found.unreachable)}: please try again later"
        )


def unlike(applying: Applying, command: Command) -> None:
    gone: list[LikedPaper] = []

    def edit(current: Subscriber) -> Subscriber:
        updated, removed = likes.unliked(current, command.terms)
        gone[:] = removed
        return updated

    lifecycle.change(applying.store, applying.reader.id, edit)
    if gone:
        applying.changes.append(f"no longer liked: {'; '.join(f'“{paper.title}”' for paper in gone)}")
    missing = [paper_id for paper_id in command.terms if paper_id not in {paper.id for paper in gone}]
    if missing:
        applying.changes.append(f"{', '.join(missing)}: not among the papers you liked")


def list_likes(applying: Applying, command: Command) -> None:
    current = applying.store.get(applying.reader.id) or applying.reader
    shown = likes.in_force(current)
    if not shown:
        applying.listed.append(
            "You have liked no papers yet. Reply “like 2611.10021” with arXiv ids or links."
        )
        return
    applying.listed += [
        f"The {len(shown)} papers you liked, newest first (“unlike <id>” removes one):",
        *[f"  {paper.title} ({paper.id})" for paper in reversed(shown)],
    ]


def me(applying: Applying, command: Command) -> None:
    """Like the author's newest arXiv papers (the same line's FOLLOW follows the name) and list
    them, so that a reader with a common name sees whose papers they got and can `unlike` one or
    `unfollow` the name."""
    from paperboy.papers.sources.http import FetchError

    (name,) = command.terms
    try:
        found = applying.lookup.by_author(name, applying.now) if applying.lookup is not None else None
    except FetchError:
        found = None
    if found is None:
        applying.changes.append(
            f"arXiv could not be reached to find papers by {name}: please try again later"
        )
        return
    if not found:
        applying.changes.append(f"arXiv has no papers by {name}, so none was liked")
        return
    lifecycle.change(
        applying.store, applying.reader.id, lambda current: likes.liked(current, found, author=name)
    )
    applying.changes.append(
        f"the {len(found)} newest arXiv papers by {name} seed your profile "
        f"(not yours? reply “unfollow {name}”, or “unlike <id>” for one paper)"
    )
    applying.listed += [f"Papers by {name} on arXiv:", *[f"  {p.display_title} ({p.id})" for p in found]]


# `more like N`: this many papers at most, from this many days.
MORE_LIKE = 5
MORE_LIKE_DAYS = 7


def more_like(applying: Applying, command: Command) -> None:
    """`more N`, and at once up to MORE_LIKE papers of the last MORE_LIKE_DAYS nearest to paper N of
    the digest replied to, never one already sent (they count as sent from now on)."""
    applying.changes.append(_rated(applying, command, more=True))
    record = digest_replied_to(applying.ledger, applying.reader, applying.message)
    number = command.number or 0
    if record is None or not 1 <= number <= len(record.paper_ids):
        return
    paper_id = record.paper_ids[number - 1]
    title = record.paper_titles[number - 1] if number <= len(record.paper_titles) else paper_id
    # Imported here: only this command needs ranking (numpy, the stemmer) in InboundMail.
    from paperboy.digests.ledger import RECENT_PAPERS
    from paperboy.digests.ranking import RankingIndex
    from paperboy.semantic.vectors import MODEL

    today = applying.now.astimezone(applying.reader.settings.zone).date()
    candidates = [
        paper
        for back in range(MORE_LIKE_DAYS)
        for paper in applying.papers.papers_of_day(today - timedelta(days=back))
    ]
    stored = applying.papers.get(paper_id)
    vector = stored.vector if stored is not None and stored.vector_model == MODEL else None
    index = RankingIndex(candidates)
    likeness, _ = index.likeness(LikedPaper(id=paper_id, title=title), vector)
    current = applying.store.get(applying.reader.id) or applying.reader
    sent = {*current.recent_papers, paper_id, *(paper.id for paper in current.likes)}
    ranked = sorted(range(len(index.papers)), key=lambda n: -float(likeness[n]))
    picks = [index.papers[n] for n in ranked if index.papers[n].id not in sent and likeness[n] > 0][
        :MORE_LIKE
    ]
    if not picks:
        applying.listed.append(
            f"No other paper of the last {MORE_LIKE_DAYS} days is close to #{number} “{title}”."
        )
        return
    shown = [paper.id for paper in picks]
    lifecycle.change(
        applying.store,
        applying.reader.id,
        lambda r: r.model_copy(update={"recent_papers": [*r.recent_papers, *shown][-RECENT_PAPERS:]}),
    )
    applying.listed += [
        f"Papers of the last {MORE_LIKE_DAYS} days like #{number} “{title}”:",
        *[f"  {n}. {paper.display_title} {paper.paper_url}" for n, paper in enumerate(picks, start=1)],
    ]
