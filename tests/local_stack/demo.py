"""`make demo`: the daily cycle on the local stack, printed for a person to read."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
TOP = 5


def run(out: Path) -> str:
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    days = sorted(fixtures.hf_days)
    first = datetime.combine(datetime.fromisoformat(days[0]).date(), time(6), UTC)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"Paperboy demo: {len(days)} days of Hugging Face daily papers, fetched hourly by "
             "FetchPapers on the local stack", ""]
    with (out / "functions.log").open("w") as log, \
            LocalStack(domain="papers.example.org", start=first, fixtures=fixtures, log=log) as stack:
        stack.fetch()
        stack.advance(timedelta(days=len(days)) - timedelta(hours=6))
        runs = sum(1 for _, name in stack.invocations if name == "FetchPapersFunction")
        for day, papers in stack.papers_by_day().items():
            lines.append(f"{day}  ({len(papers)} papers)")
            for rank, paper in enumerate(papers[:TOP], start=1):
                lines.append(f"  {rank}. {paper['upvotes']:>4} ▲  {paper['title']}")
            lines.append("")
        stack.write_state(out)
    lines.append(f"FetchPapers ran {runs} times; state in {out / 'state.json'}, "
                 f"function logs in {out / 'functions.log'}")
    return "\n".join(lines)
