"""The `cycles` table: one row per (subscription, cycle), its primary key is I4's uniqueness."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.subscription.adapters.postgres.codec import cycle_from
from services.subscription.domain.cycles import Cycle

_COLUMNS = "subscription_id, cycle_no, scheduled_for, requested_at, order_id, status, reason_code, settled_at"
_ADD = f"""
INSERT INTO cycles ({_COLUMNS})
SELECT * FROM unnest($1::text[], $2::int[], $3::date[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                     $8::timestamptz[])
ON CONFLICT (subscription_id, cycle_no) DO NOTHING
RETURNING subscription_id, cycle_no
"""  # noqa: S608 - constant column list, $n parameters
_GET = f"SELECT {_COLUMNS} FROM cycles WHERE subscription_id = $1 AND cycle_no = $2"  # noqa: S608 - as above
_OF_SUBSCRIPTION = f"SELECT {_COLUMNS} FROM cycles WHERE subscription_id = $1 ORDER BY cycle_no"  # noqa: S608
_SAVE = """
UPDATE cycles SET order_id = $3, status = $4, reason_code = $5, settled_at = $6
WHERE subscription_id = $1 AND cycle_no = $2
"""


class PostgresCycles:
    """`CycleRepository` on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, cycles: Sequence[Cycle]) -> set[tuple[str, int]]:
        if not cycles:
            return set()
        rows = await self._conn.fetch(
            _ADD, [c.subscription_id for c in cycles], [c.cycle_no for c in cycles],
            [c.scheduled_for for c in cycles], [c.requested_at for c in cycles], [c.order_id for c in cycles],
            [c.status.value for c in cycles], [c.reason_code for c in cycles], [c.settled_at for c in cycles])
        return {(row["subscription_id"], row["cycle_no"]) for row in rows}

    async def get(self, subscription_id: str, cycle_no: int, *, for_update: bool = False) -> Cycle | None:
        row = await self._conn.fetchrow(_GET + (" FOR UPDATE" if for_update else ""), subscription_id, cycle_no)
        return cycle_from(row) if row is not None else None

    async def save(self, cycle: Cycle) -> None:
        await self._conn.execute(_SAVE, cycle.subscription_id, cycle.cycle_no, cycle.order_id, cycle.status.value,
                                 cycle.reason_code, cycle.settled_at)

    async def of_subscription(self, subscription_id: str) -> list[Cycle]:
        rows = await self._conn.fetch(_OF_SUBSCRIPTION, subscription_id)
        return [cycle_from(row) for row in rows]
