"""`make demo`: the daily cycle on the local stack, printed for a person to read."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.readers import ReaderSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
TOP = 5
DIGEST_DAYS = 2
READERS = {
    "ada@example.org": ReaderSettings(topics=("reinforcement learning", "robot"), count=5),
    "bruno@example.de": ReaderSettings(
        topics=("knowledge distillation", "domain adaptation"),
        excludes=("adversarial",),
        timezone="Europe/Berlin",
        send_time=time(7, 30),
    ),
    "chen@example.com": ReaderSettings(
        timezone="America/New_York", send_time=time(6, 0), count=3, format="text"
    ),
}


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
        for address, settings in READERS.items():
            stack.add_subscriber(address, settings)
        stack.advance(timedelta(days=DIGEST_DAYS) - timedelta(seconds=1))
        for day, papers in stack.papers_by_day().items():
            lines.append(f"{day}  ({len(papers)} papers)")
            for rank, paper in enumerate(papers[:TOP], start=1):
                lines.append(f"  {rank}. {paper['upvotes']:>4} ▲  {paper['title']}")
            lines.append("")
        lines.append("Readers (joined " + readers_join.strftime("%d %b %H:%M UTC") + "):")
        for address, settings in READERS.items():
            wants = ", ".join(settings.topics) or "trending papers"
            excluded = f", never {', '.join(settings.excludes)}" if settings.excludes else ""
            lines.append(
                f"  {address}: {wants}{excluded}; {settings.count} papers at "
                f"{settings.send_time:%H:%M} {settings.timezone}, {settings.format} mail"
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
