"""The `subscriptions` table: the aggregate's state, its contents (jsonb) and the scheduler's `due_at`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.subscription.adapters.postgres.codec import contents_json, subscription_from
from services.subscription.domain.subscription import Subscription
from services.subscription.ports import Scheduled, SubscriptionQuery

_COLUMNS = """subscription_id, shop_id, member_id, first_order_id, status, every, unit, anchor_day, started_on,
next_cycle_on, last_cycle_on, ends_on, cycle_count, contents, version"""

_ADD = """
INSERT INTO subscriptions (subscription_id, shop_id, member_id, first_order_id, status, every, unit, anchor_day,
    started_on, next_cycle_on, last_cycle_on, ends_on, cycle_count, contents, version, due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)
ON CONFLICT DO NOTHING RETURNING true
"""
# One statement for a whole batch: the scheduler saves hundreds of subscriptions per transaction.
_SAVE = """
UPDATE subscriptions s SET status = u.status, every = u.every, unit = u.unit, anchor_day = u.anchor_day,
    next_cycle_on = u.next_cycle_on, last_cycle_on = u.last_cycle_on, ends_on = u.ends_on,
    cycle_count = u.cycle_count, contents = u.contents::jsonb, due_at = u.due_at, version = u.version,
    updated_at = now()
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::date[], $7::date[], $8::date[],
            $9::int[], $10::text[], $11::timestamptz[], $12::int[])
    AS u(subscription_id, status, every, unit, anchor_day, next_cycle_on, last_cycle_on, ends_on, cycle_count,
         contents, due_at, version)
WHERE s.subscription_id = u.subscription_id
"""
_SEARCH = f"""
SELECT {_COLUMNS} FROM subscriptions
WHERE shop_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR member_id = $3)
ORDER BY created_at DESC, subscription_id LIMIT $4 OFFSET $5
"""  # noqa: S608 - constant column list; every criterion is a $n parameter
_CLAIM_DUE = f"""
SELECT {_COLUMNS} FROM subscriptions
WHERE status = 'active' AND due_at <= $1
ORDER BY due_at LIMIT $2
FOR UPDATE SKIP LOCKED
"""  # noqa: S608 - constant column list, $n parameters
_EARLIEST = "SELECT min(due_at) FROM subscriptions WHERE status = 'active' AND due_at IS NOT NULL"
_ACTIVE_OF_SHOP = f"""
SELECT {_COLUMNS} FROM subscriptions WHERE shop_id = $1 AND status = 'active' ORDER BY subscription_id FOR UPDATE
"""  # noqa: S608 - as above
_ACTIVE_OF_MEMBER = f"""
SELECT {_COLUMNS} FROM subscriptions WHERE shop_id = $1 AND member_id = $2 AND status = 'active'
ORDER BY subscription_id FOR UPDATE
"""  # noqa: S608 - as above
_GET = f"SELECT {_COLUMNS} FROM subscriptions WHERE subscription_id = $1"  # noqa: S608 - as above


class PostgresSubscriptions:
    """`SubscriptionRepository` on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, item: Scheduled) -> bool:
        sub = item.subscription
        added = await self._conn.fetchval(
            _ADD, sub.subscription_id, sub.shop_id, sub.member_id, sub.first_order_id, sub.status.value,
            sub.terms.every, sub.terms.unit.value, sub.anchor_day, sub.started_on, sub.next_cycle_on,
            sub.last_cycle_on, sub.ends_on, sub.cycle_count, contents_json(sub.contents), sub.version, item.due_at)
        return bool(added)

    async def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        row = await self._conn.fetchrow(_GET + (" FOR UPDATE" if for_update else ""), subscription_id)
        return subscription_from(row) if row is not None else None

    async def save(self, items: Sequence[Scheduled]) -> None:
        if not items:
            return
        subs = [item.subscription for item in items]
        await self._conn.execute(
            _SAVE, [s.subscription_id for s in subs], [s.status.value for s in subs], [s.terms.every for s in subs],
            [s.terms.unit.value for s in subs], [s.anchor_day for s in subs], [s.next_cycle_on for s in subs],
            [s.last_cycle_on for s in subs], [s.ends_on for s in subs], [s.cycle_count for s in subs],
            [contents_json(s.contents) for s in subs], [item.due_at for item in items], [s.version for s in subs])

    async def search(self, shop_id: str, query: SubscriptionQuery) -> list[Subscription]:
        status = query.status.value if query.status is not None else None
        rows = await self._conn.fetch(_SEARCH, shop_id, status, query.member_id, query.limit, query.offset)
        return [subscription_from(row) for row in rows]

    async def claim_due(self, *, now: datetime, limit: int) -> list[Subscription]:
        return [subscription_from(row) for row in await self._conn.fetch(_CLAIM_DUE, now, limit)]

    async def earliest_due(self) -> datetime | None:
        earliest: datetime | None = await self._conn.fetchval(_EARLIEST)
        return earliest

    async def active_of_shop(self, shop_id: str) -> list[Subscription]:
        return [subscription_from(row) for row in await self._conn.fetch(_ACTIVE_OF_SHOP, shop_id)]

    async def active_of_member(self, shop_id: str, member_id: str) -> list[Subscription]:
        return [subscription_from(row) for row in await self._conn.fetch(_ACTIVE_OF_MEMBER, shop_id, member_id)]
