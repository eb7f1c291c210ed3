"""The unit of work: the only place a transaction opens (style rule 8).

One connection, one transaction: repositories, the inbox claim, the outbox and the outcome notification all
commit or roll back together (design §6.3). The NOTIFY is delivered by PostgreSQL only at commit, so a
waiting `GET /v1/checkouts/{id}?wait=N` never wakes up to a state that was rolled back.
"""

from __future__ import annotations

import json
from types import TracebackType
from uuid import UUID

import asyncpg
from asyncpg.transaction import Transaction

from contracts.envelope import Envelope
from contracts.events import Event
from delivery.inbox import claim_event
from delivery.outbox import add_to_outbox
from services.checkout.adapters.postgres.orders import PostgresOrders
from services.checkout.adapters.postgres.shops import PostgresShops

OUTCOME_CHANNEL = "checkout_outcome"
PRODUCER = "checkout"

_RECORD_SUBMISSION = """
INSERT INTO checkout_submissions (shop_id, checkout_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true
"""
_SUBMISSION_EXISTS = "SELECT true FROM checkout_submissions WHERE shop_id = $1 AND checkout_id = $2"


def outcome_payload(shop_id: str, checkout_id: str) -> str:
    """The NOTIFY payload naming one checkout (ids are at most 128 characters, far below NOTIFY's limit)."""
    return json.dumps([shop_id, checkout_id])


class PostgresSubmissions:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn

    async def record(self, shop_id: str, checkout_id: str) -> bool:
        return bool(await self._conn.fetchval(_RECORD_SUBMISSION, shop_id, checkout_id))

    async def exists(self, shop_id: str, checkout_id: str) -> bool:
        return bool(await self._conn.fetchval(_SUBMISSION_EXISTS, shop_id, checkout_id))


class PostgresUnitOfWork:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._conn: asyncpg.Connection | None = None
        self._transaction: Transaction | None = None

    async def __aenter__(self) -> PostgresUnitOfWork:
        self._conn = await self._pool.acquire()
        self._transaction = self._conn.transaction()
        await self._transaction.start()
        self.shops = PostgresShops(self._conn)
        self.orders = PostgresOrders(self._conn)
        self.submissions = PostgresSubmissions(self._conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._conn is not None and self._transaction is not None
        try:
            if exc_type is None:
                await self._transaction.commit()
            else:
                await self._transaction.rollback()
        finally:
            await self._pool.release(self._conn)
            self._conn = self._transaction = None

    @property
    def _connection(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    async def claim(self, consumer: str, event_id: UUID) -> bool:
        """Inbox (design §6.3): False means this event was applied before; do nothing."""
        return await claim_event(self._connection, consumer=consumer, event_id=event_id)

    async def emit(self, event: Event, *, correlation_id: str, causation_id: str | None = None,
                   subject_version: int = 0) -> None:
        """Stage `event` in the outbox, keyed by its aggregate id as its contract says."""
        envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id,
                                 causation_id=causation_id, subject_version=subject_version)
        await add_to_outbox(self._connection, topic=event.TOPIC, key=event.kafka_key(), envelope=envelope)

    async def announce_outcome(self, shop_id: str, checkout_id: str) -> None:
        await self._connection.execute("SELECT pg_notify($1, $2)", OUTCOME_CHANNEL,
                                       outcome_payload(shop_id, checkout_id))
