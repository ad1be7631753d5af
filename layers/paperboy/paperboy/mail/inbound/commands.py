"""Email commands (brief section 4): the new text of a reply, read line by line.

Forgiving where a person is sloppy: case, punctuation, plural or singular, a bullet in front, a
typo in a long command word ("unsubcribe", "pasue"). Strict where prose could pass for a command:
a command word must start the line, a command that takes nothing ("stop", "help") must stand
alone (politeness aside: "stop by our lab" is not a command), nouns that set a list ("topics",
"interests", "authors") need a separator ("topics: ..."), and every value is checked. A line that
is not understood changes nothing. Only the first lines are read and reading stops at the first
`>` line, so a quoted footer can never issue a command.

Values end up in settings and in mail we send: control and format characters are dropped (no CR
or LF survives), angle brackets are removed from free text, and lengths are capped.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, ValidationError

from paperboy.papers.sources.arxiv_api import MAX_IDS, parse_ids
from paperboy.readers.model import (
    MAX_TOPIC,
    MAX_TOPICS,
    WEEKDAYS,
    Format,
    Frequency,
    ReaderSettings,
    split_topics,
)

MAX_TERM = 80
MAX_TERMS = MAX_TOPICS
MAX_LINES = 20
MAX_COUNT = 25
# Twenty terms of 80 characters fit; anything longer is not a command line.
MAX_LINE = 2000
# A not-understood line is echoed back in the answer; keep that short.
MAX_ECHO = 200
MAX_PAUSE_DAYS = 366


class CommandKind(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIBE = "subscribe"
    PAUSE = "pause"
    RESUME = "resume"
    TOPICS_SET = "topics_set"
    TOPIC_ADD = "topic_add"
    TOPIC_REMOVE = "topic_remove"
    EXCLUDE_ADD = "exclude_add"
    EXCLUDE_REMOVE = "exclude_remove"
    CATEGORIES_SET = "categories_set"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    MORE = "more"
    MORE_LIKE = "more_like"
    LESS = "less"
    LIKE = "like"
    UNLIKE = "unlike"
    LIKES = "likes"
    ME = "me"
    SECTIONS = "sections"
    COUNT = "count"
    TIME = "time"
    TIMEZONE = "timezone"
    DAILY = "daily"
    WEEKLY = "weekly"
    FORMAT = "format"
    QUIET_DAYS = "quiet_days"
    TRENDING = "trending"
    SETTINGS = "settings"
    HELP = "help"


class Command(BaseModel):
    """One understood instruction. `line` is the reader's line, cleaned: parsing it again gives
    the same command (pending confirmations are stored as lines)."""

    model_config = ConfigDict(frozen=True)

    kind: CommandKind
    line: str
    terms: tuple[str, ...] = ()
    number: int | None = None
    until: date | None = None
    weekday: int | None = None
    send_time: time | None = None
    timezone: str | None = None
    format: Format | None = None
    on: bool | None = None


class ParsedCommands(BaseModel):
    commands: list[Command]
    # Lines that changed nothing, as "line" or "line (why)"; single-line and short.
    not_understood: list[str]
    # Of those, lines whose command word was clear but whose value was not ("topics: <too long>"),
    # each with why: a subscribe@ confirmation names them, and only them, since it goes to an
    # address not yet proven.
    rejected: list[str] = []


# -- cleaning -----------------------------------------------------------------------------------------
def clean(text: str, limit: int = MAX_LINE) -> str:
    """One printable line: compatibility forms folded (full-width letters, ligatures), control and
    format characters (CR, LF, zero-width, bidi overrides) turned into spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text[: limit * 2])
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(kept.split())[:limit]


def _echo(line: str, reason: str = "") -> str:
    shown = line if len(line) <= MAX_ECHO else line[: MAX_ECHO - 1].rstrip() + "…"
    return f"{shown} ({reason})" if reason else shown


class _Reject(ValueError):
    """The command word was recognised but what follows it was not; the message says why."""


# -- values -------------------------------------------------------------------------------------------
# fmt: off
_FILLER = frozenset({
    "please", "pls", "plz", "me", "now", "thanks", "thank", "you", "thx", "ty", "from", "this", "that",
    "the", "list", "paperboy", "digest", "digests", "email", "emails", "mail", "mails", "newsletter",
    "all", "again", "ok", "okay", "for", "it", "sending", "of", "to", "my", "your", "subscription",
    "everything", "us", "show",
})
_NUMBER_WORDS = {
    word: number
    for number, word in enumerate((
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
        "twenty",
    ))
} | {"a": 1, "an": 1, "a couple of": 2, "couple of": 2, "twenty-five": 25, "twenty five": 25}
# fmt: on
# Searched in text whose trailing punctuation is already gone. A leading `[\s,;.!]*` here (as once)
# makes every search attempt rescan the run of punctuation: quadratic, seconds on one long line.
_TRAILING_POLITENESS = re.compile(r"\b(?:please|pls|plz|thanks|thank you|thx|ty)$", re.IGNORECASE)


def _value(text: str) -> str:
    """What follows a command word, without trailing politeness or punctuation."""
    text = text.rstrip(" .!?;,")
    polite = _TRAILING_POLITENESS.search(text)
    return (text[: polite.start()] if polite else text).strip(" .!?;,")


def _nothing(text: str) -> bool:
    """Only politeness or filler words ("unsubscribe me please", "show my settings")."""
    words = re.findall(r"[^\W\d_]+|\d+", text.lower())
    return all(word in _FILLER for word in words)


def _integer(text: str) -> int | None:
    text = text.strip().lower()
    if re.fullmatch(r"#?\s*\d{1,3}", text):
        return int(text.lstrip("#").strip())
    return _NUMBER_WORDS.get(text)


_TERM_SPLIT = re.compile(r"[,;\n]+")
_AUTHOR_SPLIT = re.compile(r"[,;]+|\s+(?:and|&)\s+")
_CLEAR = frozenset({"none", "nothing", "clear", "reset", "-", "no topics", "no categories", "any", "all"})
# Signature lines like "Follow us on LinkedIn" are not authors.
_NOT_AUTHOR = re.compile(
    r"^(us|me|my|our)\b|https?:|www\.|\b(twitter|linkedin|instagram|facebook|bluesky|"
    r"mastodon|youtube|github)\b",
    re.IGNORECASE,
)


def _terms(
    text: str, *, what: str, splitter: Callable[[str], list[str]] = _TERM_SPLIT.split, limit: int = MAX_TERM
) -> tuple[str, ...]:
    """Distinct free-text terms; brackets dropped so no value can look like markup."""
    found: dict[str, str] = {}
    for piece in splitter(text):
        term = " ".join(re.sub(r"[<>\x00-\x1f\x7f]", " ", piece).split()).strip(" \"'“”‘’«»`*_.!?:=")
        if not any(ch.isalnum() for ch in term):
            continue
        if len(term) > limit:
            raise _Reject(f"each {what} can be at most {limit} characters")
        found.setdefault(term.lower(), term)
    if len(found) > MAX_TERMS:
        raise _Reject(f"at most {MAX_TERMS} {what}s")
    return tuple(found.values())


# arXiv's archives; the subject class after the dot is checked for shape only.
# fmt: off
_ARCHIVES = frozenset({
    "cs", "math", "stat", "eess", "econ", "q-bio", "q-fin", "physics", "astro-ph", "cond-mat", "gr-qc",
    "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin", "nucl-ex", "nucl-th", "quant-ph",
})
# fmt: on
_CATEGORY = re.compile(r"(?:arxiv:)?([a-z]+(?:-[a-z]+)?)(?:\.([a-z]+(?:-[a-z]+)?))?", re.IGNORECASE)


def _categories(text: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for token in re.split(r"[\s,;]+|\band\b", text):
        if not token:
            continue
        match = _CATEGORY.fullmatch(token)
        if match is None or match.group(1).lower() not in _ARCHIVES:
            raise _Reject(f"“{clean(token, 40)}” is not an arXiv category like cs.CL")
        archive, subject = match.group(1).lower(), match.group(2)
        if subject:
            # arXiv writes two-letter subject classes in capitals (cs.CL), longer ones in lower case.
            archive += "." + (subject.upper() if len(subject) == 2 else subject.lower())
        found[archive] = None
    if len(found) > MAX_TERMS:
        raise _Reject(f"at most {MAX_TERMS} categories")
    return tuple(found)


_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?:\s*[:.h]\s*(?P<minute>\d{2}))?\s*(?P<meridiem>[ap]\.?\s*m\.?|[ap])?(?=\s|$|,)"
    r"|(?P<compact>\d{4})(?=\s|$|,)|(?P<word>noon|midnight)\b",
    re.IGNORECASE,
)


def _clock(text: str) -> tuple[time, str]:
    """A time of day at the start of text, and what follows it."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise _Reject("give a time like 7:30, 7:30pm or 19:30")
    rest = text.strip()[match.end() :]
    if match.group("word"):
        return (time(12) if match.group("word").lower() == "noon" else time(0)), rest
    if match.group("compact"):
        hour, minute = int(match.group("compact")[:2]), int(match.group("compact")[2:])
    else:
        hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    meridiem = (match.group("meridiem") or "").lower()[:1]
    if meridiem:
        if not 1 <= hour <= 12:
            raise _Reject("with am or pm, the hour is 1 to 12")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _Reject("give a time like 7:30, 7:30pm or 19:30")
    return time(hour, minute), rest


@cache
def _zones() -> tuple[dict[str, str], dict[str, str]]:
    """IANA names by lower-case name, and by lower-case city where the city names one zone."""
    names = {zone for zone in available_timezones() if zone not in ("localtime", "Factory", "posixrules")}
    exact = {zone.lower(): zone for zone in names}
    by_city: dict[str, list[str]] = {}
    for zone in names:
        if "/" in zone and not zone.startswith(
            ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/")
        ):
            by_city.setdefault(zone.rsplit("/", 1)[1].lower(), []).append(zone)
    # A city in two zones (a backward link) means the shorter, canonical-looking name.
    cities = {city: min(zones, key=lambda z: (z.count("/"), len(z), z)) for city, zones in by_city.items()}
    return exact, cities


def _zone(text: str) -> str | None:
    """The IANA zone a reader means: "Europe/Berlin", "europe/berlin", "Berlin", "New York", "CET",
    "UTC+2". Only names in the zone database are ever returned (never a path)."""
    text = text.strip(" .,")
    if not text or len(text) > 60:
        return None
    exact, cities = _zones()
    key = re.sub(r"\s+", "_", text).lower()
    if key in exact:
        return exact[key]
    offset = re.fullmatch(r"(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?00)?", text.lower())
    if offset:
        hours = int(offset.group(2))
        if hours == 0:
            return "UTC"
        # POSIX-style Etc zones count the other way: UTC+2 is Etc/GMT-2.
        name = f"Etc/GMT{'-' if offset.group(1) == '+' else '+'}{hours}"
        return exact.get(name.lower())
    return cities.get(key)


def _weekday(text: str) -> int:
    word = re.sub(r"^(on|every)\s+", "", text.strip().lower()).rstrip("s")
    if len(word) >= 3:
        for number, name in enumerate(WEEKDAYS):
            if name.startswith(word) or name.rstrip("s") == word:
                return number
    raise _Reject("name a day, e.g. “weekly friday”")


_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
_DURATION = re.compile(
    r"(?:for\s+)?(?:(?P<amount>\d{1,3}|[a-z]+(?:[ -][a-z]+){0,2})\s*)?"
    r"(?P<unit>d|days?|w|wks?|weeks?|mo|mos|months?)",
    re.IGNORECASE,
)
_INDEFINITE = frozenset(
    {"", "until further notice", "indefinitely", "for now", "for a while", "until i say so"}
)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(text: str, today: date) -> date:
    """A date a reader writes: 2026-12-24, 24.12.2026, 24 Dec, December 24th, friday, tomorrow."""
    text = text.strip().lower().rstrip(".")
    if text == "tomorrow":
        return today + timedelta(days=1)
    for number, name in enumerate(WEEKDAYS):
        if text in (name, name[:3], f"next {name}"):
            return today + timedelta(days=(number - today.weekday() - 1) % 7 + 1)
    year: int | None = None
    month = day = 0
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        year, month, day = map(int, match.groups())
    elif match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4})?)?", text):
        day, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    elif match := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", text):
        first, second = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            month, day = first, second
        else:
            raise _Reject("write the date as 2026-12-24: 1/2 could be January or February")
    elif match := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+),?(?:\s+(\d{4}))?", text):
        day, month = int(match.group(1)), _MONTHS.get(match.group(2), 0)
        year = int(match.group(3)) if match.group(3) else None
    elif match := re.fullmatch(r"([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?", text):
        month, day = _MONTHS.get(match.group(1), 0), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    else:
        raise _Reject("write the date as 2026-12-24")
    if year is not None and year < 100:
        year += 2000
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        raise _Reject("that is not a date") from None
    if year is None and found <= today:
        found = found.replace(year=today.year + 1) if not (month == 2 and day == 29) else found
    return found


def _pause_until(text: str, today: date) -> date | None:
    text = _value(text).lower()
    text = re.sub(r"^(my\s+)?(digests?|emails?|mails?)\b\s*", "", text)
    if text in _INDEFINITE:
        return None
    if match := re.fullmatch(r"(?:until|till|til|to|through|thru)\s+(.+)", text):
        until = _date(match.group(1), today)
    elif match := _DURATION.fullmatch(text):
        amount_text = (match.group("amount") or "1").lower()
        amount = _integer(amount_text)
        if amount is None or amount < 1:
            raise _Reject("say how long, e.g. “pause 2 weeks”")
        unit = match.group("unit").lower()
        if unit.startswith("mo"):
            until = _add_months(today, min(amount, 13))
        else:
            until = today + timedelta(days=min(amount, 999) * (1 if unit.startswith("d") else 7))
    else:
        try:
            until = _date(text, today)
        except _Reject:
            raise _Reject("say how long, e.g. “pause 2 weeks” or “pause until 2026-12-24”") from None
    if until <= today:
        raise _Reject("that date has passed")
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise _Reject("a pause can last at most a year")
    return until


def _on_off(text: str) -> bool:
    word = _value(text).lower()
    if word in ("", "on", "yes", "true", "1", "enable", "enabled", "please"):
        return True
    if word in ("off", "no", "false", "0", "disable", "disabled", "none"):
        return False
    raise _Reject("say on or off")


# -- grammar ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    line: str
    today: date

    def command(self, kind: CommandKind, **fields: object) -> Command:
        return Command.model_validate({"kind": kind, "line": self.line, **fields})


_Parse = Callable[[str, _Context], list[Command]]


def _bare(kind: CommandKind) -> _Parse:
    def parse(rest: str, context: _Context) -> list[Command]:
        if not _nothing(rest):
            raise _Reject("")  # "Stop by our lab" is prose, not a command with a wrong value
        return [context.command(kind)]

    return parse


def _listing(kind: CommandKind, what: str, *, clearable: bool = False) -> _Parse:
    def parse(rest: str, context: _Context) -> list[Command]:
        value = _value(rest)
        if clearable and value.lower() in _CLEAR:
            return [context.command(kind, terms=())]
        if kind in (CommandKind.TOPICS_SET, CommandKind.TOPIC_ADD, CommandKind.TOPIC_REMOVE):
            # Interests as people write them: a sentence or "models (diffusion, GANs)" stays whole.
            terms = _terms(value, what=what, splitter=split_topics, limit=MAX_TOPIC)
        else:
            splitter = _AUTHOR_SPLIT if kind in (CommandKind.FOLLOW, CommandKind.UNFOLLOW) else _TERM_SPLIT
            terms = _terms(value, what=what, splitter=splitter.split)
        if not terms:
            raise _Reject(f"say which {what}s, e.g. {_EXAMPLES[kind]}")
        if kind is CommandKind.FOLLOW and any(_NOT_AUTHOR.search(term) for term in terms):
            raise _Reject("that does not look like an author's name")
        return [context.command(kind, terms=terms)]

    return parse


def _categories_set(rest: str, context: _Context) -> list[Command]:
    value = _value(rest)
    if value.lower() in _CLEAR:
        return [context.command(CommandKind.CATEGORIES_SET, terms=())]
    found = _categories(value)
    if not found:
        raise _Reject("say which, e.g. “categories: cs.CL, cs.RO”")
    return [context.command(CommandKind.CATEGORIES_SET, terms=found)]


def _pause(rest: str, context: _Context) -> list[Command]:
    return [context.command(CommandKind.PAUSE, until=_pause_until(rest, context.today))]


def _feedback(kind: CommandKind) -> _Parse:
    def parse(rest: str, context: _Context) -> list[Command]:
        value = re.sub(r"^(like|of|about|this)\b[\s:]*", "", _value(rest).lower())
        pieces = [p for p in re.split(r"\s*(?:,|;|\band\b|&|\s)\s*", value) if p]
        numbers = [_integer(piece) for piece in pieces]
        if not numbers or any(n is None or not 1 <= n <= MAX_COUNT for n in numbers):
            raise _Reject(f"give the paper's number in the digest, e.g. “{kind.value.replace('_', ' ')} 2”")
        return [context.command(kind, number=n) for n in dict.fromkeys(numbers)]

    return parse


def _like(rest: str, context: _Context) -> list[Command]:
    """`like 2` rates paper 2 of the digest (as `more 2`); `like 2611.10021 arxiv.org/abs/...` names
    papers by arXiv id or page."""
    value = _value(rest)
    if _nothing(value):
        return [context.command(CommandKind.LIKES)]  # "likes", "show my likes"
    if all(_integer(piece) is not None for piece in re.split(r"[\s,;&]+|\band\b", value) if piece):
        return _feedback(CommandKind.MORE)(rest, context)
    return _papers(CommandKind.LIKE)(rest, context)


def _papers(kind: CommandKind) -> _Parse:
    def parse(rest: str, context: _Context) -> list[Command]:
        parsed = parse_ids(_value(rest))
        if not any(ch.isdigit() for ch in rest):
            raise _Reject("")  # "I like it", "like this one": prose, not a paper named
        if parsed.refused:
            shown = clean(parsed.refused[0], 60)
            raise _Reject(f"“{shown}” is not an arXiv id or an arxiv.org or huggingface.co/papers link")
        if not parsed.ids:
            raise _Reject(f"give arXiv ids or links, e.g. “{kind.value} 2611.10021”")
        if len(parsed.ids) > MAX_IDS:
            raise _Reject(f"at most {MAX_IDS} papers at a time")
        return [context.command(kind, terms=parsed.ids)]

    return parse


def _me(rest: str, context: _Context) -> list[Command]:
    (name,) = _terms(_value(rest), what="name", splitter=lambda text: [text]) or ("",)
    if not name or _NOT_AUTHOR.search(name) or len(name.split()) > 6:
        raise _Reject("give your name as on arXiv, e.g. “me: Ada Lovelace”")
    return [context.command(CommandKind.ME, terms=(name,))]


def _sections(rest: str, context: _Context) -> list[Command]:
    return [context.command(CommandKind.SECTIONS, on=_on_off(rest))]


def _count(rest: str, context: _Context) -> list[Command]:
    value = re.sub(r"\s*papers?(\s+per\s+digest)?$", "", _value(rest).lower())
    number = _integer(value)
    if number is None or not 1 <= number <= MAX_COUNT:
        raise _Reject(f"papers per digest: a number from 1 to {MAX_COUNT}")
    return [context.command(CommandKind.COUNT, number=number)]


def _time(rest: str, context: _Context) -> list[Command]:
    value = _value(rest)
    when, after = _clock(value)
    commands = [context.command(CommandKind.TIME, send_time=when)]
    after = re.sub(r"^[\s,]*(in|at)?\s*", "", after, flags=re.IGNORECASE)
    if after:
        zone = _zone(after)
        if zone is None:
            raise _Reject("give a time like 7:30, optionally with a time zone: “time 7:30 Europe/Berlin”")
        commands.append(context.command(CommandKind.TIMEZONE, timezone=zone))
    return commands


def _timezone(rest: str, context: _Context) -> list[Command]:
    zone = _zone(_value(rest))
    if zone is None:
        raise _Reject("use a time zone name such as Europe/Berlin or America/New_York")
    return [context.command(CommandKind.TIMEZONE, timezone=zone)]


def _weekly(rest: str, context: _Context) -> list[Command]:
    value = _value(rest)
    if _nothing(value):
        return [context.command(CommandKind.WEEKLY)]
    return [context.command(CommandKind.WEEKLY, weekday=_weekday(value))]


_FORMATS = {
    "text": Format.TEXT,
    "plain": Format.TEXT,
    "plain text": Format.TEXT,
    "plaintext": Format.TEXT,
    "txt": Format.TEXT,
    "text only": Format.TEXT,
    "html": Format.HTML,
    "both": Format.HTML,
    "rich": Format.HTML,
}


def _format(rest: str, context: _Context) -> list[Command]:
    word = " ".join(_value(rest).lower().split())
    if word not in _FORMATS:
        raise _Reject("say “format text” or “format html”")
    return [context.command(CommandKind.FORMAT, format=_FORMATS[word])]


def _fixed_format(chosen: Format) -> _Parse:
    def parse(rest: str, context: _Context) -> list[Command]:
        if not _nothing(rest):
            raise _Reject("say “format text” or “format html”")
        return [context.command(CommandKind.FORMAT, format=chosen)]

    return parse


def _quiet(rest: str, context: _Context) -> list[Command]:
    return [context.command(CommandKind.QUIET_DAYS, on=_on_off(rest))]


def _trending(rest: str, context: _Context) -> list[Command]:
    return [context.command(CommandKind.TRENDING, on=_on_off(rest))]


@dataclass(frozen=True)
class _Rule:
    parse: _Parse
    # Nouns that set a list need "topics: ..." so that "Topics like this are great" stays prose.
    needs_separator: bool = False


_K = CommandKind
_TOPICS = _listing(_K.TOPICS_SET, "topic", clearable=True)
_FOLLOW = _listing(_K.FOLLOW, "author")
# Keys are words in the singular, one space apart; the longest key that starts a line wins.
_RULES: dict[str, _Rule] = {
    **dict.fromkeys(
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
        _Rule(_bare(_K.UNSUBSCRIBE)),
    ),
    **dict.fromkeys(
        ("subscribe", "resubscribe", "sign up", "sign me up", "start", "opt in", "join"),
        _Rule(_bare(_K.SUBSCRIBE)),
    ),
    **dict.fromkeys(("pause", "snooze"), _Rule(_pause)),
    **dict.fromkeys(("resume", "unpause", "unsnooze", "restart"), _Rule(_bare(_K.RESUME))),
    **dict.fromkeys(("topic", "interest", "keyword"), _Rule(_TOPICS, needs_separator=True)),
    **dict.fromkeys(("set topic", "set interest"), _Rule(_TOPICS)),
    **dict.fromkeys(
        ("add topic", "add interest", "add keyword", "topic add"), _Rule(_listing(_K.TOPIC_ADD, "topic"))
    ),
    **dict.fromkeys(
        ("remove topic", "delete topic", "drop topic", "remove interest", "remove keyword", "topic remove"),
        _Rule(_listing(_K.TOPIC_REMOVE, "topic")),
    ),
    **dict.fromkeys(
        ("exclude", "exclusion", "add exclude", "add exclusion", "mute"),
        _Rule(_listing(_K.EXCLUDE_ADD, "exclusion")),
    ),
    **dict.fromkeys(
        ("unexclude", "un exclude", "remove exclude", "remove exclusion", "unmute"),
        _Rule(_listing(_K.EXCLUDE_REMOVE, "exclusion")),
    ),
    **dict.fromkeys(("category", "arxiv category", "set category"), _Rule(_categories_set)),
    **dict.fromkeys(("follow", "follow author", "add author"), _Rule(_FOLLOW)),
    "author": _Rule(_FOLLOW, needs_separator=True),
    **dict.fromkeys(
        ("unfollow", "un follow", "unfollow author", "stop following", "remove author"),
        _Rule(_listing(_K.UNFOLLOW, "author")),
    ),
    "more": _Rule(_feedback(_K.MORE)),
    "more like": _Rule(_feedback(_K.MORE_LIKE)),
    **dict.fromkeys(("like", "like paper"), _Rule(_like)),
    **dict.fromkeys(("unlike", "un like", "remove like"), _Rule(_papers(_K.UNLIKE))),
    **dict.fromkeys(
        ("my like", "show like", "show my like", "list like", "list my like", "liked paper"),
        _Rule(_bare(_K.LIKES)),
    ),
    **dict.fromkeys(("me", "my name"), _Rule(_me, needs_separator=True)),
    **dict.fromkeys(("section", "topic section", "sections by topic"), _Rule(_sections)),
    **dict.fromkeys(("less", "less like", "fewer", "fewer like", "dislike"), _Rule(_feedback(_K.LESS))),
    **dict.fromkeys(("count", "number of paper", "paper per digest"), _Rule(_count)),
    **dict.fromkeys(("time", "send time", "delivery time", "send at", "deliver at"), _Rule(_time)),
    **dict.fromkeys(("timezone", "time zone", "tz", "zone"), _Rule(_timezone)),
    **dict.fromkeys(("daily", "every day", "once a day"), _Rule(_bare(_K.DAILY))),
    **dict.fromkeys(("weekly", "every week", "once a week"), _Rule(_weekly)),
    "format": _Rule(_format),
    **dict.fromkeys(("plain text", "plaintext", "text only"), _Rule(_fixed_format(Format.TEXT))),
    "html": _Rule(_fixed_format(Format.HTML)),
    **dict.fromkeys(("quiet day", "quiet", "quietday", "quiet day note", "quiet note"), _Rule(_quiet)),
    **dict.fromkeys(("trending", "also trending", "trending section"), _Rule(_trending)),
    **dict.fromkeys(
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
        _Rule(_bare(_K.SETTINGS)),
    ),
    **dict.fromkeys(("help", "command", "list command"), _Rule(_bare(_K.HELP))),
}
_EXAMPLES = {
    _K.TOPICS_SET: "“topics: speech, robotics”",
    _K.TOPIC_ADD: "“add topic diffusion models”",
    _K.TOPIC_REMOVE: "“remove topic robotics”",
    _K.EXCLUDE_ADD: "“exclude: medical imaging”",
    _K.EXCLUDE_REMOVE: "“unexclude medical imaging”",
    _K.FOLLOW: "“follow Yann LeCun”",
    _K.UNFOLLOW: "“unfollow Yann LeCun”",
}
_KEYS = sorted(((key.split(), rule) for key, rule in _RULES.items()), key=lambda item: -len(item[0]))
# Long command words whose typos are common and whose near neighbours are rare in prose. Short or
# everyday words ("more", "time", "follow", which is one letter from "fellow") must be exact.
_FORGIVEN = frozenset(
    {
        "unsubscribe",
        "subscribe",
        "resubscribe",
        "pause",
        "resume",
        "topic",
        "interest",
        "category",
        "exclude",
        "unexclude",
        "timezone",
        "setting",
        "unfollow",
        "weekly",
        "section",
    }
)
# "stop" ends reading in Mailman; "end" does here, before a signature without "-- ".
_END = frozenset({"end", "end of commands"})
_WORD = re.compile(r"[^\W\d_]+")
_SEPARATOR = re.compile(r"\s*(?:[:=]|[-–—](?=\s|$))\s*")
_BULLET = re.compile(r"^(?:[-*•·+]\s*|\d{1,2}[.)]\s+)+")


# A word at the start of a line: (singular, as typed, where it ends).
_Typed = tuple[str, str, int]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def _distance(left: str, right: str, bound: int) -> int:
    """Edits from one word to another, a swap of neighbours counting as one ("pasue")."""
    if abs(len(left) - len(right)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        row = [i]
        for j, b in enumerate(right, start=1):
            best = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                best = min(best, previous2[j - 2] + 1)
            row.append(best)
        previous2, previous = previous, row
    return previous[-1]


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _close(typed: _Typed, word: str) -> bool:
    singular, as_typed, _ = typed
    if singular == word:
        return True
    if word not in _FORGIVEN or len(singular) < 4 or singular[0] != word[0]:
        return False
    # Two slips in a long word ("unsusbcribe"), one in a short one ("pasue", "resum"); a misspelt
    # plural is compared with the plural ("categoires").
    allowed = 2 if len(word) >= 10 else 1
    return min(_distance(singular, word, 2), _distance(as_typed, _plural(word), 2)) <= allowed


def _head(text: str) -> list[_Typed]:
    """The leading words (singular, and lower-cased as typed) and where each ends; words joined by
    a space, a hyphen or an underscore ("time-zone", "opt-out"), up to four."""
    words: list[_Typed] = []
    position = 0
    while len(words) < 4:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group().lower()
        words.append((_singular(word), word, match.end()))
        gap = re.match(r"[ \t]+|[-_](?=[^\W\d_])", text[match.end() :])
        if gap is None:
            break
        position = match.end() + gap.end()
    return words


def _rule(text: str) -> tuple[_Rule, str, bool] | None:
    """The command a line starts with, what follows it, and whether the word was matched exactly.
    Exact words first: a typo match must never shadow a command typed correctly."""
    words = _head(text)
    for exact in (True, False):
        for key, rule in _KEYS:
            if len(key) > len(words):
                continue
            typed = words[: len(key)]
            if ([t[0] for t in typed] == key) != exact:
                continue
            if not all(_close(t, k) for t, k in zip(typed, key, strict=True)):
                continue
            end = words[len(key) - 1][2]
            rest = text[end:]
            separator = _SEPARATOR.match(rest)
            if separator:
                rest = rest[separator.end() :]
            elif rest and not rest[0].isspace() and rest.strip(".!?") != "":
                continue  # "follow-up" and "topics2" are not commands; "stop." is
            if rule.needs_separator and separator is None and rest.strip(".!? "):
                continue
            return rule, rest.strip(), exact
    return None


def parse_commands(text: str, *, today: date, max_lines: int = MAX_LINES) -> ParsedCommands:
    """Commands in the first `max_lines` non-empty lines of a reply's new text."""
    commands: list[Command] = []
    not_understood: list[str] = []
    rejected: list[str] = []
    read = 0
    for raw_line in text.splitlines():
        if read >= max_lines:
            break
        line = clean(raw_line, MAX_LINE + 1)
        if not line:
            continue
        if line.startswith(">"):
            break  # a quote begins: nothing below was written to us
        read += 1
        if len(line) > MAX_LINE:
            not_understood.append(_echo(line, "too long"))
            continue
        body = _BULLET.sub("", line).strip(" \"'“”‘’`*_")
        if body.lower().rstrip(".!") in _END:
            break
        if body == "?":
            commands.append(Command(kind=CommandKind.HELP, line=line))
            continue
        found = _rule(body)
        if found is None:
            not_understood.append(_echo(line))
            continue
        rule, rest, exact = found
        try:
            commands.extend(rule.parse(rest, _Context(line=line, today=today)))
        except _Reject as reason:
            # A guessed command word with a wrong value is most likely just prose.
            not_understood.append(_echo(line, str(reason) if exact else ""))
            if exact and str(reason):
                rejected.append(not_understood[-1])
        except (ValueError, OverflowError):
            # Dates far out of range and the like: not understood, like any other bad value.
            not_understood.append(_echo(line))
    return ParsedCommands(commands=commands, not_understood=not_understood, rejected=rejected)


# -- applying -----------------------------------------------------------------------------------------
def _quoted(terms: tuple[str, ...]) -> str:
    # A topic may hold commas ("generative models (diffusion, GANs)"): then semicolons separate.
    return ("; " if any("," in term for term in terms) else ", ").join(terms)


def _added(current: tuple[str, ...], terms: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    known = {term.lower() for term in current}
    merged = (*current, *(term for term in terms if term.lower() not in known))
    return merged[:MAX_TERMS], merged[MAX_TERMS:]


def _removed(current: tuple[str, ...], terms: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    gone = {term.lower() for term in terms}
    missing = tuple(term for term in terms if term.lower() not in {c.lower() for c in current})
    return tuple(term for term in current if term.lower() not in gone), missing


_Update = tuple[dict[str, object], str]


def _list_change(kind: CommandKind, settings: ReaderSettings, terms: tuple[str, ...]) -> _Update:
    field, label, empty = {
        _K.TOPICS_SET: ("topics", "topics are now", "no topics: you get the day's trending papers"),
        _K.TOPIC_ADD: ("topics", "topics are now", ""),
        _K.TOPIC_REMOVE: ("topics", "topics are now", "no topics: you get the day's trending papers"),
        _K.EXCLUDE_ADD: ("excludes", "excluded", ""),
        _K.EXCLUDE_REMOVE: ("excludes", "excluded", "nothing is excluded"),
        _K.CATEGORIES_SET: ("categories", "arXiv categories are now", "papers from any arXiv category"),
        _K.FOLLOW: ("authors", "authors followed", ""),
        _K.UNFOLLOW: ("authors", "authors followed", "no authors followed"),
    }[kind]
    current: tuple[str, ...] = getattr(settings, field)
    note = ""
    if kind in (_K.TOPICS_SET, _K.CATEGORIES_SET):
        value, dropped = terms[:MAX_TERMS], terms[MAX_TERMS:]
    elif kind in (_K.TOPIC_ADD, _K.EXCLUDE_ADD, _K.FOLLOW):
        value, dropped = _added(current, terms)
    else:
        value, missing = _removed(current, terms)
        dropped = ()
        if missing:
            note = f" (there was no “{_quoted(missing)}”)"
    if dropped:
        note = f" (at most {MAX_TERMS}: “{_quoted(dropped)}” left out)"
    description = f"{label}: {_quoted(value)}" if value else empty
    return {field: value}, description + note


def _change(settings: ReaderSettings, command: Command) -> _Update | None:
    kind = command.kind
    if kind in (
        _K.TOPICS_SET,
        _K.TOPIC_ADD,
        _K.TOPIC_REMOVE,
        _K.EXCLUDE_ADD,
        _K.EXCLUDE_REMOVE,
        _K.CATEGORIES_SET,
        _K.FOLLOW,
        _K.UNFOLLOW,
    ):
        return _list_change(kind, settings, command.terms)
    if kind is _K.COUNT and command.number is not None:
        return {"count": command.number}, f"papers per digest: {command.number}"
    if kind is _K.TIME and command.send_time is not None:
        when = f"{command.send_time:%H:%M}"
        return {"send_time": command.send_time}, f"delivery time: {when} ({settings.timezone})"
    if kind is _K.TIMEZONE and command.timezone:
        when = f"{settings.send_time:%H:%M}"
        return {"timezone": command.timezone}, f"time zone: {command.timezone} (delivery at {when})"
    if kind is _K.DAILY:
        return {"frequency": Frequency.DAILY}, "a digest every day"
    if kind is _K.WEEKLY:
        weekday = settings.weekday if command.weekday is None else command.weekday
        day = WEEKDAYS[weekday].title()
        return {"frequency": Frequency.WEEKLY, "weekday": weekday}, f"a digest every {day}"
    if kind is _K.FORMAT and command.format is not None:
        text = command.format is Format.TEXT
        described = "plain-text mail only" if text else "HTML mail with a plain-text part"
        return {"format": command.format}, described
    if kind is _K.QUIET_DAYS and command.on is not None:
        return {"quiet_days": command.on}, f"quiet-day notes {'on' if command.on else 'off'}"
    if kind is _K.SECTIONS and command.on is not None:
        shown = "on: with two or more topics, one section per topic" if command.on else "off: one list"
        return {"sections": command.on}, f"sections {shown}"
    if kind is _K.TRENDING and command.on is not None:
        shown = "on: the day's top papers follow your picks" if command.on else "off"
        return {"trending": command.on}, f"“Also trending” section {shown}"
    return None


def apply(settings: ReaderSettings, commands: list[Command]) -> tuple[ReaderSettings, list[str]]:
    """The settings after every command that changes settings, in order, and one sentence per change.
    Status commands (unsubscribe, subscribe, pause, resume), feedback (more, less), settings and
    help change no setting: the caller handles them."""
    changes: list[str] = []
    for command in commands:
        change = _change(settings, command)
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


def help_text(domain: str) -> str:
    """The command list with examples. It comes back quoted in replies, and Outlook does not mark
    quotes, so no line of it reads as a command: each starts with "To" or "Reply"."""
    return f"""Reply to any Paperboy mail, one instruction per line at the top of your reply.
To set your interests: topics: speech recognition, robotics
To add or remove one: add topic diffusion models / remove topic robotics
To never see papers about something: exclude: medical imaging (undo: unexclude medical imaging)
To draw from arXiv categories: categories: cs.CL, cs.RO
To always get an author's papers: follow Yann LeCun (undo: unfollow Yann LeCun)
To rate a paper of the digest you answer: more 2 / less 3
To get papers close to one of the digest now: more like 2
To say what you read: like 2611.10021 (ids or arxiv.org / huggingface.co links; undo: unlike 2611.10021)
To see the papers you liked: likes
To follow yourself and seed your profile with your papers: me: Ada Lovelace (undo: unfollow Ada Lovelace)
To group a digest of several topics by topic: sections on (or off)
To get more or fewer papers: count 5 (1 to 25)
To choose when it comes: time 7:30 / timezone Europe/Berlin
To choose how often: daily / weekly / weekly friday
To get plain text only, or HTML too: format text / format html
To get a note on days with nothing new: quiet days on (or off)
To hide the day's top papers shown below your picks: trending off (or on)
To take a break: pause / pause 2 weeks / pause until 2026-12-24, and later: resume
To see your settings: settings. To see this list: help
To stop all mail at once: unsubscribe (or: stop)
To subscribe a friend: they write to subscribe@{domain}"""
