"""The values email commands take, and the parse rules the command catalogue is built from.

Values end up in settings and in mail we send: control and format characters are dropped (no CR
or LF survives), angle brackets are removed from free text, and lengths are capped. A value that
cannot be used raises Reject, with why in words the reader can act on.
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

from pydantic import BaseModel, ConfigDict

from paperboy.readers.model import (
    MAX_TOPIC,
    MAX_TOPICS,
    WEEKDAYS,
    Format,
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
    LESS = "less"
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


def echo(line: str, reason: str = "") -> str:
    shown = line if len(line) <= MAX_ECHO else line[: MAX_ECHO - 1].rstrip() + "…"
    return f"{shown} ({reason})" if reason else shown


class Reject(ValueError):
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
            raise Reject(f"each {what} can be at most {limit} characters")
        found.setdefault(term.lower(), term)
    if len(found) > MAX_TERMS:
        raise Reject(f"at most {MAX_TERMS} {what}s")
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
            raise Reject(f"“{clean(token, 40)}” is not an arXiv category like cs.CL")
        archive, subject = match.group(1).lower(), match.group(2)
        if subject:
            # arXiv writes two-letter subject classes in capitals (cs.CL), longer ones in lower case.
            archive += "." + (subject.upper() if len(subject) == 2 else subject.lower())
        found[archive] = None
    if len(found) > MAX_TERMS:
        raise Reject(f"at most {MAX_TERMS} categories")
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
        raise Reject("give a time like 7:30, 7:30pm or 19:30")
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
            raise Reject("with am or pm, the hour is 1 to 12")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise Reject("give a time like 7:30, 7:30pm or 19:30")
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
    raise Reject("name a day, e.g. “weekly friday”")


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
            raise Reject("write the date as 2026-12-24: 1/2 could be January or February")
    elif match := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+),?(?:\s+(\d{4}))?", text):
        day, month = int(match.group(1)), _MONTHS.get(match.group(2), 0)
        year = int(match.group(3)) if match.group(3) else None
    elif match := re.fullmatch(r"([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?", text):
        month, day = _MONTHS.get(match.group(1), 0), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    else:
        raise Reject("write the date as 2026-12-24")
    if year is not None and year < 100:
        year += 2000
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        raise Reject("that is not a date") from None
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
            raise Reject("say how long, e.g. “pause 2 weeks”")
        unit = match.group("unit").lower()
        if unit.startswith("mo"):
            until = _add_months(today, min(amount, 13))
        else:
            until = today + timedelta(days=min(amount, 999) * (1 if unit.startswith("d") else 7))
    else:
        try:
            until = _date(text, today)
        except Reject:
            raise Reject("say how long, e.g. “pause 2 weeks” or “pause until 2026-12-24”") from None
    if until <= today:
        raise Reject("that date has passed")
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise Reject("a pause can last at most a year")
    return until


def _on_off(text: str) -> bool:
    word = _value(text).lower()
    if word in ("", "on", "yes", "true", "1", "enable", "enabled", "please"):
        return True
    if word in ("off", "no", "false", "0", "disable", "disabled", "none"):
        return False
    raise Reject("say on or off")


# -- parse rules --------------------------------------------------------------------------------------
# A parse rule reads what follows a command word and gives the commands it means, or raises Reject
# (the word was clear, its value was not). The catalogue pairs each rule with its command words and
# its kind, which the context carries.
@dataclass(frozen=True)
class Context:
    kind: CommandKind
    line: str
    today: date
    # The kind's first example in the catalogue, for "say which topics, e.g. …".
    example: str = ""

    def command(self, kind: CommandKind | None = None, **fields: object) -> Command:
        return Command.model_validate({"kind": kind or self.kind, "line": self.line, **fields})


Parse = Callable[[str, Context], list[Command]]


def bare(rest: str, context: Context) -> list[Command]:
    """A command that takes nothing ("stop", "help"): politeness may follow, anything else is prose."""
    if not _nothing(rest):
        raise Reject("")  # "Stop by our lab" is prose, not a command with a wrong value
    return [context.command()]


class Items(StrEnum):
    """How a list of terms is split."""

    TERMS = "terms"
    # Interests as people write them: a sentence or "models (diffusion, GANs)" stays whole.
    TOPICS = "topics"
    # "A and B" is two authors.
    AUTHORS = "authors"


def listing(what: str, *, items: Items = Items.TERMS, clearable: bool = False, names: bool = False) -> Parse:
    """A list of terms ("topics: a, b"). `clearable`: "none" empties it; `names`: refuse what
    cannot be a person's name (a signature's "Follow us on LinkedIn")."""

    def parse(rest: str, context: Context) -> list[Command]:
        value = _value(rest)
        if clearable and value.lower() in _CLEAR:
            return [context.command(terms=())]
        if items is Items.TOPICS:
            terms = _terms(value, what=what, splitter=split_topics, limit=MAX_TOPIC)
        else:
            splitter = _AUTHOR_SPLIT if items is Items.AUTHORS else _TERM_SPLIT
            terms = _terms(value, what=what, splitter=splitter.split)
        if not terms:
            raise Reject(f"say which {what}s, e.g. “{context.example}”")
        if names and any(_NOT_AUTHOR.search(term) for term in terms):
            raise Reject("that does not look like an author's name")
        return [context.command(terms=terms)]

    return parse


def categories(rest: str, context: Context) -> list[Command]:
    value = _value(rest)
    if value.lower() in _CLEAR:
        return [context.command(terms=())]
    found = _categories(value)
    if not found:
        raise Reject(f"say which, e.g. “{context.example}”")
    return [context.command(terms=found)]


def pause(rest: str, context: Context) -> list[Command]:
    return [context.command(until=_pause_until(rest, context.today))]


def numbers(rest: str, context: Context) -> list[Command]:
    """Papers of the digest replied to, by number: "more 2", "less 2 and 3"."""
    value = re.sub(r"^(like|of|about)\s+", "", _value(rest).lower())
    pieces = [p for p in re.split(r"\s*(?:,|;|\band\b|&|\s)\s*", value) if p]
    found = [_integer(piece) for piece in pieces]
    if not found or any(n is None or not 1 <= n <= MAX_COUNT for n in found):
        raise Reject(f"give the paper's number in the digest, e.g. “{context.example}”")
    return [context.command(number=n) for n in dict.fromkeys(found)]


def count(rest: str, context: Context) -> list[Command]:
    value = re.sub(r"\s*papers?(\s+per\s+digest)?$", "", _value(rest).lower())
    number = _integer(value)
    if number is None or not 1 <= number <= MAX_COUNT:
        raise Reject(f"papers per digest: a number from 1 to {MAX_COUNT}")
    return [context.command(number=number)]


def time_of_day(rest: str, context: Context) -> list[Command]:
    """A time, and optionally a time zone after it ("time 7:30 Europe/Berlin"): a TIMEZONE too."""
    when, after = _clock(_value(rest))
    commands = [context.command(send_time=when)]
    after = re.sub(r"^[\s,]*(in|at)?\s*", "", after, flags=re.IGNORECASE)
    if after:
        zone = _zone(after)
        if zone is None:
            raise Reject("give a time like 7:30, optionally with a time zone: “time 7:30 Europe/Berlin”")
        commands.append(context.command(CommandKind.TIMEZONE, timezone=zone))
    return commands


def time_zone(rest: str, context: Context) -> list[Command]:
    zone = _zone(_value(rest))
    if zone is None:
        raise Reject("use a time zone name such as Europe/Berlin or America/New_York")
    return [context.command(timezone=zone)]


def weekday(rest: str, context: Context) -> list[Command]:
    """Nothing, or a day ("weekly", "weekly friday")."""
    value = _value(rest)
    if _nothing(value):
        return [context.command()]
    return [context.command(weekday=_weekday(value))]


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


def mail_format(chosen: Format | None = None) -> Parse:
    """ "format text" names the format; a word that is one ("plain text", "html") stands alone."""

    def parse(rest: str, context: Context) -> list[Command]:
        if chosen is not None:
            if not _nothing(rest):
                raise Reject("say “format text” or “format html”")
            return [context.command(format=chosen)]
        word = " ".join(_value(rest).lower().split())
        if word not in _FORMATS:
            raise Reject("say “format text” or “format html”")
        return [context.command(format=_FORMATS[word])]

    return parse


def switch(rest: str, context: Context) -> list[Command]:
    """On or off ("quiet days on", "trending off"); the word alone means on."""
    return [context.command(on=_on_off(rest))]
