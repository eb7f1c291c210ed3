"""Transactional outbox (design §6.3): write events with the state change, publish them afterwards.

`add_to_outbox` runs inside the caller's transaction. `OutboxRelay` publishes unpublished rows in id order
with the idempotent producer and deletes them, and keeps per-key order even with several relays running:
rows are claimed with `FOR UPDATE SKIP LOCKED`, and a key whose earlier rows are claimed by another relay
(still unpublished, hence locked) is left for a later pass. A relay that dies after publishing but before
deleting leaves its rows unpublished; they are published again (a duplicate the consumers' inbox absorbs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from delivery.cancellation import wait_event
from delivery.tracing import trace_headers

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"


class EnvelopeLike(Protocol):
    event_id: UUID

    def to_bytes(self) -> bytes: ...

    def headers(self) -> list[tuple[str, bytes]]: ...


@dataclass(frozen=True, kw_only=True)
class OutboxRow:
    id: int
    topic: str
    key: bytes | None
    headers: list[tuple[str, bytes]]
    payload: bytes


# publish(rows) must return only when every row is acknowledged by the broker (acks=all).
Publish = Callable[[Sequence[OutboxRow]], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class StagedRow:
    """An outbox row as `add_to_outbox` writes it (the current trace's headers taken when it was made)."""

    event_id: UUID
    topic: str
    key: bytes | None
    headers: str
    payload: bytes


def staged_row(*, topic: str, key: str | bytes | None, envelope: EnvelopeLike) -> StagedRow:
    headers = [[name, value.decode()] for name, value in (*envelope.headers(), *trace_headers())]
    return StagedRow(event_id=envelope.event_id, topic=topic, key=key.encode() if isinstance(key, str) else key,
                     headers=json.dumps(headers), payload=envelope.to_bytes())


async def add_to_outbox(conn: asyncpg.Connection, *, topic: str, key: str | bytes | None,
                        envelope: EnvelopeLike) -> None:
    """Stage one event; it becomes visible to the relay only if the surrounding transaction commits."""
    row = staged_row(topic=topic, key=key, envelope=envelope)
    await conn.execute(_STAGE, row.event_id, row.topic, row.key, row.headers, row.payload, NOTIFY_CHANNEL)


async def add_many_to_outbox(conn: asyncpg.Connection, rows: Sequence[StagedRow]) -> None:
    """Stage `rows` in one statement, in their order (a batch's events, `delivery.units.shared_transaction`)."""
    await conn.execute(_STAGE_MANY, [r.event_id for r in rows], [r.topic for r in rows], [r.key for r in rows],
                       [r.headers for r in rows], [r.payload for r in rows], NOTIFY_CHANNEL)


# One round trip: the row and the relay's wake-up (PostgreSQL folds equal NOTIFYs of one transaction into one).
_STAGE = """
WITH staged AS (
    INSERT INTO outbox (event_id, topic, key, headers, payload) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING 1
)
SELECT pg_notify($6, '') FROM staged
"""


# One round trip: claim the oldest rows, and leave out each claimed row that has an earlier row of its key we did
# not claim (another relay holds it, locked and unpublished): that key waits for a later pass, in order.
_STAGE_MANY = """
WITH staged AS (
    INSERT INTO outbox (event_id, topic, key, headers, payload)
    SELECT event_id, topic, key, headers::jsonb, payload
    FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::text[], $5::bytea[])
         WITH ORDINALITY AS r(event_id, topic, key, headers, payload, n)
    ORDER BY n
    RETURNING 1
)
SELECT pg_notify($6, '') FROM staged LIMIT 1
"""


_CLAIM = """
WITH claimed AS MATERIALIZED (
    SELECT id, topic, key, headers, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
)
SELECT c.id, c.topic, c.key, c.headers, c.payload FROM claimed c
WHERE c.key IS NULL OR NOT EXISTS (
    SELECT 1 FROM outbox o WHERE o.key = c.key AND o.id < c.id AND o.id NOT IN (SELECT id FROM claimed)
)
ORDER BY c.id
"""
# Published rows are deleted, not kept: payloads may carry a one-time card token (OrderPlaced), and Kafka
# already holds the published copy.
_MARK = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"


class OutboxRelay:
    """Publishes the outbox of one database. Several relays (replicas) may run against the same table."""

    def __init__(self, pool: asyncpg.Pool, publish: Publish, *, batch_size: int = 500,
                 idle_poll_s: float = 1.0, linger_s: float = 0.0):
        """`linger_s`: after a wake-up, wait this long before the pass, so rows committed meanwhile go out in the
        same claim, produce request and delete (each row's publication waits up to this much longer)."""
        self._pool = pool
        self._publish = publish
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._linger_s = linger_s
        self._wakeup = asyncio.Event()

    async def run_once(self) -> int:
        """One pass: claim (one statement), publish the batch (all sent, then every ack awaited), delete them (one
        statement), commit. Returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = [_row(r) for r in await conn.fetch(_CLAIM, self._batch_size)]
            if not rows:
                return 0
            await self._publish(rows)
            await self._delete_published(conn, [r.id for r in rows])
        return len(rows)

    async def _delete_published(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute(_MARK, ids)

    async def run_forever(self) -> None:
        """Drain, then wait for a NOTIFY (or the idle poll) and drain again. Errors are logged and retried, the
        LISTEN connection's too: a relay started while PostgreSQL restarts waits for it instead of ending (it ended,
        and its service stayed unhealthy until the supervisor killed it, 120 s later in a chaos run)."""
        backoff = 0.1
        while True:
            try:
                async with self._pool.acquire() as listener:
                    await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
                    try:
                        await self._loop()
                    finally:
                        with contextlib.suppress(Exception):  # a connection lost meanwhile; never hide a cancel
                            await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            except Exception:  # a cancel (BaseException) passes through
                log.exception("outbox relay: no LISTEN connection; retrying in %.1fs", backoff)
                backoff = await _pause(backoff)

    async def _loop(self) -> None:
        backoff = 0.1
        while True:
            # Cleared before the pass, not after: a NOTIFY that arrives during the pass must wake the next one.
            self._wakeup.clear()
            try:
                published = await self.run_once()
            except Exception:  # a cancel (BaseException) passes through
                log.exception("outbox relay pass failed; retrying in %.1fs", backoff)
                backoff = await _pause(backoff)
                continue
            backoff = 0.1
            # A pass that took less than a full batch saw every row committed before it began; the rows committed
            # since have NOTIFYed (set the wake-up): no empty pass just to find that out.
            if published < self._batch_size:
                await wait_event(self._wakeup, self._idle_poll_s)
                if self._linger_s:
                    await asyncio.sleep(self._linger_s)

    def _on_notify(self, *_: Any) -> None:
        self._wakeup.set()


def _row(record: asyncpg.Record) -> OutboxRow:
    headers = [(name, value.encode()) for name, value in json.loads(record["headers"])]
    return OutboxRow(id=record["id"], topic=record["topic"], key=record["key"], headers=headers,
                     payload=record["payload"])


async def _pause(backoff: float) -> float:
    """Wait `backoff` after a failure; the next wait doubles, up to 5 s."""
    await asyncio.sleep(backoff)
    return min(backoff * 2, 5.0)
