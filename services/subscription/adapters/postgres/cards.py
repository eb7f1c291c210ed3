"""The `member_cards` projection (each member's stored card, newest event wins) and the `card_warnings` given
(one per subscription and cycle: their primary key is "warn once")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from services.subscription.domain.cards import CardWarning, ExpiryMonth, MemberCard

_OF_MEMBERS = """
SELECT c.shop_id, c.member_id, c.linked, c.card_expiry
FROM member_cards c JOIN unnest($1::text[], $2::text[]) AS m(shop_id, member_id) USING (shop_id, member_id)
"""
_PUT = """
INSERT INTO member_cards (shop_id, member_id, linked, card_expiry, as_of) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, member_id) DO UPDATE SET linked = $3, card_expiry = $4, as_of = $5
    WHERE member_cards.as_of <= $5
RETURNING true
"""
_WARNING_COLUMNS = "subscription_id, cycle_no, shop_id, member_id, next_cycle_on, card_expiry, warned_at"
_ADD_WARNINGS = f"""
INSERT INTO card_warnings ({_WARNING_COLUMNS})
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::date[], $6::text[], $7::timestamptz[])
ON CONFLICT (subscription_id, cycle_no) DO NOTHING
RETURNING subscription_id, cycle_no
"""  # noqa: S608 - constant column list, $n parameters
_WARNINGS_OF = f"SELECT {_WARNING_COLUMNS} FROM card_warnings WHERE subscription_id = $1 ORDER BY cycle_no"  # noqa: S608


class PostgresMemberCards:
    """`MemberCards` on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def of_members(self, members: Iterable[tuple[str, str]]) -> dict[tuple[str, str], MemberCard]:
        pairs = sorted(set(members))
        if not pairs:
            return {}
        rows = await self._conn.fetch(_OF_MEMBERS, [p[0] for p in pairs], [p[1] for p in pairs])
        return {(row["shop_id"], row["member_id"]): _card(row) for row in rows}

    async def put(self, card: MemberCard, *, as_of: datetime) -> bool:
        expiry = str(card.expiry) if card.expiry is not None else None
        return bool(await self._conn.fetchval(_PUT, card.shop_id, card.member_id, card.linked, expiry, as_of))


class PostgresCardWarnings:
    """`CardWarnings` on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, warnings: Sequence[CardWarning]) -> set[tuple[str, int]]:
        if not warnings:
            return set()
        rows = await self._conn.fetch(
            _ADD_WARNINGS, [w.subscription_id for w in warnings], [w.cycle_no for w in warnings],
            [w.shop_id for w in warnings], [w.member_id for w in warnings], [w.next_cycle_on for w in warnings],
            [str(w.card_expiry) for w in warnings], [w.warned_at for w in warnings])
        return {(row["subscription_id"], row["cycle_no"]) for row in rows}

    async def of_subscription(self, subscription_id: str) -> list[CardWarning]:
        return [CardWarning(subscription_id=row["subscription_id"], cycle_no=row["cycle_no"], shop_id=row["shop_id"],
                            member_id=row["member_id"], next_cycle_on=row["next_cycle_on"],
                            card_expiry=ExpiryMonth.parse(row["card_expiry"]), warned_at=row["warned_at"])
                for row in await self._conn.fetch(_WARNINGS_OF, subscription_id)]


def _card(row: asyncpg.Record) -> MemberCard:
    expiry = ExpiryMonth.parse(row["card_expiry"]) if row["card_expiry"] is not None else None
    return MemberCard(shop_id=row["shop_id"], member_id=row["member_id"], linked=row["linked"], expiry=expiry)
