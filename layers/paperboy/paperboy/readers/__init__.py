"""Readers: their settings, store, subscription lifecycle, schedule, tokens and limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.readers import lifecycle, limits
    from paperboy.readers.limits import Limiter, Quotas
    from paperboy.readers.model import Feedback, Format, Frequency, ReaderSettings, Status, Subscriber
    from paperboy.readers.schedule import next_due
    from paperboy.readers.slots import SlotIndex
    from paperboy.readers.store import Conflict, SubscriberStore, pending_expiry
    from paperboy.readers.tokens import Links, Purpose, Signer
    from paperboy.readers.vectors import TopicVectorStore

__all__ = [
    "Conflict",
    "Feedback",
    "Format",
    "Frequency",
    "Limiter",
    "Links",
    "Purpose",
    "Quotas",
    "ReaderSettings",
    "Signer",
    "SlotIndex",
    "Status",
    "Subscriber",
    "SubscriberStore",
    "TopicVectorStore",
    "lifecycle",
    "limits",
    "next_due",
    "pending_expiry",
]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "lifecycle": ("lifecycle",),
        "limits": ("limits", "Limiter", "Quotas"),
        "model": ("Feedback", "Format", "Frequency", "ReaderSettings", "Status", "Subscriber"),
        "schedule": ("next_due",),
        "slots": ("SlotIndex",),
        "store": ("Conflict", "SubscriberStore", "pending_expiry"),
        "tokens": ("Links", "Purpose", "Signer"),
        "vectors": ("TopicVectorStore",),
    },
)
