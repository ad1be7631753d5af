"""Email commands: what a reader's line means, what is never taken for a command, and how the
understood commands change the settings."""

from __future__ import annotations

import unicodedata
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperboy.mail.inbound.commands import (
    MAX_TERM,
    Command,
    CommandKind,
    apply,
    help_text,
    parse_commands,
)
from paperboy.readers.model import MAX_TOPIC, Format, Frequency, ReaderSettings

TODAY = date(2026, 11, 23)  # a Monday
K = CommandKind


def one(line: str) -> Command:
    parsed = parse_commands(line, today=TODAY)
    assert parsed.not_understood == [], parsed.not_understood
    assert len(parsed.commands) == 1, parsed.commands
    return parsed.commands[0]


def kinds(text: str) -> list[CommandKind]:
    return [command.kind for command in parse_commands(text, today=TODAY).commands]


# -- what lines mean ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "kind", "fields"),
    [
        ("unsubscribe", K.UNSUBSCRIBE, {}),
        ("Unsubscribe!", K.UNSUBSCRIBE, {}),
        ("UNSUBSCRIBE", K.UNSUBSCRIBE, {}),
        ("unsubscribe me please", K.UNSUBSCRIBE, {}),
        ("Please unsubscribe me", None, {}),  # the command word starts the line
        ("stop", K.UNSUBSCRIBE, {}),
        ("STOP.", K.UNSUBSCRIBE, {}),
        ("stop sending me emails", K.UNSUBSCRIBE, {}),
        ("opt-out", K.UNSUBSCRIBE, {}),
        ("subscribe", K.SUBSCRIBE, {}),
        ("resubscribe", K.SUBSCRIBE, {}),
        ("sign me up", K.SUBSCRIBE, {}),
        ("pause", K.PAUSE, {"until": None}),
        ("pause 2 weeks", K.PAUSE, {"until": date(2026, 12, 7)}),
        ("pause for 2 weeks please", K.PAUSE, {"until": date(2026, 12, 7)}),
        ("pause 10 days", K.PAUSE, {"until": date(2026, 12, 3)}),
        ("pause 1 week", K.PAUSE, {"until": date(2026, 11, 30)}),
        ("pause a week", K.PAUSE, {"until": date(2026, 11, 30)}),
        ("pause two weeks", K.PAUSE, {"until": date(2026, 12, 7)}),
        ("pause 3w", K.PAUSE, {"until": date(2026, 12, 14)}),
        ("pause 1 month", K.PAUSE, {"until": date(2026, 12, 23)}),
        ("pause until 2026-12-24", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause till Dec 24th", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause until 24 December", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause until 24.12.", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause until 24/12/2026", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause until 12/24", K.PAUSE, {"until": date(2026, 12, 24)}),
        ("pause until 5 jan", K.PAUSE, {"until": date(2027, 1, 5)}),  # next occurrence
        ("pause until friday", K.PAUSE, {"until": date(2026, 11, 27)}),
        ("pause until monday", K.PAUSE, {"until": date(2026, 11, 30)}),  # next Monday, not today
        ("pause until further notice", K.PAUSE, {"until": None}),
        ("pause digests for 2 weeks", K.PAUSE, {"until": date(2026, 12, 7)}),
        ("resume", K.RESUME, {}),
        ("unpause", K.RESUME, {}),
        ("topics: speech, robotics", K.TOPICS_SET, {"terms": ("speech", "robotics")}),
        ("Topics: speech; robotics", K.TOPICS_SET, {"terms": ("speech", "robotics")}),
        ("topics - speech, robotics", K.TOPICS_SET, {"terms": ("speech", "robotics")}),
        ("topic: speech recognition", K.TOPICS_SET, {"terms": ("speech recognition",)}),
        ("TOPICS = speech, Speech, robotics.", K.TOPICS_SET, {"terms": ("speech", "robotics")}),
        ("interests: RL", K.TOPICS_SET, {"terms": ("RL",)}),
        ("set topics speech, robotics", K.TOPICS_SET, {"terms": ("speech", "robotics")}),
        ("topics: none", K.TOPICS_SET, {"terms": ()}),
        ('topics: "world models", ‘RL’', K.TOPICS_SET, {"terms": ("world models", "RL")}),
        ("add topic diffusion models", K.TOPIC_ADD, {"terms": ("diffusion models",)}),
        ("add topics x, y", K.TOPIC_ADD, {"terms": ("x", "y")}),
        ("Add Topic: x", K.TOPIC_ADD, {"terms": ("x",)}),
        ("remove topic robotics", K.TOPIC_REMOVE, {"terms": ("robotics",)}),
        ("remove topics: a, b", K.TOPIC_REMOVE, {"terms": ("a", "b")}),
        ("delete topic a", K.TOPIC_REMOVE, {"terms": ("a",)}),
        ("exclude: medical", K.EXCLUDE_ADD, {"terms": ("medical",)}),
        ("exclude medical imaging, surveys", K.EXCLUDE_ADD, {"terms": ("medical imaging", "surveys")}),
        ("excludes: x", K.EXCLUDE_ADD, {"terms": ("x",)}),
        ("unexclude medical", K.EXCLUDE_REMOVE, {"terms": ("medical",)}),
        ("un-exclude medical", K.EXCLUDE_REMOVE, {"terms": ("medical",)}),
        ("categories: cs.CL, cs.RO", K.CATEGORIES_SET, {"terms": ("cs.CL", "cs.RO")}),
        ("category cs.cl", K.CATEGORIES_SET, {"terms": ("cs.CL",)}),
        (
            "categories: stat.ml cs.LG and eess.as",
            K.CATEGORIES_SET,
            {"terms": ("stat.ML", "cs.LG", "eess.AS")},
        ),
        (
            "categories: physics.optics, cond-mat.mes-hall, hep-th",
            K.CATEGORIES_SET,
            {"terms": ("physics.optics", "cond-mat.mes-hall", "hep-th")},
        ),
        ("categories: any", K.CATEGORIES_SET, {"terms": ()}),
        ("follow Yann LeCun", K.FOLLOW, {"terms": ("Yann LeCun",)}),
        ("follow Yann LeCun and Geoffrey Hinton", K.FOLLOW, {"terms": ("Yann LeCun", "Geoffrey Hinton")}),
        ("follow author: Fei-Fei Li", K.FOLLOW, {"terms": ("Fei-Fei Li",)}),
        ("authors: Yoshua Bengio", K.FOLLOW, {"terms": ("Yoshua Bengio",)}),
        ("unfollow Yann LeCun", K.UNFOLLOW, {"terms": ("Yann LeCun",)}),
        ("stop following Yann LeCun", K.UNFOLLOW, {"terms": ("Yann LeCun",)}),
        ("more 2", K.MORE, {"number": 2}),
        ("More #2", K.MORE, {"number": 2}),
        ("more like 2", K.MORE, {"number": 2}),
        ("less 3", K.LESS, {"number": 3}),
        ("fewer like #3", K.LESS, {"number": 3}),
        ("count 5", K.COUNT, {"number": 5}),
        ("count: 25", K.COUNT, {"number": 25}),
        ("count five", K.COUNT, {"number": 5}),
        ("count 7 papers", K.COUNT, {"number": 7}),
        ("time 7:30", K.TIME, {"send_time": time(7, 30)}),
        ("time 7:30pm", K.TIME, {"send_time": time(19, 30)}),
        ("time 7:30 PM", K.TIME, {"send_time": time(19, 30)}),
        ("time 19:30", K.TIME, {"send_time": time(19, 30)}),
        ("time 7pm", K.TIME, {"send_time": time(19, 0)}),
        ("time 12am", K.TIME, {"send_time": time(0, 0)}),
        ("time 12pm", K.TIME, {"send_time": time(12, 0)}),
        ("time 7 a.m.", K.TIME, {"send_time": time(7, 0)}),
        ("time 0730", K.TIME, {"send_time": time(7, 30)}),
        ("time 7h30", K.TIME, {"send_time": time(7, 30)}),
        ("time noon", K.TIME, {"send_time": time(12, 0)}),
        ("send time: 06:15", K.TIME, {"send_time": time(6, 15)}),
        ("timezone Europe/Berlin", K.TIMEZONE, {"timezone": "Europe/Berlin"}),
        ("timezone europe/berlin", K.TIMEZONE, {"timezone": "Europe/Berlin"}),
        ("time zone: America/New_York", K.TIMEZONE, {"timezone": "America/New_York"}),
        ("time-zone Berlin", K.TIMEZONE, {"timezone": "Europe/Berlin"}),
        ("timezone New York", K.TIMEZONE, {"timezone": "America/New_York"}),
        ("timezone CET", K.TIMEZONE, {"timezone": "CET"}),
        ("timezone UTC", K.TIMEZONE, {"timezone": "UTC"}),
        ("tz UTC+2", K.TIMEZONE, {"timezone": "Etc/GMT-2"}),
        ("tz GMT-5", K.TIMEZONE, {"timezone": "Etc/GMT+5"}),
        ("daily", K.DAILY, {}),
        ("Daily please", K.DAILY, {}),
        ("weekly", K.WEEKLY, {"weekday": None}),
        ("weekly friday", K.WEEKLY, {"weekday": 4}),
        ("weekly on Fridays", K.WEEKLY, {"weekday": 4}),
        ("weekly tue", K.WEEKLY, {"weekday": 1}),
        ("once a week", K.WEEKLY, {"weekday": None}),
        ("format text", K.FORMAT, {"format": Format.TEXT}),
        ("format: plain text", K.FORMAT, {"format": Format.TEXT}),
        ("format html", K.FORMAT, {"format": Format.HTML}),
        ("plain text", K.FORMAT, {"format": Format.TEXT}),
        ("quiet days on", K.QUIET_DAYS, {"on": True}),
        ("quiet days off", K.QUIET_DAYS, {"on": False}),
        ("quiet-days: yes", K.QUIET_DAYS, {"on": True}),
        ("quiet day notes off", K.QUIET_DAYS, {"on": False}),
        ("settings", K.SETTINGS, {}),
        ("show my settings", K.SETTINGS, {}),
        ("help", K.HELP, {}),
        ("Help!", K.HELP, {}),
        ("?", K.HELP, {}),
        # Bullets, quotes and markup around a command.
        ("- count 5", K.COUNT, {"number": 5}),
        ("• more 2", K.MORE, {"number": 2}),
        ("1. more 2", K.MORE, {"number": 2}),
        ("“pause”", K.PAUSE, {"until": None}),
        ("*count 5*", K.COUNT, {"number": 5}),
        ("ｃｏｕｎｔ ５", K.COUNT, {"number": 5}),  # full-width, as some IMEs type it
    ],
)
def test_a_line_means(line, kind, fields):
    parsed = parse_commands(line, today=TODAY)
    if kind is None:
        assert parsed.commands == [] and parsed.not_understood
        return
    command = one(line)
    assert command.kind is kind
    assert {name: getattr(command, name) for name in fields} == fields
    assert command.line == unicodedata.normalize("NFKC", line).strip()


@pytest.mark.parametrize(
    ("typo", "kind"),
    [
        ("unsubcribe", K.UNSUBSCRIBE),
        ("unsusbscribe", K.UNSUBSCRIBE),
        ("unsubscibe", K.UNSUBSCRIBE),
        ("unsubscrbe!", K.UNSUBSCRIBE),
        ("ubsubscribe", K.UNSUBSCRIBE),
        ("subscibe", K.SUBSCRIBE),
        ("pasue", K.PAUSE),
        ("puase 2 weeks", K.PAUSE),
        ("resum", K.RESUME),
        ("resmue", K.RESUME),
        ("timezome Europe/Berlin", K.TIMEZONE),
        ("tpoics: speech", K.TOPICS_SET),
        ("add topcis speech", K.TOPIC_ADD),
        ("categoires: cs.CL", K.CATEGORIES_SET),
        ("exlcude: x", K.EXCLUDE_ADD),
        ("setings", K.SETTINGS),
    ],
)
def test_small_misspellings_of_command_words_are_forgiven(typo, kind):
    assert one(typo).kind is kind


def test_a_misspelling_never_shadows_a_correctly_typed_command():
    assert one("resubscribe").kind is K.SUBSCRIBE  # two edits from "unsubscribe"
    assert one("subscribe").kind is K.SUBSCRIBE
    assert one("unexclude x").kind is K.EXCLUDE_REMOVE


@pytest.mark.parametrize(
    "prose",
    [
        "yes please",
        "Yes",
        "thanks",
        "Thanks, great list!",
        "Stop by our lab in room 4.12 any Tuesday",
        "Stop to think about it",
        "Please stop",
        "Topics like this are great",
        "Interest rates are up",
        "Fellow ML folks might like #2",
        "Follow-up question: can I get two digests?",
        "Follow us on LinkedIn",
        "follow https://twitter.com/ylecun",
        "Less is more",
        "More importantly, I loved it",
        "Remote sensing is my field",
        "Weakly supervised learning is cool",
        "Cause I said so",
        "Paste this into your calendar",
        "Time flies",
        "Count me in",
        "Add to that the ranking is great",
        "Remove the second paper please",
        "Help me understand the ranking",
        "Settings are fine as they are",
        "Start of a long message",
        "Daily life in the lab",
        "Format of the mail is great",
        "Quiet week, huh",
        "Resume attached",
        "Html is fine",
        "Pause. Actually never mind",
        "pause until yesterday",
        "Timezone is fine",
        "categories: speech",
        "To unsubscribe, reply unsubscribe",
        "Unsubscribe with one click: https://papers.example.org/u/abc",
        'Reply "help" for the full list.',
    ],
)
def test_prose_is_never_a_command(prose):
    parsed = parse_commands(prose, today=TODAY)
    assert parsed.commands == []
    assert len(parsed.not_understood) == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("count 30", "1 to 25"),
        ("count 0", "1 to 25"),
        ("count lots", "1 to 25"),
        ("more 99", "number"),
        ("time 25:00", "7:30"),
        ("time 13pm", "1 to 12"),
        ("time 7:30 Atlantis/Lost", "time zone"),
        ("timezone PST", "Europe/Berlin"),
        ("timezone ../../etc/passwd", "Europe/Berlin"),
        ("pause until 2026-11-01", "passed"),
        ("pause 2 years", "how long"),
        ("pause 60 weeks", "at most a year"),
        ("pause until 1/2", "2026-12-24"),
        ("pause until 2026-02-30", "not a date"),
        ("weekly someday", "name a day"),
        ("format pdf", "format text"),
        ("quiet days maybe", "on or off"),
        ("categories: cs.CL, speech", "arXiv category"),
        ("topics:", "topics:"),
        ("add topic", "add topic"),
        (f"topics: {'x' * (MAX_TOPIC + 1)}", f"at most {MAX_TOPIC} characters"),
        (f"exclude: {'x' * (MAX_TERM + 1)}", "at most 80 characters"),
        ("topics: " + ", ".join(f"t{i}" for i in range(21)), "at most 20"),
    ],
)
def test_a_recognised_command_with_a_bad_value_says_why_and_changes_nothing(line, reason):
    parsed = parse_commands(line, today=TODAY)
    assert parsed.commands == []
    assert len(parsed.not_understood) == 1
    assert parsed.not_understood[0].startswith(line[:50]) and reason in parsed.not_understood[0]


def test_twenty_terms_of_80_characters_fit():
    terms = [f"{i:02d}" + "x" * (MAX_TERM - 2) for i in range(20)]
    assert one("topics: " + ", ".join(terms)).terms == tuple(terms)


# -- a reply ----------------------------------------------------------------------------------------
def test_several_commands_per_reply_blank_lines_skipped():
    text = "Hi,\n\nmore 2\nless 3\n\n\ncount 5\ntime 7:30 Europe/Berlin\n\nThanks!\n"
    parsed = parse_commands(text, today=TODAY)
    assert [c.kind for c in parsed.commands] == [K.MORE, K.LESS, K.COUNT, K.TIME, K.TIMEZONE]
    assert parsed.not_understood == ["Hi,", "Thanks!"]


def test_several_numbers_on_one_feedback_line():
    parsed = parse_commands("more 2, 5 and 7", today=TODAY)
    assert [(c.kind, c.number) for c in parsed.commands] == [(K.MORE, 2), (K.MORE, 5), (K.MORE, 7)]


def test_only_the_first_lines_are_read():
    text = "\n".join(["hello"] * 20 + ["unsubscribe"])
    parsed = parse_commands(text, today=TODAY)
    assert parsed.commands == [] and len(parsed.not_understood) == 20
    assert kinds("\n\n\n".join(["count 2", "more 1", "unsubscribe"])) == [K.COUNT, K.MORE, K.UNSUBSCRIBE]
    assert kinds("a\nb\nunsubscribe") == [K.UNSUBSCRIBE]
    assert parse_commands("a\nb\nunsubscribe", today=TODAY, max_lines=2).commands == []


def test_reading_stops_at_a_quote_and_at_end():
    assert kinds("count 2\n> unsubscribe\nmore 1") == [K.COUNT]
    assert kinds("count 2\nend\nunsubscribe") == [K.COUNT]


def test_a_reply_that_is_just_yes_please_has_no_command():
    parsed = parse_commands("yes please", today=TODAY)
    assert parsed.commands == [] and parsed.not_understood == ["yes please"]
    assert parse_commands("", today=TODAY).model_dump() == {
        "commands": [],
        "not_understood": [],
        "rejected": [],
    }


def test_a_command_line_parses_again_to_the_same_command():
    # Pending confirmations store command lines and parse them again later.
    text = "Topics: speech; robotics\npause 2 weeks\ntime 7:30pm CET\nmore 2 and 3\nweekly fri\nfollow A B"
    first = parse_commands(text, today=TODAY).commands
    again = parse_commands("\n".join(dict.fromkeys(c.line for c in first)), today=TODAY).commands
    assert again == first


def test_help_text_lists_every_command_and_reads_as_no_command():
    text = help_text("papers.example.org")
    for example in (
        "topics: speech recognition, robotics",
        "add topic",
        "remove topic",
        "exclude:",
        "unexclude",
        "categories: cs.CL, cs.RO",
        "follow Yann LeCun",
        "unfollow",
        "more 2",
        "less 3",
        "count 5",
        "time 7:30",
        "timezone Europe/Berlin",
        "daily",
        "weekly friday",
        "format text",
        "format html",
        "quiet days on",
        "pause 2 weeks",
        "resume",
        "settings",
        "help",
        "unsubscribe",
        "stop",
        "subscribe@papers.example.org",
    ):
        assert example in text
    # Quoted back unmarked (Outlook) it must still change nothing, line by line.
    assert parse_commands(text, today=TODAY, max_lines=100).commands == []


# -- hostile values ---------------------------------------------------------------------------------
def test_control_and_format_characters_never_reach_a_value():
    text = "topics: a\x00b, c\x1bd, e\u202ef, g\u200bh\x7f\ncount\x0b5\nfollow Ada\u2028Lovelace"
    parsed = parse_commands(text, today=TODAY)
    topics = parsed.commands[0]
    assert topics.terms == ("a b", "c d", "e f", "g h")
    for command in parsed.commands:
        for value in (command.line, *command.terms):
            assert value.isprintable()


def test_markup_in_terms_is_defused():
    command = one("topics: <script>alert(1)</script>, <b>robotics</b>")
    assert all("<" not in term and ">" not in term for term in command.terms)


def test_an_over_long_line_is_not_read():
    parsed = parse_commands("topics: " + "a, " * 1000, today=TODAY)
    assert parsed.commands == []
    assert len(parsed.not_understood[0]) <= 220


# -- applying ----------------------------------------------------------------------------------------
def applied(text: str, start: ReaderSettings | None = None) -> tuple[ReaderSettings, list[str]]:
    return apply(start or ReaderSettings(), parse_commands(text, today=TODAY).commands)


def test_apply_changes_every_setting():
    settings, changes = applied(
        "topics: speech, robotics\nexclude: medical\ncategories: cs.CL\nfollow Yann LeCun\ncount 5\n"
        "time 7:30pm\ntimezone Europe/Berlin\nweekly friday\nformat text\nquiet days on"
    )
    assert settings == ReaderSettings(
        topics=("speech", "robotics"),
        excludes=("medical",),
        categories=("cs.CL",),
        authors=("Yann LeCun",),
        count=5,
        send_time=time(19, 30),
        timezone="Europe/Berlin",
        frequency=Frequency.WEEKLY,
        weekday=4,
        format=Format.TEXT,
        quiet_days=True,
    )
    assert changes == [
        "topics are now: speech, robotics",
        "excluded: medical",
        "arXiv categories are now: cs.CL",
        "authors followed: Yann LeCun",
        "papers per digest: 5",
        "delivery time: 19:30 (UTC)",
        "time zone: Europe/Berlin (delivery at 19:30)",
        "a digest every Friday",
        "plain-text mail only",
        "quiet-day notes on",
    ]


def test_apply_adds_and_removes_without_duplicates():
    start = ReaderSettings(topics=("Speech", "robotics"), authors=("Yann LeCun",), excludes=("medical",))
    settings, changes = applied(
        "add topic speech, world models\nremove topic ROBOTICS, knitting\n"
        "unfollow yann lecun\nunexclude medical",
        start,
    )
    assert settings.topics == ("Speech", "world models")
    assert settings.authors == ()
    assert settings.excludes == ()
    assert changes == [
        "topics are now: Speech, robotics, world models",
        "topics are now: Speech, world models (there was no “knitting”)",
        "no authors followed",
        "nothing is excluded",
    ]


def test_apply_keeps_at_most_twenty_topics():
    start = ReaderSettings(topics=tuple(f"t{i}" for i in range(19)))
    settings, changes = applied("add topics a, b, c", start)
    assert settings.topics == (*start.topics, "a")
    assert changes[0].endswith("(at most 20: “b, c” left out)")


def test_apply_weekly_without_a_day_keeps_the_day_and_daily_switches_back():
    start = ReaderSettings(frequency=Frequency.WEEKLY, weekday=2)
    assert applied("weekly", start)[0].weekday == 2
    settings, changes = applied("daily", start)
    assert settings.frequency is Frequency.DAILY and changes == ["a digest every day"]


def test_apply_clears_topics_and_categories():
    start = ReaderSettings(topics=("a",), categories=("cs.CL",))
    settings, changes = applied("topics: none\ncategories: any", start)
    assert settings.topics == () and settings.categories == ()
    assert changes == ["no topics: you get the day's trending papers", "papers from any arXiv category"]


def test_apply_leaves_status_feedback_and_questions_to_the_caller():
    start = ReaderSettings(count=7)
    settings, changes = applied(
        "unsubscribe\nsubscribe\npause 2 weeks\nresume\nmore 2\nless 3\nsettings\nhelp", start
    )
    assert settings == start and changes == []


def test_apply_is_pure():
    start = ReaderSettings(topics=("a",))
    commands = parse_commands("add topic b", today=TODAY).commands
    first = apply(start, commands)
    assert start.topics == ("a",)
    assert apply(start, commands) == first


# -- properties ---------------------------------------------------------------------------------------
# Words and fragments replies are made of; other fuzz tests draw on it too.
COMMAND_VOCABULARY = [
    "unsubscribe",
    "stop",
    "pause",
    "pause 2 weeks",
    "pause until ",
    "resume",
    "topics:",
    "add topic",
    "remove topic",
    "exclude:",
    "unexclude",
    "categories:",
    "cs.CL",
    "follow",
    "unfollow",
    "more",
    "less",
    "count",
    "time",
    "timezone",
    "Europe/Berlin",
    "daily",
    "weekly",
    "friday",
    "format",
    "html",
    "quiet days",
    "on",
    "settings",
    "help",
    "2",
    "25",
    "7:30pm",
    ",",
    ";",
    ":",
    "-",
    " and ",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\u2028",
    "\u202e",
    "\u200b",
    "<",
    ">",
    "\t",
    " ",
    "2026-12-24",
    "12/31",
    "a" * 90,
]
_VOCABULARY = st.sampled_from(COMMAND_VOCABULARY)


def _check(parsed) -> None:
    for command in parsed.commands:
        values = [command.line, *command.terms, command.timezone or ""]
        assert all("\r" not in v and "\n" not in v and v.isprintable() for v in values)
        assert len(command.terms) <= 20 and all(len(t) <= MAX_TERM for t in command.terms)
        if command.until is not None:
            assert TODAY < command.until <= date(2027, 11, 24)
        if command.number is not None:
            assert 1 <= command.number <= 25
    assert all("\r" not in line and "\n" not in line for line in parsed.not_understood)
    apply(ReaderSettings(), parsed.commands)  # whatever was understood applies cleanly


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=2000))
def test_parse_commands_never_raises_on_arbitrary_text(text):
    _check(parse_commands(text, today=TODAY))


@settings(max_examples=500, deadline=None)
@given(st.lists(_VOCABULARY, max_size=30), st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_parse_commands_never_raises_on_command_shaped_text(pieces, today):
    parsed = parse_commands(" ".join(pieces), today=today)
    for command in parsed.commands:
        values = [command.line, *command.terms, command.timezone or ""]
        assert all("\r" not in v and "\n" not in v and v.isprintable() for v in values)
    apply(ReaderSettings(), parsed.commands)


# -- topics as people write them (issue 9) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "topics"),
    [
        ("topics: speech recognition, robotics", ("speech recognition", "robotics")),
        (
            "topics: generative models (diffusion, GANs, flows)",
            ("generative models (diffusion, GANs, flows)",),
        ),
        ("topics: PEFT / LoRA & adapters", ("PEFT / LoRA & adapters",)),
        ("topics: RL; sim2real", ("RL", "sim2real")),
        (
            "topics: medical imaging, especially MRI reconstruction with diffusion models",
            ("medical imaging, especially MRI reconstruction with diffusion models",),
        ),
        (
            "interests: I'm interested in how networks keep learning new tasks, without forgetting old ones",
            ("I'm interested in how networks keep learning new tasks, without forgetting old ones",),
        ),
        (
            "add topic graph neural networks and knowledge graphs",
            ("graph neural networks and knowledge graphs",),
        ),
    ],
)
def test_a_topics_line_is_split_only_where_the_reader_listed_topics(line, topics):
    assert one(line).terms == topics
    settings, described = apply(ReaderSettings(), [one(line)])
    assert settings.topics == topics
    # Echoed back as written (semicolons between topics that hold commas themselves).
    assert described == [f"topics are now: {('; ' if any(',' in t for t in topics) else ', ').join(topics)}"]


def test_a_topic_may_be_a_sentence_up_to_300_characters_and_a_longer_one_is_named():
    sentence = "I work on " + "compressing networks for phones, " * 8 + "mostly"
    assert len(sentence) <= MAX_TOPIC
    assert one(f"topics: {sentence}").terms == (sentence,)
    parsed = parse_commands(f"topics: {sentence} {'x' * MAX_TOPIC}", today=TODAY)
    assert parsed.commands == [] and parsed.rejected == parsed.not_understood
    assert f"at most {MAX_TOPIC} characters" in parsed.rejected[0]


def test_trending_on_and_off():
    assert one("trending off").on is False
    assert one("Also trending: on").on is True
    settings, described = apply(ReaderSettings(), [one("trending off")])
    assert settings.trending is False and described == ["“Also trending” section off"]
