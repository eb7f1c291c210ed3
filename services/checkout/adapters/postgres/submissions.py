"""`SubmissionLog` on PostgreSQL: every checkout's first body (its fingerprint, issue 14), recorded when it is
accepted over HTTP or placed from Kafka, so a repeat is answered before the order exists and a different body under
the same checkout id is told apart."""

from __future__ import annotations

import json
from collections.abc import Mapping

import asyncpg

_RECORD = """
INSERT INTO checkout_submissions (shop_id, checkout_id, fingerprint) VALUES ($1, $2, $3::jsonb)
ON CONFLICT DO NOTHING RETURNING true
"""
_EXISTS = "SELECT true FROM checkout_submissions WHERE shop_id = $1 AND checkout_id = $2"
_FINGERPRINT = "SELECT fingerprint FROM checkout_submissions WHERE shop_id = $1 AND checkout_id = $2"


class PostgresSubmissions:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn

    async def record(self, shop_id: str, checkout_id: str, fingerprint: Mapping[str, str] | None = None) -> bool:
        """False if this checkout was recorded before (its first submission stands)."""
        body = json.dumps(dict(fingerprint)) if fingerprint is not None else None
        return bool(await self._conn.fetchval(_RECORD, shop_id, checkout_id, body))

    async def exists(self, shop_id: str, checkout_id: str) -> bool:
        return bool(await self._conn.fetchval(_EXISTS, shop_id, checkout_id))

    async def fingerprint(self, shop_id: str, checkout_id: str) -> dict[str, str] | None:
        """The first body's fingerprint; None when unknown (recorded before issue 14, or never recorded)."""
        stored = await self._conn.fetchval(_FINGERPRINT, shop_id, checkout_id)
        return json.loads(stored) if stored is not None else None
