"""`SubmissionLog` on PostgreSQL: checkouts accepted over HTTP and published, before their order exists."""

from __future__ import annotations

import asyncpg

_RECORD = """
INSERT INTO checkout_submissions (shop_id, checkout_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true
"""
_EXISTS = "SELECT true FROM checkout_submissions WHERE shop_id = $1 AND checkout_id = $2"


class PostgresSubmissions:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn

    async def record(self, shop_id: str, checkout_id: str) -> bool:
        """False if this checkout was recorded before (its first submission stands)."""
        return bool(await self._conn.fetchval(_RECORD, shop_id, checkout_id))

    async def exists(self, shop_id: str, checkout_id: str) -> bool:
        return bool(await self._conn.fetchval(_EXISTS, shop_id, checkout_id))
