"""Planning and sending digests: each due reader gets exactly one mail per period, never a paper twice.

Sending is claim -> send -> record. The claim (a conditional put of the period's digest record,
with its paper ids) comes first, so a redelivered job, a planner that fired twice or a crash after
SES accepted the mail can never produce a second mail for the period. A send that SES certainly
refused releases the claim for a retry; a claim whose sender died before SES answered stays open
until SES's own events settle it (`claims`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from paperboy.digests import sections as by_topic
from paperboy.digests.claims import complete_period, settled
from paperboy.digests.ledger import DigestLedger, DigestRecord, DigestStatus
from paperboy.digests.pacing import TokenBucket
from paperboy.digests.planning import DigestJob
from paperboy.digests.ranking import RankingIndex, rank
from paperboy.mail.outbound.mailer import Mailer, OutboundMail, SendBlocked, SendRejected, SendThrottled
from paperboy.mail.outbound.render import DigestView, Renderer
from paperboy.papers.model import Paper, Pick
from paperboy.papers.store import PaperStore
from paperboy.readers.likes import in_force
from paperboy.readers.model import Format, Frequency, Status, Subscriber
from paperboy.readers.schedule import hour_slot
from paperboy.readers.store import SubscriberStore
from paperboy.readers.tokens import Links
from paperboy.semantic import vectors

# Candidate papers: featured within this many days of the digest (a weekly digest looks back a week).
DAILY_WINDOW_DAYS = 3
WEEKLY_WINDOW_DAYS = 7
# Papers in the "Also trending" section below a topic reader's picks.
ALSO_TRENDING = 3


class Outcome(StrEnum):
    SENT = "sent"
    QUIET_NOTE = "quiet_note"
    NOTHING_NEW = "nothing_new"
    ALREADY_SENT = "already_sent"
    # An earlier attempt claimed the period and died before SES answered: the sweep settles it.
    CLAIM_OPEN = "claim_open"
    INACTIVE = "inactive"
    PAUSED = "paused"


@dataclass
class CandidatePool:
    """The recent papers, read and indexed once per container per hour, shared by every reader."""

    papers: PaperStore
    reads: int = 0
    _cache: dict[tuple[str, int], RankingIndex] = field(default_factory=dict)

    def index(self, now: datetime, window_days: int) -> RankingIndex:
        key = (hour_slot(now), window_days)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] == key[0]}
            self._cache[key] = RankingIndex(self._load(now.date(), window_days))
        return self._cache[key]

    def _load(self, today: date, window_days: int) -> list[Paper]:
        found: list[Paper] = []
        for back in range(window_days):
            self.reads += 1
            found.extend(self.papers.papers_of_day(today - timedelta(days=back)))
        return found


@dataclass
class DigestSender:
    store: SubscriberStore
    ledger: DigestLedger
    pool: CandidatePool
    renderer: Renderer
    mailer: Mailer
    links: Links
    pacer: TokenBucket | None = None

    def send(self, job: DigestJob, now: datetime) -> Outcome:
        reader = self.store.get(job.subscriber_id)
        if reader is None or reader.status not in (Status.ACTIVE, Status.PAUSED):
            return Outcome.INACTIVE
        if reader.last_period is not None and reader.last_period >= job.period:
            return self._already_claimed(reader, job, now)
        if reader.status is Status.PAUSED:
            if reader.paused_until is None or job.period < reader.paused_until:
                return Outcome.PAUSED
            reader = self.store.save(
                reader.model_copy(update={"status": Status.ACTIVE, "paused_until": None})
            )

        picks = self.pick(reader, now)
        sections = self.sections(reader, now, picks)
        if sections:
            # Numbered as shown: `more 2` names the second paper the reader saw.
            picks = [pick for _, group in sections for pick in group]
        trending = self.also_trending(reader, now, picks)
        if not picks and not reader.settings.quiet_days:
            return self._nothing_new(reader, job, now)
        return self._claim_and_send(reader, job, now, picks, trending, sections)

    def _nothing_new(self, reader: Subscriber, job: DigestJob, now: datetime) -> Outcome:
        """No mail this period: record it as empty and move the reader on."""
        record = DigestRecord(
            subscriber_id=reader.id, period=job.period, status=DigestStatus.EMPTY, claimed_at=now
        )
        if self.ledger.claim_digest(record):
            complete_period(self.ledger, self.store, reader, record, now)
            return Outcome.NOTHING_NEW
        return self._already_claimed(reader, job, now)

    def _claim_and_send(
        self,
        reader: Subscriber,
        job: DigestJob,
        now: datetime,
        picks: list[Pick],
        trending: list[Pick],
        sections: list[tuple[str, list[Pick]]],
    ) -> Outcome:
        """Claim the period, send its mail, record the outcome: a claimed period is never sent twice."""
        record = DigestRecord(
            subscriber_id=reader.id,
            period=job.period,
            status=DigestStatus.CLAIMED,
            claimed_at=now,
            paper_ids=[pick.paper.id for pick in picks],
            paper_titles=[pick.paper.display_title for pick in picks],
            trending_ids=[pick.paper.id for pick in trending],
        )
        # Everything that can fail slowly happens before the claim, so that nothing but the SES call
        # itself lies between claiming the period and sending its mail.
        mail = self.compose(reader, job.period, picks, trending, sections)
        if self.pacer is not None:
            self.pacer.take()
        if not self.ledger.claim_digest(record):
            return self._already_claimed(reader, job, now)
        try:
            message_id = self.mailer.send(mail)
        except (SendThrottled, SendBlocked):
            # SES refused for rate, or the account cannot send right now: the mail did not leave,
            # and a retry (or a redrive from the dead-letter queue, once fixed) may send it.
            self.ledger.release_claim(reader.id, job.period)
            raise
        except SendRejected:
            # Refused for good: move the reader on (no re-planning), let the job reach the DLQ.
            rejected = record.model_copy(update={"status": DigestStatus.REJECTED})
            self.ledger.mark_rejected(rejected)
            complete_period(self.ledger, self.store, reader, rejected, now)
            raise
        sent = record.model_copy(
            update={"status": DigestStatus.SENT, "message_id": message_id, "sent_at": now}
        )
        complete_period(self.ledger, self.store, reader, sent, now)
        return Outcome.SENT if picks else Outcome.QUIET_NOTE

    def pick(self, reader: Subscriber, now: datetime) -> list[Pick]:
        """The papers the reader's next digest holds, best first."""
        same_model = reader.vector_model == vectors.MODEL
        return rank(
            self.pool.index(now, _window(reader)),
            reader.settings,
            reader.feedback,
            # A liked paper is never sent, even one `unfollow` set aside.
            exclude_ids={*reader.recent_papers, *(like.id for like in reader.likes)},
            count=reader.settings.count,
            topic_vectors=_topic_vectors(reader),
            profile_vector=reader.profile_vector,
            likes=in_force(reader),
            like_vectors=reader.like_vectors if same_model else {},
        )

    def sections(self, reader: Subscriber, now: datetime, picks: list[Pick]) -> list[tuple[str, list[Pick]]]:
        """The picks by topic for a reader of two or more topics with sections on; else none."""
        if not picks or not by_topic.wanted(reader.settings):
            return []
        index = self.pool.index(now, _window(reader))
        return by_topic.sectioned(index, picks, reader.settings, _topic_vectors(reader))

    def also_trending(self, reader: Subscriber, now: datetime, picks: list[Pick]) -> list[Pick]:
        """The day's top papers by upvotes below a topic reader's picks (a reader without topics gets
        trending papers as picks already): not picked, excluded or sent before."""
        settings = reader.settings
        if not picks or not settings.trending or not (settings.topics or settings.categories):
            return []
        shown = {
            *reader.recent_papers,
            *(pick.paper.id for pick in picks),
            *(like.id for like in reader.likes),
        }
        return self.pool.index(now, DAILY_WINDOW_DAYS).also_trending(settings, shown, ALSO_TRENDING)

    def picks_by_id(self, paper_ids: list[str], reason: str) -> list[Pick]:
        """Stored papers in the given order (an operator's resend), each with `reason`."""
        papers = [self.pool.papers.get(paper_id) for paper_id in paper_ids]
        return [Pick(paper=paper, score=0.0, reasons=(reason,)) for paper in papers if paper is not None]

    def compose(
        self,
        reader: Subscriber,
        period: date,
        picks: list[Pick],
        trending: list[Pick] | None = None,
        sections: list[tuple[str, list[Pick]]] | None = None,
    ) -> OutboundMail:
        """The digest mail for the reader's period (`sections`: the picks by topic, in order)."""
        view = DigestView(
            reader_email=reader.email,
            domain=self.links.domain,
            local_date=period,
            picks=picks,
            also_trending=trending or [],
            sections=[(topic, len(group)) for topic, group in sections or []],
            settings=reader.settings,
            unsubscribe_url=self.links.unsubscribe_url(reader),
            reply_address=self.links.reply_address(reader),
            quiet=not picks,
        )
        rendered = self.renderer.digest(view)
        return OutboundMail(
            to=reader.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html if reader.settings.format is Format.HTML else None,
            text_qp=rendered.text_qp,
            html_qp=rendered.html_qp,
            reply_to=self.links.reply_address(reader),
            kind="digest",
            list_unsubscribe_url=self.links.unsubscribe_url(reader),
            list_unsubscribe_mailto=self.links.unsubscribe_mailto(reader),
            references=[f"<digest.{period.isoformat()}.{reader.id}@{self.links.domain}>"],
            # SES echoes these in its events: a Send event settles a claim whose sender died.
            tags={"subscriber": reader.id, "period": period.isoformat()},
        )

    def _already_claimed(self, reader: Subscriber, job: DigestJob, now: datetime) -> Outcome:
        """An earlier attempt claimed the period (and may have sent): never send, only catch up."""
        stored = self.ledger.digest(reader.id, job.period)
        if stored is None:
            return Outcome.ALREADY_SENT
        record = settled(stored)
        if record is None:
            # Only SES knows whether that mail left; moving the reader on now would lose the period.
            return Outcome.CLAIM_OPEN
        complete_period(self.ledger, self.store, reader, record, now)
        if record.status is DigestStatus.REJECTED:
            raise SendRejected(f"SES rejected {reader.id}'s digest for {job.period}")
        return Outcome.ALREADY_SENT


def _window(reader: Subscriber) -> int:
    return WEEKLY_WINDOW_DAYS if reader.settings.frequency is Frequency.WEEKLY else DAILY_WINDOW_DAYS


def _topic_vectors(reader: Subscriber) -> dict[str, bytes]:
    """Vectors of topics since edited are not the reader's interest any more, and vectors of another
    model are not comparable with the papers'."""
    if reader.vector_model != vectors.MODEL:
        return {}
    return {t: v for t, v in reader.topic_vectors.items() if t in reader.settings.topics}
