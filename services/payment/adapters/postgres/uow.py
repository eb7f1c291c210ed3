"""The unit of work: one pooled connection, one transaction, the repositories on it, and the outbox.

The only place a transaction is opened (style rule 8). Events go through `delivery.units.emit` into the outbox
of the same transaction, so they are published exactly when the state change commits (design §6.3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

from delivery.inbox import claim_event
from delivery.units import emit
from services.payment import translate
from services.payment.adapters.crypto import Cipher
from services.payment.adapters.postgres.members import MemberCardsSql
from services.payment.adapters.postgres.payments import AttemptsSql, PaymentsSql
from services.payment.adapters.postgres.shops import ShopsSql
from services.payment.domain.events import DomainEvent
from services.payment.ports import Trace, UnitOfWork

PRODUCER = CONSUMER = "payment"


class PostgresUnitOfWork:
    def __init__(self, conn: asyncpg.Connection, cipher: Cipher, trace: Trace | None) -> None:
        self._conn = conn
        self._trace = trace
        self.payments = PaymentsSql(conn, cipher)
        self.attempts = AttemptsSql(conn)
        self.members = MemberCardsSql(conn, cipher)
        self.shops = ShopsSql(conn, cipher)

    async def emit(self, event: DomainEvent, *, version: int) -> None:
        """Without a trace (an operator's HTTP call) the event correlates with the order's checkout."""
        trace = self._trace or Trace(correlation_id=await self._correlation(getattr(event, "order_id", None)))
        await emit(self._conn, translate.to_contract(event), producer=PRODUCER,
                   correlation_id=trace.correlation_id, causation=trace.causation, subject_version=version)

    async def _correlation(self, order_id: str | None) -> str:
        found = await self.payments.correlation_id(order_id) if order_id else None
        return found or order_id or "payment"

    async def claim_inbound(self) -> bool:
        if self._trace is None or self._trace.causation is None:
            return True
        return await claim_event(self._conn, consumer=CONSUMER, event_id=self._trace.causation.envelope.event_id)


class PostgresUnitOfWorkFactory:
    """`async with uow(trace) as tx:` — commit on normal exit, roll back on an exception."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], cipher: Cipher) -> None:
        self._pool = pool  # resolved per unit: the pool exists only once the service has started
        self._cipher = cipher

    def __call__(self, trace: Trace | None = None) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._open(trace)

    @asynccontextmanager
    async def _open(self, trace: Trace | None) -> AsyncIterator[UnitOfWork]:
        async with self._pool().acquire() as conn, conn.transaction():
            yield PostgresUnitOfWork(conn, self._cipher, trace)
