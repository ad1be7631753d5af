"""The command catalogue: every kind declared once, with examples that parse to it, wording for an
unverified sender, one effect, and its place in the help and the settings summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from paperboy.mail.inbound import catalogue
from paperboy.mail.inbound.catalogue import CATALOGUE, apply, help_text, settings_summary
from paperboy.mail.inbound.commands import CommandKind, parse_commands
from paperboy.readers.model import Format, Frequency, ReaderSettings

TODAY = date(2026, 11, 23)
EXAMPLES = [(spec.kind, example) for spec in CATALOGUE.values() for example in spec.examples]


def test_every_kind_is_declared_once_under_its_own_name():
    assert list(CATALOGUE) == [spec.kind for spec in CATALOGUE.values()]
    assert set(CATALOGUE) == set(CommandKind)


@pytest.mark.parametrize(("kind", "example"), EXAMPLES)
def test_every_example_parses_to_its_kind_alone(kind, example):
    parsed = parse_commands(example, today=TODAY)
    assert [c.kind for c in parsed.commands] == [kind]
    assert parsed.not_understood == []


def test_a_command_word_declared_twice_is_refused():
    from paperboy.mail.inbound import commands

    topics = CATALOGUE[CommandKind.TOPICS_SET]
    twice = {**CATALOGUE, CommandKind.HELP: replace(CATALOGUE[CommandKind.HELP], syntax=topics.syntax)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "CATALOGUE", twice)
        with pytest.raises(ValueError, match="command word of both"):
            commands._keys()


def test_a_kind_has_exactly_one_effect_and_its_wordings():
    spec = CATALOGUE[CommandKind.COUNT]
    with pytest.raises(TypeError, match="exactly one effect"):
        replace(spec, act=CATALOGUE[CommandKind.HELP].act)
    with pytest.raises(TypeError, match="exactly one effect"):
        replace(spec, setting=None)
    with pytest.raises(TypeError, match="unverified-sender wording"):
        replace(spec, unverified="")
    with pytest.raises(TypeError, match="an example"):
        replace(spec, examples=())


@pytest.mark.parametrize("kind", list(CATALOGUE))
def test_a_setting_changes_settings_and_says_so_and_an_act_changes_none(kind: CommandKind):
    spec = CATALOGUE[kind]
    commands = parse_commands(spec.examples[0], today=TODAY).commands
    changed, said = apply(ReaderSettings(), commands)
    if spec.is_setting:
        assert said and all(said)
    else:
        assert (changed, said) == (ReaderSettings(), [])


def test_the_help_shows_every_example_of_every_kind_it_lists():
    text = help_text("papers.example.org")
    for spec in CATALOGUE.values():
        if spec.help:
            assert f"{spec.help}: " in text
            for example in spec.examples:
                assert example in text
    # Kinds that share a lead share a line.
    assert "To choose when it comes: time 7:30 / timezone Europe/Berlin" in text.splitlines()
    assert text.splitlines()[-1] == "To subscribe a friend: they write to subscribe@papers.example.org"


def test_the_settings_summary_is_as_before_the_catalogue():
    assert settings_summary(ReaderSettings()) == [
        "Your topics: none yet, so you get the day's trending papers",
        "Your schedule: 10 papers, daily at 08:00 (UTC), HTML and plain text",
    ]
    settings = ReaderSettings(
        topics=("generative models (diffusion, GANs)", "speech"),
        excludes=("medical imaging",),
        authors=("Yann LeCun",),
        categories=("cs.CL",),
        count=1,
        frequency=Frequency.WEEKLY,
        weekday=4,
        send_time=time(7, 30),
        timezone="Europe/Berlin",
        format=Format.TEXT,
        quiet_days=True,
        trending=False,
    )
    assert settings_summary(settings) == [
        "Your topics: generative models (diffusion, GANs); speech",
        "Never shown: medical imaging",
        "You follow: Yann LeCun",
        "Your arXiv categories: cs.CL",
        "Your schedule: 1 paper, weekly on Fridays at 07:30 (Europe/Berlin), plain text only",
        "Your quiet-day notes: on",
        "Your “Also trending” section: off",
    ]


def test_only_subscribe_and_resume_bring_an_unsubscribed_reader_back():
    back = {spec.kind for spec in CATALOGUE.values() if spec.brings_back}
    assert back == {CommandKind.SUBSCRIBE, CommandKind.RESUME}
    assert catalogue.brings_back(parse_commands("hello\nresume", today=TODAY).commands)
    assert not catalogue.brings_back(parse_commands("topics: speech", today=TODAY).commands)
