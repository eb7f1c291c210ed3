"""Gateway member records (KaiinId, encrypted KaiinPass) and the per-member lease, in PostgreSQL."""

from __future__ import annotations

import asyncpg

from services.payment.adapters.crypto import Cipher
from services.payment.domain.cards import CURRENT_LINK, LinkStatus
from services.payment.ports import MemberCard, MemberKey

_CURRENT = [s.value for s in CURRENT_LINK]


def _card(r: asyncpg.Record) -> MemberCard:
    return MemberCard(kaiin_id=r["kaiin_id"], shop_id=r["shop_id"], member_id=r["member_id"],
                      status=LinkStatus(r["status"]), masked_card=r["masked_card"])


class MemberCardsSql:
    def __init__(self, conn: asyncpg.Connection, cipher: Cipher) -> None:
        self._conn = conn
        self._cipher = cipher

    async def lease(self, shop_id: str, member_id: str, *, holder: str, ttl_s: float) -> bool:
        """Take (or renew) the member's lease unless another holder's lease is younger than `ttl_s`."""
        taken = await self._conn.fetchval(
            "INSERT INTO member_leases AS l (shop_id, member_id, holder, since) VALUES ($1, $2, $3, now()) "
            "ON CONFLICT (shop_id, member_id) DO UPDATE SET holder = $3, since = now() "
            "WHERE l.holder IS NULL OR l.holder = $3 OR l.since < now() - make_interval(secs => $4) "
            "RETURNING true", shop_id, member_id, holder, ttl_s)
        return bool(taken)

    async def release(self, shop_id: str, member_id: str, *, holder: str) -> None:
        await self._conn.execute(
            "UPDATE member_leases SET holder = NULL, since = NULL WHERE shop_id = $1 AND member_id = $2 "
            "AND holder = $3", shop_id, member_id, holder)

    async def next_version(self, shop_id: str, member_id: str) -> int:
        """The subject_version of the member's next card event (monotonic per shop member)."""
        version = await self._conn.fetchval(
            "INSERT INTO member_leases AS l (shop_id, member_id, version) VALUES ($1, $2, 1) "
            "ON CONFLICT (shop_id, member_id) DO UPDATE SET version = l.version + 1 RETURNING version",
            shop_id, member_id)
        return int(version)

    async def current(self, shop_id: str, member_id: str) -> MemberCard | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM member_cards WHERE shop_id = $1 AND member_id = $2 AND status = ANY($3::text[])",
            shop_id, member_id, _CURRENT)
        return _card(row) if row else None

    async def get(self, kaiin_id: str) -> MemberCard | None:
        row = await self._conn.fetchrow("SELECT * FROM member_cards WHERE kaiin_id = $1", kaiin_id)
        return _card(row) if row else None

    async def key(self, kaiin_id: str) -> MemberKey | None:
        encrypted = await self._conn.fetchval("SELECT kaiin_pass_enc FROM member_cards WHERE kaiin_id = $1",
                                              kaiin_id)
        return MemberKey(kaiin_id, self._cipher.decrypt(encrypted)) if encrypted is not None else None

    async def register(self, card: MemberCard, key: MemberKey) -> None:
        await self._conn.execute(
            "INSERT INTO member_cards (kaiin_id, shop_id, member_id, kaiin_pass_enc, status, masked_card) "
            "VALUES ($1, $2, $3, $4, $5, $6)", card.kaiin_id, card.shop_id, card.member_id,
            self._cipher.encrypt(key.kaiin_pass), card.status.value, card.masked_card)

    async def set_status(self, kaiin_id: str, status: LinkStatus) -> None:
        await self._conn.execute(
            "UPDATE member_cards SET status = $2, updated_at = now() WHERE kaiin_id = $1", kaiin_id, status.value)

    async def set_masked(self, kaiin_id: str, masked_card: str | None) -> None:
        """Remember the masked number the gateway showed (None: the card changed, look it up again)."""
        await self._conn.execute(
            "UPDATE member_cards SET masked_card = $2, updated_at = now() WHERE kaiin_id = $1", kaiin_id, masked_card)
