"""Gateway attempts in PostgreSQL: the operation history (R15), recorded before each call and completed after."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.payment.domain.attempts import Attempt, AttemptStatus
from services.payment.domain.gateway import GatewayOperation


def _attempt(r: asyncpg.Record) -> Attempt:
    return Attempt(attempt_id=str(r["attempt_id"]), shop_id=r["shop_id"], order_id=r["order_id"],
                   operation=GatewayOperation(r["operation"]), kaiin_id=r["kaiin_id"], started_at=r["started_at"],
                   status=AttemptStatus(r["status"]), finished_at=r["finished_at"], codes=tuple(r["codes"]),
                   transaction_id=r["transaction_id"], reason=r["reason"], resolution=r["resolution"],
                   action=r["action"], requested_by=r["requested_by"], amount=r["amount"])


class AttemptsSql:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, a: Attempt) -> None:
        await self._conn.execute(
            "INSERT INTO gateway_attempts (attempt_id, shop_id, order_id, operation, kaiin_id, started_at, status, "
            "finished_at, codes, transaction_id, reason, resolution, action, requested_by, amount) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            UUID(a.attempt_id), a.shop_id, a.order_id, a.operation.value, a.kaiin_id, a.started_at, a.status.value,
            a.finished_at, list(a.codes), a.transaction_id, a.reason, a.resolution, a.action, a.requested_by,
            a.amount)

    async def save(self, a: Attempt) -> None:
        await self._conn.execute(
            "UPDATE gateway_attempts SET status = $2, finished_at = $3, codes = $4, transaction_id = $5, "
            "reason = $6, resolution = $7 WHERE attempt_id = $1",
            UUID(a.attempt_id), a.status.value, a.finished_at, list(a.codes), a.transaction_id, a.reason,
            a.resolution)

    async def sending(self, order_id: str) -> list[Attempt]:
        """The order flow's attempts still `sending` (operator operations settle theirs by their own lease)."""
        rows = await self._conn.fetch(
            "SELECT * FROM gateway_attempts WHERE order_id = $1 AND status = 'sending' AND action IS NULL "
            "ORDER BY started_at", order_id)
        return [_attempt(r) for r in rows]

    async def history(self, order_id: str) -> list[Attempt]:
        rows = await self._conn.fetch(
            "SELECT * FROM gateway_attempts WHERE order_id = $1 ORDER BY started_at, attempt_id",
            order_id)
        return [_attempt(r) for r in rows]

    async def mark_resolved(self, order_id: str, resolution: str) -> None:
        """Note the operator's finding on the unknown attempt(s) of the order (the history keeps both)."""
        await self._conn.execute(
            "UPDATE gateway_attempts SET resolution = $2 WHERE order_id = $1 AND status = 'unknown' "
            "AND resolution IS NULL AND action IS NULL", order_id, resolution)

    async def get(self, attempt_id: str) -> Attempt | None:
        row = await self._conn.fetchrow("SELECT * FROM gateway_attempts WHERE attempt_id = $1", UUID(attempt_id))
        return _attempt(row) if row else None

    async def resolve_one(self, attempt_id: str, resolution: str) -> None:
        """Note an operator's finding on one unknown attempt of an operation (the status stays `unknown`)."""
        await self._conn.execute("UPDATE gateway_attempts SET resolution = $2 WHERE attempt_id = $1",
                                 UUID(attempt_id), resolution)
