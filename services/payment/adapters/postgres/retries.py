"""Scheduled renewal retries in PostgreSQL (`payment_retries`, R22 opt-in): one row per order waiting for a retry.

Workers claim due rows with `FOR UPDATE SKIP LOCKED` and move each row's `due_at` to the end of the claim in the
same statement, so several replicas never take the same retry, and a retry whose worker died comes due again.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.payment.domain.retries import ScheduledRetry

_PUT = """
INSERT INTO payment_retries (order_id, shop_id, first_tried_at, retries, due_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (order_id) DO UPDATE SET shop_id = $2, first_tried_at = $3, retries = $4, due_at = $5, updated_at = now()
"""
_CLAIM = """
WITH due AS (
    SELECT order_id FROM payment_retries WHERE due_at <= $1 ORDER BY due_at, order_id LIMIT $3
    FOR UPDATE SKIP LOCKED)
UPDATE payment_retries r SET due_at = $2, updated_at = now() FROM due WHERE r.order_id = due.order_id
RETURNING r.order_id, r.shop_id, r.first_tried_at, r.retries, r.due_at
"""


def _retry(row: asyncpg.Record) -> ScheduledRetry:
    return ScheduledRetry(order_id=row["order_id"], shop_id=row["shop_id"], first_tried_at=row["first_tried_at"],
                          retries=row["retries"], due_at=row["due_at"])


class RetriesSql:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def put(self, retry: ScheduledRetry) -> None:
        await self._conn.execute(_PUT, *(retry.order_id, retry.shop_id, retry.first_tried_at, retry.retries,
                                         retry.due_at))

    async def get(self, order_id: str) -> ScheduledRetry | None:
        row = await self._conn.fetchrow(
            "SELECT order_id, shop_id, first_tried_at, retries, due_at FROM payment_retries WHERE order_id = $1",
            order_id)
        return _retry(row) if row is not None else None

    async def delete(self, order_id: str) -> None:
        await self._conn.execute("DELETE FROM payment_retries WHERE order_id = $1", order_id)

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[ScheduledRetry]:
        rows = await self._conn.fetch(_CLAIM, now, until, limit)
        return sorted((_retry(r) for r in rows), key=lambda r: r.order_id)

    async def next_due(self) -> datetime | None:
        value: datetime | None = await self._conn.fetchval("SELECT min(due_at) FROM payment_retries")
        return value
