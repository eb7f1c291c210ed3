"""Inbox (design §6.3): remember which events a consumer has applied, in the same transaction as the effects.

Since issue 14 the inbox also remembers what each event carried (`body_fingerprint`, `delivery.idempotency`): a
redelivery carries the same body and is acknowledged as before, while a different body under an event id already
applied is `IdempotencyKeyReused` (the consumer dead-letters it with the reason instead of dropping it silently).
HTTP idempotency keys (e.g. notification's resend `Idempotency-Key`) are claimed the same way, under a consumer
name of their own and the key's UUID.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from uuid import UUID

import asyncpg

from delivery.idempotency import IdempotencyKeyReused, differing

_CLAIM = """
INSERT INTO inbox (consumer, event_id, body_fingerprint) VALUES ($1, $2, $3::jsonb)
ON CONFLICT DO NOTHING RETURNING true
"""
_FIRST_BODY = "SELECT body_fingerprint FROM inbox WHERE consumer = $1 AND event_id = $2"


async def claim_event(conn: asyncpg.Connection, *, consumer: str, event_id: UUID,
                      body: Mapping[str, str] | None = None) -> bool:
    """True the first time `consumer` sees `event_id`; False for a redelivery (apply nothing, acknowledge).

    With `body` (a fingerprint), a repeat whose first claim recorded another body raises `IdempotencyKeyReused`
    naming the differing fields. Must run inside the transaction that applies the effects: if that rolls back,
    the claim goes with it.
    """
    stored_body = json.dumps(dict(body)) if body is not None else None
    if await conn.fetchval(_CLAIM, consumer, event_id, stored_body):
        return True
    if body is not None:
        first = await conn.fetchval(_FIRST_BODY, consumer, event_id)
        fields = differing(json.loads(first) if first is not None else None, body)
        if fields:
            raise IdempotencyKeyReused(f"{consumer} {event_id}", fields)
    return False
