"""Digests: which readers are due, the queues between functions, ranking and sending."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.digests.claims import sweep
    from paperboy.digests.ledger import DigestLedger, DigestRecord, DigestStatus
    from paperboy.digests.pacing import TokenBucket
    from paperboy.digests.planning import DigestJob, SlotJob, occupied_slots_to_plan, plan_slot
    from paperboy.digests.queue import enqueue, queue_depth
    from paperboy.digests.sender import CandidatePool, DigestSender

__all__ = [
    "CandidatePool",
    "DigestJob",
    "DigestLedger",
    "DigestRecord",
    "DigestSender",
    "DigestStatus",
    "SlotJob",
    "TokenBucket",
    "enqueue",
    "occupied_slots_to_plan",
    "plan_slot",
    "queue_depth",
    "sweep",
]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "claims": ("sweep",),
        "ledger": ("DigestLedger", "DigestRecord", "DigestStatus"),
        "pacing": ("TokenBucket",),
        "planning": ("DigestJob", "SlotJob", "occupied_slots_to_plan", "plan_slot"),
        "queue": ("enqueue", "queue_depth"),
        "sender": ("CandidatePool", "DigestSender"),
    },
)
