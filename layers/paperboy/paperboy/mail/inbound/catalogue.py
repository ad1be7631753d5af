"""Every email command, declared once: the words that start it and how its value is read, examples,
its line in the help, what it would do in our words (the confirmation an unverified sender causes),
whether it is a setting, and its effect. The parser, the help text (in every answer and the welcome
mail), the settings summary (in answers and digests), the confirmations' wording and the applying
of commands (`applying.Applier`, `paperboy.mail.optin`) all come from CATALOGUE; the tests walk it
(tests/unit/test_catalogue.py, tests/integration/test_catalogue_paths.py).

Adding a command:
1. a member of CommandKind (grammar.py): its name;
2. one `Spec` in CATALOGUE below: its `syntax` (command words in the singular, one space apart,
   each with a parse rule from grammar.py or a new one there), `examples` (the first is quoted in
   "e.g." hints; every one must parse to this kind: the tests send each through every sender path),
   `help` (the lead of its help line; kinds with the same lead share one line), `unverified`, and
   exactly one effect: `setting` (pure, in effects.py: it also applies in a mail to subscribe@ and
   on a confirmation's yes) or `act` (acts on the stored reader through effects.Applying: status,
   feedback, what the answer shows). A setting shown in the summary names its `summary` lines.
An act whose answer shows something new (a list of liked papers, say) sets a field of
effects.Applying that applying.Applier's answer reads; a long command word whose typos should be
forgiven joins commands._FORGIVEN. The tests then fail on a kind without a spec, an example that
does not parse to its kind alone, a command word declared twice, or any sender path that raises or
answers without the kind's wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from paperboy.mail.inbound import effects
from paperboy.mail.inbound.effects import ReaderEffect, SettingEffect
from paperboy.mail.inbound.grammar import (
    MAX_COUNT,
    Command,
    CommandKind,
    Items,
    Parse,
    author_name,
    bare,
    categories,
    count,
    like_or_rate,
    listing,
    mail_format,
    numbers,
    papers,
    pause,
    switch,
    time_of_day,
    time_zone,
    weekday,
)
from paperboy.readers import lifecycle
from paperboy.readers.model import WEEKDAYS, Format, Frequency, ReaderSettings, Subscriber

if TYPE_CHECKING:
    from paperboy.readers.store import SubscriberStore


@dataclass(frozen=True)
class Syntax:
    """Command words (each in the singular, words one space apart) and the rule that reads what
    follows them. `needs_separator`: nouns that set a list need "topics: ..." so that "Topics like
    this are great" stays prose."""

    words: tuple[str, ...]
    parse: Parse
    needs_separator: bool = False


@dataclass(frozen=True)
class Spec:
    kind: CommandKind
    syntax: tuple[Syntax, ...]
    examples: tuple[str, ...]
    # What the command would do, in our words: the confirmation an unverified sender causes quotes
    # nothing the sender wrote (a topic can be any text: "topics: cheap pills at example.com").
    unverified: str
    help: str | None = None
    setting: SettingEffect | None = None
    act: ReaderEffect | None = None
    # Lines of the settings summary for the fields this setting changes (given on one kind of those
    # that share them).
    summary: Callable[[ReaderSettings], list[str]] | None = None
    # From an unsubscribed reader's own address, it asks for a fresh confirmation (all else is ignored).
    brings_back: bool = False

    def __post_init__(self) -> None:
        if (self.setting is None) == (self.act is None):
            raise TypeError(f"{self.kind}: a command has exactly one effect, a setting or an act")
        if not self.examples or not self.unverified:
            raise TypeError(f"{self.kind}: a command needs an example and its unverified-sender wording")

    @property
    def is_setting(self) -> bool:
        return self.setting is not None


def _terms(terms: tuple[str, ...]) -> str:
    return ("; " if any("," in term for term in terms) else ", ").join(terms)


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# The settings summary: worded so that no line reads as a command if a reply quotes it.
def _topics_line(settings: ReaderSettings) -> list[str]:
    if settings.topics:
        return [f"Your topics: {_terms(settings.topics)}"]
    return ["Your topics: none yet, so you get the day's trending papers"]


def _schedule_line(settings: ReaderSettings) -> list[str]:
    when = (
        f"weekly on {WEEKDAYS[settings.weekday].title()}s"
        if settings.frequency is Frequency.WEEKLY
        else "daily"
    )
    parts = "HTML and plain text" if settings.format is Format.HTML else "plain text only"
    count_ = _plural(settings.count, "paper")
    return [f"Your schedule: {count_}, {when} at {settings.send_time:%H:%M} ({settings.timezone}), {parts}"]


def _when(present: bool, line: str) -> list[str]:
    return [line] if present else []


K = CommandKind
_TOPICS = listing("topic", items=Items.TOPICS, clearable=True)
_NO_TOPICS = "no topics: you get the day's trending papers"
CATALOGUE: dict[CommandKind, Spec] = {
    spec.kind: spec
    for spec in (
        Spec(
            K.TOPICS_SET,
            (
                Syntax(("topic", "interest", "keyword"), _TOPICS, needs_separator=True),
                Syntax(("set topic", "set interest"), _TOPICS),
            ),
            examples=("topics: speech recognition, robotics",),
            help="To set your interests",
            unverified="change your topics",
            setting=effects.set_list("topics", "topics are now", _NO_TOPICS),
            summary=_topics_line,
        ),
        Spec(
            K.TOPIC_ADD,
            (
                Syntax(
                    ("add topic", "add interest", "add keyword", "topic add"),
                    listing("topic", items=Items.TOPICS),
                ),
            ),
            examples=("add topic diffusion models",),
            help="To add or remove one",
            unverified="change your topics",
            setting=effects.add_to_list("topics", "topics are now"),
        ),
        Spec(
            K.TOPIC_REMOVE,
            (
                Syntax(
                    (
                        "remove topic",
                        "delete topic",
                        "drop topic",
                        "remove interest",
                        "remove keyword",
                        "topic remove",
                    ),
                    listing("topic", items=Items.TOPICS),
                ),
            ),
            examples=("remove topic robotics",),
            help="To add or remove one",
            unverified="change your topics",
            setting=effects.remove_from_list("topics", "topics are now", _NO_TOPICS),
        ),
        Spec(
            K.EXCLUDE_ADD,
            (
                Syntax(
                    ("exclude", "exclusion", "add exclude", "add exclusion", "mute"),
                    listing("exclusion"),
                ),
            ),
            examples=("exclude: medical imaging",),
            help="To never see papers about something, and undo it",
            unverified="change what you exclude",
            setting=effects.add_to_list("excludes", "excluded"),
            summary=lambda s: _when(bool(s.excludes), f"Never shown: {', '.join(s.excludes)}"),
        ),
        Spec(
            K.EXCLUDE_REMOVE,
            (
                Syntax(
                    ("unexclude", "un exclude", "remove exclude", "remove exclusion", "unmute"),
                    listing("exclusion"),
                ),
            ),
            examples=("unexclude medical imaging",),
            help="To never see papers about something, and undo it",
            unverified="change what you exclude",
            setting=effects.remove_from_list("excludes", "excluded", "nothing is excluded"),
        ),
        Spec(
            K.FOLLOW,
            (
                Syntax(
                    ("follow", "follow author", "add author"),
                    listing("author", items=Items.AUTHORS, names=True),
                ),
                Syntax(("author",), listing("author", items=Items.AUTHORS, names=True), needs_separator=True),
            ),
            examples=("follow Yann LeCun",),
            help="To always get an author's papers, and undo it",
            unverified="change the authors you follow",
            setting=effects.add_to_list("authors", "authors followed"),
            summary=lambda s: _when(bool(s.authors), f"You follow: {', '.join(s.authors)}"),
        ),
        Spec(
            K.UNFOLLOW,
            (
                Syntax(
                    ("unfollow", "un follow", "unfollow author", "stop following", "remove author"),
                    listing("author", items=Items.AUTHORS),
                ),
            ),
            examples=("unfollow Yann LeCun",),
            help="To always get an author's papers, and undo it",
            unverified="change the authors you follow",
            setting=effects.remove_from_list("authors", "authors followed", "no authors followed"),
        ),
        Spec(
            K.CATEGORIES_SET,
            (Syntax(("category", "arxiv category", "set category"), categories),),
            examples=("categories: cs.CL, cs.RO",),
            help="To draw from arXiv categories",
            unverified="change your arXiv categories",
            setting=effects.set_list(
                "categories", "arXiv categories are now", "papers from any arXiv category"
            ),
            summary=lambda s: _when(bool(s.categories), f"Your arXiv categories: {', '.join(s.categories)}"),
        ),
        Spec(
            K.MORE,
            (Syntax(("more",), numbers),),
            examples=("more 2",),
            help="To rate a paper of the digest you answer",
            unverified="record your feedback on papers",
            act=effects.rate(more=True),
        ),
        Spec(
            K.MORE_LIKE,
            (Syntax(("more like",), numbers),),
            examples=("more like 2",),
            help="To get papers of the week close to one of the digest, at once",
            unverified="record your feedback on papers and send papers like one of them",
            act=effects.more_like,
        ),
        Spec(
            K.LIKE,
            # "like 2" rates paper 2 (as "more 2"); "like" alone lists the papers liked.
            (Syntax(("like", "like paper"), like_or_rate),),
            examples=("like 2611.10021", "like https://arxiv.org/abs/2611.10021"),
            help="To say what you read (arXiv ids, arxiv.org or huggingface.co links), and undo it",
            unverified="add papers you liked to your profile",
            act=effects.like,
        ),
        Spec(
            K.UNLIKE,
            (Syntax(("unlike", "un like", "remove like"), papers),),
            examples=("unlike 2611.10021",),
            help="To say what you read (arXiv ids, arxiv.org or huggingface.co links), and undo it",
            unverified="remove papers you liked from your profile",
            act=effects.unlike,
        ),
        Spec(
            K.LIKES,
            (
                Syntax(
                    ("my like", "show like", "show my like", "list like", "list my like", "liked paper"), bare
                ),
            ),
            examples=("likes", "show my likes"),
            help="To see the papers you liked",
            unverified="list the papers you liked",
            act=effects.list_likes,
        ),
        Spec(
            K.ME,
            (Syntax(("me", "my name"), author_name, needs_separator=True),),
            examples=("me: Ada Lovelace",),
            help="To follow yourself and seed your profile with your arXiv papers (undo: unfollow)",
            unverified="follow an author and add their papers to your profile",
            act=effects.me,
        ),
        Spec(
            K.LESS,
            (Syntax(("less", "less like", "fewer", "fewer like", "dislike"), numbers),),
            examples=("less 3",),
            help="To rate a paper of the digest you answer",
            unverified="record your feedback on papers",
            act=effects.rate(more=False),
        ),
        Spec(
            K.COUNT,
            (Syntax(("count", "number of paper", "paper per digest"), count),),
            examples=("count 5",),
            help=f"To get more or fewer papers (1 to {MAX_COUNT})",
            unverified="change how many papers you get",
            setting=effects.count,
            # One line for count, time, time zone, frequency and format.
            summary=_schedule_line,
        ),
        Spec(
            K.TIME,
            (Syntax(("time", "send time", "delivery time", "send at", "deliver at"), time_of_day),),
            examples=("time 7:30",),
            help="To choose when it comes",
            unverified="change your delivery time",
            setting=effects.send_time,
        ),
        Spec(
            K.TIMEZONE,
            (Syntax(("timezone", "time zone", "tz", "zone"), time_zone),),
            examples=("timezone Europe/Berlin",),
            help="To choose when it comes",
            unverified="change your time zone",
            setting=effects.timezone,
        ),
        Spec(
            K.DAILY,
            (Syntax(("daily", "every day", "once a day"), bare),),
            examples=("daily",),
            help="To choose how often",
            unverified="change how often your digest comes",
            setting=effects.daily,
        ),
        Spec(
            K.WEEKLY,
            (Syntax(("weekly", "every week", "once a week"), weekday),),
            examples=("weekly", "weekly friday"),
            help="To choose how often",
            unverified="change how often your digest comes",
            setting=effects.weekly,
        ),
        Spec(
            K.FORMAT,
            (
                Syntax(("format",), mail_format()),
                Syntax(("plain text", "plaintext", "text only"), mail_format(Format.TEXT)),
                Syntax(("html",), mail_format(Format.HTML)),
            ),
            examples=("format text", "format html"),
            help="To get plain text only, or HTML too",
            unverified="change your mail format",
            setting=effects.mail_format,
        ),
        Spec(
            K.QUIET_DAYS,
            (Syntax(("quiet day", "quiet", "quietday", "quiet day note", "quiet note"), switch),),
            examples=("quiet days on", "quiet days off"),
            help="To get a note on days with nothing new",
            unverified="change your quiet-day notes",
            setting=effects.quiet_days,
            summary=lambda s: _when(s.quiet_days, "Your quiet-day notes: on"),
        ),
        Spec(
            K.TRENDING,
            (Syntax(("trending", "also trending", "trending section"), switch),),
            examples=("trending off", "trending on"),
            help="To hide or show the day's top papers below your picks",
            unverified="show or hide the “Also trending” section",
            setting=effects.trending,
            summary=lambda s: _when(not s.trending, "Your “Also trending” section: off"),
        ),
        Spec(
            K.SECTIONS,
            (Syntax(("section", "topic section", "sections by topic"), switch),),
            examples=("sections off", "sections on"),
            help="To get a digest of several topics as one list, or in sections by topic",
            unverified="change whether your digest is grouped by topic",
            setting=effects.sections,
            summary=lambda s: _when(
                not s.sections and len(s.topics) > 1, "Your topics' sections: off, one list"
            ),
        ),
        Spec(
            K.PAUSE,
            (Syntax(("pause", "snooze"), pause),),
            examples=("pause", "pause 2 weeks", "pause until 2026-12-24"),
            help="To take a break, and later end it",
            unverified="pause your digest",
            act=effects.pause,
        ),
        Spec(
            K.RESUME,
            (Syntax(("resume", "unpause", "unsnooze", "restart"), bare),),
            examples=("resume",),
            help="To take a break, and later end it",
            unverified="resume your digest",
            act=effects.activate,
            brings_back=True,
        ),
        Spec(
            K.SETTINGS,
            (
                Syntax(
                    (
                        "setting",
                        "my setting",
                        "show setting",
                        "show my setting",
                        "current setting",
                        "status",
                        "preference",
                        "config",
                    ),
                    bare,
                ),
            ),
            examples=("settings",),
            help="To see your settings",
            unverified="show your settings",
            act=effects.show_settings,
        ),
        Spec(
            K.HELP,
            (Syntax(("help", "command", "list command"), bare),),
            examples=("help",),
            help="To see this list",
            unverified="show the commands",
            act=effects.show_help,
        ),
        Spec(
            K.UNSUBSCRIBE,
            (
                Syntax(
                    (
                        "unsubscribe",
                        "unsub",
                        "stop",
                        "opt out",
                        "optout",
                        "remove me",
                        "cancel subscription",
                        "cancel my subscription",
                    ),
                    bare,
                ),
            ),
            examples=("unsubscribe", "stop"),
            help="To stop all mail at once",
            unverified="unsubscribe you",
            act=effects.unsubscribe,
        ),
        Spec(
            K.SUBSCRIBE,
            (Syntax(("subscribe", "resubscribe", "sign up", "sign me up", "start", "opt in", "join"), bare),),
            # Not in the help: a subscribed reader has no use for it (an unsubscribed one is told).
            examples=("subscribe",),
            unverified="start your digest again",
            act=effects.activate,
            brings_back=True,
        ),
    )
}


def is_setting(command: Command) -> bool:
    return CATALOGUE[command.kind].is_setting


def settings_of(commands: list[Command]) -> list[Command]:
    """The commands that change settings, in order."""
    return [command for command in commands if is_setting(command)]


def brings_back(commands: list[Command]) -> bool:
    return any(CATALOGUE[command.kind].brings_back for command in commands)


def asks_to(commands: list[Command]) -> list[str]:
    """What the commands would do, in our words, each once (KeyError for a kind without a spec)."""
    return list(dict.fromkeys(CATALOGUE[command.kind].unverified for command in commands))


def apply(settings: ReaderSettings, commands: list[Command]) -> tuple[ReaderSettings, list[str]]:
    """The settings after every command that changes settings, in order, and one sentence per change.
    Commands that act on the reader (status, feedback, settings, help) change no setting: the caller
    applies them (effects.Applying)."""
    changes: list[str] = []
    for command in commands:
        effect = CATALOGUE[command.kind].setting
        change = effect(settings, command) if effect is not None else None
        if change is None:
            continue
        update, description = change
        try:
            # Validate the whole model again: model_copy(update=...) alone would skip the validators.
            settings = ReaderSettings.model_validate({**settings.model_dump(), **update})
        except ValidationError:
            continue
        changes.append(description)
    return settings, changes


def save_settings(
    store: SubscriberStore,
    reader_id: str,
    commands: list[Command],
    now: datetime,
    *,
    read: Subscriber | None = None,
) -> Subscriber:
    """The stored reader with the settings commands applied (and rescheduled for them), retried on
    concurrent writes. `read`: the reader as just read, if the caller has it (lifecycle.change)."""

    def edit(current: Subscriber) -> Subscriber:
        settings, _ = apply(current.settings, commands)
        return lifecycle.rescheduled(current.model_copy(update={"settings": settings}), now)

    return lifecycle.change(store, reader_id, edit, read=read)


def settings_summary(settings: ReaderSettings) -> list[str]:
    """The settings in force, worded so that no line reads as a command if a reply quotes it."""
    return [line for spec in CATALOGUE.values() if spec.summary for line in spec.summary(settings)]


def help_text(domain: str) -> str:
    """The command list with examples. It comes back quoted in replies, and Outlook does not mark
    quotes, so no line of it reads as a command: each starts with "To" or "Reply"."""
    leads: dict[str, list[str]] = {}
    for spec in CATALOGUE.values():
        if spec.help:
            leads.setdefault(spec.help, []).extend(spec.examples)
    return "\n".join(
        [
            "Reply to any Paperboy mail, one instruction per line at the top of your reply.",
            *(f"{lead}: {' / '.join(examples)}" for lead, examples in leads.items()),
            f"To subscribe a friend: they write to subscribe@{domain}",
        ]
    )
