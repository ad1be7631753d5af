"""`make demo`: the daily cycle on the local stack, printed for a person to read."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from local_stack import scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
TOP = 5
DIGEST_DAYS = 2
DOMAIN = "papers.example.org"
# (who, what they write to subscribe@, what they reply to the confirmation or how they confirm)
READERS = (
    ("ada@example.org", "topics: reinforcement learning, robot\ncount 5", "reply"),
    (
        "bruno@example.de",
        "Topics: knowledge distillation; domain adaptation\ntimezone Europe/Berlin",
        "reply",
    ),
    ("chen@example.com", "", "click"),
)


def _say(lines: list[str], stack: LocalStack, what: str) -> None:
    lines.append(f"  {stack.now:%a %d %b %H:%M} UTC  {what}")


def run(out: Path) -> str:
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    days = sorted(fixtures.hf_days)
    first = datetime.combine(datetime.fromisoformat(days[0]).date(), time(6), UTC)
    readers_join = datetime.combine(datetime.fromisoformat(days[-DIGEST_DAYS]).date(), time(0), UTC)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Paperboy demo: {len(days)} days of Hugging Face daily papers on the local stack "
        "(FetchPapers hourly, PlanDigests hourly, SendDigests on the queue)",
        "",
    ]
    with (
        (out / "functions.log").open("w") as log,
        LocalStack(domain="papers.example.org", start=first, fixtures=fixtures, log=log) as stack,
    ):
        stack.fetch()
        stack.advance(readers_join - first)
        lines.append("What the readers did, all by email:")
        for address, body, confirm in READERS:
            scenario.FILE_STEPS["email"](
                stack,
                {"from": address, "to": f"subscribe@{DOMAIN}", "subject": "subscribe", "text": body},
                FIXTURES,
            )
            _say(lines, stack, f"{address} wrote to subscribe@ ({body.replace(chr(10), '; ') or 'empty'})")
            if confirm == "reply":
                scenario.FILE_STEPS["reply"](stack, {"from": address, "text": "yes please"}, FIXTURES)
                _say(lines, stack, f"{address} replied 'yes please' to the confirmation")
            else:
                scenario.STEPS["click"](stack, {"to": address, "link": "confirm"})
                _say(lines, stack, f"{address} clicked the confirmation link")
        scenario.FILE_STEPS["reply"](
            stack, {"from": "bruno@example.de", "text": "time 7:30\nexclude: adversarial"}, FIXTURES
        )
        _say(lines, stack, "bruno@example.de replied: time 7:30 / exclude: adversarial")
        stack.advance(timedelta(days=1))
        scenario.FILE_STEPS["reply"](stack, {"from": "ada@example.org", "text": "more 1\nless 2"}, FIXTURES)
        _say(lines, stack, "ada@example.org replied to her digest: more 1 / less 2")
        scenario.STEPS["click"](stack, {"to": "chen@example.com", "link": "unsubscribe"})
        _say(lines, stack, "chen@example.com unsubscribed with one click")
        stack.advance(timedelta(days=DIGEST_DAYS - 1) - timedelta(seconds=1))
        lines.append("")
        for day, papers in stack.papers_by_day().items():
            lines.append(f"{day}  ({len(papers)} papers)")
            for rank, paper in enumerate(papers[:TOP], start=1):
                lines.append(f"  {rank}. {paper['upvotes']:>4} ▲  {paper['title']}")
            lines.append("")
        lines.append("Readers now:")
        for reader in stack.state()["subscribers"]:
            lines.append(
                f"  {reader['email']}: {reader['status']}; "
                f"topics {', '.join(reader['topics']) or '(trending)'}"
                f"{'; never ' + ', '.join(reader['excludes']) if reader['excludes'] else ''}; "
                f"{reader['count']} papers at {reader['send_time']} {reader['timezone']}"
            )
        lines.append("")
        lines.append("Mail sent:")
        for mail in stack.mailbox.delivered:
            lines.append(
                f"  {mail.number:04d} {mail.clock:%a %d %b %H:%M} UTC  {mail.kind:<7} "
                f"{mail.to:<18} {mail.subject}"
            )
        stack.write(out)
        runs = {name: sum(1 for _, called in stack.invocations if called == name) for name in stack.functions}
    lines.append("")
    lines.append(
        "Invocations: "
        + ", ".join(f"{name.removesuffix('Function')} {count}" for name, count in runs.items() if count)
    )
    lines.append(
        f"Mail in {out / 'mail'} (.eml and .html), state in {out / 'state.json'}, "
        f"function logs in {out / 'functions.log'}"
    )
    return "\n".join(lines)
