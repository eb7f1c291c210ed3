"""Which offset of a partition is safe to commit when records finish out of order (design §6.4).

Records are fetched in offset order and may finish in any order (different keys run concurrently). The
committed offset is the lowest unfinished one: everything below it is done, so a crash replays only work
that may not have finished.
"""

from __future__ import annotations

from collections import deque


class PartitionOffsets:
    def __init__(self) -> None:
        self._in_order: deque[int] = deque()  # fetched, not yet known to be below the commit point
        self._finished: set[int] = set()
        self._next: int | None = None  # one past the highest fetched offset
        self.committed: int | None = None  # last offset actually committed to Kafka

    def fetched(self, offset: int) -> None:
        if self._next is not None and offset < self._next:
            raise ValueError(f"offset {offset} fetched after {self._next - 1}: fetches must be in order")
        self._in_order.append(offset)
        self._next = offset + 1

    def finished(self, offset: int) -> None:
        self._finished.add(offset)
        while self._in_order and self._in_order[0] in self._finished:
            self._finished.discard(self._in_order.popleft())

    @property
    def unfinished(self) -> int:
        return len(self._in_order)

    def committable(self) -> int | None:
        """The offset to commit ("next to read"): the lowest unfinished one, else one past the last fetched."""
        if self._in_order:
            return self._in_order[0]
        return self._next

    def needs_commit(self) -> int | None:
        target = self.committable()
        if target is None or target == self.committed:
            return None
        return target
