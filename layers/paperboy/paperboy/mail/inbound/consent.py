"""Whether a reply to a confirmation says yes.

Replying used to confirm whatever the reply said, so "unsubscribe — I never asked for this"
subscribed its writer and "this was NOT me" applied a forged change. Now only a yes confirms: an
affirmative line ("yes", "ok", "yes please", "👍", "oui"), a command ("topics: robotics", alone or
after a yes: "yes, topics: robotics"), or nothing at all (a reply that only quotes the confirmation;
greetings, names and phone signatures count as nothing). Anything that reads as a refusal wins over
any yes: a negation or a refusing word outside a command's value ("no", "not me", "never asked",
"remove me", "nein"), or the command `unsubscribe`/`stop`. The rest (a question, prose) is unclear:
nothing is confirmed and the reader is asked again. Erring towards "no" costs a reader one more
sign-up; erring towards "yes" mails someone who refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from paperboy.mail.inbound.commands import MAX_LINES, Command, CommandKind, clean, parse_commands


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Consent:
    answer: Answer
    # Commands the reply itself carries (the caller decides whether its sender may give them).
    commands: list[Command] = field(default_factory=list)


# Matched on a lower-cased line without apostrophes ("didn’t" -> "didnt"), as whole words.
_REFUSAL = re.compile(
    r"(?<![\w-])(?:no|nope|nah|not|never|none|dont|didnt|doesnt|wasnt|isnt|wont|stop|unsubscribe|"
    r"cancel|remove|delete|spam|wrong|mistake|nein|nicht|nee|niet|nej|non|pas|nunca)(?![\w-])"
)
_YES = re.compile(
    r"(?:yes|yeah|yep|yup|y|ok|okay|k|sure|confirm(?:ed)?|please|go ahead|sounds good|absolutely|"
    r"of course|definitely|subscribe me|sign me up|thanks|thank you|thx|ja|oui|si|sí|sim|da|tak|"
    r"hai|はい|是|好|👍|✅|✔️|✔|☑️|☑)(?![\w])"
)
# Lines that say nothing either way: greetings, sign-offs, a phone's signature (lower-cased)...
_NEUTRAL = re.compile(
    r"(?:hi|hello|hey|dear|best|regards|kind regards|best regards|cheers|yours|sincerely)\b.*"
    r"|sent from my .*|get outlook for .*|--+"
)
# ... and a signed name: one to three capitalised words ("Ada", "Ada Lovelace", "A. Lovelace").
_NAME_WORD = re.compile(r"[^\W\d_][\w.'-]*")


def _neutral(line: str) -> bool:
    if _NEUTRAL.fullmatch(line.lower()):
        return True
    words = line.rstrip(",").split()
    return 1 <= len(words) <= 3 and all(w[0].isupper() and _NAME_WORD.fullmatch(w) for w in words)


_BULLET = re.compile(r"^(?:[-*•·+]\s*)+")
_AFTER_YES = " ,;:.!-–—"


def _words(line: str) -> str:
    return line.lower().replace("’", "").replace("'", "")


def read(new_text: str, *, today: date) -> Consent:
    """What a reply's new text answers to "do you confirm?"."""
    affirmed = unclear = False
    commands: list[Command] = []
    read_lines = 0
    for raw_line in new_text.splitlines():
        line = clean(raw_line)
        if not line:
            continue
        if line.startswith(">") or read_lines >= MAX_LINES:
            break
        read_lines += 1
        body = _BULLET.sub("", line).strip(" \"'“”‘’`*_")
        yes = _YES.match(body.lower())
        rest = body[yes.end() :].lstrip(_AFTER_YES) if yes else body
        affirmed = affirmed or yes is not None
        if not rest:
            continue
        parsed = parse_commands(rest, today=today, max_lines=1)
        if parsed.commands and not parsed.not_understood:
            if any(command.kind is CommandKind.UNSUBSCRIBE for command in parsed.commands):
                return Consent(answer=Answer.NO)
            commands.extend(parsed.commands)
            continue
        if _REFUSAL.search(_words(rest)):
            return Consent(answer=Answer.NO)
        if yes is None and not _neutral(rest):
            unclear = True
    if affirmed or commands or not unclear:
        return Consent(answer=Answer.YES, commands=commands)
    return Consent(answer=Answer.UNCLEAR)
