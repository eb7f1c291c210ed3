"""Inbox (design §6.3): remember which events a consumer has applied, in the same transaction as the effects."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def claim_event(conn: asyncpg.Connection, *, consumer: str, event_id: UUID) -> bool:
    """True the first time `consumer` sees `event_id`; False for a redelivery (apply nothing, acknowledge).

    Must run inside the transaction that applies the effects: if that rolls back, the claim goes with it.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        consumer, event_id,
    )
    return bool(inserted)
