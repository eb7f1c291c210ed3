"""The two moves every handler makes, written once: apply an inbound event exactly once, stage outbound events.

    async def on_order_placed(inbound: Inbound, record) -> None:
        async def apply(conn):
            ...state change...
            await emit(conn, PaymentAuthorized(...), producer="payment", correlation_id=..., causation=inbound)
        await apply_once(pool, consumer="payment", inbound=inbound, apply=apply)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from contracts.envelope import Envelope
from contracts.events import Event
from delivery.envelopes import Inbound
from delivery.inbox import claim_event
from delivery.outbox import add_to_outbox

Apply = Callable[[asyncpg.Connection], Awaitable[None]]


async def apply_once(pool: asyncpg.Pool, *, consumer: str, inbound: Inbound, apply: Apply) -> bool:
    """Run `apply` in one transaction with the inbox claim; a redelivered event applies nothing (False)."""
    async with pool.acquire() as conn, conn.transaction():
        if not await claim_event(conn, consumer=consumer, event_id=inbound.envelope.event_id):
            return False
        await apply(conn)
        return True


async def emit(conn: asyncpg.Connection, event: Event, *, producer: str, correlation_id: str,
               causation: Inbound | None = None, subject_version: int = 0) -> Envelope:
    """Stage `event` in the outbox of the current transaction, keyed and routed as its contract says."""
    envelope = Envelope.wrap(event, producer=producer, correlation_id=correlation_id,
                             causation_id=str(causation.envelope.event_id) if causation else None,
                             subject_version=subject_version)
    await add_to_outbox(conn, topic=event.TOPIC, key=event.kafka_key(), envelope=envelope)
    return envelope
