"""A bounded memo for RankingIndex's per-topic, per-term and per-pick results."""

from __future__ import annotations

from collections.abc import Callable, Hashable

# Values kept per memo and index: the distinct topics, terms and authors of an hour's readers. Picks
# and reasons recur per (paper, topic), hence four times as many of them.
PER_INDEX = 4096


class Memo[K: Hashable, V]:
    """Values computed once per key; emptied whole when full.

    An index lives for an hour at most and the same few thousand topics, terms and picks recur all
    that time, so dropping everything now and then costs little and needs no bookkeeping per hit.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._values: dict[K, V] = {}

    def get[*A](self, key: K, compute: Callable[[*A], V], *args: *A) -> V:
        """The value for `key`, from `compute(*args)` the first time (arguments, not a closure, so
        that a hit allocates nothing: readers hit these on every pick)."""
        found = self._values.get(key)
        if found is None:
            found = compute(*args)
            if len(self._values) >= self._limit:
                self._values.clear()
            self._values[key] = found
        return found

    def __len__(self) -> int:
        return len(self._values)
