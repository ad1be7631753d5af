"""Email commands (brief section 4): the new text of a reply, read line by line.

Forgiving where a person is sloppy: case, punctuation, plural or singular, a bullet in front, a
typo in a long command word ("unsubcribe", "pasue"). Strict where prose could pass for a command:
a command word must start the line, a command that takes nothing ("stop", "help") must stand
alone (politeness aside: "stop by our lab" is not a command), nouns that set a list ("topics",
"interests", "authors") need a separator ("topics: ..."), and every value is checked. A line that
is not understood changes nothing. Only the first lines are read and reading stops at the first
`>` line, so a quoted footer can never issue a command.

Which words start which command, and how each reads its value, is declared in
`paperboy.mail.inbound.catalogue`; the values themselves are read in `grammar`. This module finds
the command word a line starts with.
"""

from __future__ import annotations

import re
from datetime import date

from paperboy.mail.inbound.catalogue import CATALOGUE, Spec, Syntax, apply, help_text, settings_summary
from paperboy.mail.inbound.grammar import (
    MAX_LINE,
    MAX_LINES,
    MAX_TERM,
    Command,
    CommandKind,
    Context,
    ParsedCommands,
    Reject,
    clean,
    echo,
)

__all__ = [
    "MAX_LINES",
    "MAX_TERM",
    "Command",
    "CommandKind",
    "ParsedCommands",
    "apply",
    "clean",
    "help_text",
    "parse_commands",
    "settings_summary",
]


def _keys() -> list[tuple[list[str], Syntax, Spec]]:
    """Every command word of the catalogue, longest first: the longest that starts a line wins."""
    keys: dict[str, tuple[Syntax, Spec]] = {}
    for spec in CATALOGUE.values():
        for syntax in spec.syntax:
            for words in syntax.words:
                if words in keys:
                    raise ValueError(
                        f"“{words}” is a command word of both {keys[words][1].kind} and {spec.kind}"
                    )
                keys[words] = (syntax, spec)
    return sorted(((words.split(), *found) for words, found in keys.items()), key=lambda item: -len(item[0]))


_KEYS = _keys()
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


def _rule(text: str) -> tuple[Syntax, Spec, str, bool] | None:
    """The command a line starts with, what follows it, and whether the word was matched exactly.
    Exact words first: a typo match must never shadow a command typed correctly."""
    words = _head(text)
    for exact in (True, False):
        for key, syntax, spec in _KEYS:
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
            if syntax.needs_separator and separator is None and rest.strip(".!? "):
                continue
            return syntax, spec, rest.strip(), exact
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
            not_understood.append(echo(line, "too long"))
            continue
        body = _BULLET.sub("", line).strip(" \"'“”‘’`*_")
        if body.lower().rstrip(".!") in _END:
            break
        if body == "?":
            commands.append(Command(kind=CommandKind.HELP, line=line))
            continue
        found = _rule(body)
        if found is None:
            not_understood.append(echo(line))
            continue
        syntax, spec, rest, exact = found
        try:
            context = Context(kind=spec.kind, line=line, today=today, example=spec.examples[0])
            commands.extend(syntax.parse(rest, context))
        except Reject as reason:
            # A guessed command word with a wrong value is most likely just prose.
            not_understood.append(echo(line, str(reason) if exact else ""))
            if exact and str(reason):
                rejected.append(not_understood[-1])
        except (ValueError, OverflowError):
            # Dates far out of range and the like: not understood, like any other bad value.
            not_understood.append(echo(line))
    return ParsedCommands(commands=commands, not_understood=not_understood, rejected=rejected)
