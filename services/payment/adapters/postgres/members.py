"""Gateway member records (KaiinId, encrypted KaiinPass, the card as last shown) and the per-member lease, in
PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.payment.adapters.crypto import Cipher
from services.payment.domain.card_face import CardFace
from services.payment.domain.cards import CURRENT_LINK, LinkStatus
from services.payment.ports import MemberCard, MemberKey

_CURRENT = [s.value for s in CURRENT_LINK]


def _card(r: asyncpg.Record) -> MemberCard:
    return MemberCard(kaiin_id=r["kaiin_id"], shop_id=r["shop_id"], member_id=r["member_id"],
                      status=LinkStatus(r["status"]), masked_card=r["masked_card"], card_expiry=r["card_expiry"],
                      card_brand=r["card_brand"], card_version=r["card_version"], linked_at=r["linked_at"])


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

    async def latest(self, shop_id: str, member_id: str) -> MemberCard | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM member_cards WHERE shop_id = $1 AND member_id = $2 ORDER BY created_at DESC, kaiin_id "
            "LIMIT 1", shop_id, member_id)
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
            "INSERT INTO member_cards (kaiin_id, shop_id, member_id, kaiin_pass_enc, status, masked_card, card_expiry, "
            "card_brand, card_version, linked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", card.kaiin_id,
            card.shop_id, card.member_id, self._cipher.encrypt(key.kaiin_pass), card.status.value, card.masked_card,
            card.card_expiry, card.card_brand, card.card_version, card.linked_at)

    async def set_status(self, kaiin_id: str, status: LinkStatus, *, at: datetime | None = None) -> None:
        await self._conn.execute(
            "UPDATE member_cards SET status = $2, updated_at = now(), "
            "linked_at = CASE WHEN $2 = 'active' THEN coalesce(linked_at, $3) ELSE linked_at END "
            "WHERE kaiin_id = $1", kaiin_id, status.value, at)

    async def remember_face(self, kaiin_id: str, face: CardFace, *, card_version: int) -> bool:
        """Keep how a read showed the card, unless a replacement moved `card_version` on meanwhile."""
        done = await self._conn.fetchval(
            "UPDATE member_cards SET masked_card = $2, card_expiry = $3, card_brand = $4, updated_at = now() "
            "WHERE kaiin_id = $1 AND card_version = $5 RETURNING true", kaiin_id, face.masked, face.expiry,
            face.brand, card_version)
        return bool(done)

    async def card_replaced(self, kaiin_id: str, *, at: datetime) -> None:
        """Another card is stored: forget how the old one looked, count the replacement, note when."""
        await self._conn.execute(
            "UPDATE member_cards SET masked_card = NULL, card_expiry = NULL, card_brand = NULL, "
            "card_version = card_version + 1, linked_at = $2, updated_at = now() WHERE kaiin_id = $1", kaiin_id, at)
