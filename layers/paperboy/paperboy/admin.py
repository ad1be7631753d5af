"""The operator's command line: `python -m paperboy.admin --stack NAME COMMAND ...`.

Works against a deployed stack (resource names from its CloudFormation outputs, AWS credentials
from the environment) and against the local stack (tests pass the names the local stack created).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO

import boto3
from pydantic import ValidationError

from paperboy import clock, wiring
from paperboy.digests.ledger import DigestStatus
from paperboy.digests.sender import DigestSender
from paperboy.mail import events as mail_events
from paperboy.mail.addresses import folded, normalised, readable
from paperboy.readers import lifecycle as subscriptions
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.semantic import vectors
from paperboy.settings import Settings

# CloudFormation output -> the setting it fills.
OUTPUTS = {
    "SubscribersTableName": "subscribers_table",
    "PapersTableName": "papers_table",
    "SigningKeySecretArn": "signing_key_secret",
    "ConfigurationSetName": "configuration_set",
    "MailDomain": "mail_domain",
    "WebUrl": "web_base_url",
    "MailEventsDeadLetterQueueUrl": "mail_events_dlq_url",
}


class AdminError(Exception):
    """Something the operator asked for cannot be done; the message says why."""


def settings_from_stack(stack_name: str) -> Settings:
    outputs = (
        boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    )
    values = {OUTPUTS[o["OutputKey"]]: o["OutputValue"] for o in outputs if o["OutputKey"] in OUTPUTS}
    missing = sorted(set(OUTPUTS.values()) - set(values))
    if missing:
        raise AdminError(f"stack {stack_name} lacks outputs for {', '.join(missing)}")
    return Settings.from_env({name.upper(): value for name, value in values.items()})


class Admin:
    def __init__(self, settings: Settings, sender: DigestSender | None = None) -> None:
        self.settings = settings
        self.sender = sender or wiring.digest_sender(settings)
        self.store = self.sender.store
        self.ledger = self.sender.ledger
        tables = wiring.dynamodb()
        self.slots = wiring.slot_index(settings, tables)
        self.vectors = wiring.topic_vector_store(settings, tables)

    def reader(self, who: str) -> Subscriber:
        found = self.store.by_email(who) if "@" in who else self.store.get(who)
        if found is None:
            raise AdminError(f"no reader {who}")
        return found

    def find(self, query: str) -> list[Subscriber]:
        """Readers whose address contains `query`, typed in ASCII or Unicode, or whose id it is."""
        needle = folded(query)
        return [
            r for r in self.store.all() if needle in r.email or needle in readable(r.email) or query == r.id
        ]

    def preview(self, who: str, now: datetime) -> dict[str, Any]:
        """The digest the reader would get if it were sent now; nothing is sent or recorded."""
        reader = self.reader(who)
        picks = self.sender.pick(reader, now)
        mail = self.sender.compose(reader, now.astimezone(reader.settings.zone).date(), picks)
        return {
            "to": mail.to,
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "papers": [pick.paper.id for pick in picks],
            "reasons": [pick.reason for pick in picks],
        }

    def set_settings(self, who: str, changes: dict[str, str], now: datetime) -> Subscriber:
        reader = self.reader(who)

        def edit(current: Subscriber) -> Subscriber:
            settings = ReaderSettings.model_validate({**current.settings.model_dump(), **_typed(changes)})
            return subscriptions.rescheduled(current.model_copy(update={"settings": settings}), now)

        try:
            return subscriptions.change(self.store, reader.id, edit)
        except ValidationError as error:
            raise AdminError(str(error)) from None

    def set_status(self, who: str, status: str, now: datetime) -> Subscriber:
        reader = self.reader(who)
        try:
            wanted = Status(status)
        except ValueError:
            raise AdminError(f"status must be one of {', '.join(s.value for s in Status)}") from None
        if wanted is Status.ACTIVE:
            return subscriptions.activate(self.store, reader.id, now)
        if wanted is Status.UNSUBSCRIBED:
            return subscriptions.unsubscribe(self.store, reader.id, now)
        if wanted is Status.PAUSED:
            return subscriptions.pause(self.store, reader.id, None, now)
        return subscriptions.change(
            self.store, reader.id, lambda r: r.model_copy(update={"status": wanted, "next_due": None})
        )

    def resend(self, who: str, period: date, now: datetime) -> str:
        """Send a period's digest again, on purpose: the same papers, a new mail."""
        reader = self.reader(who)
        record = self.ledger.digest(reader.id, period)
        if record is None or record.status is not DigestStatus.SENT:
            raise AdminError(f"{reader.email} has no sent digest for {period}")
        picks = self.sender.picks_by_id(record.paper_ids, "sent again on request")
        return self.sender.mailer.send(self.sender.compose(reader, period, picks))

    def normalise_addresses(self) -> dict[str, Any]:
        """Move readers stored under an address as typed (before addresses were normalised: only a
        Unicode domain from the web form could be) to the address's one form. A reader whose form
        another reader holds is listed, not moved: one mailbox with two records, for the operator
        to settle (e.g. `status` one of them `unsubscribed`). Running it again moves nothing new."""
        moved: list[str] = []
        clashes: list[dict[str, str]] = []
        for reader in self.store.all():
            try:
                form = normalised(reader.email)
            except ValueError:
                clashes.append({"id": reader.id, "email": reader.email, "problem": "not a mailable address"})
                continue
            if form == reader.email:
                continue
            if self.store.renormalise_email(reader):
                moved.append(reader.id)
                continue
            holder = self.store.by_email(form)
            clashes.append({"id": reader.id, "email": form, "held_by": holder.id if holder else ""})
        return {"moved": moved, "clashes": clashes}

    def mark_slots(self) -> dict[str, int]:
        """Mark the slot of every scheduled reader, as a profile write would. PlanDigests plans only
        marked slots, and a deployment upgraded from a version without marks has readers in slots
        nobody marked: run once right after the upgrade. Running it again changes nothing."""
        readers = 0
        slots: set[str] = set()
        for slot in self.slots.scheduled_slots():
            readers += 1
            slots.add(slot)
        for slot in sorted(slots):
            self.slots.mark_slot(slot)
        return {"readers": readers, "slots": len(slots)}

    def redrive_mail_events(self, now: datetime) -> dict[str, Any]:
        """Apply the SES events waiting in MailEvents' dead-letter queue (after fixing what failed)."""
        if not self.settings.mail_events_dlq_url:
            raise AdminError("the stack names no MailEvents dead-letter queue")
        sqs = boto3.client("sqs", config=wiring.AWS_CONFIG)
        outcomes = mail_events.redrive(self.store, self.ledger, sqs, self.settings.mail_events_dlq_url, now)
        return {"events": len(outcomes), "actions": dict(Counter(o.action.value for o in outcomes))}

    def backfill(self, days: int, now: datetime) -> dict[str, int]:
        """Ask the Embed function for the vectors that papers of the last `days` days and readers lack.

        Nothing is embedded here (the operator's machine needs no model): each item lacking a vector
        of the current model is touched, its change reaches the Embed function through the table's
        stream, and the vectors follow within seconds. Running it again touches only what still lacks.
        """
        papers = wiring.paper_store(self.settings)
        touched_papers = 0
        for offset in range(days):
            for paper in papers.papers_of_day(now.date() - timedelta(days=offset)):
                if paper.vector_model != vectors.MODEL:
                    touched_papers += papers.request_vector(paper.id, vectors.MODEL, now)
        touched_readers = 0
        for reader in self.store.all():
            current = reader.vector_model == vectors.MODEL
            if not current or any(topic not in reader.topic_vectors for topic in reader.settings.topics):
                touched_readers += self.vectors.request_vectors(reader.id, now)
        return {"papers": touched_papers, "readers": touched_readers}

    def export(self) -> list[dict[str, Any]]:
        return [_row(reader) for reader in self.store.all()]

    def stats(self, now: datetime) -> dict[str, Any]:
        readers = list(self.store.all())
        statuses = Counter(r.status.value for r in readers)
        # A period is the reader's local date; "today" is the reader's today, wherever they are.
        sent_today = sum(
            1
            for r in readers
            if r.last_period is not None and r.last_period >= now.astimezone(r.settings.zone).date()
        )
        return {
            "readers": len(readers),
            **{status.value: statuses.get(status.value, 0) for status in Status},
            "sent_today": sent_today,
            "transient_bounces": sum(getattr(r, "transient_bounces", 0) for r in readers),
        }


def _typed(changes: dict[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "topics":
            # Split as a reader's topics line is: "models (diffusion, GANs)" stays one topic.
            typed[key] = value
        elif key in ("excludes", "authors", "categories"):
            typed[key] = [part.strip() for part in value.split(",") if part.strip()]
        else:
            typed[key] = value
    return typed


def _row(reader: Subscriber) -> dict[str, Any]:
    settings = reader.settings
    return {
        "id": reader.id,
        "email": reader.email,
        "status": reader.status.value,
        "topics": "; ".join(settings.topics),
        "excludes": "; ".join(settings.excludes),
        "authors": "; ".join(settings.authors),
        "categories": "; ".join(settings.categories),
        "count": settings.count,
        "send_time": settings.send_time.strftime("%H:%M"),
        "timezone": settings.timezone,
        "frequency": settings.frequency.value,
        "format": settings.format.value,
        "next_due": reader.next_due.isoformat() if reader.next_due else "",
        "last_period": reader.last_period.isoformat() if reader.last_period else "",
    }


def run(admin: Admin, argv: Sequence[str], out: TextIO, now: datetime | None = None) -> int:
    """Execute one command; prints JSON (or CSV for `export --csv`). Returns the exit status."""
    arguments = _parser().parse_args(list(argv))
    now = now or clock.now()
    try:
        if arguments.command == "preview":
            shown = admin.preview(arguments.who, now)
            out.write(
                (shown["html"] or "") if arguments.html else f"Subject: {shown['subject']}\n\n{shown['text']}"
            )
            return 0
        if arguments.command == "export":
            out.write(_exported(admin.export(), as_csv=arguments.csv))
            return 0
        result = _result(admin, arguments, now)
    except AdminError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m paperboy.admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stats", help="readers by status, digests sent today, bounces")
    find = commands.add_parser("find", help="readers whose address contains QUERY (or whose id is QUERY)")
    find.add_argument("query")
    show = commands.add_parser("show", help="one reader, everything stored")
    show.add_argument("who")
    preview = commands.add_parser("preview", help="the reader's next digest, rendered, not sent")
    preview.add_argument("who")
    preview.add_argument("--html", action="store_true", help="print the HTML part instead of the text")
    export = commands.add_parser("export", help="every reader as JSON lines (or CSV)")
    export.add_argument("--csv", action="store_true")
    set_cmd = commands.add_parser(
        "set", help="change settings: set WHO topics='a, b' count=5 timezone=Europe/Berlin"
    )
    set_cmd.add_argument("who")
    set_cmd.add_argument("changes", nargs="+")
    status = commands.add_parser(
        "status", help="set a reader's status (active, paused, unsubscribed, suppressed)"
    )
    status.add_argument("who")
    status.add_argument("status")
    commands.add_parser(
        "normalise-addresses",
        help="move readers stored under an address as typed (Unicode domain) to its normalised form",
    )
    commands.add_parser(
        "mark-slots",
        help="once after upgrading to slot marks: mark the slot of every scheduled reader for PlanDigests",
    )
    commands.add_parser(
        "redrive-mail-events", help="apply the SES events in MailEvents' dead-letter queue, then delete them"
    )
    resend = commands.add_parser("resend", help="send a period's digest again, on purpose")
    resend.add_argument("who")
    resend.add_argument("period", type=date.fromisoformat)
    backfill = commands.add_parser(
        "backfill",
        help="have the Embed function embed papers of the last DAYS days and readers lacking vectors",
    )
    backfill.add_argument("--days", type=int, default=3)
    return parser


def _result(admin: Admin, arguments: argparse.Namespace, now: datetime) -> Any:
    """What a command that answers in JSON answers."""
    if arguments.command == "stats":
        return admin.stats(now)
    if arguments.command == "find":
        return [_row(r) for r in admin.find(arguments.query)]
    if arguments.command == "show":
        return admin.reader(arguments.who).model_dump(mode="json")
    if arguments.command == "set":
        pairs = dict(change.split("=", 1) for change in arguments.changes if "=" in change)
        if len(pairs) != len(arguments.changes):
            raise AdminError("changes look like key=value")
        return _row(admin.set_settings(arguments.who, pairs, now))
    if arguments.command == "status":
        return _row(admin.set_status(arguments.who, arguments.status, now))
    if arguments.command == "normalise-addresses":
        return admin.normalise_addresses()
    if arguments.command == "mark-slots":
        return admin.mark_slots()
    if arguments.command == "redrive-mail-events":
        return admin.redrive_mail_events(now)
    if arguments.command == "backfill":
        return admin.backfill(arguments.days, now)
    return {"message_id": admin.resend(arguments.who, arguments.period, now)}


def _exported(rows: list[dict[str, Any]], *, as_csv: bool) -> str:
    """Readers as CSV with a header line, or as JSON lines."""
    if not as_csv:
        return "".join(json.dumps(row) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["email"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "--stack":
        print(
            "usage: python -m paperboy.admin --stack STACK_NAME COMMAND ... (--help after the stack name)",
            file=sys.stderr,
        )
        return 2
    try:
        settings = settings_from_stack(argv[1])
    except AdminError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return run(Admin(settings), argv[2:], sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
